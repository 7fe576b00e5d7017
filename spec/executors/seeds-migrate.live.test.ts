// Every seed example (examples/seed-*) run twice against the real engine: as written (Dagu 1.2x)
// and as `skiff migrate` rewrites it (Dagu 2.x), from two fresh copies of its directory. The two
// runs must exit alike and give the same report (apart from log paths): the migration carries
// the file's meaning, and the 2.x reader runs it the same way. The seeds use fixed container,
// network and image names, so everything here runs one example at a time, and the file takes turns
// with the other seed test files (SEED_EXAMPLES_LOCK); what an example needs
// (a running container, a network, registry credentials) is made here, labelled, and removed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../lib/engine/index.js';
import { execIn } from '../../lib/executors/docker/exec.js';
import { Collect, TEST_IMAGE, engineEnv, reap, repoRoot, testLabels } from '../support/live.js';
import { stableReport } from '../support/replay-check.js';
import { REGISTRY_IMAGE_LOCK, seedFileTurn, withImageLock } from '../support/skiff-cli.js';
import { MY_APP_SETUP, Skiff, explain, type RunResult } from './docker-support.js';

const Labels = testLabels('seeds-migrate');
const skiff = new Skiff('seeds-migrate');
let engine: Engine;
const hostDirs: string[] = [];

const AUTH_REGISTRY = engineEnv.SKIFF_AUTH_REGISTRY!;
const USER = engineEnv.SKIFF_REGISTRY_USER!;
const PASSWORD = engineEnv.SKIFF_REGISTRY_PASSWORD!;
const AUTH_B64 = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const PRIVATE_IMAGE = `${AUTH_REGISTRY}/busybox:latest`;
const PLAIN_IMAGE = `${engineEnv.SKIFF_REGISTRY}/busybox:latest`;

interface Needs {
  env?: Record<string, string>;
  /** Made before each of the two runs, undone after it. */
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  /** Images a run pulls: removed after each run, under the shared registry lock. */
  pulls?: string[];
}

async function removeByName(name: string): Promise<void> {
  const existing = await engine.containers.find(name);
  if (existing && existing.Name === `/${name}`) await engine.containers.remove(existing.Id, { force: true });
}

async function runningContainer(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  await removeByName(name);
  const { Id } = await engine.containers.create({ Image: TEST_IMAGE, Cmd: ['sleep', '3600'], Labels, ...extra }, { name });
  await engine.containers.start(Id);
  return Id;
}

async function asRoot(id: string, script: string): Promise<void> {
  const out = new Collect();
  const err = new Collect();
  const { exitCode } = await execIn(engine, id, { body: { Cmd: ['sh', '-c', script], User: 'root' }, stdout: out, stderr: err });
  assert.equal(exitCode, 0, `set-up script failed: ${err.text()}`);
}

const network = (name: string) => ({
  setup: async () => {
    await engine.networks.remove(name).catch(() => undefined);
    await engine.networks.create(name, { labels: Labels });
  },
  teardown: () => engine.networks.remove(name).catch(() => undefined),
});

/** What each example needs beyond itself (the same as the examples' own tests give them). */
const NEEDS: Record<string, Needs> = {
  'seed-000/execute-in-an-existing-container': {
    setup: async () => void (await runningContainer('my-running-container', { WorkingDir: '/app' })),
    teardown: () => removeByName('my-running-container'),
  },
  'seed-000/basic-exec': {
    setup: async () => {
      const id = await runningContainer('my-app');
      await asRoot(id, MY_APP_SETUP);
    },
    teardown: () => removeByName('my-app'),
  },
  'seed-000/dynamic-container-selection': {
    setup: async () => void (await runningContainer('production-app')),
    teardown: () => removeByName('production-app'),
  },
  'seed-000/container-naming': { setup: () => removeByName('my-nginx-server'), teardown: () => removeByName('my-nginx-server') },
  'seed-000/cleanup-on-failure': { setup: () => removeByName('temp-processor'), teardown: () => removeByName('temp-processor') },
  'seed-000/network-configuration': network('my-network'),
  'seed-000/data-processing-pipeline': {
    env: { DB_PASSWORD: 'not-a-secret' },
    setup: async () => {
      await network('db-network').setup();
      await runningContainer('db', { HostConfig: { NetworkMode: 'db-network' } });
    },
    teardown: async () => {
      await removeByName('db');
      await network('db-network').teardown();
    },
  },
  'seed-000/database-operations': { env: { DB_PASSWORD: 'not-a-secret' } },
  'seed-000/volume-mounts': {
    setup: async () => {
      for (const dir of ['/host', '/host/data', '/host/output']) if (!existsSync(dir)) hostDirs.push(dir);
      mkdirSync('/host/data', { recursive: true });
      mkdirSync('/host/output', { recursive: true });
      writeFileSync('/host/data/input-1.csv', 'a,b\n');
      writeFileSync('/host/data/input-2.csv', 'c,d\n');
      rmSync('/host/output/result.txt', { force: true });
    },
  },
  'seed-000/using-host-docker-socket': {
    setup: async () => void (await runningContainer(`skiff-seeds-migrate-${process.pid}-marker`)),
    teardown: () => removeByName(`skiff-seeds-migrate-${process.pid}-marker`),
  },
  'seed-000/using-tcp-socket': { env: { DOCKER_HOST: 'unix:///nonexistent/skiff-docker.sock' } },
  'seed-000/multi-stage-build-process': { teardown: () => engine.images.remove('myapp:latest', { force: true }).then(() => undefined, () => undefined) },
  'seed-000/layer-caching-for-builds': { teardown: () => engine.images.remove('my-app:latest', { force: true }).then(() => undefined, () => undefined) },
  'seed-000/pull-policies': { pulls: [PLAIN_IMAGE] },
  'seed-001/container-field-configuration': { env: { API_KEY: 'seeds-migrate-key' } },
  'seed-001/registry-auth-structured': { env: { GITHUB_USER: USER, GITHUB_TOKEN: PASSWORD }, pulls: [PRIVATE_IMAGE] },
  'seed-001/registry-auth-env': { env: { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: AUTH_B64 } } }) }, pulls: [PRIVATE_IMAGE] },
  'seed-001/registry-auth-pre-encoded': { env: { GCR_AUTH_BASE64: AUTH_B64 }, pulls: [PRIVATE_IMAGE] },
  'seed-001/registry-auth-json-string': { env: { ECR_AUTH_TOKEN: PASSWORD }, pulls: [PRIVATE_IMAGE] },
  'seed-001/docker-auth-config': { env: { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: AUTH_B64 } } }) }, pulls: [PRIVATE_IMAGE] },
  'seed-001/multi-registry': {
    env: { GITHUB_USER: USER, GITHUB_TOKEN: PASSWORD, GCR_AUTH: Buffer.from('someone:else').toString('base64') },
    pulls: [PRIVATE_IMAGE, PLAIN_IMAGE],
  },
};

const seeds = ['seed-000', 'seed-001'].flatMap((seed) =>
  readdirSync(join(repoRoot, 'examples', seed))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `${seed}/${f.replace(/\.yaml$/, '')}`),
);

/** Held for the whole file: the examples' fixed names are shared with the other seed test files. */
let releaseSeeds: (() => Promise<void>) | undefined;

before(async () => {
  ({ engine, release: releaseSeeds } = await seedFileTurn());
});

after(async () => {
  try {
    await skiff.reap(engine);
    await reap(engine, Labels);
  } finally {
    for (const dir of hostDirs.reverse()) rmSync(dir, { recursive: true, force: true });
    skiff.dispose();
    await engine.close();
    await releaseSeeds?.();
  }
});

/** The example's directory copied afresh; the 2.x form replaces the file in its copy. */
async function prepare(example: string): Promise<{ v1: string; v2: string; notes: string }> {
  const [seed, name] = example.split('/') as [string, string];
  const copy = (tag: string) => {
    const dir = join(skiff.tempDir(`${tag}-${seed}`), seed);
    cpSync(join(repoRoot, 'examples', seed), dir, { recursive: true });
    return join(dir, `${name}.yaml`);
  };
  const v1 = copy('v1');
  const v2 = copy('v2');
  const migrated = await skiff.cli(['migrate', v1, '-o', v2]);
  assert.equal(migrated.code, 0, `skiff migrate failed:\n${migrated.stderr}`);
  return { v1, v2, notes: migrated.stderr };
}

async function runWith(needs: Needs, file: string): Promise<RunResult> {
  const body = async () => {
    await needs.setup?.();
    try {
      return await skiff.run(file, { env: needs.env });
    } finally {
      await needs.teardown?.();
      await skiff.reap(engine);
      for (const image of needs.pulls ?? []) await engine.images.remove(image).catch(() => undefined);
    }
  };
  // Other test files pull and remove the registry's images too: take turns with them.
  return needs.pulls ? withImageLock(REGISTRY_IMAGE_LOCK, body) : body();
}

describe('seed examples: 1.2x as written and 2.x as migrated give the same report', () => {
  for (const example of seeds) {
    test(example, async () => {
      const needs = NEEDS[example] ?? {};
      const { v1, v2, notes } = await prepare(example);
      const text = readFileSync(v2, 'utf8');
      assert.doesNotMatch(text, /^\s*executor:/m, `the 2.x form has no executor key:\n${text}`);
      // The rewritten file is read as Dagu 2.x (migrating it again is refused as nothing to do).
      const again = await skiff.cli(['migrate', v2]);
      assert.match(again.stderr, /already a Dagu 2\.x file/, again.stderr);
      const before = await runWith(needs, v1);
      const migrated = await runWith(needs, v2);
      const context = `\n--- 1.2x: ${explain(before)}\n--- 2.x: ${explain(migrated)}\n--- migrated file:\n${text}\n--- notes:\n${notes}`;
      assert.equal(migrated.code, before.code, `exit codes differ${context}`);
      assert.deepEqual(stableReport(migrated.report), stableReport(before.report), `reports differ${context}`);
    });
  }
});
