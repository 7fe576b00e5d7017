// Images ahead, on the real engine through `skiff run --report` as a user types it: the images
// of later steps are pulled while earlier steps run, a step waits only for its own image, a pull
// that fails is reported by the step that needs it, an image named by an output is pulled by its
// step as before, and a recording of a run with pulls side by side replays.
// The images are the test image pushed to the loopback registry under names of this process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../lib/engine/index.js';
import { TEST_IMAGE, engineEnv, liveEngine } from '../support/live.js';
import { Skiff, explain, type RunResult } from './docker-support.js';

const skiff = new Skiff('images-ahead');
const tag = `${process.pid}`;
const repo = (what: string) => `${engineEnv.SKIFF_REGISTRY}/skiff-images-ahead-${what}`;
const IMAGE_A = `${repo('a')}:${tag}`;
const IMAGE_B = `${repo('b')}:${tag}`;
const MISSING = `${repo('missing')}:${tag}`;
let engine: Engine;

before(async () => {
  engine = await liveEngine();
  for (const what of ['a', 'b']) {
    await engine.images.tag(TEST_IMAGE, repo(what), tag);
    for await (const _ of engine.images.push(repo(what), { tag })) {
      // a failure inside the stream throws
    }
  }
});

after(async () => {
  try {
    await skiff.reap(engine);
    await removeImages();
  } finally {
    skiff.dispose();
    await engine.close();
  }
});

async function removeImages(): Promise<void> {
  for (const image of [IMAGE_A, IMAGE_B]) await engine.images.remove(image, { force: true });
}

function dag(yaml: string): string {
  const file = join(skiff.tempDir('dag'), 'dag.yaml');
  writeFileSync(file, yaml);
  return file;
}

function dockerStep(name: string, image: string, command: string, extra = ''): string {
  return `  - name: ${name}\n    executor:\n      type: docker\n      config:\n        image: ${image}\n        autoRemove: true\n    command: ${command}\n${extra}`;
}

/** The index of the first plain-output line matching `re` (lines are timestamped, in order). */
function lineOf(r: RunResult, re: RegExp): number {
  const i = r.stdout.split('\n').findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no line matching ${re}: ${explain(r)}`);
  return i;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// One test at a time: they remove and pull the same two images.
describe('images ahead', () => {
  test("later steps' images are pulled while the first step runs, each before its step starts", async () => {
    await removeImages();
    const r = await skiff.run(
      dag(`steps:\n  - name: first\n    command: sleep 1\n${dockerStep('uses-a', IMAGE_A, 'echo a')}${dockerStep('uses-b', IMAGE_B, 'echo b')}`),
    );
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.step('uses-a').out, 'a\n');
    assert.equal(r.step('uses-b').out, 'b\n');
    const firstEnded = lineOf(r, /step first succeeded/);
    assert.ok(lineOf(r, new RegExp(`pulled ${esc(IMAGE_A)}`)) < firstEnded, `A was pulled while "first" ran: ${r.stdout}`);
    assert.ok(lineOf(r, new RegExp(`pulled ${esc(IMAGE_B)}`)) < firstEnded, `B was pulled while "first" ran: ${r.stdout}`);
    assert.ok(await engine.images.find(IMAGE_A));
    assert.ok(await engine.images.find(IMAGE_B));
  });

  test('a pull that fails ahead is reported by the step that needs it, as its own error', async () => {
    const r = await skiff.run(
      dag(`steps:\n  - name: first\n    command: sleep 0.3\n${dockerStep('needs-missing', MISSING, 'echo never')}  - name: after\n    command: echo after\n`),
    );
    assert.equal(r.code, 1, explain(r));
    assert.equal(r.step('first').status, 'succeeded', 'the failed pull does not touch the step before it');
    const failed = r.step('needs-missing');
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', new RegExp(`^pull ${esc(MISSING)}: .*(not found|unknown)`));
    assert.equal(r.step('after').status, 'aborted', 'the chain stops there, as with a pull made by the step');
    assert.match(r.stdout, new RegExp(`step needs-missing failed .*pull ${esc(MISSING)}`));
  });

  test('an image named by an output is not known ahead: its step pulls it when it starts', async () => {
    await removeImages();
    const r = await skiff.run(
      dag(`steps:\n  - name: pick\n    command: echo ${IMAGE_A}\n    output: PICKED\n${dockerStep('uses-picked', '${PICKED}', 'echo picked')}`),
    );
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.step('uses-picked').out, 'picked\n');
    assert.ok(lineOf(r, new RegExp(`pulled ${esc(IMAGE_A)}`)) > lineOf(r, /step uses-picked started/), `pulled by its step: ${r.stdout}`);
  });

  test('pull: never stays never (nothing is pulled ahead); missing does not pull an image that is there', async () => {
    await removeImages();
    const r = await skiff.run(
      dag(`type: graph\nsteps:\n${dockerStep('never', IMAGE_A, 'echo never', '').replace('autoRemove: true', 'autoRemove: true\n        pull: never')}${dockerStep('present', TEST_IMAGE, 'echo present')}`),
    );
    assert.equal(r.code, 1, explain(r));
    assert.match(r.step('never').error ?? '', /No such image/);
    assert.equal(r.step('present').out, 'present\n');
    assert.doesNotMatch(r.stdout, /pull/, 'nothing pulled');
    assert.equal(await engine.images.find(IMAGE_A), undefined);
  });

  test('a run whose pulls went side by side replays from its recording', async () => {
    await removeImages();
    const r = await skiff.recordAndReplay(
      dag(`steps:\n  - name: first\n    command: sleep 0.5\n${dockerStep('uses-a', IMAGE_A, 'echo a')}${dockerStep('uses-b', IMAGE_B, 'echo b')}`),
    );
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.replayed.step('uses-b').out, 'b\n');
  });
});
