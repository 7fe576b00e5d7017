// Remote engines through the CLI as a user types it: the engine chosen by -H, --context,
// DOCKER_HOST, DOCKER_CONTEXT or currentContext, proven by where the traffic went (each context
// points at a relay socket of its own that counts connections); a broken context named in the
// error; ssh:// against the loopback sshd of scripts/sshd-up, end to end with hijacked execs, from
// a recording, after Ctrl-C (no ssh process left), and ssh's own failures as one line.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '../../lib/engine/index.js';
import { engineEnv, liveEngine, repoRoot, TEST_IMAGE } from '../support/live.js';
import { isAlive, sshProcessesWith } from '../support/processes.js';
import { Skiff, explain } from '../executors/docker-support.js';

const T = { timeout: 180_000 };
const SSHD_DIR = join(engineEnv.SKIFF_ENGINE_DIR!, 'sshd');
const SSH_URL = `ssh://root@127.0.0.1:${engineEnv.SKIFF_SSH_PORT}`;
/** What the test environment must not bring into a run: each case sets what it means. */
const CLEAN = { DOCKER_HOST: undefined, DOCKER_CONTEXT: undefined, DOCKER_CONFIG: undefined, SKIFF_SSH_OPTS: undefined, DOCKER_TLS_VERIFY: undefined };

/** A unix socket relaying to the engine's socket, counting the connections made to it. */
class Relay {
  connections = 0;
  readonly path: string;
  readonly #server: Server;
  constructor(path: string) {
    this.path = path;
    // Half-open both ways: skiff half-closes an attach (stdin EOF) and the output still comes.
    this.#server = createServer({ allowHalfOpen: true }, (client) => {
      this.connections++;
      const engine = connect({ path: '/var/run/docker.sock', allowHalfOpen: true });
      client.pipe(engine).on('error', () => client.destroy());
      engine.pipe(client).on('error', () => engine.destroy());
      client.on('error', () => engine.destroy());
      engine.on('error', () => client.destroy());
    });
  }
  listen(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(this.path, resolve));
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A context stored as `docker context create NAME --docker host=HOST` stores it. */
function storeContext(configDir: string, name: string, host: string): void {
  const dir = join(configDir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
}


let skiff: Skiff;
let engine: Engine;
let work: string;
before(async () => {
  skiff = new Skiff('remote');
  engine = await liveEngine();
  work = skiff.tempDir('work');
});
after(async () => {
  await skiff.reap(engine);
  await engine.close();
  skiff.dispose();
});

describe('the engine, chosen as the docker CLI chooses it', () => {
  const names = ['by-flag', 'by-env', 'by-config', 'by-host-env', 'by-dash-h'] as const;
  const relays = {} as Record<(typeof names)[number], Relay>;
  let config: string;
  let dag: string;
  before(async () => {
    config = join(work, 'docker-config');
    mkdirSync(config);
    for (const name of names) {
      relays[name] = new Relay(join(work, `${name}.sock`));
      await relays[name].listen();
    }
    for (const name of ['by-flag', 'by-env', 'by-config'] as const) storeContext(config, name, `unix://${relays[name].path}`);
    writeFileSync(join(config, 'config.json'), JSON.stringify({ currentContext: 'by-config' }));
    dag = join(work, 'context.yaml');
    writeFileSync(dag, `steps:\n  - name: hello\n    executor:\n      type: docker\n      config:\n        image: ${TEST_IMAGE}\n        autoRemove: true\n    command: echo through-the-relay\n`);
  });
  after(async () => {
    for (const relay of Object.values(relays)) await relay.close();
  });

  /** Runs the DAG and says which relays saw connections. */
  async function runVia(args: string[], env: Record<string, string | undefined>): Promise<string[]> {
    const before = Object.fromEntries(names.map((n) => [n, relays[n].connections]));
    const run = await skiff.run(dag, { args, env: { ...CLEAN, DOCKER_CONFIG: config, ...env } });
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.step('hello').out, 'through-the-relay\n');
    return names.filter((n) => relays[n].connections > before[n]!);
  }

  // Every case also sets everything of lower rank, pointing elsewhere: only the winner may see traffic.
  it('--context wins over DOCKER_HOST, DOCKER_CONTEXT and currentContext', T, async () => {
    assert.deepEqual(await runVia(['--context', 'by-flag'], { DOCKER_HOST: `unix://${relays['by-host-env'].path}`, DOCKER_CONTEXT: 'by-env' }), ['by-flag']);
  });

  it('-H wins over DOCKER_HOST, DOCKER_CONTEXT and currentContext', T, async () => {
    assert.deepEqual(await runVia(['-H', `unix://${relays['by-dash-h'].path}`], { DOCKER_HOST: `unix://${relays['by-host-env'].path}`, DOCKER_CONTEXT: 'by-env' }), ['by-dash-h']);
  });

  it('DOCKER_HOST wins over DOCKER_CONTEXT and currentContext', T, async () => {
    assert.deepEqual(await runVia([], { DOCKER_HOST: `unix://${relays['by-host-env'].path}`, DOCKER_CONTEXT: 'by-env' }), ['by-host-env']);
  });

  it('DOCKER_CONTEXT wins over currentContext', T, async () => {
    assert.deepEqual(await runVia([], { DOCKER_CONTEXT: 'by-env' }), ['by-env']);
  });

  it('currentContext in $DOCKER_CONFIG/config.json, when nothing else is set', T, async () => {
    assert.deepEqual(await runVia([], {}), ['by-config']);
  });

  it('the other verbs that reach the engine take -H and --context too: cleanup, dry', T, async () => {
    const env = { ...CLEAN, DOCKER_CONFIG: config, DOCKER_HOST: `unix://${relays['by-host-env'].path}` };
    const count = () => Object.fromEntries(names.map((n) => [n, relays[n].connections]));
    let before = count();
    const cleanup = await skiff.cli(['cleanup', '--context', 'by-flag'], { env });
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.ok(relays['by-flag'].connections > before['by-flag']! && relays['by-host-env'].connections === before['by-host-env']);
    before = count();
    const dry = await skiff.cli(['dry', '-H', `unix://${relays['by-dash-h'].path}`, dag], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /image present/);
    assert.ok(relays['by-dash-h'].connections > before['by-dash-h']! && relays['by-host-env'].connections === before['by-host-env']);
  });

  it('a missing context is one clear error naming it and where it came from; nothing runs', T, async () => {
    const run = await skiff.run(dag, { env: { ...CLEAN, DOCKER_CONFIG: config, DOCKER_CONTEXT: 'no-such-context' } });
    assert.equal(run.code, 1, explain(run));
    assert.match(run.stderr, /docker context "no-such-context" \(from DOCKER_CONTEXT\) does not exist: there is no \S+\/meta\.json/);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
    assert.equal(run.report.steps[0]!.status, 'not_started');
    const cleanup = await skiff.cli(['cleanup', '--context', 'broken'], { env: { ...CLEAN, DOCKER_CONFIG: config } });
    assert.equal(cleanup.code, 2, cleanup.stderr);
    assert.match(cleanup.stderr, /docker context "broken" \(from --context\) does not exist/);
  });

  it('a broken context (meta.json not JSON) is named with its file', T, async () => {
    storeContext(config, 'garbled', 'unix:///x.sock');
    const meta = join(config, 'contexts', 'meta', createHash('sha256').update('garbled').digest('hex'), 'meta.json');
    writeFileSync(meta, '{"Name": "garbled", "Endpoints": {');
    const run = await skiff.run(dag, { args: ['-c', 'garbled'], env: { ...CLEAN, DOCKER_CONFIG: config } });
    assert.equal(run.code, 1, explain(run));
    assert.ok(run.stderr.includes(`docker context "garbled" (from --context) is broken: ${meta} is not valid JSON`), run.stderr);
  });

  it('-H and --context together are refused as a usage error, as by the docker CLI', T, async () => {
    const run = await skiff.cli(['run', '-H', 'unix:///x.sock', '--context', 'by-flag', dag], { env: { ...CLEAN, DOCKER_CONFIG: config } });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /conflicting options: cannot specify both --host and --context/);
  });
});

describe('ssh:// engines', () => {
  let sshConfig: string;
  let sshEnv: Record<string, string | undefined>;
  let relay: Relay;
  before(async () => {
    // Our own copy of the client config: its path in an ssh process's argv marks it as this file's.
    sshConfig = join(work, 'ssh_config');
    writeFileSync(sshConfig, readFileSync(join(SSHD_DIR, 'ssh_config')));
    sshEnv = { ...CLEAN, SKIFF_SSH_OPTS: `-F ${sshConfig}` };
    relay = new Relay(join(work, 'far-side.sock'));
    await relay.listen();
  });
  after(() => relay.close());

  it('a DAG runs end to end over ssh: hijacked execs in a DAG-level container, from a recording too, no ssh process left', T, async () => {
    const dag = join(work, 'over-ssh.yaml');
    writeFileSync(
      dag,
      [
        'container:',
        `  image: ${TEST_IMAGE}`,
        'steps:',
        "  - name: answer",
        "    command: sh -c 'echo answer-$((6 * 7)); echo to-stderr >&2'",
        '    output: ANSWER',
        '  - name: uses-it',
        '    command: echo got ${ANSWER}',
        '    depends: [answer]',
        '  - name: reads-stdin-eof',
        '    command: cat',
        '    depends: [uses-it]',
        '',
      ].join('\n'),
    );
    // The far side's docker dials the relay: the path in the URL is a socket on the ssh host.
    const before = relay.connections;
    const run = await skiff.recordAndReplay(dag, { env: { ...sshEnv, DOCKER_HOST: `${SSH_URL}${relay.path}` } });
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.step('answer').out, 'answer-42\n');
    assert.equal(run.step('answer').err, 'to-stderr\n');
    assert.equal(run.step('uses-it').out, 'got answer-42\n');
    assert.equal(run.step('reads-stdin-eof').status, 'succeeded');
    // Connections through ssh: the pool's and one per exec (each a hijacked connection).
    assert.ok(relay.connections - before >= 4, `${relay.connections - before} connections reached the far side's socket`);
    assert.deepEqual(sshProcessesWith(sshConfig), [], 'ssh processes left after the run');
  });

  it('a docker step (attach, hijacked) runs over ssh given with -H', T, async () => {
    const dag = join(work, 'attach-over-ssh.yaml');
    writeFileSync(dag, `steps:\n  - name: new-container\n    executor:\n      type: docker\n      config:\n        image: ${TEST_IMAGE}\n        autoRemove: true\n    command: sh -c 'echo out; echo err >&2; exit 3'\n    continueOn:\n      failure: true\n`);
    const run = await skiff.run(dag, { args: ['-H', SSH_URL], env: sshEnv });
    const step = run.step('new-container');
    assert.deepEqual([step.status, step.exitCode, step.out, step.err], ['failed', 3, 'out\n', 'err\n'], explain(run));
    assert.deepEqual(sshProcessesWith(sshConfig), []);
  });

  it('Ctrl-C at the terminal during a step over ssh: the run stops, exit 130, no container and no ssh process left', T, async () => {
    const dag = join(work, 'cancel-over-ssh.yaml');
    const name = `remote-cancel-${process.pid}`;
    writeFileSync(dag, `name: ${name}\ncontainer:\n  image: ${TEST_IMAGE}\nsteps:\n  - name: sleeper\n    command: sh -c 'echo ready; sleep 120'\n`);
    const reportFile = join(work, 'cancel-report.json');
    // A terminal's Ctrl-C goes to the whole foreground process group, not to skiff alone: skiff
    // leads a group of its own here and the SIGINT goes to all of it, ssh children included if
    // they were in it (they must not be: skiff still needs them to stop the container).
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, SKIFF_STATE_DIR: skiff.stateDir, NO_COLOR: '1', ...sshEnv })) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'skiff.js'), 'run', '-f', '--report', reportFile, '-H', SSH_URL, dag], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let during: number[] = [];
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      if (during.length > 0 || !out.includes('sleeper | ready')) return;
      during = sshProcessesWith(sshConfig);
      process.kill(-child.pid!, 'SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 130, out);
    assert.ok(during.length > 0, 'no ssh process was running during the step');
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { steps: Array<{ status: string }> };
    assert.equal(report.steps[0]!.status, 'cancelled', out);
    assert.doesNotMatch(out, /cannot reach|closed the connection/, 'the engine stayed reachable while skiff stopped its container');
    for (const pid of during) assert.equal(isAlive(pid), false, `ssh ${pid} outlived skiff`);
    assert.deepEqual(sshProcessesWith(sshConfig), []);
    const left = await engine.containers.list({ label: [`dev.skiff.dag=${name}`] }, { all: true });
    assert.deepEqual(left.map((c) => c.Names), []);
  });

  describe("ssh's own failures are one clear line", () => {
    let dag: string;
    before(() => {
      dag = join(work, 'ssh-fails.yaml');
      writeFileSync(dag, `steps:\n  - name: never\n    executor:\n      type: docker\n      config:\n        image: ${TEST_IMAGE}\n    command: echo unreachable\n`);
    });

    /** A client config like the test one with one setting changed. */
    function configWith(file: string, setting: string, value: string): string {
      const text = readFileSync(join(SSHD_DIR, 'ssh_config'), 'utf8').replace(new RegExp(`^(\\s*${setting}) .*$`, 'm'), `$1 ${value}`);
      writeFileSync(join(work, file), text);
      return join(work, file);
    }

    async function failure(configFile: string, url = SSH_URL): Promise<string> {
      const run = await skiff.run(dag, { args: ['-H', url], env: { ...CLEAN, SKIFF_SSH_OPTS: `-F ${configFile}` } });
      assert.equal(run.code, 1, explain(run));
      assert.doesNotMatch(run.stderr, /^\s+at |UND_ERR|socket|ECONNRESET/m, run.stderr);
      // Said once, the same single line wherever it shows; the engine is checked before the first
      // container step, so the run fails at its start and no step started.
      const said = new Set(`${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.includes(url)).map((l) => l.slice(l.indexOf('cannot reach'))));
      assert.equal(said.size, 1, `${run.stdout}\n${run.stderr}`);
      const [line] = said;
      assert.equal(run.report.phase, 'startup');
      assert.equal(run.report.error, line);
      assert.equal(run.report.steps[0]!.status, 'not_started');
      assert.equal(sshProcessesWith(configFile).length, 0);
      return line!;
    }

    it('a key the server does not know', T, async () => {
      const key = join(work, 'stranger_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const line = await failure(configWith('wrong-key.conf', 'IdentityFile', key));
      assert.match(line, new RegExp(`cannot reach the Docker engine at ${SSH_URL}: root@127\\.0\\.0\\.1: Permission denied \\(publickey\\)\\.$`));
    });

    it('a host key that is not the known one', T, async () => {
      const other = join(work, 'impostor_host_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const knownHosts = join(work, 'impostor_known_hosts');
      const [type, key] = readFileSync(`${other}.pub`, 'utf8').split(' ');
      writeFileSync(knownHosts, `[127.0.0.1]:${engineEnv.SKIFF_SSH_PORT} ${type} ${key}\n`);
      const line = await failure(configWith('bad-host-key.conf', 'UserKnownHostsFile', knownHosts));
      assert.match(line, new RegExp(`cannot reach the Docker engine at ${SSH_URL}: Host key verification failed\\.$`));
    });

    it('no docker on the far side (the sshd port whose logins have no docker on the PATH)', T, async () => {
      const url = `ssh://root@127.0.0.1:${engineEnv.SKIFF_SSH_NODOCKER_PORT}`;
      const line = await failure(sshConfig, url);
      assert.match(line, new RegExp(`cannot reach the Docker engine at ${url}: .*docker: (command )?not found$`));
    });
  });
});
