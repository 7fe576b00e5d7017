// The step-level Docker executor on the real engine, through `skiff run --report`: the
// mode decision of docs/dagu-behavior.md §3.3 with skiff's promises, pull policies, platform, binds,
// networks, host/none network modes, capabilities, read-only root fs, user, env expansion,
// resource limits, autoRemove, exec options, step timeouts, an image without /bin/sh, load-time
// config errors, and DOCKER_HOST taken from the DAG's env. Every container, network and image
// made here is labelled or named, and removed in after().
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import type { Engine } from '../../lib/engine/index.js';
import { execIn } from '../../lib/executors/docker/exec.js';
import { LABEL_RUN } from '../../lib/executors/docker/labels.js';
import { Collect, TEST_IMAGE, engineEnv, liveEngine, reap, testLabels } from '../support/live.js';
import { Skiff, explain, type RunResult } from './docker-support.js';
import { runIdOfLog } from '../support/replay-check.js';

const Labels = testLabels('docker-step');
const skiff = new Skiff('docker-step');
const tag = `${process.pid}`;
/** Names unique to this process, so concurrent runs of the suite never meet. */
const name = (what: string) => `skiff-step-${tag}-${what}`;
const PULL_IMAGE = `${engineEnv.SKIFF_REGISTRY}/skiff-docker-step:${tag}`;
const NO_SH_IMAGE = `skiff-step-nosh:${tag}`;
const CERTS = join(engineEnv.SKIFF_ENGINE_DIR!, 'certs');
let engine: Engine;
/** Containers made without skiff labels (a user's own), removed by name in after(). */
const foreign = new Set<string>();

before(async () => {
  engine = await liveEngine();
  // An image that only the loopback registry has, for the pull policies.
  const [repo, t] = [PULL_IMAGE.slice(0, PULL_IMAGE.lastIndexOf(':')), tag];
  await engine.images.tag(TEST_IMAGE, repo, t);
  for await (const _ of engine.images.push(repo, { tag: t })) {
    // a failure inside the stream throws
  }
  await engine.images.remove(PULL_IMAGE);
  // An image with a single static binary and no /bin/sh.
  const pack = tar.pack();
  pack.entry({ name: 'busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
  pack.finalize();
  await engine.images.import(pack, { repo: NO_SH_IMAGE.split(':')[0]!, tag });
});

after(async () => {
  try {
    await skiff.reap(engine);
    await reap(engine, Labels);
    for (const n of foreign) await removeByName(n);
    await engine.images.remove(PULL_IMAGE, { force: true });
    await engine.images.remove(NO_SH_IMAGE, { force: true });
  } finally {
    skiff.dispose();
    await engine.close();
  }
});

/** Writes a DAG file (plus `files`, relative to its directory) into a fresh directory. */
function dagFile(yaml: string, files: Record<string, string> = {}): { file: string; dir: string } {
  const dir = skiff.tempDir('dag');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const file = join(dir, 'dag.yaml');
  writeFileSync(file, yaml);
  return { file, dir };
}

async function runDag(yaml: string, options: { files?: Record<string, string>; env?: Record<string, string | undefined> } = {}): Promise<RunResult & { dir: string }> {
  const { file, dir } = dagFile(yaml, options.files);
  return { ...(await skiff.run(file, { env: options.env })), dir };
}

function runIdOf(r: RunResult): string {
  const s = r.report.steps.find((x) => x.stdoutFile);
  assert.ok(s, `no step ran: ${explain(r)}`);
  return runIdOfLog(s.stdoutFile!);
}

/** Containers the run labelled as its own (any state). */
async function containersOfRun(r: RunResult) {
  return engine.containers.list({ label: [`${LABEL_RUN}=${runIdOf(r)}`] });
}

async function removeByName(n: string): Promise<void> {
  const c = await engine.containers.find(n);
  if (c && c.Name === `/${n}`) await engine.containers.remove(c.Id, { force: true });
}

/** A running container of the test image (`sleep 3600`) with a known hostname. */
async function target(n: string, options: { labels?: Record<string, string>; hostname?: string } = {}): Promise<string> {
  await removeByName(n);
  const labels = options.labels ?? Labels;
  if (options.labels) foreign.add(n);
  const { Id } = await engine.containers.create({ Image: TEST_IMAGE, Cmd: ['sleep', '3600'], Hostname: options.hostname ?? 'exec-target', Labels: labels }, { name: n });
  await engine.containers.start(Id);
  return Id;
}

async function psIn(id: string): Promise<string> {
  const out = new Collect();
  await execIn(engine, id, { body: { Cmd: ['ps', '-o', 'pid,args'] }, stdout: out, stderr: new Collect() });
  return out.text();
}

function ok(r: RunResult): void {
  assert.equal(r.code, 0, explain(r));
  assert.equal(r.report.status, 'succeeded', explain(r));
}

/** A docker step in YAML; `config` is indented YAML under `config:`. */
function step(stepName: string, config: string, command: string, extra = ''): string {
  const indented = config
    .trim()
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n');
  return `  - name: ${stepName}\n    executor:\n      type: docker\n      config:\n${indented}\n    command: ${command}\n${extra}`;
}

// Tests with names, networks and directories of their own run several at once; the pull tests
// share one registry image and run one after the other.
describe('the step-level Docker executor', { concurrency: 4 }, () => {
  // ---------------------------------------------------------------------------------------------
  // §3.3: which mode runs

  test('image only: a new container is created from the image (Docker names it)', async () => {
    const r = await runDag(`steps:\n${step('new', 'image: skiff-busybox', 'cat /etc/hostname')}`);
    ok(r);
    const containers = await containersOfRun(r);
    assert.equal(containers.length, 1, 'one container, kept since autoRemove is off');
    const c = await engine.containers.inspect(containers[0]!.Id);
    assert.equal(c.Config.Image, 'skiff-busybox');
    assert.equal(c.State.Status, 'exited');
    assert.ok(c.Id.startsWith(r.step('new').out.trim()), 'the step ran in that container');
    assert.match(c.Name, /^\/[a-z]+_[a-z]+\d?$/, 'a name Docker chose');
  });

  test('containerName only, running: the step is exec\'d into it; no container is created', async () => {
    const n = name('exec-only');
    const id = await target(n);
    // `/NAME` is how Docker itself prints names (docker inspect, the API): the same container.
    const r = await runDag(`steps:\n${step('exec', `containerName: ${n}`, 'hostname')}${step('slash', `containerName: /${n}`, 'hostname')}`);
    ok(r);
    assert.equal(r.step('exec').out, 'exec-target\n');
    assert.equal(r.step('slash').out, 'exec-target\n');
    assert.deepEqual(await containersOfRun(r), []);
    assert.equal((await engine.containers.inspect(id)).State.Running, true);
    await engine.containers.remove(id, { force: true });
  });

  test('containerName only, stopped or missing: the step fails at once with container "NAME" is not running', async () => {
    const stopped = name('stopped');
    await removeByName(stopped);
    const { Id } = await engine.containers.create({ Image: TEST_IMAGE, Cmd: ['true'], Labels }, { name: stopped });
    const missing = name('never-created');
    const r = await runDag(
      `type: graph\nsteps:\n${step('stopped', `containerName: ${stopped}`, 'echo never')}${step('missing', `containerName: ${missing}`, 'echo never')}`,
    );
    assert.equal(r.code, 1, explain(r));
    for (const [s, n] of [['stopped', stopped], ['missing', missing]] as const) {
      assert.equal(r.step(s).status, 'failed');
      assert.equal(r.step(s).exitCode, 1);
      assert.equal(r.step(s).error, `container "${n}" is not running`);
    }
    assert.equal((await engine.containers.inspect(Id)).State.Status, 'created', 'the stopped container is left as it was');
    assert.equal(await engine.containers.find(missing), undefined);
    assert.deepEqual(await containersOfRun(r), []);
    await engine.containers.remove(Id, { force: true });
  });

  test('image and containerName, running: exec into it; container/host/network/pull are not used', async () => {
    const n = name('both-running');
    const id = await target(n);
    const r = await runDag(
      `steps:\n${step(
        'both',
        `image: skiff-no-such-image:never\npull: always\ncontainerName: ${n}\ncontainer:\n  env: [FROM_CONFIG=yes]\nhost:\n  memory: 8000000\nnetwork:\n  EndpointsConfig:\n    no-such-network: {}`,
        'hostname; echo "FROM_CONFIG=[$FROM_CONFIG]"',
      )}`,
    );
    ok(r);
    assert.equal(r.step('both').out, 'exec-target\nFROM_CONFIG=[]\n');
    assert.doesNotMatch(r.stdout, /pull/, 'nothing is pulled');
    assert.deepEqual(await containersOfRun(r), []);
    assert.equal((await engine.containers.inspect(id)).HostConfig.Memory, 0);
    await engine.containers.remove(id, { force: true });
  });

  test('image and containerName, missing: a container of that name is created from the image', async () => {
    const n = name('both-missing');
    await removeByName(n);
    const r = await runDag(`steps:\n${step('create', `image: skiff-busybox\ncontainerName: ${n}`, 'echo created')}`);
    ok(r);
    assert.equal(r.step('create').out, 'created\n');
    const c = await engine.containers.inspect(n);
    assert.equal(c.Config.Labels?.[LABEL_RUN], runIdOf(r), 'made by this run');
    assert.equal(c.State.Status, 'exited');
    await engine.containers.remove(c.Id, { force: true });
  });

  test('image and containerName, stopped or only created: removed and recreated from the image', async () => {
    const created = name('was-created');
    const exited = name('was-exited');
    for (const n of [created, exited]) await removeByName(n);
    // Containers someone else made: no skiff labels at all.
    const oldCreated = (await engine.containers.create({ Image: TEST_IMAGE, Cmd: ['true'] }, { name: created })).Id;
    foreign.add(created);
    const oldExited = (await engine.containers.create({ Image: TEST_IMAGE, Cmd: ['true'] }, { name: exited })).Id;
    foreign.add(exited);
    await engine.containers.start(oldExited);
    const wait = await engine.containers.registerWait(oldExited, 'not-running');
    await wait.result;
    const r = await runDag(
      `steps:\n${step('from-created', `image: skiff-busybox\ncontainerName: ${created}\nautoRemove: false`, 'echo new-one')}${step('from-exited', `image: skiff-busybox\ncontainerName: ${exited}`, 'echo new-two')}`,
    );
    ok(r);
    assert.equal(r.step('from-created').out, 'new-one\n');
    assert.equal(r.step('from-exited').out, 'new-two\n');
    for (const [n, old] of [[created, oldCreated], [exited, oldExited]] as const) {
      const now = await engine.containers.inspect(n);
      assert.notEqual(now.Id, old, `${n} was recreated`);
      assert.equal(now.Config.Labels?.[LABEL_RUN], runIdOf(r));
      assert.equal(await engine.containers.find(old), undefined, 'the old container is gone');
    }
    assert.match(r.stdout, /warning: step from-created: removing stopped container/);
  });

  test('a running container skiff did not create is exec\'d into and never removed or stopped, not even on cancel', async () => {
    const n = name('users-own');
    // No skiff labels: this is the user's container.
    const id = await target(n, { labels: { 'dev.skiff.test': 'docker-step' } });
    try {
      const before = await engine.containers.inspect(id);
      const yaml = `steps:\n${step('done', `containerName: ${n}\nautoRemove: true`, 'echo first')}${step('long', `image: skiff-busybox\ncontainerName: ${n}\nautoRemove: true`, 'echo ready; exec sleep 300')}`;
      const { file } = dagFile(yaml);
      let sent = false;
      const reportFile = join(skiff.tempDir('report'), 'r.json');
      const result = await skiff.cli(['run', '--follow', '--report', reportFile, file], {
        onStdout: (_chunk, all) => {
          if (sent || !/long \| ready/.test(all)) return undefined;
          sent = true;
          return 'SIGINT';
        },
      });
      assert.equal(result.code, 130, `${result.stdout}\n${result.stderr}`);
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as RunResult['report'];
      assert.equal(report.steps[0]!.status, 'succeeded');
      assert.equal(report.steps[1]!.status, 'cancelled');
      const now = await engine.containers.inspect(id);
      assert.equal(now.State.Running, true, 'still running');
      const startedAt = (info: { State: object }) => (info.State as { StartedAt?: string }).StartedAt;
      assert.equal(startedAt(now), startedAt(before), 'never stopped or restarted');
      assert.doesNotMatch(await psIn(id), /sleep 300/, "the exec'd process was stopped, the container was not");
    } finally {
      await removeByName(n);
    }
  });

  // ---------------------------------------------------------------------------------------------
  // Container configuration

  test('platform: linux/amd64 runs the amd64 image (uname -m prints x86_64)', async () => {
    const r = await runDag(`steps:\n${step('platform', 'image: skiff-busybox\nplatform: linux/amd64\nautoRemove: true', 'uname -m')}`);
    ok(r);
    assert.equal(r.step('platform').out, 'x86_64\n');
  });

  test('binds: rw writes reach the host, a ro bind refuses writes, ./rel resolves against the DAG directory', async () => {
    const yaml = `type: graph\nsteps:\n${step(
      'rw-and-relative',
      'image: skiff-busybox\nautoRemove: true\nhost:\n  binds:\n    - ./app:/app\n    - ./out:/out:rw',
      'cat /app/input.txt && echo written > /out/result.txt',
    )}${step('ro', 'image: skiff-busybox\nautoRemove: true\nhost:\n  binds:\n    - ./app:/app:ro', 'echo x > /app/new.txt')}`;
    const r = await runDag(yaml, { files: { 'app/input.txt': 'from the dag dir\n', 'out/.keep': '' } });
    assert.equal(r.step('rw-and-relative').status, 'succeeded', explain(r));
    assert.equal(r.step('rw-and-relative').out, 'from the dag dir\n');
    assert.equal(readFileSync(join(r.dir, 'out', 'result.txt'), 'utf8'), 'written\n');
    assert.equal(r.step('ro').status, 'failed');
    assert.match(r.step('ro').err, /Read-only file system/);
    assert.equal(existsSync(join(r.dir, 'app', 'new.txt')), false);
  });

  test('a named network with aliases: a second container pings the first by its alias', async () => {
    const net = name('net');
    await engine.networks.create(net, { labels: Labels });
    try {
      const shared = 'image: skiff-busybox\nautoRemove: true\nhost:\n  binds: [./shared:/shared]';
      // The server waits (bounded) until the client says it got through; the client retries
      // until the server's container is on the network.
      const yaml = `type: graph\nsteps:\n${step(
        'server',
        `${shared}\nnetwork:\n  EndpointsConfig:\n    ${net}:\n      Aliases: [api-server, my-service]`,
        '\'i=0; while [ ! -e /shared/done ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i+1)); done; test -e /shared/done\'',
      )}${step(
        'client',
        `${shared}\nnetwork:\n  EndpointsConfig:\n    ${net}: {}`,
        '\'i=0; until ping -c 1 -W 1 api-server; do i=$((i+1)); [ "$i" -lt 300 ] || exit 1; sleep 0.1; done; touch /shared/done\'',
      )}`;
      const r = await runDag(yaml, { files: { 'shared/.keep': '' } });
      ok(r);
      assert.match(r.step('client').out, /^PING api-server \(\d+\.\d+\.\d+\.\d+\)/m);
      assert.match(r.step('client').out, /1 packets transmitted, 1 packets received/);
    } finally {
      await engine.networks.remove(net);
    }
  });

  test('networkMode host shares the host network; networkMode none has only loopback', async () => {
    const r = await runDag(
      `type: graph\nsteps:\n${step('host', 'image: skiff-busybox\nautoRemove: true\nhost:\n  networkMode: host', 'hostname')}${step('none', 'image: skiff-busybox\nautoRemove: true\nhost:\n  networkMode: none', "'ip -o link | cut -d: -f2'")}`,
    );
    ok(r);
    assert.equal(r.step('host').out, `${hostname()}\n`);
    assert.deepEqual(r.step('none').out.trim().split('\n').map((s) => s.trim()), ['lo']);
  });

  test('capAdd grants a capability, capDrop takes one away', async () => {
    const probe = '\'ip link set lo mtu 1280 && echo "net_admin: yes" || echo "net_admin: no"; chown nobody /tmp && echo "chown: yes" || echo "chown: no"\'';
    const r = await runDag(
      `type: graph\nsteps:\n${step('changed', 'image: skiff-busybox\nautoRemove: true\nhost:\n  capAdd: [NET_ADMIN]\n  capDrop: [CHOWN]', probe)}${step('default', 'image: skiff-busybox\nautoRemove: true', probe)}`,
    );
    ok(r);
    assert.match(r.step('changed').out, /^net_admin: yes\nchown: no\n$/);
    assert.match(r.step('default').out, /^net_admin: no\nchown: yes\n$/);
  });

  test('readonlyRootfs: writing to / fails', async () => {
    const r = await runDag(`steps:\n${step('ro-root', 'image: skiff-busybox\nautoRemove: true\nhost:\n  readonlyRootfs: true', 'touch /new-file')}`);
    assert.equal(r.step('ro-root').status, 'failed', explain(r));
    assert.equal(r.step('ro-root').exitCode, 1);
    assert.match(r.step('ro-root').err, /Read-only file system/);
  });

  test('user "1000:1000" runs the command as uid 1000, gid 1000', async () => {
    const r = await runDag(`steps:\n${step('user', 'image: skiff-busybox\nautoRemove: true\ncontainer:\n  user: "1000:1000"', "'id -u; id -g'")}`);
    ok(r);
    assert.equal(r.step('user').out, '1000\n1000\n');
  });

  test('container env: ${HOST_ENV} comes from the DAG env, ${NAME} from the process environment', async () => {
    const r = await runDag(
      `env:\n  - HOST_ENV: from-dag\nsteps:\n${step('env', 'image: skiff-busybox\nautoRemove: true\ncontainer:\n  env:\n    - API_KEY=${HOST_ENV}\n    - FROM_PROCESS=${SKIFF_STEP_TEST_VAR}', "'echo \"$API_KEY $FROM_PROCESS\"'")}`,
      { env: { SKIFF_STEP_TEST_VAR: 'from-process' } },
    );
    ok(r);
    assert.equal(r.step('env').out, 'from-dag from-process\n');
  });

  test('memory and cpuShares reach HostConfig (written flat under host, as the seed does, or under resources)', async () => {
    const flat = name('limits-flat');
    const nested = name('limits-nested');
    for (const n of [flat, nested]) await removeByName(n);
    const r = await runDag(
      `steps:\n${step('flat', `image: skiff-busybox\ncontainerName: ${flat}\nhost:\n  cpuShares: 512\n  memory: 536870912`, "'true'")}${step('nested', `image: skiff-busybox\ncontainerName: ${nested}\nhost:\n  resources:\n    cpuShares: 256\n    memory: 268435456`, "'true'")}`,
    );
    ok(r);
    const a = await engine.containers.inspect(flat);
    assert.equal(a.HostConfig.Memory, 536870912);
    assert.equal(a.HostConfig.CpuShares, 512);
    const b = await engine.containers.inspect(nested);
    assert.equal(b.HostConfig.Memory, 268435456);
    assert.equal(b.HostConfig.CpuShares, 256);
    for (const n of [flat, nested]) await removeByName(n);
  });

  test("Docker's create warnings are shown as warnings of the step", async () => {
    // This engine warns about a kernel memory limit (deprecated) but creates the container.
    const r = await runDag(`steps:\n${step('kmem', 'image: skiff-busybox\nautoRemove: true\nhost:\n  kernelMemory: 10000000', 'echo ran')}`);
    ok(r);
    assert.match(r.stdout, /warning: step kmem: Specifying a kernel memory limit is deprecated/);
    assert.equal(r.step('kmem').out, 'ran\n');
  });

  test('autoRemove: the container is removed after success and after failure', async () => {
    const good = name('rm-success');
    const bad = name('rm-failure');
    const r = await runDag(
      `type: graph\nsteps:\n${step('good', `image: skiff-busybox\ncontainerName: ${good}\nautoRemove: true`, 'echo fine')}${step('bad', `image: skiff-busybox\ncontainerName: ${bad}\nautoRemove: true`, "'echo broken >&2; exit 3'")}`,
    );
    assert.equal(r.step('good').status, 'succeeded', explain(r));
    assert.equal(r.step('bad').status, 'failed');
    assert.equal(r.step('bad').exitCode, 3);
    assert.equal(r.step('bad').error, 'exit status 3\nrecent stderr (tail):\nbroken');
    assert.equal(await engine.containers.find(good), undefined);
    assert.equal(await engine.containers.find(bad), undefined);
    assert.deepEqual(await containersOfRun(r), []);
  });

  test('a container whose start failed is removed, even without autoRemove (Dagu leaves it)', async () => {
    const n = name('start-failed');
    const r = await runDag(`steps:\n${step('bad-user', `image: skiff-busybox\ncontainerName: ${n}\ncontainer:\n  user: no-such-user`, 'echo never')}`);
    assert.equal(r.step('bad-user').status, 'failed', explain(r));
    assert.equal(r.step('bad-user').exitCode, 1);
    assert.match(r.step('bad-user').error ?? '', /unable to find user no-such-user/);
    assert.equal(await engine.containers.find(n), undefined);
    assert.deepEqual(await containersOfRun(r), []);
  });

  test('without autoRemove a named container stays after the run, exited', async () => {
    const n = name('kept');
    await removeByName(n);
    const r = await runDag(`steps:\n${step('kept', `image: skiff-busybox\ncontainerName: ${n}`, "'exit 0'")}`);
    ok(r);
    const c = await engine.containers.inspect(n);
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.ExitCode, 0);
    await engine.containers.remove(c.Id, { force: true });
  });

  test('exec options user, workingDir and env apply in exec mode; an exec exit code fails the step', async () => {
    const n = name('exec-options');
    const id = await target(n);
    try {
      const r = await runDag(
        `type: graph\nsteps:\n${step('opts', `containerName: ${n}\nexec:\n  user: nobody\n  workingDir: /tmp\n  env: [TASK=cleanup]`, '\'id -un; pwd; echo "TASK=$TASK"\'')}${step('fails', `containerName: ${n}`, "'exit 5'")}`,
      );
      assert.equal(r.step('opts').status, 'succeeded', explain(r));
      assert.equal(r.step('opts').out, 'nobody\n/tmp\nTASK=cleanup\n');
      assert.equal(r.step('fails').status, 'failed');
      assert.equal(r.step('fails').exitCode, 5);
      assert.equal(r.step('fails').error, 'exec failed with exit code: 5');
      assert.equal((await engine.containers.inspect(id)).State.Running, true);
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  });

  test('timeoutSec stops the container: exit 124, removed with autoRemove, left stopped without', async () => {
    const removed = name('timeout-rm');
    const kept = name('timeout-kept');
    for (const n of [removed, kept]) await removeByName(n);
    // 3 s, so the timeout lands after start even on a loaded engine: a container whose start never
    // came is removed with or without autoRemove (nothing ran in it).
    const r = await runDag(
      `type: graph\nmaxCleanUpTimeSec: 1\nsteps:\n${step('with-rm', `image: skiff-busybox\ncontainerName: ${removed}\nautoRemove: true`, 'sleep 300', '    timeoutSec: 3\n')}${step('without-rm', `image: skiff-busybox\ncontainerName: ${kept}`, 'sleep 300', '    timeoutSec: 3\n')}`,
    );
    assert.equal(r.code, 1, explain(r));
    for (const s of ['with-rm', 'without-rm']) {
      assert.equal(r.step(s).status, 'failed');
      assert.equal(r.step(s).exitCode, 124);
      assert.match(r.step(s).error ?? '', /^step timed out after .* \(timeout: 3s\)/);
    }
    assert.equal(await engine.containers.find(removed), undefined, 'removed');
    const c = await engine.containers.inspect(kept);
    assert.equal(c.State.Running, false, 'the timed-out container was stopped');
    await engine.containers.remove(c.Id, { force: true });
  });

  test('an image without /bin/sh: a string command gets an error that says to use the list form; a list command runs', async () => {
    // The same in exec mode, in a running container of that image.
    const n = name('no-sh');
    await removeByName(n);
    const { Id } = await engine.containers.create({ Image: NO_SH_IMAGE, Cmd: ['/busybox', 'sleep', '3600'], Labels }, { name: n });
    try {
      await engine.containers.start(Id);
      const r = await runDag(
        `type: graph\nsteps:\n${step('shell-form', `image: ${NO_SH_IMAGE}\npull: never\nautoRemove: true`, 'echo hi')}${step('exec-form', `image: ${NO_SH_IMAGE}\npull: never\nautoRemove: true`, '["/busybox", "echo", "hello   from exec form"]')}${step('exec-mode-shell-form', `containerName: ${n}`, 'echo hi')}${step('exec-mode-exec-form', `containerName: ${n}`, '["/busybox", "echo", "exec mode, exec form"]')}`,
      );
      assert.equal(r.step('shell-form').status, 'failed', explain(r));
      assert.equal(r.step('shell-form').error, `image ${NO_SH_IMAGE} has no /bin/sh, so a string command cannot run in a shell: write the command as a list (exec form), e.g. command: ["/app", "--flag"]`);
      assert.equal(r.step('exec-form').status, 'succeeded', explain(r));
      assert.equal(r.step('exec-form').out, 'hello   from exec form\n');
      assert.equal(r.step('exec-mode-shell-form').status, 'failed');
      assert.equal(r.step('exec-mode-shell-form').exitCode, 126);
      assert.equal(
        r.step('exec-mode-shell-form').error,
        `exec failed with exit code: 126\ncontainer "${n}" has no /bin/sh, so a string command cannot run in a shell: write the command as a list (exec form), e.g. command: ["/app", "--flag"]`,
      );
      assert.equal(r.step('exec-mode-exec-form').status, 'succeeded');
      assert.equal(r.step('exec-mode-exec-form').out, 'exec mode, exec form\n');
      assert.deepEqual(await containersOfRun(r), []);
    } finally {
      await engine.containers.remove(Id, { force: true });
    }
  });

  test('an exec whose process cannot start says why: the engine\'s message follows the exit code', async () => {
    const n = name('exec-cannot-start');
    const id = await target(n);
    try {
      const r = await runDag(`type: graph\nsteps:\n${step('no-dir', `containerName: ${n}\nexec:\n  workingDir: /no/such/dir`, 'pwd')}${step('no-binary', `containerName: ${n}`, '["no-such-binary"]')}`);
      assert.equal(r.step('no-dir').status, 'failed', explain(r));
      assert.match(r.step('no-dir').error ?? '', /^exec failed with exit code: 126\nOCI runtime exec failed: .*chdir to cwd \("\/no\/such\/dir"\)/);
      assert.equal(r.step('no-binary').status, 'failed');
      assert.match(r.step('no-binary').error ?? '', /^exec failed with exit code: 12[67]\nOCI runtime exec failed: .*"no-such-binary": executable file not found/);
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  });

  test('exit 42 allowed by continueOn.exitCode: the step fails with 42 and the run continues', async () => {
    const r = await runDag(
      `steps:\n${step('tolerated', 'image: skiff-busybox\nautoRemove: true', 'exit 42', '    continueOn:\n      exitCode: [42]\n')}${step('next', 'image: skiff-busybox\nautoRemove: true', 'echo after')}`,
    );
    assert.equal(r.step('tolerated').status, 'failed', explain(r));
    assert.equal(r.step('tolerated').exitCode, 42);
    assert.equal(r.step('next').status, 'succeeded');
    assert.equal(r.step('next').out, 'after\n');
    assert.equal(r.report.status, 'partially_succeeded');
    assert.equal(r.code, 1);
  });

  // ---------------------------------------------------------------------------------------------
  // Load-time config errors

  test('skiff validate reports config errors with file:line:col and exits 2 (run does the same)', async () => {
    const { file } = dagFile(
      [
        'steps:',
        '  - name: neither',
        '    executor:',
        '      type: docker',
        '      config:',
        '        autoRemove: true',
        '    command: echo hi',
        '  - name: bad-pull',
        '    executor:',
        '      type: docker',
        '      config:',
        '        image: skiff-busybox',
        '        pull: sometimes',
        '    command: echo hi',
        '  - name: bad-platform',
        '    executor:',
        '      type: docker',
        '      config:',
        '        image: skiff-busybox',
        '        platform: linux/bogus',
        '    command: echo hi',
        '  - name: bad-name',
        '    executor:',
        '      type: docker',
        '      config:',
        '        containerName: my/app',
        '    command: echo hi',
        '',
      ].join('\n'),
    );
    const v = await skiff.cli(['validate', file]);
    assert.equal(v.code, 2, `${v.stdout}\n${v.stderr}`);
    const esc = file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    assert.match(v.stderr, new RegExp(`${esc}:6:9: .*containerName or image must be specified`));
    assert.match(v.stderr, new RegExp(`${esc}:13:15: .*failed to parse pull policy as boolean: strconv\\.ParseBool: parsing "sometimes": invalid syntax`));
    assert.match(v.stderr, new RegExp(`${esc}:20:19: .*failed to parse platform linux/bogus`));
    assert.match(v.stderr, new RegExp(`${esc}:26:24: .*invalid container name "my/app": only \\[a-zA-Z0-9\\]\\[a-zA-Z0-9_.-\\] are allowed`));
    const r = await skiff.run(file);
    assert.equal(r.code, 2);
    assert.equal(r.report.phase, 'load');
    assert.match(r.report.error ?? '', /containerName or image must be specified/);
  });

  // ---------------------------------------------------------------------------------------------
  // DOCKER_HOST from the DAG's env

  // The process's own DOCKER_HOST points nowhere, so only the DAG's env can make these run.
  const NOWHERE = { DOCKER_HOST: 'unix:///nonexistent/skiff-docker.sock', DOCKER_TLS_VERIFY: undefined, DOCKER_CERT_PATH: undefined };

  // Output written a second after start: the attach (half-closed by skiff at once, as there is no
  // stdin) must go on delivering over TCP and TLS.
  test('DOCKER_HOST in the DAG env: the plain TCP relay tcp://127.0.0.1:2375', async () => {
    const r = await runDag(`env:\n  - DOCKER_HOST: ${engineEnv.SKIFF_TCP_HOST}\nsteps:\n${step('tcp', 'image: skiff-busybox\nautoRemove: true', 'echo over tcp; sleep 1; echo later')}`, { env: NOWHERE });
    ok(r);
    assert.equal(r.step('tcp').out, 'over tcp\nlater\n');
  });

  test('DOCKER_HOST with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH in the DAG env: the TLS relay', async () => {
    const r = await runDag(
      `env:\n  - DOCKER_HOST: ${engineEnv.SKIFF_TLS_HOST}\n  - DOCKER_TLS_VERIFY: "1"\n  - DOCKER_CERT_PATH: ${CERTS}\nsteps:\n${step('tls', 'image: skiff-busybox\nautoRemove: true', 'echo over tls; sleep 1; echo later')}`,
      { env: NOWHERE },
    );
    ok(r);
    assert.equal(r.step('tls').out, 'over tls\nlater\n');
    // The relay is at an address: no server name is sent for it, so Node prints no DEP0123 warning.
    assert.doesNotMatch(r.stderr, /DeprecationWarning|DEP0123/);
  });

  test('DOCKER_HOST in the DAG env is the engine used: a closed port fails the run at its start', async () => {
    const r = await runDag(`env:\n  - DOCKER_HOST: tcp://127.0.0.1:1\nsteps:\n${step('closed', 'image: skiff-busybox\nautoRemove: true', 'echo never')}`);
    assert.equal(r.code, 1, explain(r));
    // The engine is checked once before the first container step: no step started.
    assert.equal(r.step('closed').status, 'not_started');
    assert.equal(r.report.phase, 'startup');
    assert.match(r.report.error ?? '', /127\.0\.0\.1:1/);
  });
});

describe('pull policies (one shared registry image: one test at a time)', () => {
  // ---------------------------------------------------------------------------------------------
  // Pull policies

  test('pull: always pulls, whether the image is absent or already there', async () => {
    await engine.images.remove(PULL_IMAGE, { force: true });
    const yaml = `steps:\n${step('always', `image: ${PULL_IMAGE}\npull: always\nautoRemove: true`, 'echo ran')}`;
    const first = await runDag(yaml);
    ok(first);
    assert.match(first.stdout, new RegExp(`pulled ${PULL_IMAGE.replace(/\./g, '\\.')}`));
    assert.ok(await engine.images.find(PULL_IMAGE), 'the image is now on the engine');
    const second = await runDag(yaml);
    ok(second);
    assert.match(second.stdout, new RegExp(`${PULL_IMAGE.replace(/\./g, '\\.')} is up to date`), 'pulled again (the registry says up to date)');
    assert.equal(second.step('always').out, 'ran\n');
  });

  test('pull: missing pulls only when the image is absent', async () => {
    await engine.images.remove(PULL_IMAGE, { force: true });
    const yaml = `steps:\n${step('missing', `image: ${PULL_IMAGE}\npull: missing\nautoRemove: true`, 'echo ran')}`;
    const absent = await runDag(yaml);
    ok(absent);
    assert.match(absent.stdout, /pulled /);
    assert.ok(await engine.images.find(PULL_IMAGE));
    const present = await runDag(yaml);
    ok(present);
    assert.doesNotMatch(present.stdout, /pulled |is up to date/, 'no pull when the image is there');
    assert.equal(present.step('missing').out, 'ran\n');
  });

  test('pull: never with a missing image fails the step with Docker\'s No such image', async () => {
    const r = await runDag(`steps:\n${step('never', 'image: skiff-no-such-image:never\npull: never\nautoRemove: true', 'echo never')}`);
    assert.equal(r.code, 1, explain(r));
    assert.equal(r.step('never').status, 'failed');
    assert.match(r.step('never').error ?? '', /No such image: skiff-no-such-image:never/);
    assert.doesNotMatch(r.stdout, /pull/);
  });
});
