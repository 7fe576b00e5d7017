// examples/seed-001's DAG-level `container:` and `registryAuths` examples (examples/seed-001/), each run
// with the real `skiff` executable against the real engine, asserting what the seed says about it.
// Each run is recorded (`--record`) and then replayed with no daemon (`--replay`, DOCKER_HOST
// pointing nowhere): the replay's report (apart from log paths), step logs and exit code must be
// the live run's (recordAndReplay in spec/support/skiff-cli.ts); the assertions below are made
// on the live run. The registry-auth recordings must hold no form of the password.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../../lib/engine/index.js';
import { encodeRegistryAuth } from '../../lib/engine/auth.js';
import { engineEnv, repoRoot } from '../support/live.js';
import { allText, type CliResult, engineEvents, leftovers, nowSeconds, recordAndReplay, REGISTRY_IMAGE_LOCK, removeTempDirs, seedFileTurn, withImageLock, type RecordedCliResult } from '../support/skiff-cli.js';

const EXAMPLES = join(repoRoot, 'examples', 'seed-001');
const AUTH_REGISTRY = engineEnv.SKIFF_AUTH_REGISTRY!;
const PLAIN_REGISTRY = engineEnv.SKIFF_REGISTRY!;
const PRIVATE_IMAGE = `${AUTH_REGISTRY}/busybox:latest`;
const PLAIN_IMAGE = `${PLAIN_REGISTRY}/busybox:latest`;
const USER = engineEnv.SKIFF_REGISTRY_USER!;
const PASSWORD = engineEnv.SKIFF_REGISTRY_PASSWORD!;
const AUTH_B64 = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
/** skiff-busybox-healthy's HEALTHCHECK command. */
const HEALTHCHECK = 'test ! -e /tmp/unhealthy';

let engine: Engine;
/** Run ids of every run made here: whatever they left is removed in after(). */
const runIds: string[] = [];
/** Wall time of each live (recorded) run and of its replay. */
const timings: Array<{ example: string; liveMs: number; replayMs: number }> = [];

/** Held for the whole file: the examples' fixed names and port are shared with other seed test files. */
let releaseSeeds: (() => Promise<void>) | undefined;

before(async () => {
  ({ engine, release: releaseSeeds } = await seedFileTurn());
});
after(async () => {
  try {
    for (const id of runIds) for (const c of await leftovers(engine, id)) await engine.containers.remove(c.Id, { force: true });
    await engine.close();
  } finally {
    await releaseSeeds?.();
  }
  await removeTempDirs();
  const sum = (k: 'liveMs' | 'replayMs') => (timings.reduce((a, t) => a + t[k], 0) / 1000).toFixed(2);
  console.log(`dag-container-seeds record/replay: ${timings.length} runs recorded live in ${sum('liveMs')} s (sum of runs), replayed with no daemon in ${sum('replayMs')} s; each live/replay ms: ${timings.map((t) => `${t.example.replace(/\.yaml$/, '')} ${Math.round(t.liveMs)}/${Math.round(t.replayMs)}`).join(', ')}`);
});

/** Runs the example live (recorded), then from its recording; see the top of the file. */
async function run(example: string, env: Record<string, string | undefined> = {}): Promise<RecordedCliResult> {
  // The live run's ids are kept before the replay is compared, so that after() removes what it
  // kept (keepContainer) even when the comparison fails.
  const result = await recordAndReplay(join(EXAMPLES, example), { env }, (live) => runIds.push(...live.runIds));
  timings.push({ example, liveMs: result.liveMs, replayMs: result.replayMs });
  assert.equal(result.runIds.length, 1, `one run directory expected\n${result.stdout}${result.stderr}`);
  return result;
}

async function stepOutput(result: CliResult, step: number): Promise<string> {
  const file = result.report?.steps[step]?.stdoutFile;
  assert.ok(file, `step ${step} has no stdout file`);
  return readFile(file, 'utf8');
}

function succeeded(result: CliResult): void {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  assert.equal(result.report?.status, 'succeeded');
}

/** Containers created for the run, and the execs made in them, as the engine saw them. */
async function containerActivity(since: number, runId: string): Promise<{ created: string[]; execs: string[]; destroyed: string[] }> {
  const events = (await engineEvents(engine, since, [`dev.skiff.run=${runId}`])).filter((e) => e.Type === 'container');
  return {
    created: events.filter((e) => e.Action === 'create').map((e) => e.Actor.ID),
    // The engine's own health checks are execs too; only skiff's count here.
    execs: events.filter((e) => e.Action.startsWith('exec_create') && !e.Action.includes(HEALTHCHECK)).map((e) => e.Action),
    destroyed: events.filter((e) => e.Action === 'destroy').map((e) => e.Actor.ID),
  };
}

/** The password, base64(user:password) and the X-Registry-Auth forms never show anywhere. */
async function assertNoSecrets(result: CliResult): Promise<void> {
  const header = encodeRegistryAuth({ username: USER, password: PASSWORD }, AUTH_REGISTRY)!;
  const forms = [PASSWORD, AUTH_B64, Buffer.from(PASSWORD).toString('base64'), header, header.replace(/-/g, '+').replace(/_/g, '/')];
  const places: Record<string, string> = { stdout: result.stdout, stderr: result.stderr, report: result.reportText, 'state dir': await allText(result.stateDir) };
  if ('recordDir' in result) {
    const recorded = result as RecordedCliResult;
    places.recording = await allText(recorded.recordDir);
    Object.assign(places, { 'replay stdout': recorded.replayed.stdout, 'replay stderr': recorded.replayed.stderr, 'replay state dir': await allText(recorded.replayed.stateDir) });
  }
  for (const [where, text] of Object.entries(places)) for (const form of forms) assert.ok(!text.includes(form), `a secret form appears in ${where}`);
}

/** The two postgres examples both publish host port 5432: they take turns. */
let port5432: Promise<unknown> = Promise.resolve();
function onPort5432<T>(body: () => Promise<T>): Promise<T> {
  const turn = port5432.then(body, body);
  port5432 = turn.catch(() => undefined);
  return turn;
}

describe('examples/seed-001: the DAG-level container field', { concurrency: 3 }, () => {
  test('"All steps run in this container": one container, ./data relative to the DAG, env PYTHONPATH, steps exec\'d', async () => {
    const since = nowSeconds();
    const result = await run('container-field.yaml');
    succeeded(result);
    assert.equal(await stepOutput(result, 0), await readFile(join(EXAMPLES, 'data', 'requirements.txt'), 'utf8'));
    assert.equal(await stepOutput(result, 1), '4\nPYTHONPATH=/app\n');
    const activity = await containerActivity(since, result.runIds[0]!);
    assert.equal(activity.created.length, 1, 'exactly one container for the whole DAG');
    assert.equal(activity.execs.length, 2, 'each step is one docker exec');
    assert.deepEqual(activity.destroyed, activity.created, 'removed at the end');
    assert.deepEqual(await leftovers(engine, result.runIds[0]!), []);
  });

  test('"Container Field Configuration": env from the host, binds, workingDir, user, platform, host network, keepContainer', async () => {
    const dataExisted = existsSync('/data');
    const apiKey = `key-${process.pid}`;
    const result = await run('container-field-configuration.yaml', { API_KEY: apiKey });
    try {
      succeeded(result);
      const out = await stepOutput(result, 0);
      assert.equal(
        out,
        [`NODE_ENV=production`, `API_KEY=${apiKey}`, '/app', '1000', '1000', 'the application source that ./src:/app mounts at /app', 'data ro', ''].join('\n'),
      );
      // Docker discards published ports in host network mode, and says so.
      assert.match(result.stdout + result.stderr, /warning: container: Published ports are discarded when using host network mode/);
      // keepContainer: true — "Keep container running".
      const [kept, ...others] = await leftovers(engine, result.runIds[0]!);
      assert.ok(kept, 'the container is kept');
      assert.equal(others.length, 0);
      const info = await engine.containers.inspect(kept.Id);
      assert.equal(info.State.Running, true);
      const host = (info as unknown as { HostConfig: { NetworkMode: string; Binds: string[] } }).HostConfig;
      assert.equal(host.NetworkMode, 'host');
      assert.deepEqual(host.Binds, [`${join(EXAMPLES, 'src')}:/app:rw`, '/data:/data:ro']);
      // platform: linux/amd64
      const image = await engine.images.find((info as unknown as { Image: string }).Image);
      assert.equal(`${image?.Os}/${image?.Architecture}`, 'linux/amd64');
    } finally {
      for (const c of await leftovers(engine, result.runIds[0]!)) await engine.containers.remove(c.Id, { force: true });
      // Docker made the host's /data for the bind; put the machine back as it was.
      if (!dataExisted && existsSync('/data') && (await readdir('/data')).length === 0) await rmdir('/data');
    }
  });

  test('"How Commands Execute": the step is a docker exec of the command itself, not the image CMD', async () => {
    const since = nowSeconds();
    const result = await run('commands-via-exec.yaml');
    succeeded(result);
    assert.equal(await stepOutput(result, 0), 'sendConfirmationEmails\n');
    const activity = await containerActivity(since, result.runIds[0]!);
    assert.equal(activity.created.length, 1);
    assert.equal(activity.execs.length, 1);
    assert.match(activity.execs[0]!, /echo sendConfirmationEmails/);
    assert.doesNotMatch(activity.execs[0]!, /echo ready/, "the image's CMD is not what runs");
    assert.deepEqual(await leftovers(engine, result.runIds[0]!), []);
  });

  test('"Behavior with DAG-level container": a docker-executor step execs in the shared container, its config ignored', async () => {
    const since = nowSeconds();
    const result = await run('docker-step-in-dag-container.yaml');
    succeeded(result);
    assert.equal(await stepOutput(result, 0), 'hello from container\nWHERE=dag-level-container\n');
    const activity = await containerActivity(since, result.runIds[0]!);
    assert.equal(activity.created.length, 1, 'no container of its own for the step (image: alpine is ignored)');
    assert.equal(activity.execs.length, 1);
    assert.doesNotMatch(result.stdout, /alpine/, 'alpine is never pulled');
    assert.deepEqual(await leftovers(engine, result.runIds[0]!), []);
  });

  test('"Container Lifecycle Management": keepContainer leaves the container running after the run', async () => {
    await onPort5432(async () => {
      const result = await run('keep-container.yaml');
      try {
        succeeded(result);
        assert.equal(await stepOutput(result, 0), 'POSTGRES_PASSWORD=secret\n');
        const kept = await leftovers(engine, result.runIds[0]!);
        assert.equal(kept.length, 1);
        const info = await engine.containers.inspect(kept[0]!.Id);
        assert.equal(info.State.Running, true, 'still running after the run');
        const ports = (info as unknown as { HostConfig: { PortBindings: Record<string, Array<{ HostPort: string }>> } }).HostConfig.PortBindings;
        assert.equal(ports['5432/tcp']?.[0]?.HostPort, '5432');
      } finally {
        for (const c of await leftovers(engine, result.runIds[0]!)) await engine.containers.remove(c.Id, { force: true });
      }
    });
  });

  test('"Platform-Specific Builds": the container runs as linux/amd64', async () => {
    const result = await onPort5432(() => run('platform.yaml'));
    succeeded(result);
    assert.equal(await stepOutput(result, 0), 'x86_64\n');
    assert.deepEqual(await leftovers(engine, result.runIds[0]!), []);
  });
});

describe('examples/seed-001: registry authentication', () => {
  // Each case removes the private image locally first, so the run has to pull it, with credentials.
  async function pulled(example: string, env: Record<string, string>, images: string[] = [PRIVATE_IMAGE]): Promise<CliResult> {
    return withImageLock(REGISTRY_IMAGE_LOCK, async () => {
      for (const image of images) await engine.images.remove(image, { force: true });
      const result = await run(example, env);
      try {
        succeeded(result);
        for (const image of images) {
          // The run's own account of the pull (the local image store is shared with other test
          // files, which may remove the image at any time).
          assert.match(result.stdout, new RegExp(`pulled ${image.replace(/[.]/g, '\\.')}`));
        }
        await assertNoSecrets(result);
        return result;
      } finally {
        // Inside the lock, containers first: a step container without autoRemove stays (as in
        // Dagu) and would keep the image's content after its name is removed, so the next test's
        // pull of that name would find it and download nothing.
        for (const c of await leftovers(engine, result.runIds[0]!)) await engine.containers.remove(c.Id, { force: true });
        for (const image of images) await engine.images.remove(image, { force: true });
      }
    });
  }

  test('option 1, structured username/password per registry: the private image is pulled', async () => {
    const result = await pulled('registry-auth-structured.yaml', { GITHUB_USER: USER, GITHUB_TOKEN: PASSWORD });
    assert.equal(await stepOutput(result, 0), 'process.py ran in the private image\n');
  });

  test('registryAuths: ${DOCKER_AUTH_CONFIG}, a config.json document whose entry holds only auth', async () => {
    const document = JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: AUTH_B64 } } });
    const result = await pulled('registry-auth-env.yaml', { DOCKER_AUTH_CONFIG: document });
    assert.equal(await stepOutput(result, 0), 'pulled with DOCKER_AUTH_CONFIG\n');
  });

  test('pre-encoded auth: base64(username:password) authenticates', async () => {
    const result = await pulled('registry-auth-pre-encoded.yaml', { GCR_AUTH_BASE64: AUTH_B64 });
    assert.equal(await stepOutput(result, 0), 'pulled with a pre-encoded auth\n');
  });

  test('per-registry JSON string {"username", "password": "${ECR_AUTH_TOKEN}"}', async () => {
    const result = await pulled('registry-auth-json-string.yaml', { ECR_AUTH_TOKEN: PASSWORD });
    assert.equal(await stepOutput(result, 0), 'pulled with a JSON string entry\n');
  });

  test('"Using Docker Config File": DOCKER_AUTH_CONFIG=$(cat config.json) is used with no registryAuths in the DAG', async () => {
    const configJson = JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: AUTH_B64 } } }, null, '\t');
    const result = await pulled('docker-auth-config.yaml', { DOCKER_AUTH_CONFIG: configJson });
    assert.equal(await stepOutput(result, 0), 'pulled with the exported docker config\n');
  });

  test('multi-registry workflow: each step image is pulled with its own registry\'s entry', async () => {
    const result = await pulled(
      'multi-registry.yaml',
      { GITHUB_USER: USER, GITHUB_TOKEN: PASSWORD, GCR_AUTH: Buffer.from('someone:else').toString('base64') },
      [PRIVATE_IMAGE, PLAIN_IMAGE],
    );
    assert.deepEqual(
      await Promise.all([0, 1, 2].map((i) => stepOutput(result, i))),
      ['process-data\n', 'analyze-results\n', 'generate-report\n'],
    );
  });
});
