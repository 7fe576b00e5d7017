// The ssh transport as a library user meets it: one ssh process per connection, every one gone
// when the engine is closed or the process ends (closed or not), and ssh's failures worded as
// one line with what to do. Live parts use the loopback sshd of scripts/sshd-up.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { openEngine, type Engine } from '../../lib/engine/index.js';
import { sshFailure } from '../../lib/engine/ssh.js';
import { parseSshUrl } from '../../lib/engine/ssh-url.js';
import { TEST_IMAGE, engineEnv, liveEngine, reap, repoRoot, testLabels } from '../support/live.js';
import { isAlive } from '../support/processes.js';

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

function sshProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0] === 'ssh' && argv.includes(configFile) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function noSshWithin(ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (sshProcesses().length > 0 && Date.now() < deadline) await sleep(50);
  return sshProcesses();
}

describe('ssh connections, live', () => {
  it('one ssh process per connection; closing the engine stops them all', T, async () => {
    const engine = openEngine({ host: SSH_URL, env: { SKIFF_SSH_OPTS: `-F ${configFile}` } });
    assert.equal(engine.local, false, 'PIDs an engine over ssh reports are not this machine\'s');
    await engine.version();
    // Three streams that never end on their own: three connections at once.
    const streams = await Promise.all([1, 2, 3].map(() => engine.transport.call({ method: 'GET', path: '/events', long: true, what: 'follow events' })));
    assert.equal(sshProcesses().length, 3);
    for (const s of streams) s.body.on('error', () => undefined);
    await engine.destroy();
    assert.deepEqual(sshProcesses(), [], 'destroy() returns once every ssh process has exited');
  });

  // An exec's stream outlives its stdin (skiff half-closes it at once), so ssh's stdin ending
  // with its parent is not what ends it: the process's exit hook, or ssh seeing its pipes close.
  const execThenExit = [
    `const exec = await engine.exec.create(process.env.SLEEPER, { Cmd: ['sleep', '120'], AttachStdout: true, AttachStderr: true });`,
    `const { socket } = await engine.exec.start(exec, false);`,
    `socket.end();`,
    `process.exit(0);`,
  ].join('\n');
  for (const [how, ending] of [
    ['ends without closing the engine (an idle connection)', ''],
    ['calls process.exit() during an exec', execThenExit],
  ] as const) {
    it(`a process that ${how} leaves no ssh process`, T, async () => {
      const script = join(work, `exits-${ending === '' ? 'idle' : 'exec'}.mjs`);
      const index = pathToFileURL(join(repoRoot, 'dist', 'lib', 'engine', 'index.js')).href;
      writeFileSync(script, `import { openEngine } from ${JSON.stringify(index)};\nconst engine = openEngine({ host: ${JSON.stringify(SSH_URL)} });\nawait engine.version();\n${ending}\n`);
      let during = 0;
      const watcher = setInterval(() => (during = Math.max(during, sshProcesses().length)), 20);
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

describe('no ssh at all', () => {
  it('an ssh command missing from the PATH is said so, not a socket error', T, async () => {
    const script = join(work, 'no-ssh.mjs');
    const index = pathToFileURL(join(repoRoot, 'dist', 'lib', 'engine', 'index.js')).href;
    writeFileSync(script, `import { openEngine } from ${JSON.stringify(index)};\nconst engine = openEngine({ host: 'ssh://build.example' });\ntry { await engine.version(); } catch (err) { console.log(JSON.stringify({ kind: err.kind, message: err.message, hint: err.hint })); }\nawait engine.close();\n`);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [script], { env: { PATH: join(work, 'empty-path') }, timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    assert.deepEqual(JSON.parse(out), {
      kind: 'engine-unreachable',
      message: 'cannot reach the Docker engine at ssh://build.example: the ssh command is not on the PATH',
      hint: "install OpenSSH's client (Debian: apt-get install openssh-client)",
    });
  });
});

describe("ssh's failures in one line, with what to do", () => {
  const target = parseSshUrl('ssh://deploy@build.example:2200', 'DOCKER_HOST', {});
  const cases: Array<[string, number | null, string, RegExp, RegExp]> = [
    [
      'a changed host key: the banner is dropped, the verdict kept',
      255,
      '@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@@@@\nIT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\nHost key for [build.example]:2200 has changed and you have requested strict checking.\nHost key verification failed.\n',
      /: Host key verification failed\.$/,
      /ssh-keyscan -p 2200 build\.example/,
    ],
    ['a refused key', 255, 'deploy@build.example: Permission denied (publickey).\r\n', /: deploy@build\.example: Permission denied \(publickey\)\.$/, /ssh -p 2200 deploy@build\.example.*ssh-agent/],
    ['no docker on the far side', 127, 'bash: line 1: docker: command not found\n', /: bash: line 1: docker: command not found$/, /docker CLI .*dial-stdio/],
    ['docker there, its engine not', 1, 'failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: no such file or directory\n', /dial unix/, /is dockerd running there/],
    ['no sshd there', 255, 'ssh: connect to host build.example port 2200: Connection refused\n', /Connection refused$/, /sshd runs on build\.example/],
    ['nothing said at all', 255, '', /: ssh exited with code 255$/, /^$/],
  ];
  for (const [what, code, stderr, message, hint] of cases) {
    it(what, () => {
      const err = sshFailure(target, code, null, stderr);
      assert.equal(err.kind, 'engine-unreachable');
      assert.ok(err.message.startsWith('cannot reach the Docker engine at ssh://deploy@build.example:2200: '), err.message);
      assert.match(err.message, message);
      assert.ok(!err.message.includes('\n'));
      assert.match(err.hint ?? '', hint);
    });
  }
});
