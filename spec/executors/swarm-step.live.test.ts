// Swarm steps end to end, through the CLI as a user types it, on the one-node swarm that
// scripts/swarm-up brings up (a dockerd of its own, never the main engine). Each test looks at the
// swarm afterwards: no service of the run may be left, whatever the outcome.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import tar from 'tar-stream';
import { after, before, describe, test } from 'node:test';
import { openEngine, type Engine } from '../../lib/engine/index.js';
import { skiffLabels } from '../../lib/executors/docker/labels.js';
import { engineEnv, TEST_IMAGE } from '../support/live.js';
import { buildMarkedImage } from '../support/pack-assets.js';
import { eventually, recordAndReplay, removeTempDirs, skiff, tempDir, writeDag, type CliOptions } from '../support/skiff-cli.js';

const SWARM = { DOCKER_HOST: engineEnv.SKIFF_SWARM_HOST! };
const REGISTRY_IMAGE = `${engineEnv.SKIFF_REGISTRY}/busybox:latest`;
const AUTH_IMAGE = `${engineEnv.SKIFF_AUTH_REGISTRY}/busybox:latest`;
const T = { timeout: 120_000 };
/** An image with no /bin/sh, made on the swarm's engine by the test that needs it. */
const NO_SH_IMAGE = `skiff-swarm-nosh:${process.pid}`;
/** The test image, already on the swarm's node: pinned by ID, so nothing is pulled. */
const LOCAL = `{type: swarm, config: {image: ${TEST_IMAGE}, pull: never}}`;

let engine: Engine;
let dir: string;

before(async () => {
  engine = openEngine({ env: SWARM });
  const info = await engine.info(AbortSignal.timeout(5000)).catch((err: Error) => {
    throw new Error(`swarm tests need the test swarm: run \`bash scripts/swarm-up\` first (${err.message})`);
  });
  assert.equal((info.Swarm as { ControlAvailable?: boolean }).ControlAvailable, true, 'the test swarm is not a manager: run `bash scripts/swarm-up`');
  dir = await tempDir('swarm');
});

after(async () => {
  await engine.close();
  await removeTempDirs();
});

/** The swarm node's names for the htpasswd registry's image (tags and digests). */
async function authImageRefs(): Promise<string[]> {
  const repo = AUTH_IMAGE.replace(/:latest$/, '');
  const images = await engine.transport.json<Array<{ RepoTags?: string[] | null; RepoDigests?: string[] | null }>>({
    method: 'GET',
    path: '/images/json',
    query: { filters: JSON.stringify({ reference: [repo] }) },
    what: 'list images',
  });
  return images.flatMap((i) => [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])]).filter((ref) => ref.startsWith(`${repo}:`) || ref.startsWith(`${repo}@`));
}

/** Writes a DAG named `name` with these steps (YAML under `steps:`) and runs it on the test swarm. */
async function runOnSwarm(name: string, steps: string, options: { prefix?: string; started?: CliOptions['started'] } = {}) {
  const file = await writeDag(dir, `${name}.yaml`, `name: ${name}\n${options.prefix ?? ''}steps:\n${steps}`);
  return skiff(['run', file], { env: SWARM, started: options.started });
}

/** The running containers of a DAG's swarm tasks. */
async function runningOf(dag: string) {
  return engine.containers.list({ label: [`dev.skiff.dag=${dag}`] });
}

/** The services the swarm holds for a DAG (by its name label). */
async function servicesOf(dag: string) {
  return engine.services.list({ label: ['dev.skiff.owner=skiff', `dev.skiff.dag=${dag}`] });
}

describe('swarm steps', () => {
  test('a DAG mixing docker and swarm steps passes outputs both ways; a failing swarm step has its exit code and stderr tail in the report; continueOn goes on', T, async () => {
    const res = await runOnSwarm(
      'swarm-mix',
      `  - name: on-swarm
    executor:
      type: swarm
      config:
        image: ${REGISTRY_IMAGE}
        container:
          env: [GREETING=hello]
          workingDir: /tmp
    command: echo "$GREETING from $(pwd)"; echo to-stderr >&2
    output: FROM_SWARM
  - name: in-docker
    executor: {type: docker, config: {image: ${TEST_IMAGE}, autoRemove: true}}
    command: echo "docker saw \${FROM_SWARM}"
    output: FROM_DOCKER
  - name: back-on-swarm
    executor: ${LOCAL}
    command: ["echo", "swarm saw \${FROM_DOCKER}"]
    output: LAST
  - name: failing
    executor: ${LOCAL}
    command: echo first >&2; echo second >&2; exit 3
    continueOn: failed
  - name: after-failure
    executor: ${LOCAL}
    command: echo still here
`,
    );
    assert.equal(res.code, 1, res.stderr);
    const report = res.report!;
    assert.equal(report.status, 'partially_succeeded');
    const step = (name: string) => report.steps.find((s) => s.name === name)!;
    assert.deepEqual(step('on-swarm').outputs, { FROM_SWARM: 'hello from /tmp' });
    assert.equal(readFileSync(step('on-swarm').stderrFile!, 'utf8'), 'to-stderr\n');
    assert.equal(readFileSync(step('on-swarm').stdoutFile!, 'utf8'), 'hello from /tmp\n');
    assert.deepEqual(step('in-docker').outputs, { FROM_DOCKER: 'docker saw hello from /tmp' });
    assert.deepEqual(step('back-on-swarm').outputs, { LAST: 'swarm saw docker saw hello from /tmp' });
    assert.equal(step('failing').status, 'failed');
    assert.equal(step('failing').exitCode, 3);
    assert.equal(step('failing').error, 'exit status 3\nrecent stderr (tail):\nfirst\nsecond');
    assert.equal(step('after-failure').status, 'succeeded');
    assert.deepEqual(await servicesOf('swarm-mix'), []);
  });

  test('every message of a large output arrives once and in order, stdout and stderr apart', T, async () => {
    const res = await runOnSwarm(
      'swarm-lines',
      `  - name: chatty
    executor: ${LOCAL}
    command: i=1; while [ $i -le 3000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done
`,
    );
    assert.equal(res.code, 0, res.stderr);
    const step = res.report!.steps[0]!;
    const expect = (prefix: string) => Array.from({ length: 3000 }, (_, i) => `${prefix} ${i + 1}\n`).join('');
    assert.equal(readFileSync(step.stdoutFile!, 'utf8'), expect('out'));
    assert.equal(readFileSync(step.stderrFile!, 'utf8'), expect('err'));
  });

  test('steps side by side, each ended by its container exiting on the node: every line printed last is there, and the run leaves no service', T, async () => {
    const lines = (n: number, stream: string) => Array.from({ length: 2000 }, (_, i) => `step ${n} ${stream} ${i + 1}\n`).join('');
    const steps = [1, 2, 3, 4]
      .map(
        (n) => `  - name: s${n}
    executor: ${LOCAL}
    command: sleep 1; i=1; while [ $i -le 2000 ]; do echo "step ${n} out $i"; echo "step ${n} err $i" >&2; i=$((i+1)); done
`,
      )
      .join('');
    const res = await runOnSwarm('swarm-side', steps, { prefix: 'type: graph\nmaxActiveSteps: 4\n' });
    assert.equal(res.code, 0, res.stderr);
    for (const [i, step] of res.report!.steps.entries()) {
      assert.equal(readFileSync(step.stdoutFile!, 'utf8'), lines(i + 1, 'out'), step.name);
      assert.equal(readFileSync(step.stderrFile!, 'utf8'), lines(i + 1, 'err'), step.name);
    }
    // The services were removed while the next steps ran; the run ended only once all were.
    assert.deepEqual(await servicesOf('swarm-side'), []);
    await eventually('the tasks\' containers to be removed with their services', async () => ((await engine.containers.list({ label: ['dev.skiff.dag=swarm-side'] }, { all: true })).length ? undefined : true));
  });

  test('a recorded run with swarm steps replays: same report, same logs, every request made', T, async () => {
    const file = await writeDag(
      dir,
      'swarm-replay.yaml',
      `name: swarm-replay
steps:
  - name: make
    executor: ${LOCAL}
    command: echo made; echo noted >&2
    output: MADE
  - name: use
    executor: ${LOCAL}
    command: echo "used $MADE"; exit 4
    continueOn: failed
`,
    );
    const res = await recordAndReplay(file, { env: SWARM });
    assert.equal(res.report!.steps[1]!.exitCode, 4);
    assert.deepEqual(res.replayed.report!.steps[0]!.outputs, { MADE: 'made' });
    // A swarm-only run asks the engine nothing it does not use: the ping (the API version) says the
    // engine is there; the daemon's platform, which only containers made here need, is not asked.
    const paths = [...readFileSync(join(res.recordDir, 'engine.jsonl'), 'utf8').matchAll(/"path":"([^"?]*)/g)].map((m) => m[1]!);
    assert.ok(paths.includes('/_ping'), paths.join(' '));
    assert.ok(!paths.some((p) => p.endsWith('/version')), paths.join(' '));
    // Each task container, made on the node skiff talks to, is attached to as it is made.
    assert.equal(paths.filter((p) => /\/containers\/[0-9a-f]{64}\/attach$/.test(p)).length, 2, paths.join(' '));
  });

  test('retryPolicy: every attempt is a service of its own, and none is left', T, async () => {
    const res = await runOnSwarm(
      'swarm-retry',
      `  - name: flaky
    executor: ${LOCAL}
    command: echo try >&2; exit 3
    retryPolicy: {limit: 2, intervalSec: 0}
`,
    );
    assert.equal(res.code, 1, res.stderr);
    const step = res.report!.steps[0]!;
    assert.equal(step.exitCode, 3);
    assert.equal(readFileSync(step.stderrFile!, 'utf8'), 'try\ntry\ntry\n');
    assert.deepEqual(await servicesOf('swarm-retry'), []);
  });

  test('a task no node can take is reported while the step waits; timeoutSec ends it and no service is left', T, async () => {
    const res = await runOnSwarm(
      'swarm-nowhere',
      `  - name: nowhere
    executor:
      type: swarm
      config: {image: ${TEST_IMAGE}, pull: never, placement: {constraints: [node.labels.skiff.nonexistent==yes]}}
    command: echo never
    timeoutSec: 4
`,
    );
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stdout + res.stderr, /task waits for a node: no suitable node/);
    assert.equal(res.report!.steps[0]!.status, 'failed');
    assert.deepEqual(await servicesOf('swarm-nowhere'), []);
  });

  test('an engine that is not a swarm manager: one clear error', T, async () => {
    const file = await writeDag(dir, 'swarm-not-manager.yaml', `name: swarm-not-manager\nsteps:\n  - name: s\n    executor: ${LOCAL}\n    command: "true"\n`);
    // The main engine of scripts/engine-up is not in swarm mode.
    const res = await skiff(['run', file], { env: { DOCKER_HOST: 'unix:///var/run/docker.sock' } });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.report!.steps[0]!.error!, /create service skiff-s-\S+: Error response from daemon: This node is not a swarm manager/);
    assert.doesNotMatch(res.stderr, /^\s+at /m);
  });

  test('a task container that cannot start: the swarm\'s reason in the step error, as a docker step has the daemon\'s; no /bin/sh gets the list-form advice', T, async () => {
    // An image with a single static binary and no /bin/sh, on the swarm's own engine.
    const pack = tar.pack();
    pack.entry({ name: 'busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
    pack.finalize();
    await engine.images.import(pack, { repo: NO_SH_IMAGE.split(':')[0]!, tag: NO_SH_IMAGE.split(':')[1]! });
    try {
      const noSh = `{type: swarm, config: {image: ${NO_SH_IMAGE}, pull: never}}`;
      const res = await runOnSwarm(
        'swarm-nostart',
        `  - name: baduser
    executor: {type: swarm, config: {image: ${TEST_IMAGE}, pull: never, container: {user: nosuchuser}}}
    command: echo hi
  - name: nosuch
    executor: ${LOCAL}
    command: ["/no/such/program"]
  - name: noshell
    executor: ${noSh}
    command: echo hi
  - name: listform
    executor: ${noSh}
    command: ["/busybox", "echo", "from a list"]
`,
        { prefix: 'type: graph\n' },
      );
      assert.equal(res.code, 1, res.stderr);
      const step = (name: string) => res.report!.steps.find((s) => s.name === name)!;
      assert.match(step('baduser').error!, /^swarm task \S+ failed: starting container failed: unable to find user nosuchuser/);
      assert.equal(step('baduser').exitCode, 1, 'no command ran: no exit code of it');
      assert.match(step('nosuch').error!, /^swarm task \S+ failed: starting container failed: .*\/no\/such\/program/);
      assert.equal(step('noshell').error, `image ${NO_SH_IMAGE} has no /bin/sh, so a string command cannot run in a shell: write the command as a list (exec form), e.g. command: ["/app", "--flag"]`);
      assert.equal(step('listform').status, 'succeeded');
      assert.equal(readFileSync(step('listform').stdoutFile!, 'utf8'), 'from a list\n');
      assert.doesNotMatch(res.stderr, /^\s+at /m);
      assert.deepEqual(await servicesOf('swarm-nostart'), []);
    } finally {
      await engine.images.remove(NO_SH_IMAGE, { force: true }).catch(() => undefined);
    }
  });

  test('a swarm step from a pack: its image carried and loaded into the swarm\'s engine, the step runs that copy with nothing pulled', T, async () => {
    const image = `skiff-swarm-packed-${process.pid}:1`;
    // An image of its own (a marker file on busybox), so its removal leaves nothing of it behind.
    await buildMarkedImage(engine, image, `packed-${process.pid}`);
    try {
      const packDir = await tempDir('swarm-pack');
      const file = await writeDag(packDir, 'packed.yaml', `name: swarm-packed\nsteps:\n  - name: job\n    executor: {type: swarm, config: {image: ${image}}}\n    command: cat /marker\n`);
      const packed = await skiff(['pack', file], { env: SWARM, cwd: packDir });
      assert.equal(packed.code, 0, packed.stderr);
      await engine.images.remove(image);
      assert.equal(await engine.images.find(image), undefined);
      const res = await skiff(['run', join(packDir, 'packed.pack.tar')], { env: SWARM, cwd: packDir });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, new RegExp(`loaded ${image}`));
      assert.match(res.stdout + res.stderr, /swarm steps run the engine's own copy of the images that came in the pack, as `pull: never` \(job\)/);
      assert.doesNotMatch(res.stdout + res.stderr, /could not be looked up in its registry/, 'no registry asked');
      assert.equal(readFileSync(res.report!.steps[0]!.stdoutFile!, 'utf8'), `packed-${process.pid}\n`);
      assert.deepEqual(await servicesOf('swarm-packed'), []);
    } finally {
      await engine.images.remove(image, { force: true }).catch(() => undefined);
    }
  });

  test('replicas and maxConcurrent: a job that fans out runs every replica', T, async () => {
    const res = await runOnSwarm(
      'swarm-fan',
      `  - name: fan
    executor:
      type: swarm
      config: {image: ${TEST_IMAGE}, pull: never, replicas: 3, maxConcurrent: 2}
    command: echo replica
`,
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(readFileSync(res.report!.steps[0]!.stdoutFile!, 'utf8'), 'replica\nreplica\nreplica\n');
  });

  test('the registry credentials go with the service: the node pulls an image from the htpasswd registry', T, async () => {
    // Untagged only (the layers are the test image's): the node must still ask the registry.
    for (const ref of await authImageRefs()) await engine.images.remove(ref);
    assert.deepEqual(await authImageRefs(), []);
    const file = await writeDag(
      dir,
      'swarm-auth.yaml',
      `name: swarm-auth
registryAuths:
  "${engineEnv.SKIFF_AUTH_REGISTRY}":
    username: ${engineEnv.SKIFF_REGISTRY_USER}
    password: \${REGISTRY_PASSWORD}
steps:
  - name: private
    executor: {type: swarm, config: {image: ${AUTH_IMAGE}}}
    command: echo pulled-and-ran
`,
    );
    const res = await skiff(['run', file], { env: { ...SWARM, REGISTRY_PASSWORD: engineEnv.SKIFF_REGISTRY_PASSWORD } });
    assert.equal(res.code, 0, `${res.stderr}\n${res.reportText}`);
    assert.equal(readFileSync(res.report!.steps[0]!.stdoutFile!, 'utf8'), 'pulled-and-ran\n');
    assert.notDeepEqual(await authImageRefs(), [], 'the node did not pull the image');
  });

  test('Ctrl-C during a swarm step: exit 130, the step cancelled, no service left', T, async () => {
    const file = await writeDag(
      dir,
      'swarm-cancel.yaml',
      `name: swarm-cancel
steps:
  - name: long
    executor: ${LOCAL}
    command: echo started; sleep 300
`,
    );
    const res = await skiff(['run', file], {
      env: SWARM,
      started: (child) => {
        void eventually('the step to run on the swarm', async () => ((await runningOf('swarm-cancel')).length ? true : undefined)).then(() => child.kill('SIGINT'));
      },
    });
    assert.equal(res.code, 130, res.stderr);
    assert.equal(res.report!.status, 'aborted');
    assert.equal(res.report!.steps[0]!.status, 'cancelled');
    assert.deepEqual(await servicesOf('swarm-cancel'), []);
    // Its container is stopped too, not left running on the node.
    assert.deepEqual(await runningOf('swarm-cancel'), []);
  });

  /** A service labelled as made by a skiff process that has died. */
  async function orphanService(dag: string): Promise<string> {
    const dead = spawn(process.execPath, ['-e', '']);
    const pid = dead.pid!;
    await new Promise((resolve) => dead.on('exit', resolve));
    const labels = { ...skiffLabels({ runId: 'killed-run', dag, step: 'lost' }), 'dev.skiff.pid': String(pid), 'dev.skiff.host': hostname() };
    const orphan = await engine.services.create({
      Name: `skiff-${dag}-${process.pid}`,
      Labels: labels,
      TaskTemplate: { ContainerSpec: { Image: TEST_IMAGE, Args: ['sleep', '300'], Labels: labels }, RestartPolicy: { Condition: 'none' } },
      Mode: { Replicated: { Replicas: 1 } },
    });
    return orphan.ID;
  }

  test('`skiff cleanup` removes a service left by a skiff that was killed', T, async () => {
    const orphan = await orphanService('swarm-orphan-cleanup');
    try {
      const res = await skiff(['cleanup'], { env: SWARM });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /removed swarm service skiff-swarm-orphan-cleanup-\d+ \(run killed-run\)/);
      assert.deepEqual(await servicesOf('swarm-orphan-cleanup'), []);
    } finally {
      await engine.services.remove(orphan);
    }
  });

  test('a second Ctrl-C forces: a task that ignores the stop signal, with a long grace period, is killed at once', T, async () => {
    let forcing: Promise<void> | undefined;
    const res = await runOnSwarm(
      'swarm-force',
      `  - name: stubborn
    executor: ${LOCAL}
    command: trap '' TERM INT; echo started; sleep 300
    signalOnStop: SIGTERM
`,
      {
        prefix: 'maxCleanUpTimeSec: 300\n',
        started: (child) => {
          forcing = (async () => {
            await eventually('the step to run on the swarm', async () => ((await runningOf('swarm-force')).length ? true : undefined));
            child.kill('SIGINT');
            // The service is gone; its container would wait out the 300 s grace: force it.
            await eventually('the service to be removed', async () => ((await servicesOf('swarm-force')).length ? undefined : true));
            child.kill('SIGINT');
          })();
        },
      },
    );
    await forcing;
    assert.equal(res.code, 130, res.stderr);
    assert.equal(res.report!.steps[0]!.status, 'cancelled');
    assert.deepEqual(await runningOf('swarm-force'), []);
  });

  test('a service left by a skiff that was killed is removed when the next run starts', T, async () => {
    const orphan = await orphanService('swarm-orphan');
    try {
      const file = await writeDag(dir, 'swarm-reap.yaml', `name: swarm-reap\nsteps:\n  - name: any\n    executor: ${LOCAL}\n    command: "true"\n`);
      const res = await skiff(['run', file], { env: SWARM });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr + res.stdout, /removed \d+ object\(s\) left by skiff runs that died: skiff-swarm-orphan-\d+\b/);
      assert.deepEqual(await servicesOf('swarm-orphan'), []);
    } finally {
      await engine.services.remove(orphan);
    }
  });
});
