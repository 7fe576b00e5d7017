import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PullProgress } from '../../lib/engine/pull-progress.js';
import type { ProgressEvent } from '../../lib/engine/json-lines.js';

const LAYER = '7d86170d2cda';
const SIZE = 9068101;

// The fresh pull observed in docs/engine-api.md §4.3.
const freshPull: ProgressEvent[] = [
  { status: 'Pulling from probe', id: '1' },
  { status: 'Pulling fs layer', progressDetail: {}, id: LAYER },
  { status: 'Downloading', progressDetail: { current: 98304, total: SIZE }, id: LAYER },
  { status: 'Verifying Checksum', progressDetail: {}, id: LAYER },
  { status: 'Download complete', progressDetail: {}, id: LAYER },
  { status: 'Extracting', progressDetail: { current: 8454144, total: SIZE }, id: LAYER },
  { status: 'Pull complete', progressDetail: {}, id: LAYER },
  { status: 'Digest: sha256:05fe7b64…' },
  { status: 'Status: Downloaded newer image for 127.0.0.1:5055/probe:1' },
];

function feed(events: ProgressEvent[]): PullProgress {
  const progress = new PullProgress();
  for (const ev of events) progress.update(ev);
  return progress;
}

test('a fresh pull: the tag line is no layer, and the layer ends done with all its bytes', () => {
  const snap = feed(freshPull).snapshot();
  assert.deepEqual(snap.layers, [{ id: LAYER, status: 'Pull complete', current: SIZE, total: SIZE }]);
  assert.equal(snap.layersKnown, 1);
  assert.equal(snap.layersDone, 1);
  assert.equal(snap.bytesCurrent, SIZE);
  assert.equal(snap.bytesTotal, SIZE);
  assert.equal(snap.fraction, 1);
  assert.equal(snap.pulled, true);
  assert.equal(snap.lastStatus, 'Status: Downloaded newer image for 127.0.0.1:5055/probe:1');
});

test('fraction follows download bytes, then layer completion, and reaches 1 before the Status line', () => {
  const at = (n: number) => feed(freshPull.slice(0, n)).snapshot();
  assert.equal(at(2).fraction, 0); // size not known yet
  assert.equal(at(3).fraction, 0.8 * (98304 / SIZE));
  assert.equal(at(5).fraction, 0.8); // downloaded, not yet extracted
  assert.equal(at(6).bytesCurrent, SIZE, 'Extracting numbers are not download bytes');
  assert.equal(at(6).layersDone, 0);
  assert.equal(at(7).fraction, 1);
  assert.equal(at(7).pulled, false);
});

test('"Image is up to date": not pulled, finished, no layers', () => {
  const snap = feed([
    { status: 'Pulling from probe', id: '1' },
    { status: 'Digest: sha256:05fe7b64…' },
    { status: 'Status: Image is up to date for 127.0.0.1:5055/probe:1' },
  ]).snapshot();
  assert.equal(snap.pulled, false);
  assert.equal(snap.layersKnown, 0);
  assert.equal(snap.fraction, 1);
  assert.equal(snap.lastStatus, 'Status: Image is up to date for 127.0.0.1:5055/probe:1');
});

test('"Already exists" layers count as done and weigh 0 bytes', () => {
  const progress = feed([
    { status: 'Pulling from library/app', id: 'latest' },
    { status: 'Already exists', progressDetail: {}, id: 'aaaaaaaaaaaa' },
    { status: 'Already exists', progressDetail: {}, id: 'bbbbbbbbbbbb' },
    { status: 'Downloading', progressDetail: { current: 500, total: 1000 }, id: 'cccccccccccc' },
  ]);
  let snap = progress.snapshot();
  assert.equal(snap.layersKnown, 3);
  assert.equal(snap.layersDone, 2);
  assert.equal(snap.bytesCurrent, 500);
  assert.equal(snap.bytesTotal, 1000);
  assert.equal(snap.fraction, 0.8 * 0.5 + 0.2 * (2 / 3));

  progress.update({ status: 'Pull complete', progressDetail: {}, id: 'cccccccccccc' });
  snap = progress.snapshot();
  assert.equal(snap.layersDone, 3);
  assert.equal(snap.bytesCurrent, 1000);
  assert.equal(snap.fraction, 1);
});

test('only cached layers: bytes carry no information, completion does', () => {
  const snap = feed([{ status: 'Already exists', progressDetail: {}, id: 'aaaaaaaaaaaa' }]).snapshot();
  assert.equal(snap.bytesTotal, 0);
  assert.equal(snap.fraction, 1);
});

test('coalesced messages: Pull complete without any Downloading still completes the layer', () => {
  const snap = feed([
    { status: 'Pulling fs layer', progressDetail: {}, id: LAYER },
    { status: 'Pull complete', progressDetail: {}, id: LAYER },
  ]).snapshot();
  assert.deepEqual(snap.layers, [{ id: LAYER, status: 'Pull complete', current: 0, total: undefined }]);
  assert.equal(snap.layersDone, 1);
  assert.equal(snap.fraction, 1);
});
