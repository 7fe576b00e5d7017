// Pull an image and follow its progress: images.pull yields the daemon's progress events as they
// arrive (an error line inside the stream throws); PullProgress folds them into one snapshot
// (layers, bytes, a 0..1 fraction) for a progress bar.
//   node examples/library/pull-progress.mjs 127.0.0.1:5000/busybox:latest
import { PullProgress, openEngine } from 'skiff';

export async function pullWithProgress(engine, image, onProgress = () => {}) {
  const progress = new PullProgress();
  const statuses = [];
  for await (const event of engine.images.pull(image)) {
    progress.update(event);
    if (event.status) statuses.push(event.status);
    onProgress(progress.snapshot());
  }
  const last = progress.snapshot();
  return { statuses, fraction: last.fraction, pulled: last.pulled };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const engine = openEngine();
  try {
    const result = await pullWithProgress(engine, process.argv[2] ?? '127.0.0.1:5000/busybox:latest', (s) => process.stderr.write(`\r${(s.fraction * 100).toFixed(0)} %`));
    console.log('\n', result);
  } finally {
    await engine.close();
  }
}
