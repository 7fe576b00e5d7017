// Record a session with the engine, then replay it with no daemon at all. The recording is one
// JSON-lines file (DIR/engine.jsonl) holding every exchange, hijacked streams included; secrets
// passed to the recorder never reach it. The replay serves it back and fails any request the
// recording does not hold, naming the difference.
//   node examples/library/record-replay.mjs /tmp/my-recording
import { openDispatcher, openEngine, RecordingDispatcher, ReplayDispatcher } from 'skiff';
import { runContainer } from './run-container.mjs';

/** Runs `work` against the engine at DOCKER_HOST, writing everything it exchanged into `dir`. */
export async function record(dir, work, { inner = openDispatcher() } = {}) {
  const recorder = RecordingDispatcher.forDir(dir, inner);
  // reachesDaemon: the recorder talks to the real daemon, so its PIDs are this host's.
  const engine = openEngine({ dispatcher: recorder, reachesDaemon: true });
  try {
    return await work(engine);
  } finally {
    await engine.close();
    await recorder.close(); // flushes the file, closes the pool it wraps
  }
}

/** Runs `work` against the recording in `dir`; DOCKER_HOST is not used. */
export async function replay(dir, work, options = {}) {
  const replayer = ReplayDispatcher.fromDir(dir, options);
  const engine = openEngine({ dispatcher: replayer, env: { DOCKER_HOST: 'unix:///nowhere' } });
  try {
    const result = await work(engine);
    replayer.assertAllUsed(); // the run asked for everything that was recorded
    return result;
  } finally {
    await engine.close();
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const dir = process.argv[2] ?? 'recording';
  const work = (engine) => runContainer(engine, 'skiff-busybox', ['echo', 'recorded once']);
  console.log('live:    ', await record(dir, work));
  console.log('replayed:', await replay(dir, work));
}
