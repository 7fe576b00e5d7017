// The ssh transport as a library user meets it, against the loopback sshd of scripts/sshd-up:
// one ssh process per connection, every one gone when the engine is closed or the process ends
// (closed or not). ssh's failures in words: ssh.test.ts.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { openEngine, type Engine } from '../../lib/engine/index.js';
import { TEST_IMAGE, engineEnv, liveEngine, reap, repoRoot, testLabels } from '../support/live.js';
import { sshProcessesWith, tcpConnectionsTo } from '../support/processes.js';

const T = { timeout: 60_000 };
const SSH_URL = `ssh://root@127.0.0.1:${engineEnv.SKIFF_SSH_PORT}`;

const Labels = testLabels('engine-ssh');
let work: string;
let configFile: string;
let local: Engine;
let sleeper: string;
before(async () => {
  local = await liveEngine();
  sleeper = (await local.containers.create({ Image: TEST_IMAGE, Cmd: ['sleep', '300'], Labels })).Id;
  await local.containers.start(sleeper);
  work = mkdtempSync(join(tmpdir(), 'skiff-ssh-'));
  // A copy of the test client config: its path in an ssh process's argv marks it as ours.
  configFile = join(work, 'ssh_config');
  writeFileSync(configFile, readFileSync(join(engineEnv.SKIFF_ENGINE_DIR!, 'sshd', 'ssh_config')));
});
after(async () => {
  await reap(local, Labels);
  await local.close();
  rmSync(work, { recursive: true, force: true });
});

async function noSshWithin(ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (sshProcessesWith(configFile).length > 0 && Date.now() < deadline) await sleep(50);
  return sshProcessesWith(configFile);
}

describe('ssh connections, live', () => {
  it('one ssh process per connection, all through one login; closing the engine stops them all, the login too', T, async () => {
    const engine = openEngine({ host: SSH_URL, env: { SKIFF_SSH_OPTS: `-F ${configFile}` } });
    assert.equal(engine.local, false, 'PIDs an engine over ssh reports are not this machine\'s');
    await engine.version();
    // Three streams that never end on their own: three connections at once.
    const streams = await Promise.all([1, 2, 3].map(() => engine.transport.call({ method: 'GET', path: '/events', long: true, what: 'follow events' })));
    const pids = sshProcessesWith(configFile);
    const dialers = sshProcessesWith('dial-stdio');
    const masters = sshProcessesWith('-M').filter((pid) => pids.includes(pid));
    assert.equal(pids.filter((pid) => dialers.includes(pid)).length, 3, 'one dial-stdio process per connection');
    assert.equal(masters.length, 1, 'and one master holding the login');
    assert.equal(pids.length, 4);
    // Only the master speaks TCP to sshd: the connections' ssh processes go through its socket.
    assert.equal(tcpConnectionsTo(pids, Number(engineEnv.SKIFF_SSH_PORT)), 1);
    for (const s of streams) s.body.on('error', () => undefined);
    await engine.destroy();
    assert.deepEqual(sshProcessesWith(configFile), [], 'destroy() returns once every ssh process has exited, the master included');
  });

  it('with ControlMaster or ControlPath of the user\'s own (SKIFF_SSH_OPTS), each connection logs in itself', T, async () => {
    const engine = openEngine({ host: SSH_URL, env: { SKIFF_SSH_OPTS: `-F ${configFile} -o ControlMaster=no` } });
    await engine.version();
    const streams = await Promise.all([1, 2].map(() => engine.transport.call({ method: 'GET', path: '/events', long: true, what: 'follow events' })));
    const pids = sshProcessesWith(configFile);
    assert.equal(pids.length, 2);
    assert.equal(tcpConnectionsTo(pids, Number(engineEnv.SKIFF_SSH_PORT)), 2);
    for (const s of streams) s.body.on('error', () => undefined);
    await engine.destroy();
    assert.deepEqual(sshProcessesWith(configFile), []);
  });

  // An exec's stream outlives its stdin (skiff half-closes it at once), so ssh's stdin ending
  // with its parent is not what ends it: the process's exit hook, or ssh seeing its pipes close.
  const execThenExit = [
    `const exec = await engine.exec.create(process.env.SLEEPER, { Cmd: ['sleep', '120'], AttachStdout: true, AttachStderr: true });`,
    `const { socket } = await engine.exec.start(exec, false);`,
    `socket.end();`,
    `process.exit(0);`,
  ].join('\n');
  it('a process killed with SIGKILL (no exit hook runs) leaves no ssh process, the master included', T, async () => {
    const script = join(work, 'killed.mjs');
    const index = pathToFileURL(join(repoRoot, 'dist', 'lib', 'engine', 'index.js')).href;
    writeFileSync(script, `import { openEngine } from ${JSON.stringify(index)};\nconst engine = openEngine({ host: ${JSON.stringify(SSH_URL)} });\nawait engine.version();\nprocess.stdout.write('ready\\n');\nsetInterval(() => undefined, 1000);\n`);
    const child = spawn(process.execPath, [script], { env: { ...process.env, SKIFF_SSH_OPTS: `-F ${configFile}` }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before it was ready`)));
    });
    assert.equal(sshProcessesWith('-M').filter((pid) => sshProcessesWith(configFile).includes(pid)).length, 1, 'a master is up');
    child.kill('SIGKILL');
    assert.deepEqual(await noSshWithin(10_000), []);
  });

  for (const [how, ending] of [
    ['ends without closing the engine (an idle connection)', ''],
    ['calls process.exit() during an exec', execThenExit],
  ] as const) {
    it(`a process that ${how} leaves no ssh process`, T, async () => {
      const script = join(work, `exits-${ending === '' ? 'idle' : 'exec'}.mjs`);
      const index = pathToFileURL(join(repoRoot, 'dist', 'lib', 'engine', 'index.js')).href;
      writeFileSync(script, `import { openEngine } from ${JSON.stringify(index)};\nconst engine = openEngine({ host: ${JSON.stringify(SSH_URL)} });\nawait engine.version();\n${ending}\n`);
      let during = 0;
      const watcher = setInterval(() => (during = Math.max(during, sshProcessesWith(configFile).length)), 20);
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [script], { env: { ...process.env, SKIFF_SSH_OPTS: `-F ${configFile}`, SLEEPER: sleeper }, timeout: 30_000 }, (_err, _out, stderr) => resolve({ code: child.exitCode, stderr }));
      });
      clearInterval(watcher);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(during > 0, 'the child never had an ssh process');
      assert.deepEqual(await noSshWithin(5000), []);
    });
  }
});
