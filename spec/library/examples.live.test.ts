// Every example of docs/library.md (examples/library/*.mjs) run two ways: live against the real
// engine, and replayed with no daemon from its recording committed under fixtures/library/, so
// neither the docs nor the recordings can drift from the code. The examples import `skiff`
// itself (the package's own exports, as built).
//   SKIFF_RECORD_LIBRARY=1 node --test dist/spec/library/examples.live.test.js   # re-record them
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Engine } from '../../lib/engine/index.js';
import { ReplayDispatcher } from '../../lib/engine/replay/index.js';
import { engineEnv, liveEngine, repoRoot, TEST_IMAGE } from '../support/live.js';

type Work<T> = (engine: Engine) => Promise<T>;
interface RecordReplay {
  record<T>(dir: string, work: Work<T>, options?: { inner?: unknown }): Promise<T>;
  replay<T>(dir: string, work: Work<T>): Promise<T>;
}
const example = async <T>(name: string): Promise<T> => (await import(join(repoRoot, 'examples', 'library', `${name}.mjs`))) as T;
const { describeEngine } = await example<{ describeEngine: Work<{ engine: string; api: string; platform: string }> }>('open-engine');
const { runContainer } = await example<{ runContainer: (e: Engine, image: string, cmd: string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }> }>('run-container');
const { execWithStdin } = await example<{ execWithStdin: (e: Engine, image: string, cmd: string[], input: string) => Promise<{ exitCode: number; stdout: string }> }>('exec-stdin');
const { pullWithProgress } = await example<{ pullWithProgress: (e: Engine, image: string, on?: (s: { fraction: number }) => void) => Promise<{ statuses: string[]; fraction: number; pulled: boolean }> }>('pull-progress');
const { record, replay } = await example<RecordReplay>('record-replay');
const { runWithEvents } = await example<{ runWithEvents: (file: string, o?: Record<string, unknown>) => Promise<{ status: string; exitCode: number; steps: string[]; events: string[] }> }>('run-dag');

const RECORD = process.env.SKIFF_RECORD_LIBRARY === '1';
const fixture = (name: string) => join(repoRoot, 'fixtures', 'library', name);
// An image this file pushes to the loopback registry itself, so it may remove it (the pull example).
const PULL_IMAGE = `${engineEnv.SKIFF_REGISTRY}/skiff-library-example:latest`;

/** Runs `work` live (recording it into the fixture when re-recording), then from the committed recording. */
async function liveAndReplayed<T>(name: string, work: Work<T>, check: (result: T, how: string) => void): Promise<void> {
  let live: T;
  if (RECORD) {
    rmSync(fixture(name), { recursive: true, force: true });
    live = await record(fixture(name), work);
  } else {
    const engine = await liveEngine();
    try {
      live = await work(engine);
    } finally {
      await engine.close();
    }
  }
  check(live, 'live');
  check(await replay(fixture(name), work), 'replayed');
}

describe('library examples (docs/library.md), live and replayed', () => {
  let engine: Engine;
  before(async () => {
    engine = await liveEngine();
    await engine.images.tag(TEST_IMAGE, PULL_IMAGE.replace(/:latest$/, ''), 'latest');
    for await (const ev of engine.images.push(PULL_IMAGE.replace(/:latest$/, ''), { tag: 'latest' })) void ev;
  });
  after(async () => {
    await engine.images.remove(PULL_IMAGE, { force: true });
    await engine.close();
  });

  test('open-engine: an engine from DOCKER_HOST says what it is', () =>
    liveAndReplayed('open-engine', describeEngine, (r, how) => {
      assert.match(r.api, /^1\.\d+$/, how);
      assert.match(r.platform, /^linux\//, how);
      assert.ok(r.engine.length > 0, how);
    }));

  test('run-container: stdout and stderr come apart, with the exit code', () =>
    liveAndReplayed('run-container', (e) => runContainer(e, 'skiff-busybox', ['sh', '-c', 'echo hello; echo oops >&2; exit 3']), (r, how) => {
      assert.deepEqual(r, { exitCode: 3, stdout: 'hello\n', stderr: 'oops\n' }, how);
    }));

  test('exec-stdin: input written to an exec reaches it, and EOF ends it', () =>
    liveAndReplayed('exec-stdin', (e) => execWithStdin(e, 'skiff-busybox', ['sh', '-c', 'wc -c; exit 5'], 'twelve bytes'), (r, how) => {
      assert.deepEqual(r, { exitCode: 5, stdout: '12\n' }, how);
    }));

  test('pull-progress: progress events arrive and the snapshot ends at 1', () =>
    liveAndReplayed(
      'pull-progress',
      async (e) => {
        await e.images.remove(PULL_IMAGE, { force: true });
        const seen: number[] = [];
        const result = await pullWithProgress(e, PULL_IMAGE, (s) => seen.push(s.fraction));
        return { ...result, seen };
      },
      (r, how) => {
        assert.equal(r.fraction, 1, how);
        assert.equal(r.pulled, true, how);
        // Its layers are skiff-busybox's, already here: the daemon downloads the manifest only.
        assert.match(r.statuses.at(-1) ?? '', /^Status: Downloaded newer image for /, `${how}: ${r.statuses.join(', ')}`);
        assert.ok(r.seen.length >= r.statuses.length && r.seen.some((f) => f < 1), `${how}: progress before the end: ${r.seen.join(' ')}`);
      },
    ));

  test('run-dag: a DAG file run from code, with its events, live and replayed (recordDir / replayDir)', async () => {
    const state = mkdtempSync(join(tmpdir(), 'skiff-library-state-'));
    try {
      const file = join(repoRoot, 'examples', 'hello.yaml');
      const env = { ...process.env, SKIFF_STATE_DIR: state };
      if (RECORD) rmSync(fixture('run-dag'), { recursive: true, force: true });
      const live = await runWithEvents(file, { env, ...(RECORD ? { recordDir: fixture('run-dag') } : {}) });
      const replayed = await runWithEvents(file, { env: { ...env, DOCKER_HOST: 'unix:///nowhere' }, replayDir: fixture('run-dag') });
      for (const [how, r] of [['live', live], ['replayed', replayed]] as const) {
        assert.deepEqual(r, {
          status: 'succeeded',
          exitCode: 0,
          steps: ['hello: succeeded'],
          events: ['run-start', 'startup-start', 'startup-end', 'step-start', 'hello stdout: hello\n', 'hello succeeded', 'run-end'],
        }, how);
      }
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  test('record-replay: what was recorded replays with no daemon, the same result', async () => {
    const work = (e: Engine) => runContainer(e, 'skiff-busybox', ['echo', 'recorded once']);
    for (const how of ['live', 'from the committed recording'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'skiff-library-rec-'));
      try {
        // Replayed: the "daemon" recorded is itself the committed recording.
        const inner = how === 'live' ? undefined : ReplayDispatcher.fromDir(fixture('record-replay'));
        const recorded = RECORD && how === 'live' ? await record(fixture('record-replay'), work) : await record(dir, work, inner ? { inner } : {});
        const replayed = await replay(RECORD && how === 'live' ? fixture('record-replay') : dir, work);
        assert.deepEqual(recorded, { exitCode: 0, stdout: 'recorded once\n', stderr: '' }, how);
        assert.deepEqual(replayed, recorded, how);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
