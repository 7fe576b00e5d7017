// A layer download that fails mid-pull (the registry stopped) is retried by the daemon for a long
// while: the user hears about it at the first retry, once per retry, not only when the pull fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImagesApi } from '../../lib/engine/facets.js';
import type { ProgressEvent } from '../../lib/engine/json-lines.js';
import { pullImage } from '../../lib/executors/docker/pull.js';
import type { ExecutorEvent } from '../../lib/executors/contract.js';

function engineAnswering(events: ProgressEvent[]): { images: Pick<ImagesApi, 'pull'> } {
  return { images: { async *pull() { yield* events; } } };
}

test('a retried layer download gives one warning per retry, naming the image and the layer', async () => {
  const seen: ExecutorEvent[] = [];
  const events: ProgressEvent[] = [
    { status: 'Pulling from flaky/app', id: '1' },
    { status: 'Downloading', id: 'abcd', progressDetail: { current: 10, total: 100 } },
    { status: 'Retrying in 5 seconds', id: 'abcd' },
    { status: 'Retrying in 4 seconds', id: 'abcd' },
    { status: 'Downloading', id: 'abcd', progressDetail: { current: 20, total: 100 } },
    { status: 'Retrying in 10 seconds', id: 'abcd' },
    { status: 'Download complete', id: 'abcd' },
    { status: 'Status: Downloaded newer image for r/flaky/app:1' },
  ];
  await pullImage(engineAnswering(events), 'r/flaky/app:1', { platform: 'linux/amd64', step: 's', emit: (e) => seen.push(e) });
  const warnings = seen.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
  assert.deepEqual(warnings, [
    'pull r/flaky/app:1: the download of layer abcd failed; the engine tries again (retrying in 5 seconds)',
    'pull r/flaky/app:1: the download of layer abcd failed; the engine tries again (retrying in 10 seconds)',
  ]);
  assert.equal(seen.at(-1)?.type, 'pull-done');
});
