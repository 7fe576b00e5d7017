// The DAG-level container (docs/dagu-behavior.md §4, README "The DAG-level container and
// keepContainer"), live: each DAG is run by the real `skiff` executable against the real engine.
// Startup modes, readiness, volumes, ports, networks, keepContainer, what steps inherit,
// concurrent execs, restartPolicy, and that no failure path leaves a container behind; then the
// load-time checks of §4.9 through `skiff validate`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../lib/engine/index.js';
import type { ContainerInfo } from '../../lib/engine/containers.js';
import { DemuxStream } from '../../lib/engine/demux.js';
import { isSkiffError } from '../../lib/common/errors.js';
import { pipeline } from 'node:stream/promises';
import { waitReady } from '../../lib/executors/docker/readiness.js';
import { Collect, TEST_IMAGE, engineEnv, liveEngine, reap, testLabels } from '../support/live.js';
import { type CliResult, containersOfDag, eventually, fileExists, leftovers, removeTempDirs, skiff, skiffInProcess, tempDir, writeDag } from '../support/skiff-cli.js';

const HEALTHY_IMAGE = engineEnv.SKIFF_TEST_HEALTHY_IMAGE!;
const Labels = testLabels('dag-container');
const PID = process.pid;

let engine: Engine;
let dir: string;
/** Run ids of every run made here, and named volumes: removed in after(). */
const runIds: string[] = [];
const volumes: string[] = [];

before(async () => {
  engine = await liveEngine();
  dir = await tempDir('dag-container');
});
after(async () => {
  for (const id of runIds) for (const c of await leftovers(engine, id)) await engine.containers.remove(c.Id, { force: true });
  await reap(engine, Labels);
  for (const v of volumes) await engine.volumes.remove(v, { force: true });
  await engine.close();
  await removeTempDirs();
});

// Tests inside a describe run up to 4 at a time: each run has its own DAG name, run id and
// files, and waits mostly on the engine.

// ---------------------------------------------------------------------------------------------
// Helpers

/** A DAG name (= file name) unique to this process, so labels find only this test's objects. */
function dagName(slug: string): string {
  return `dc-${slug}-${PID}`;
}

interface RunOptions {
  env?: Record<string, string | undefined>;
  started?(child: ChildProcess): void;
  dagDir?: string;
}

async function runDag(slug: string, yaml: string, options: RunOptions = {}): Promise<CliResult> {
  const file = await writeDag(options.dagDir ?? dir, `${dagName(slug)}.yaml`, yaml);
  const result = await skiff(['run', file], { env: options.env, started: options.started });
  runIds.push(...result.runIds);
  return result;
}

function show(result: { code: number | null; stdout: string; stderr: string }): string {
  return `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

function succeeded(result: CliResult): void {
  assert.equal(result.code, 0, show(result));
  assert.equal(result.report?.status, 'succeeded', show(result));
}

/** A run that could not start: exit 1, phase startup, this error, no step ran. */
function failedAtStartup(result: CliResult, error: RegExp): void {
  assert.equal(result.code, 1, show(result));
  assert.equal(result.report?.status, 'failed');
  assert.equal(result.report?.phase, 'startup');
  assert.match(result.report?.error ?? '', error);
  assert.ok(result.report?.steps.every((s) => s.status === 'not_started'), 'no step ran');
}

async function stepOutput(result: CliResult, step = 0): Promise<string> {
  const file = result.report?.steps[step]?.stdoutFile;
  assert.ok(file, `step ${step} has no stdout file\n${show(result)}`);
  return readFile(file, 'utf8');
}

async function assertNothingLeft(result: CliResult): Promise<void> {
  assert.equal(result.runIds.length, 1, 'one run');
  assert.deepEqual(
    (await leftovers(engine, result.runIds[0]!)).map((c) => `${c.Names[0]} ${c.State}`),
    [],
    'no container is left behind by the run',
  );
}

/** The stdout + stderr of a container's log so far. */
async function logsOf(id: string): Promise<string> {
  const out = new Collect();
  await pipeline(await engine.containers.logs(id, { stdout: true, stderr: true }), new DemuxStream(out, out));
  return out.text();
}

const PROBE_STEP = `
  - name: probe
    command: sh -c 'touch /probe/started; until [ -e /probe/go ]; do sleep 0.1; done'
    timeoutSec: 60
`;

/**
 * Runs a DAG whose step `probe` waits for the test: once it runs, `during` looks at the running
 * container (found by the DAG's label), then the step is let go. `yaml` gets the probe directory,
 * to mount at /probe.
 */
async function probeRun(slug: string, yaml: (probeDir: string) => string, during: (info: ContainerInfo) => Promise<void>, options: RunOptions = {}): Promise<CliResult> {
  const probe = await tempDir('probe');
  let done: CliResult | undefined;
  const running = runDag(slug, yaml(probe), options).then((r) => (done = r));
  try {
    await eventually('the probe step to start', async () => {
      if (done) throw new Error(`the run ended before its probe step started\n${show(done)}`);
      return (await fileExists(join(probe, 'started'))) || undefined;
    });
    const [container, ...more] = (await containersOfDag(engine, dagName(slug))).filter((c) => c.State === 'running');
    assert.ok(container, 'the DAG-level container runs');
    assert.equal(more.length, 0, 'one DAG-level container');
    await during(await engine.containers.inspect(container.Id));
  } finally {
    await writeFile(join(probe, 'go'), '');
  }
  return running;
}

interface HostConfigView {
  Init?: boolean;
  NetworkMode?: string;
  RestartPolicy?: { Name: string };
  PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
}

function hostConfig(info: ContainerInfo): HostConfigView {
  return (info as unknown as { HostConfig: HostConfigView }).HostConfig;
}

function configOf(info: ContainerInfo): { Cmd: string[] | null; Entrypoint: string[] | null } {
  return (info as unknown as { Config: { Cmd: string[] | null; Entrypoint: string[] | null } }).Config;
}

/** A container made by hand for a test (labelled, reaped in after()). */
async function handMade(cmd: string[], options: { image?: string; name?: string; start?: boolean; network?: string } = {}): Promise<string> {
  const { Id } = await engine.containers.create(
    { Image: options.image ?? TEST_IMAGE, Cmd: cmd, Labels, ...(options.network ? { HostConfig: { NetworkMode: options.network } } : {}) },
    { name: options.name },
  );
  if (options.start !== false) await engine.containers.start(Id);
  return Id;
}

// ---------------------------------------------------------------------------------------------
// Startup modes

describe('startup modes', { concurrency: 4 }, () => {
  test('keepalive (default): a sleep loop under Docker init replaces the image entrypoint/CMD; steps exec into it', async () => {
    const result = await probeRun(
      'keepalive',
      (probe) => `
container:
  image: ${HEALTHY_IMAGE}
  volumes: ["${probe}:/probe"]
steps:${PROBE_STEP}`,
      async (info) => {
        const config = configOf(info);
        assert.deepEqual(config.Entrypoint ?? [], []);
        assert.equal(config.Cmd?.[0], 'sh');
        assert.match(config.Cmd?.join(' ') ?? '', /while true; do sleep/);
        assert.equal(hostConfig(info).Init, true);
        assert.equal(await logsOf(info.Id), '', "the image's CMD (which prints ready) never ran");
      },
    );
    succeeded(result);
    await assertNothingLeft(result);
  });

  test("entrypoint: the image's own ENTRYPOINT/CMD runs (and keeps running); steps exec beside it", async () => {
    const result = await probeRun(
      'entrypoint',
      (probe) => `
container:
  image: ${HEALTHY_IMAGE}
  startup: entrypoint
  volumes: ["${probe}:/probe"]
steps:${PROBE_STEP}`,
      async (info) => {
        assert.deepEqual(configOf(info).Cmd, ['sh', '-c', 'echo ready; while true; do sleep 1; done']);
        assert.equal(hostConfig(info).Init, true);
        assert.equal(await logsOf(info.Id), 'ready\n');
      },
    );
    succeeded(result);
    await assertNothingLeft(result);
  });

  test('command: the container runs `command` with the entrypoint cleared', async () => {
    const result = await probeRun(
      'command',
      (probe) => `
container:
  image: ${TEST_IMAGE}
  startup: command
  command: ["sh", "-c", "echo from-command; exec sleep 300"]
  volumes: ["${probe}:/probe"]
steps:${PROBE_STEP}`,
      async (info) => {
        assert.deepEqual(configOf(info).Cmd, ['sh', '-c', 'echo from-command; exec sleep 300']);
        assert.deepEqual(configOf(info).Entrypoint ?? [], []);
        assert.equal(await logsOf(info.Id), 'from-command\n');
      },
    );
    succeeded(result);
    await assertNothingLeft(result);
  });
});

// ---------------------------------------------------------------------------------------------
// Readiness

describe('readiness: waitFor and logPattern', { concurrency: 4 }, () => {
  test('waitFor: running — a container whose command exits fails the run with its state, and is removed', async () => {
    // skiff-busybox's CMD is a shell with no input: it ends at once.
    const result = await runDag(
      'exits',
      `
container:
  image: ${TEST_IMAGE}
  startup: entrypoint
  waitFor: running
steps:
  - echo never
`,
    );
    failedAtStartup(result, /^container [0-9a-f]{12} not running; status=exited, exitCode=0$/);
    await assertNothingLeft(result);
  });

  test('waitFor: healthy — the steps start once the HEALTHCHECK says healthy', async () => {
    const result = await probeRun(
      'healthy',
      (probe) => `
container:
  image: ${HEALTHY_IMAGE}
  waitFor: healthy
  volumes: ["${probe}:/probe"]
steps:${PROBE_STEP}`,
      async (info) => {
        assert.equal(info.State.Health?.Status, 'healthy');
      },
    );
    succeeded(result);
    assert.doesNotMatch(result.stdout + result.stderr, /no healthcheck/);
    await assertNothingLeft(result);
  });

  test('waitFor: healthy on an image without HEALTHCHECK warns and falls back to running', async () => {
    const result = await runDag(
      'no-healthcheck',
      `
container:
  image: ${TEST_IMAGE}
  waitFor: healthy
steps:
  - echo ran
`,
    );
    succeeded(result);
    assert.match(result.stdout + result.stderr, /warning: Selected waitFor=healthy but image has no healthcheck; falling back to running/);
    assert.equal(await stepOutput(result), 'ran\n');
    await assertNothingLeft(result);
  });

  test('logPattern matches a line the entrypoint prints (`ready`), in Go syntax too', async () => {
    for (const [slug, pattern] of [
      ['pattern', '^ready$'],
      ['pattern-go-flags', '(?i)READY'],
    ] as const) {
      const result = await runDag(
        slug,
        `
container:
  image: ${HEALTHY_IMAGE}
  startup: entrypoint
  logPattern: "${pattern}"
steps:
  - echo after-ready
`,
      );
      succeeded(result);
      assert.equal(await stepOutput(result), 'after-ready\n');
      await assertNothingLeft(result);
    }
  });

  test('logPattern: a log stream that ends before the pattern fails with Dagu\'s text, and the container is removed', async () => {
    const result = await runDag(
      'stream-ends',
      `
container:
  image: ${TEST_IMAGE}
  startup: command
  command: ["sh", "-c", "echo starting; sleep 2"]
  logPattern: ready
steps:
  - echo never
`,
    );
    failedAtStartup(result, /^log stream ended before pattern matched: "ready"$/);
    await assertNothingLeft(result);
  });

  test('logPattern timeout: the budget runs out with the pattern in the error (waitReady, short budget)', async () => {
    const id = await handMade(['sh', '-c', 'echo something-else; exec sleep 300']);
    const warnings: string[] = [];
    await assert.rejects(
      waitReady(engine, id, { waitFor: 'running', logPattern: 'never-printed', tty: false, signal: new AbortController().signal, budgetMs: 1500, warn: (m) => warnings.push(m) }),
      (err: unknown) => {
        assert.ok(isSkiffError(err, 'timeout'), String(err));
        assert.equal(err.message, 'readiness timeout waiting for logPattern; pattern="never-printed": context deadline exceeded');
        return true;
      },
    );
    assert.deepEqual(warnings, []);
  });

  test('waitFor timeouts report the last state: healthy (unhealthy does not fail early) and running', async () => {
    const unhealthy = await handMade(['sh', '-c', 'touch /tmp/unhealthy; exec sleep 300'], { image: HEALTHY_IMAGE });
    await eventually('the container to be unhealthy', async () => ((await engine.containers.inspect(unhealthy)).State.Health?.Status === 'unhealthy' ? true : undefined));
    await assert.rejects(
      waitReady(engine, unhealthy, { waitFor: 'healthy', tty: false, signal: new AbortController().signal, budgetMs: 1000, warn: () => undefined }),
      (err: unknown) => isSkiffError(err, 'timeout') && err.message === 'readiness timeout waiting for healthy; last health=unhealthy: context deadline exceeded',
    );
    const neverStarted = await handMade(['true'], { start: false });
    await assert.rejects(
      waitReady(engine, neverStarted, { waitFor: 'running', tty: false, signal: new AbortController().signal, budgetMs: 1000, warn: () => undefined }),
      (err: unknown) =>
        isSkiffError(err, 'timeout') && err.message === 'readiness timeout waiting for running; last state=running=false,status=created: context deadline exceeded',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Volumes

describe('volumes', { concurrency: 4 }, () => {
  test('absolute, ./relative (to the DAG file, not the cwd) and ~ sources; rw writes reach the host, ro refuses', async () => {
    const dagDir = await tempDir('dagdir');
    const home = await tempDir('home');
    const abs = await tempDir('abs');
    await mkdir(join(dagDir, 'x'));
    await mkdir(join(home, 'hv'));
    await writeFile(join(dagDir, 'x', 'in.txt'), 'relative\n');
    await writeFile(join(home, 'hv', 'in.txt'), 'home\n');
    await writeFile(join(abs, 'in.txt'), 'absolute\n');
    const result = await runDag(
      'binds',
      `
container:
  image: ${TEST_IMAGE}
  volumes:
    - ${abs}:/abs
    - ${abs}:/abs-ro:ro
    - ./x:/x:rw
    - ~/hv:/hv
steps:
  - sh -c 'cat /abs/in.txt /x/in.txt /hv/in.txt; echo w > /abs/out; echo w > /x/out; echo w > /hv/out; if echo w > /abs-ro/nope; then echo ro-writable; else echo ro-refused; fi'
`,
      { dagDir, env: { HOME: home } },
    );
    succeeded(result);
    const out = await stepOutput(result);
    assert.equal(out, 'absolute\nrelative\nhome\nro-refused\n');
    assert.equal(await readFile(join(abs, 'out'), 'utf8'), 'w\n');
    assert.equal(await readFile(join(dagDir, 'x', 'out'), 'utf8'), 'w\n');
    assert.equal(await readFile(join(home, 'hv', 'out'), 'utf8'), 'w\n');
    assert.equal(await fileExists(join(abs, 'nope')), false);
    await assertNothingLeft(result);
  });

  test('a named volume is mounted rw and ro (writing to ro fails); Docker creates it, the run keeps it', async () => {
    const volume = `skiff-test-vol-${PID}`;
    volumes.push(volume);
    try {
      const result = await runDag(
        'named-volume',
        `
container:
  image: ${TEST_IMAGE}
  volumes:
    - ${volume}:/nv:rw
    - ${volume}:/nv-ro:ro
steps:
  - sh -c 'echo data > /nv/f; cat /nv-ro/f; if echo w > /nv-ro/g; then echo ro-writable; else echo ro-refused; fi'
`,
      );
      succeeded(result);
      assert.equal(await stepOutput(result), 'data\nro-refused\n');
      const found = await engine.volumes.list({ name: [volume] });
      assert.ok(found.some((v) => v.Name === volume), 'the named volume exists after the run');
      await assertNothingLeft(result);
    } finally {
      await engine.volumes.remove(volume, { force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Ports

/** One TCP exchange with the published port: what the server sent before it closed. */
function tcpRead(port: number): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('data', (s: string) => (data += s));
    socket.on('error', () => resolve(data));
    socket.on('close', () => resolve(data));
  });
}

describe('ports', () => {
  test('"127.0.0.1:18080:80" is reachable from the host: a real TCP connection to the container', async () => {
    // The server answers every connection until the test has its answer and says stop: one
    // answer lost on its way through docker-proxy (seen once, under load) must not end the run.
    const control = await tempDir('ports');
    let done: CliResult | undefined;
    const running = runDag(
      'ports',
      `
container:
  image: ${TEST_IMAGE}
  ports:
    - "127.0.0.1:18080:80"
  volumes:
    - ${control}:/control
steps:
  - name: serve
    command: while [ ! -e /control/stop ]; do nc -l -p 80 -e echo hi; done
    timeoutSec: 60
`,
    ).then((r) => (done = r));
    // docker-proxy accepts before anything listens in the container (and closes at once): retry
    // until the container's own answer comes back.
    const answer = await eventually('the container to answer on 127.0.0.1:18080', async () => {
      if (done) throw new Error(`the run ended before anything answered\n${show(done)}`);
      const got = await tcpRead(18080);
      return got === '' ? undefined : got;
    });
    assert.equal(answer, 'hi\n');
    await writeFile(join(control, 'stop'), '');
    // The server looks for the file after its next connection.
    await eventually('the server to stop', async () => (done ? true : (await tcpRead(18080), undefined)));
    const result = await running;
    succeeded(result);
    await assertNothingLeft(result);
  });
});

// ---------------------------------------------------------------------------------------------
// Networks

describe('network modes', { concurrency: 4 }, () => {
  const listInterfaces = `sh -c 'ls -1 /sys/class/net'`;

  test('bridge: an eth0 of its own', async () => {
    const result = await runDag('net-bridge', `container:\n  image: ${TEST_IMAGE}\n  network: bridge\nsteps:\n  - ${listInterfaces}\n`);
    succeeded(result);
    assert.equal(await stepOutput(result), 'eth0\nlo\n');
    await assertNothingLeft(result);
  });

  test("host: the host's network stack (its hostname, its docker0 bridge)", async () => {
    const result = await runDag('net-host', `container:\n  image: ${TEST_IMAGE}\n  network: host\nsteps:\n  - sh -c 'hostname; test -e /sys/class/net/docker0 && echo has-docker0'\n`);
    succeeded(result);
    assert.equal(await stepOutput(result), `${hostname()}\nhas-docker0\n`);
    await assertNothingLeft(result);
  });

  test('none: loopback only', async () => {
    const result = await runDag('net-none', `container:\n  image: ${TEST_IMAGE}\n  network: none\nsteps:\n  - ${listInterfaces}\n`);
    succeeded(result);
    assert.equal(await stepOutput(result), 'lo\n');
    await assertNothingLeft(result);
  });

  test("container:<name>: the other container's network namespace (same MAC address)", async () => {
    const peer = `skiff-test-netpeer-${PID}`;
    const id = await handMade(['sleep', '300'], { name: peer });
    const mac = (await engine.containers.inspect(id) as unknown as { NetworkSettings: { MacAddress: string } }).NetworkSettings.MacAddress;
    assert.match(mac, /^[0-9a-f:]{17}$/);
    const result = await runDag('net-container', `container:\n  image: ${TEST_IMAGE}\n  network: "container:${peer}"\nsteps:\n  - cat /sys/class/net/eth0/address\n`);
    succeeded(result);
    assert.equal(await stepOutput(result), `${mac}\n`);
    await assertNothingLeft(result);
    await engine.containers.remove(id, { force: true });
  });

  test('a custom network (made by the test): attached to it, with its DNS, reaching a peer by name', async () => {
    const network = `skiff-test-net-${PID}`;
    const peer = `skiff-test-peer-${PID}`;
    await engine.networks.create(network, { labels: Labels });
    const peerId = await handMade(['sleep', '300'], { name: peer, network });
    try {
      const result = await runDag(
        'net-custom',
        `container:\n  image: ${TEST_IMAGE}\n  network: ${network}\nsteps:\n  - sh -c 'grep ^nameserver /etc/resolv.conf; ping -c 1 -W 5 ${peer} >/dev/null && echo reached-peer'\n`,
      );
      succeeded(result);
      assert.equal(await stepOutput(result), 'nameserver 127.0.0.11\nreached-peer\n');
      await assertNothingLeft(result);
    } finally {
      await engine.containers.remove(peerId, { force: true });
      await engine.networks.remove(network);
    }
  });

  test('a custom network that does not exist: a clear error naming it, and nothing left', async () => {
    const result = await runDag('net-missing', `container:\n  image: ${TEST_IMAGE}\n  network: skiff-no-such-network-${PID}\nsteps:\n  - echo never\n`);
    failedAtStartup(result, new RegExp(`network skiff-no-such-network-${PID} not found`));
    await assertNothingLeft(result);
  });
});

// ---------------------------------------------------------------------------------------------
// keepContainer

describe('keepContainer', () => {
  test('the container still RUNS after the run; the next run with the same name reuses it, or replaces it once stopped; someone else\'s name is refused', async () => {
    const name = `skiff-test-keep-${PID}`;
    const yaml = `
container:
  image: ${TEST_IMAGE}
  name: ${name}
  keepContainer: true
steps:
  - sh -c 'if [ -e /tmp/first-run ]; then echo second; else touch /tmp/first-run; echo first; fi'
`;
    try {
      const first = await runDag('keep', yaml);
      succeeded(first);
      assert.equal(await stepOutput(first), 'first\n');
      const kept = await engine.containers.inspect(name);
      assert.equal(kept.State.Running, true, 'running after the run');

      const second = await runDag('keep', yaml);
      succeeded(second);
      assert.equal(await stepOutput(second), 'second\n', 'the step ran in the same container');
      assert.match(second.stdout, new RegExp(`reusing container ${name} kept by an earlier run`));
      const again = await engine.containers.inspect(name);
      assert.equal(again.Id, kept.Id, 'not recreated');
      assert.equal(again.State.Running, true);

      // Once it has stopped, the next run removes it and creates it afresh.
      await engine.containers.stop(name, { t: 1 });
      const third = await runDag('keep', yaml);
      succeeded(third);
      assert.equal(await stepOutput(third), 'first\n', 'a fresh container');
      const fresh = await engine.containers.inspect(name);
      assert.notEqual(fresh.Id, kept.Id);
      assert.equal(fresh.State.Running, true);
    } finally {
      await engine.containers.remove(name, { force: true });
    }

    // A container of that name that skiff did not make for this DAG is never touched.
    const foreign = await handMade(['sleep', '300'], { name });
    const refused = await runDag('keep', yaml);
    failedAtStartup(refused, new RegExp(`^container already exists\\. id=${foreign}$`));
    assert.equal((await engine.containers.inspect(foreign)).State.Running, true, 'left as it was');
    await engine.containers.remove(foreign, { force: true });
  });
});

// ---------------------------------------------------------------------------------------------
// What steps see

describe('steps in the DAG-level container', { concurrency: 4 }, () => {
  test("inherit the container's env, workingDir and user; DAG env and step env are not injected", async () => {
    const result = await runDag(
      'env',
      `
env:
  - DAG_ONLY: from-dag
container:
  image: ${TEST_IMAGE}
  env:
    - FROM_CONTAINER=yes
    - COMBINED=\${DAG_ONLY}-expanded-at-load
  workingDir: /srv/work
  user: "1234:4321"
steps:
  - name: look
    env:
      - STEP_ONLY: from-step
    command: sh -c 'env | grep -E "^(FROM_CONTAINER|COMBINED)=" | sort; pwd; id -u; id -g; env | grep -qE "^(DAG_ONLY|STEP_ONLY)=" && echo injected || echo not-injected'
`,
    );
    succeeded(result);
    assert.equal(await stepOutput(result), 'COMBINED=from-dag-expanded-at-load\nFROM_CONTAINER=yes\n/srv/work\n1234\n4321\nnot-injected\n');
    await assertNothingLeft(result);
  });

  test('graph mode: two steps exec at the same time (each waits for the file the other makes)', async () => {
    const result = await runDag(
      'concurrent',
      `
type: graph
container:
  image: ${TEST_IMAGE}
steps:
  - name: a
    command: sh -c 'touch /tmp/a; until [ -e /tmp/b ]; do sleep 0.1; done; echo a-saw-b'
    timeoutSec: 20
  - name: b
    command: sh -c 'touch /tmp/b; until [ -e /tmp/a ]; do sleep 0.1; done; echo b-saw-a'
    timeoutSec: 20
`,
    );
    succeeded(result);
    assert.equal(await stepOutput(result, 0), 'a-saw-b\n');
    assert.equal(await stepOutput(result, 1), 'b-saw-a\n');
    await assertNothingLeft(result);
  });

  test('restartPolicy reaches the container, and the container is still removed at the end', async () => {
    for (const policy of ['always', 'unless-stopped']) {
      const result = await probeRun(
        `restart-${policy}`,
        (probe) => `
container:
  image: ${TEST_IMAGE}
  restartPolicy: ${policy}
  volumes: ["${probe}:/probe"]
steps:${PROBE_STEP}`,
        async (info) => {
          assert.equal(hostConfig(info).RestartPolicy?.Name, policy);
        },
      );
      succeeded(result);
      await assertNothingLeft(result);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Failure paths: nothing is left behind

describe('no container is left after a failure', { concurrency: 4 }, () => {
  test('a failed step', async () => {
    const result = await runDag('fail-step', `container:\n  image: ${TEST_IMAGE}\nsteps:\n  - sh -c 'echo oops >&2; exit 3'\n`);
    assert.equal(result.code, 1, show(result));
    assert.equal(result.report?.status, 'failed');
    assert.equal(result.report?.phase, 'step');
    assert.equal(result.report?.steps[0]?.status, 'failed');
    assert.equal(result.report?.steps[0]?.exitCode, 3);
    await assertNothingLeft(result);
  });

  test('a step timeout', async () => {
    const result = await runDag('fail-timeout', `container:\n  image: ${TEST_IMAGE}\nsteps:\n  - name: slow\n    command: sleep 60\n    timeoutSec: 1\n`);
    assert.equal(result.code, 1, show(result));
    assert.equal(result.report?.steps[0]?.status, 'failed');
    await assertNothingLeft(result);
  });

  test('Ctrl-C (SIGINT to skiff) while a step runs: exit 130, the step cancelled', async () => {
    let child: ChildProcess | undefined;
    const result = await probeRun(
      'sigint-step',
      (probe) => `
container:
  image: ${TEST_IMAGE}
  volumes: ["${probe}:/probe"]
steps:${PROBE_STEP}`,
      async () => {
        child!.kill('SIGINT');
        await eventually('skiff to exit', () => (child!.exitCode !== null ? true : undefined));
      },
      { started: (c) => (child = c) },
    );
    assert.equal(result.code, 130, show(result));
    assert.equal(result.report?.status, 'aborted');
    assert.equal(result.report?.steps[0]?.status, 'cancelled');
    await assertNothingLeft(result);
  });

  test('Ctrl-C while waiting for readiness: exit 130, the half-made container removed', async () => {
    let child: ChildProcess | undefined;
    const slug = 'sigint-readiness';
    const running = runDag(
      slug,
      // Keepalive prints nothing: this waits for the whole 120 s budget unless interrupted.
      `container:\n  image: ${TEST_IMAGE}\n  logPattern: never-printed\nsteps:\n  - echo never\n`,
      { started: (c) => (child = c) },
    );
    await eventually('the DAG-level container to run', async () => {
      if (child && child.exitCode !== null) throw new Error(`skiff ended before its container ran\n${show(await running)}`);
      return (await containersOfDag(engine, dagName(slug))).some((c) => c.State === 'running') ? true : undefined;
    });
    child!.kill('SIGINT');
    const result = await running;
    assert.equal(result.code, 130, show(result));
    assert.equal(result.report?.status, 'aborted');
    await assertNothingLeft(result);
  });

  test('a missing image', async () => {
    const result = await runDag('fail-image', `container:\n  image: skiff-no-such-image-${PID}:latest\n  pullPolicy: never\nsteps:\n  - echo never\n`);
    failedAtStartup(result, new RegExp(`No such image: skiff-no-such-image-${PID}:latest`));
    await assertNothingLeft(result);
  });

  test('failed readiness with keepContainer: true (a container that never became ready is not kept)', async () => {
    const result = await runDag('fail-keep', `container:\n  image: ${TEST_IMAGE}\n  startup: entrypoint\n  keepContainer: true\nsteps:\n  - echo never\n`);
    failedAtStartup(result, /not running; status=exited/);
    await assertNothingLeft(result);
  });
});

// ---------------------------------------------------------------------------------------------
// §4.9 checks that need no engine: `skiff validate` refuses them, exit 2, Dagu's words, file:line:col

describe('skiff validate: set-up errors found at load time (§4.9)', { concurrency: 4 }, () => {
  const cases: Array<{ what: string; block: string; line: number; col: number; message: string }> = [
    { what: 'bad volume (parts)', block: '  volumes:\n    - justone', line: 4, col: 7, message: 'invalid volume format: justone' },
    { what: 'bad volume (mode)', block: '  volumes:\n    - /a:/b:bogus', line: 4, col: 7, message: 'invalid volume format: invalid mode bogus in /a:/b:bogus' },
    { what: 'bad port (parts)', block: '  ports:\n    - "1:2:3:4"', line: 4, col: 7, message: 'invalid port format: 1:2:3:4' },
    { what: 'bad port (protocol)', block: '  ports:\n    - "80/xyz"', line: 4, col: 7, message: 'invalid port format: invalid protocol xyz in 80/xyz' },
    { what: 'bad restartPolicy', block: '  restartPolicy: on-failure', line: 3, col: 18, message: 'invalid restartPolicy: on-failure (supported: no, always, unless-stopped)' },
    {
      what: 'bad platform',
      block: '  platform: linux/bogus',
      line: 3,
      col: 13,
      message: 'failed to parse platform linux/bogus: "linux/bogus": unknown operating system or architecture: invalid argument',
    },
    { what: 'bad startup', block: '  startup: sideways', line: 3, col: 12, message: 'invalid startup mode: sideways' },
    { what: "startup 'command' without a command", block: '  startup: command', line: 3, col: 12, message: "startup 'command' requires non-empty command array" },
    { what: 'bad waitFor', block: '  waitFor: ready', line: 3, col: 12, message: 'invalid waitFor mode: ready' },
    { what: 'bad logPattern', block: '  logPattern: "(unclosed"', line: 3, col: 15, message: 'invalid logPattern regex: error parsing regexp: missing closing ): `(unclosed`' },
    {
      what: 'logPattern RE2 refuses (lookahead)',
      block: '  logPattern: "ready(?=!)"',
      line: 3,
      col: 15,
      message: 'invalid logPattern regex: error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
    },
  ];
  for (const c of cases) {
    test(`${c.what}: ${c.message}`, async () => {
      const file = await writeDag(dir, `validate-${c.what.replace(/\W+/g, '-')}.yaml`, `container:\n  image: ${TEST_IMAGE}\n${c.block}\nsteps:\n  - echo hi\n`);
      const result = await skiffInProcess(['validate', file]);
      assert.equal(result.code, 2, show(result));
      assert.equal(result.stderr, `${file}:${c.line}:${c.col}: ${c.message}\n`);
    });
  }

  test("Go syntax that JavaScript lacks is accepted: (?i) flags and (?P<name>…) groups", async () => {
    const file = await writeDag(dir, 'validate-go-syntax.yaml', `container:\n  image: ${TEST_IMAGE}\n  logPattern: "(?i)(?P<word>ready|listening)"\nsteps:\n  - echo hi\n`);
    const result = await skiffInProcess(['validate', file]);
    assert.equal(result.code, 0, show(result));
  });

  test('missing image: image is required when container is specified (at the container block)', async () => {
    const file = await writeDag(dir, 'validate-no-image.yaml', 'steps:\n  - echo hi\ncontainer:\n  pullPolicy: missing\n');
    const result = await skiffInProcess(['validate', file]);
    assert.equal(result.code, 2, show(result));
    assert.equal(result.stderr, `${file}:4:3: image is required when container is specified\n`);
  });

  test('the same file is refused by `skiff run` before anything is created (exit 2, phase load)', async () => {
    const result = await runDag('invalid-run', `container:\n  image: ${TEST_IMAGE}\n  waitFor: ready\nsteps:\n  - echo hi\n`);
    assert.equal(result.code, 2, show(result));
    assert.equal(result.report?.phase, 'load');
    assert.match(result.report?.error ?? '', /invalid waitFor mode: ready/);
    assert.deepEqual(result.runIds, [], 'no run was started');
  });
});


