// Two facts an Engine keeps apart: whether it built its pool (and so closes it, and may open a
// connection beside it: borrowed.ts), and whether the daemon runs on this host (so the host PIDs
// it reports can be signalled: a cancelled exec is stopped that way). A recording of a live
// engine is local but not the pool's owner; a replay is neither.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDispatcher, openEngine } from '../../lib/engine/index.js';
import { RecordingDispatcher, ReplayDispatcher } from '../../lib/engine/replay/index.js';
import { liveEngine, TEST_IMAGE, testLabels, reap } from '../support/live.js';

const Labels = testLabels('engine-facts');

test('the pool openEngine builds on a Unix socket: owned and local; over TCP: owned, not local', async () => {
  const unix = openEngine({ env: { DOCKER_HOST: 'unix:///var/run/docker.sock' } });
  const tcp = openEngine({ env: { DOCKER_HOST: 'tcp://127.0.0.1:2375' } });
  try {
    assert.deepEqual([unix.ownsDispatcher, unix.local], [true, true]);
    assert.deepEqual([tcp.ownsDispatcher, tcp.local], [true, false]);
  } finally {
    await unix.close();
    await tcp.close();
  }
});

test('a replay is neither owned nor local: its PIDs are nobody\'s here', async () => {
  const replay = new ReplayDispatcher('{"format":"skiff-engine-recording","version":1}\n');
  const engine = openEngine({ dispatcher: replay, env: { DOCKER_HOST: 'unix:///nowhere' } });
  assert.deepEqual([engine.ownsDispatcher, engine.local], [false, false]);
  await engine.close();
});

test('a recording of the live engine is local (reachesDaemon) but not owned, and never borrows a connection beside the recorder', async () => {
  const live = await liveEngine();
  const dir = mkdtempSync(join(tmpdir(), 'skiff-engine-facts-'));
  const recorder = RecordingDispatcher.forDir(dir, openDispatcher());
  const recorded = openEngine({ dispatcher: recorder, reachesDaemon: true });
  try {
    assert.deepEqual([recorded.ownsDispatcher, recorded.local], [false, true]);
    const { Id } = await live.containers.create({ Image: TEST_IMAGE, Cmd: ['true'], Labels });
    assert.equal(await recorded.containers.attachBorrowed(Id, { stdout: true }), undefined, 'the recorded engine must take the hijacked path, which the recorder sees');
    const borrowed = await live.containers.attachBorrowed(Id, { stdout: true });
    assert.ok(borrowed, 'the live engine borrows a connection of its own');
    borrowed.socket.destroy();
  } finally {
    await recorded.close();
    await recorder.close();
    await reap(live, Labels);
    await live.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
