// Dagu 2.x steps in containers, against the real engine: the one deliberate difference from Dagu
// (a string command runs with /bin/sh -c in the container, where Dagu 2.x splits it into argv),
// a step-level `container:` with its own container removed afterwards, and values resolved by
// skiff before the container's shell sees the text.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../lib/engine/index.js';
import { TEST_IMAGE, liveEngine } from '../support/live.js';
import { runIdOfLog } from '../support/replay-check.js';
import { Skiff, explain } from './docker-support.js';

const skiff = new Skiff('v2-container');
let engine: Engine;

before(async () => {
  engine = await liveEngine();
});

after(async () => {
  try {
    await skiff.reap(engine);
  } finally {
    skiff.dispose();
    await engine.close();
  }
});

function dag(text: string): string {
  const file = join(skiff.tempDir('dag'), 'dag.yaml');
  writeFileSync(file, text);
  return file;
}

describe('Dagu 2.x steps in containers', () => {
  test('a string command runs with /bin/sh -c in the container: pipes, && and exit codes work', async () => {
    const file = dag(`
env:
  - WHO=dag
steps:
  - id: piped
    action: docker.run
    with:
      image: ${TEST_IMAGE}
      auto_remove: true
      command: printf 'a\\nb\\n' | grep b && echo "$WHO \${env.WHO}"
  - id: exits
    depends: piped
    container:
      image: ${TEST_IMAGE}
    run: echo before; exit 7
    continue_on:
      exit_code: [7]
`);
    const r = await skiff.run(file);
    assert.equal(r.step('piped').status, 'succeeded', explain(r));
    // $WHO is expanded by skiff from the DAG env (as Dagu does in container command text), ${env.WHO} too.
    assert.equal(r.step('piped').out, 'b\ndag dag\n');
    assert.equal(r.step('exits').exitCode, 7, explain(r));
    assert.equal(r.step('exits').out, 'before\n');
  });

  test('a step-level container is the step\'s own, removed after the step unless kept', async () => {
    const file = dag(`
steps:
  - id: own
    container:
      image: ${TEST_IMAGE}
      env:
        MODE: own
      working_dir: /tmp
    run: echo "$MODE $(pwd)"
`);
    const r = await skiff.run(file);
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.step('own').out, 'own /tmp\n');
    const runId = runIdOfLog(r.step('own').stdoutFile!);
    assert.deepEqual(await engine.containers.list({ label: [`dev.skiff.run=${runId}`] }, { all: true }), []);
  });
});
