// Creation ahead, on the real engine through `skiff run` as a user types it: while a step runs,
// the container of the step after it is created (config and command already known); one that
// does not start after all (upstream failed, a precondition said no, Ctrl-C) is removed, and a
// step whose config waits on an output is created when it starts, as before. A recording of a
// run with containers made ahead replays.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../lib/engine/index.js';
import { LABEL_DAG, LABEL_STEP } from '../../lib/executors/docker/labels.js';
import { TEST_IMAGE, liveEngine } from '../support/live.js';
import { Skiff, explain, type RunResult } from './docker-support.js';

const skiff = new Skiff('create-ahead');
let engine: Engine | undefined;
const live = async () => (engine ??= await liveEngine());
let seq = 0;

after(async () => {
  try {
    if (engine) await skiff.reap(engine);
  } finally {
    skiff.dispose();
    await engine?.close();
  }
});

/** A DAG file with a name of its own (its containers are found by it); returns file and name. */
function dag(body: string): { file: string; name: string } {
  const name = `create-ahead-${process.pid}-${++seq}`;
  const file = join(skiff.tempDir('dag'), 'dag.yaml');
  writeFileSync(file, `name: ${name}\n${body}`);
  return { file, name };
}

/**
 * A host command that returns once step `second`'s container exists, created and not started
 * (at most 15 s): the test then acts on a container made ahead, whatever the machine's load.
 */
const AWAIT_SECOND = `for i in $(seq 150); do docker ps -aq --filter label=${LABEL_DAG}=\${DAG_NAME} --filter label=${LABEL_STEP}=second --filter status=created | grep -q . && break; sleep 0.1; done`;

function dockerStep(name: string, command: string, extra = '', image = TEST_IMAGE): string {
  return `  - name: ${name}\n    executor:\n      type: docker\n      config:\n        image: ${image}\n        autoRemove: true\n    command: ${command}\n${extra}`;
}

interface Seen {
  /** When each step's container was first seen in the state `created` (epoch ms). */
  created: Map<string, number>;
}

/** Runs the DAG while watching its containers every 25 ms; returns the run, what was seen, what is left. */
async function watched(d: { file: string; name: string }, run: () => Promise<RunResult>): Promise<{ r: RunResult; seen: Seen; left: number }> {
  const e = await live();
  const seen: Seen = { created: new Map() };
  let done = false;
  const watching = (async () => {
    while (!done) {
      for (const c of await e.containers.list({ label: [`${LABEL_DAG}=${d.name}`] })) {
        const step = c.Labels[LABEL_STEP] ?? '';
        if (c.State === 'created' && !seen.created.has(step)) seen.created.set(step, Date.now());
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    const r = await run();
    return { r, seen, left: (await e.containers.list({ label: [`${LABEL_DAG}=${d.name}`] })).length };
  } finally {
    done = true;
    await watching;
  }
}

/** The time of the first plain-output line matching `re` (lines start with an ISO timestamp). */
function timeOf(r: RunResult, re: RegExp): number {
  const line = r.stdout.split('\n').find((l) => re.test(l));
  assert.ok(line, `no line matching ${re}: ${explain(r)}`);
  return Date.parse(line.split(' ')[0]!);
}

describe('creation ahead', { concurrency: 3 }, () => {
  test("the next step's container is created while the step before it runs, and the run leaves nothing", async () => {
    const d = dag(`steps:\n  - name: first\n    command: ${AWAIT_SECOND}\n${dockerStep('second', 'echo second')}${dockerStep('third', 'echo third')}`);
    const { r, seen, left } = await watched(d, () => skiff.run(d.file));
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.step('second').out, 'second\n');
    assert.equal(r.step('third').out, 'third\n');
    const createdAt = seen.created.get('second');
    assert.ok(createdAt !== undefined, 'a created container of step second was seen');
    assert.ok(createdAt < timeOf(r, /step first succeeded/), 'created before the step before it ended');
    assert.equal(left, 0, 'every container removed by the end of the run');
  });

  // A step that never starts after all: its container, made ahead, is removed before the run ends.
  for (const [why, first, extra, code, status] of [
    ['upstream failed', `${AWAIT_SECOND}; exit 3`, '', 1, 'aborted'],
    ['its precondition says no', AWAIT_SECOND, '    preconditions:\n      - condition: "false"\n', 0, 'skipped'],
  ] as const) {
    test(`a container made ahead for a step that never starts (${why}) is removed`, async () => {
      const d = dag(`steps:\n  - name: first\n    command: ${first}\n${dockerStep('second', 'echo never', extra)}`);
      const { r, seen, left } = await watched(d, () => skiff.run(d.file));
      assert.equal(r.code, code, explain(r));
      assert.equal(r.step('second').status, status);
      assert.ok(seen.created.has('second'), 'it was created ahead (what this test is about)');
      assert.equal(left, 0, 'and removed');
    });
  }

  test('Ctrl-C while the step before runs removes the container made ahead', async () => {
    const d = dag(`steps:\n  - name: first\n    command: ${AWAIT_SECOND}; echo ready; sleep 30\n${dockerStep('second', 'echo never')}`);
    const { r, seen, left } = await watched(d, () => skiff.run(d.file, { args: ['--follow'], onStdout: (_chunk, all) => (/ready/.test(all) ? 'SIGINT' : undefined) }));
    assert.equal(r.code, 130, explain(r));
    assert.ok(seen.created.has('second'), 'it was created ahead');
    assert.equal(left, 0, 'nothing left after the cancel');
  });

  test('a step whose config waits on an output is created when it starts', async () => {
    const d = dag(`steps:\n  - name: pick\n    command: sleep 1; echo from-output\n    output: PICKED\n${dockerStep('uses', 'echo ${PICKED}', '', TEST_IMAGE)}`);
    const { r, seen, left } = await watched(d, () => skiff.run(d.file));
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.step('uses').out, 'from-output\n');
    const createdAt = seen.created.get('uses');
    assert.ok(createdAt === undefined || createdAt >= timeOf(r, /step pick succeeded/), 'not created before its upstream ended');
    assert.equal(left, 0);
  });

  test('a run with containers made ahead replays from its recording', async () => {
    const d = dag(`steps:\n  - name: first\n    command: sleep 0.5\n${dockerStep('second', 'echo second')}${dockerStep('third', 'echo third')}`);
    const r = await skiff.recordAndReplay(d.file);
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.replayed.step('third').out, 'third\n');
  });
});

describe('start-up overlap', () => {
  test('the DAG-level container is made before setup only when no DAG precondition can stop the run', async () => {
    const d = dag(`preconditions:\n  - condition: "false"\ncontainer:\n  image: ${TEST_IMAGE}\nsteps:\n  - name: s1\n    command: echo never\n`);
    const e = await live();
    let seen = 0;
    let done = false;
    const watching = (async () => {
      while (!done) {
        seen += (await e.containers.list({ label: [`${LABEL_DAG}=${d.name}`] })).length;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const r = await skiff.run(d.file).finally(() => (done = true));
    await watching;
    assert.equal(r.report.status, 'aborted', explain(r));
    assert.equal(seen, 0, 'no container was created for a run its precondition stopped');
  });

  test('with a DAG-level container and no precondition the run works as before, and leaves nothing', async () => {
    const d = dag(`container:\n  image: ${TEST_IMAGE}\nsteps:\n  - name: s1\n    command: echo one\n  - name: s2\n    command: cat /etc/hostname\n`);
    const r = await skiff.run(d.file);
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.step('s1').out, 'one\n');
    assert.equal((await (await live()).containers.list({ label: [`${LABEL_DAG}=${d.name}`] })).length, 0);
  });
});
