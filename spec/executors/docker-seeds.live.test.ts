// Every step-level Docker example of the seed documents (examples/seed-000, examples/seed-001),
// run through `skiff run --report` against the real engine, checked against what the seed says
// it does. Each example runs from a fresh copy of its directory, so relative binds
// (`./data`, `./backups`, `.`) write into scratch space, never into the repository. Whatever an
// example needs (a running container, a network) is made here with the engine client, labelled,
// and removed afterwards; so is whatever the runs leave (named containers, built images).
//
// Every example also runs from its recording: the live run is made with `--record`, then
// the same DAG runs again with `--replay` and DOCKER_HOST pointing nowhere, and its report (apart
// from the log paths), step logs and exit code must be the live run's (Skiff.recordAndReplay).
// The examples' own assertions are made on the live run: what the replay cannot reproduce is
// the world outside skiff (files the containers wrote, the engine's state afterwards).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Engine } from '../../lib/engine/index.js';
import { execIn } from '../../lib/executors/docker/exec.js';
import { LABEL_RUN } from '../../lib/executors/docker/labels.js';
import { Collect, TEST_IMAGE, engineEnv, reap, repoRoot, testLabels } from '../support/live.js';
import { REGISTRY_IMAGE_LOCK, seedFileTurn, withImageLock } from '../support/skiff-cli.js';
import { MY_APP_SETUP, Skiff, explain, type RecordedRun, type RunResult } from './docker-support.js';
import { runIdOfLog } from '../support/replay-check.js';

const Labels = testLabels('docker-seeds');
const skiff = new Skiff('docker-seeds');
let engine: Engine;
/** Images the examples build, removed in after(). */
const images = new Set<string>();
/** Host directories an example's absolute binds need, removed in after() if we made them. */
const hostDirs: string[] = [];

/** Held for the whole file: the examples' fixed names are shared with other seed test files. */
let releaseSeeds: (() => Promise<void>) | undefined;

before(async () => {
  ({ engine, release: releaseSeeds } = await seedFileTurn());
});

after(async () => {
  try {
    await skiff.reap(engine);
    await reap(engine, Labels);
    for (const image of images) await engine.images.remove(image, { force: true }).catch(() => undefined);
  } finally {
    for (const dir of hostDirs) rmSync(dir, { recursive: true, force: true });
    console.log(`docker-seeds record/replay: ${skiff.timingSummary()}`);
    skiff.dispose();
    await engine.close();
    await releaseSeeds?.();
  }
});

/** A fresh copy of examples/seed-NNN; the example runs from there. */
function copyOf(seed: 'seed-000' | 'seed-001'): string {
  const dir = join(skiff.tempDir(seed), seed);
  cpSync(join(repoRoot, 'examples', seed), dir, { recursive: true });
  return dir;
}

/** Runs the example live (recorded), then from its recording; see the top of the file. */
async function runExample(seed: 'seed-000' | 'seed-001', name: string, env?: Record<string, string>): Promise<RecordedRun & { dir: string }> {
  const dir = copyOf(seed);
  const result = await skiff.recordAndReplay(join(dir, `${name}.yaml`), { env });
  return { ...result, dir };
}

/** A running container of the test image, named, labelled for reaping; removed by the caller. */
async function runningContainer(name: string, extra: { WorkingDir?: string; Hostname?: string; NetworkingConfig?: Record<string, unknown>; HostConfig?: Record<string, unknown> } = {}): Promise<string> {
  await removeByName(name);
  const { Id } = await engine.containers.create({ Image: TEST_IMAGE, Cmd: ['sleep', '3600'], Labels, ...extra }, { name });
  await engine.containers.start(Id);
  return Id;
}

async function removeByName(name: string): Promise<void> {
  const existing = await engine.containers.find(name);
  if (existing && existing.Name === `/${name}`) await engine.containers.remove(existing.Id, { force: true });
}

async function asRoot(id: string, script: string): Promise<void> {
  const out = new Collect();
  const err = new Collect();
  const r = await execIn(engine, id, { body: { Cmd: ['sh', '-c', script], User: 'root' }, stdout: out, stderr: err });
  assert.equal(r.exitCode, 0, `set-up script failed: ${err.text()}`);
}

function assertSucceeded(r: RunResult): void {
  assert.equal(r.code, 0, explain(r));
  assert.equal(r.report.status, 'succeeded', explain(r));
  for (const s of r.report.steps) assert.equal(s.status, 'succeeded', `${s.name}: ${explain(r)}`);
}

/** Containers any run of this file left on the engine under that run's labels. */
async function leftByRun(r: RunResult): Promise<string[]> {
  const runId = runIdOfLog(r.step(r.report.steps[0]!.name).stdoutFile!);
  return (await engine.containers.list({ label: [`${LABEL_RUN}=${runId}`] })).map((c) => c.Names[0]!);
}

// Independent examples (their own names, networks and directories): several run at once.
describe('the seed examples', { concurrency: 4 }, () => {
  // ---------------------------------------------------------------------------------------------
  // examples/seed-000

  test('examples/seed-000 "Execute in a New Container": echo "hello" prints hello; the container is removed', async () => {
    const r = await runExample('seed-000', 'execute-in-a-new-container');
    assertSucceeded(r);
    assert.equal(r.step('hello').out, 'hello\n');
    assert.deepEqual(await leftByRun(r), []);
  });

  test('examples/seed-000 "Execute in an Existing Container": execs into my-running-container in /app as root, leaves it running', async () => {
    const id = await runningContainer('my-running-container', { WorkingDir: '/app' });
    try {
      const r = await runExample('seed-000', 'execute-in-an-existing-container');
      assertSucceeded(r);
      assert.equal(r.step('exec-in-existing').out, 'Hello from existing container\n');
      const after = await engine.containers.inspect(id);
      assert.equal(after.State.Running, true, 'autoRemove must not touch a container skiff did not create');
      assert.deepEqual(await leftByRun(r), [], 'exec mode creates no container');
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  });

  test('examples/seed-000 "Pull Policies": always pulls from the registry, missing uses the local image, never runs the local-only image', async () => {
    // Other test files pull and remove this image too; the shared lock keeps us out of each
    // other's way, and the image is left as engine-up leaves it: not on the engine.
    const pulled = `${engineEnv.SKIFF_REGISTRY}/busybox:latest`;
    const r = await withImageLock(REGISTRY_IMAGE_LOCK, async () => {
      try {
        const run = await runExample('seed-000', 'pull-policies');
        assert.ok(await engine.images.find(pulled), 'the pulled image is on the engine');
        return run;
      } finally {
        await engine.images.remove(pulled).catch(() => undefined);
      }
    });
    assertSucceeded(r);
    // `pull: always` pulls every time: the pull's summary line is printed whether or not the
    // image was there before.
    assert.match(r.stdout, /^.*(pulled 127\.0\.0\.1:5000\/busybox:latest|127\.0\.0\.1:5000\/busybox:latest is up to date)$/m);
    assert.doesNotMatch(r.stdout, /skiff-busybox/, 'no pull for the images present locally');
    assert.match(r.step('pull-always').out, /^BusyBox v/);
    assert.match(r.step('pull-if-missing').out, /^BusyBox v/);
    assert.equal(r.step('never-pull').out, 'local image, never pulled\n');
  });

  test('examples/seed-000 "Platform Selection": uname -m on linux/amd64 prints x86_64', async () => {
    const r = await runExample('seed-000', 'platform-selection');
    assertSucceeded(r);
    assert.equal(r.step('specific-platform').out, 'x86_64\n');
  });

  test('examples/seed-000 "Environment Variables": the container sees APP_ENV=production, API_KEY=production (from the DAG env), DEBUG=true', async () => {
    const r = await runExample('seed-000', 'environment-variables');
    assertSucceeded(r);
    const lines = r.step('with-env').out.split('\n');
    for (const line of ['APP_ENV=production', 'API_KEY=production', 'DEBUG=true']) assert.ok(lines.includes(line), `${line} in:\n${lines.join('\n')}`);
    assert.ok(!lines.some((l) => l.startsWith('HOST_ENV=')), 'the DAG env itself does not reach the container');
  });

  test('examples/seed-000 "Volume Mounts": reads the ro input, writes the rw output, runs the script from the relative ./app bind', async () => {
    for (const dir of ['/host/data', '/host/output']) {
      if (!existsSync(dir)) hostDirs.push(dir);
    }
    if (!existsSync('/host')) hostDirs.push('/host');
    mkdirSync('/host/data', { recursive: true });
    mkdirSync('/host/output', { recursive: true });
    writeFileSync('/host/data/input-1.csv', 'a,b\n');
    writeFileSync('/host/data/input-2.csv', 'c,d\n');
    rmSync('/host/output/result.txt', { force: true });
    const r = await runExample('seed-000', 'volume-mounts');
    assertSucceeded(r);
    assert.match(r.step('with-volumes').out, /processing \/container\/data: 2 input file\(s\)/);
    assert.equal(readFileSync('/host/output/result.txt', 'utf8'), 'processed 2 file(s) from /container/data\n');
  });

  test('examples/seed-000 "Working Directory": runs in /usr/src/app, where ./src is bound', async () => {
    const r = await runExample('seed-000', 'working-directory');
    assertSucceeded(r);
    assert.equal(r.step('working-dir').out, '/usr/src/app\npackage.json\n');
  });

  test('examples/seed-000 "Container Naming": the container is named my-nginx-server and kept (exited) after the run', async () => {
    await removeByName('my-nginx-server');
    try {
      const r = await runExample('seed-000', 'container-naming');
      assertSucceeded(r);
      assert.match(r.step('named-container').out, /test is successful/);
      const kept = await engine.containers.find('my-nginx-server');
      assert.ok(kept, 'the container is still there');
      assert.equal(kept.State.Status, 'exited');
      assert.equal(kept.State.ExitCode, 0);
    } finally {
      await removeByName('my-nginx-server');
    }
  });

  test('examples/seed-000 "Network Configuration": ping -c 3 my-service resolves the alias on my-network', async () => {
    await engine.networks.remove('my-network');
    await engine.networks.create('my-network', { labels: Labels });
    try {
      const r = await runExample('seed-000', 'network-configuration');
      assertSucceeded(r);
      const out = r.step('custom-network').out;
      assert.match(out, /^PING my-service \(\d+\.\d+\.\d+\.\d+\)/);
      assert.match(out, /3 packets transmitted, 3 packets received/);
    } finally {
      await engine.networks.remove('my-network');
    }
  });

  test('examples/seed-000 "Host Network Mode": the container shares the host network (its name and docker0)', async () => {
    const r = await runExample('seed-000', 'host-network-mode');
    assertSucceeded(r);
    const out = r.step('host-network').out;
    assert.equal(out.split('\n')[0], hostname());
    assert.match(out, /: docker0: /);
  });

  test('examples/seed-000 "Resource Limits": memory and cpuShares written under host reach the container cgroup', async () => {
    const r = await runExample('seed-000', 'resource-limits');
    assertSucceeded(r);
    const out = r.step('resource-limits').out;
    assert.match(out, /^memory limit: 536870912$/m);
    // 512 shares: cgroup v1 shows them as is, v2 as the weight runc derives from them (20).
    assert.match(out, /^(cpu shares: 512|cpu weight: 20)$/m);
  });

  test('examples/seed-000 "Security Options": the container starts with capAdd, capDrop, privileged: false and readonlyRootfs; id prints root', async () => {
    const r = await runExample('seed-000', 'security-options');
    assertSucceeded(r);
    assert.equal(r.step('security-options').out, 'uid=0(root) gid=0(root) groups=0(root)\n');
  });

  test('examples/seed-000 "User Configuration": user "1000:1000" makes id print uid=1000 gid=1000', async () => {
    const r = await runExample('seed-000', 'user-configuration');
    assertSucceeded(r);
    assert.match(r.step('run-as-user').out, /^uid=1000 gid=1000\b/);
  });

  test('examples/seed-000 "Basic Exec": ./maintenance.sh runs in my-app as appuser in /app/data with TASK=cleanup', async () => {
    const id = await runningContainer('my-app');
    try {
      await asRoot(id, MY_APP_SETUP);
      const r = await runExample('seed-000', 'basic-exec');
      assertSucceeded(r);
      assert.equal(r.step('exec-example').out, 'maintenance: task=cleanup user=appuser dir=/app/data\n');
      assert.equal((await engine.containers.inspect(id)).State.Running, true);
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  });

  test('examples/seed-000 "Dynamic Container Selection": ${CONTAINER_NAME} selects production-app, ps runs in it', async () => {
    const id = await runningContainer('production-app');
    try {
      const r = await runExample('seed-000', 'dynamic-container-selection');
      assertSucceeded(r);
      const out = r.step('dynamic-exec').out;
      assert.match(out, /^\s*1 root .*sleep 3600$/m, `the container's own PID 1 is listed:\n${out}`);
      assert.equal((await engine.containers.inspect(id)).State.Running, true);
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  });

  test('examples/seed-000 "Data Processing Pipeline": extract, transform and load run in order over ./data and db-network', async () => {
    await removeByName('db');
    await engine.networks.remove('db-network');
    await engine.networks.create('db-network', { labels: Labels });
    const db = await runningContainer('db', { HostConfig: { NetworkMode: 'db-network' } });
    try {
      const r = await runExample('seed-000', 'data-processing-pipeline', { DB_PASSWORD: 'not-a-secret' });
      assertSucceeded(r);
      assert.match(r.step('extract-data').out, /^extracting \(PYTHONPATH=\/scripts\)$/m);
      assert.equal(readFileSync(join(r.dir, 'data', 'extracted.csv'), 'utf8'), 'id,value\n1,10\n2,20\n3,12\n');
      assert.equal(r.step('transform-data').out, 'total,42\n');
      assert.equal(readFileSync(join(r.dir, 'data', 'transformed.csv'), 'utf8'), 'total,42\n');
      assert.match(r.step('load-data').out, /1 packets received/);
      assert.match(r.step('load-data').out, /db reachable on db-network, PGPASSWORD set/);
    } finally {
      await engine.containers.remove(db, { force: true });
      await engine.networks.remove('db-network');
    }
  });

  test('examples/seed-000 "Multi-Stage Build Process": multi-line scripts run as shell scripts, then docker build through the socket', async () => {
    images.add('myapp:latest');
    const r = await runExample('seed-000', 'multi-stage-build-process');
    assertSucceeded(r);
    assert.match(r.step('build-frontend').out, /dependencies of "name": "seed-frontend"\nbuilt dist\/bundle\.js\n/);
    assert.equal(readFileSync(join(r.dir, 'frontend', 'dist', 'bundle.js'), 'utf8'), 'console.log("hello from the frontend");\n');
    assert.equal(r.step('build-backend').out, 'built server for GOOS=linux CGO_ENABLED=0\n');
    assert.ok(existsSync(join(r.dir, 'backend', 'server')));
    assert.match(r.step('package-app').out + r.step('package-app').err, /Successfully tagged myapp:latest/);
    assert.ok(await engine.images.find('myapp:latest'), 'docker build made myapp:latest');
  });

  test('examples/seed-000 "Database Operations": the multi-line backup script writes backup-DATE.sql and the gzip glob compresses it', async () => {
    const r = await runExample('seed-000', 'database-operations', { DB_PASSWORD: 'not-a-secret' });
    assertSucceeded(r);
    const files = readdirSync(join(r.dir, 'backups')).filter((f) => f.startsWith('backup-'));
    assert.equal(files.length, 1, `one compressed backup: ${files.join(', ')}`);
    assert.match(files[0]!, /^backup-\d{8}\.sql\.gz$/, 'the container shell ran $(date +%Y%m%d) and the glob found the file');
    const dump = gunzipSync(readFileSync(join(r.dir, 'backups', files[0]!))).toString('utf8');
    assert.equal(dump, '-- mysqldump -h db.example.com -u root --all-databases --single-transaction\n');
  });

  test('examples/seed-000 "Using Host Docker Socket": docker ps through the mounted socket lists running containers', async () => {
    // A container known to be running on this engine must show up. (The step's own container
    // may not: the daemon can answer the list before it has recorded that container as running.)
    const marker = `skiff-seeds-${process.pid}-dind-marker`;
    const id = await runningContainer(marker);
    try {
      const r = await runExample('seed-000', 'using-host-docker-socket');
      assertSucceeded(r);
      const out = r.step('docker-in-docker').out;
      assert.match(out, /^CONTAINER ID\s+IMAGE\s+COMMAND/);
      assert.match(out, new RegExp(`^${id.slice(0, 12)}\\s.*\\s${marker}$`, 'm'), `docker ps lists ${marker}:\n${out}`);
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  });

  test('examples/seed-000 "Using TCP Socket": DOCKER_HOST in the DAG env selects the engine (tcp://127.0.0.1:2375)', async () => {
    // The process's own DOCKER_HOST points nowhere: only the DAG's can make this run.
    const r = await skiff.recordAndReplay(join(copyOf('seed-000'), 'using-tcp-socket.yaml'), { env: { DOCKER_HOST: 'unix:///nonexistent/skiff-docker.sock' } });
    assertSucceeded(r);
    assert.equal(r.step('remote-docker').out, 'Using remote Docker\n');
  });

  test('examples/seed-000 "Container Exit Codes": exit 42 fails the step with exit code 42, allowed by continueOn', async () => {
    const r = await runExample('seed-000', 'container-exit-codes');
    const step = r.step('handle-exit-codes');
    assert.equal(step.status, 'failed', explain(r));
    assert.equal(step.exitCode, 42);
    assert.match(step.error ?? '', /^exit status 42/);
    // A one-step DAG whose only step failed ends failed (docs/dagu-behavior.md §1.10); exit 1.
    assert.equal(r.report.status, 'failed');
    assert.equal(r.code, 1);
    assert.deepEqual(await leftByRun(r), []);
  });

  test('examples/seed-000 "Cleanup on Failure": process_data.sh is not found (exit 127), temp-processor is removed anyway', async () => {
    await removeByName('temp-processor');
    const r = await runExample('seed-000', 'cleanup-on-failure');
    const step = r.step('with-cleanup');
    assert.equal(step.status, 'failed', explain(r));
    assert.equal(step.exitCode, 127);
    assert.match(step.err, /process_data\.sh: not found/);
    assert.match(step.error ?? '', /exit status 127\nrecent stderr \(tail\):\n.*process_data\.sh: not found/);
    assert.equal(r.code, 1);
    assert.equal(await engine.containers.find('temp-processor'), undefined, 'the container is gone');
  });

  test('examples/seed-000 "Image Caching": pull: missing runs the cached image without pulling', async () => {
    const r = await runExample('seed-000', 'image-caching');
    assertSucceeded(r);
    assert.equal(r.step('use-cache').out, 'ran from the cached image\n');
    assert.doesNotMatch(r.stdout, /pulled|up to date/);
  });

  test('examples/seed-000 "Layer Caching for Builds": the multi-line docker build script builds my-app:latest from /app', async () => {
    images.add('my-app:latest');
    const r = await runExample('seed-000', 'layer-caching-for-builds');
    assertSucceeded(r);
    assert.match(r.step('efficient-build').out + r.step('efficient-build').err, /Successfully tagged my-app:latest/);
    assert.ok(await engine.images.find('my-app:latest'));
  });

  // ---------------------------------------------------------------------------------------------
  // examples/seed-001 (step level; the DAG-level container and registryAuths examples are tested elsewhere)

  test('examples/seed-001 "Step-Level Container Configuration": prints hello from container', async () => {
    const r = await runExample('seed-001', 'step-level-container-configuration');
    assertSucceeded(r);
    assert.equal(r.step('hello').out, 'hello from container\n');
    assert.deepEqual(await leftByRun(r), []);
  });

  test('examples/seed-001 "Configuration Reference (step-level)", with its containerName: the unnamed, command-less step runs the image default in a container of that name, removed after', async () => {
    const r = await runExample('seed-001', 'configuration-reference-step-level');
    assertSucceeded(r);
    assert.deepEqual(
      r.report.steps.map((s) => s.name),
      ['docker_1'],
    );
    assert.equal(r.step('docker_1').exitCode, 0);
    assert.doesNotMatch(r.stdout, /warning/);
    assert.deepEqual(await leftByRun(r), []);
  });
});
