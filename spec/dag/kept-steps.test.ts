// runDag's `kept` (what `skiff retry` uses): kept steps do not run, count as done for the steps
// after them, hand their `output:` value on, and keep their logs in the report.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunEvent } from '../../lib/dag/events.js';
import type { ContinueOn, Step } from '../../lib/common/model.js';
import { runDag } from '../../lib/dag/scheduler.js';
import type { StepContext } from '../../lib/executors/contract.js';
import { testDag } from '../support/dags.js';
import { createLocalExecutorSet } from '../support/local-set.js';

const noContinue: ContinueOn = { failure: false, skipped: false, exitCodes: [], output: [], markSuccess: false };

describe('runDag with kept steps', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-kept-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const step = (name: string, script: string, extra: Partial<Step> = {}): Step => ({
    name,
    command: { form: 'shell', script },
    dir,
    env: [],
    depends: [],
    continueOn: noContinue,
    preconditions: [],
    executor: { type: 'local' },
    place: { file: 'dag.yaml', line: 1, col: 1 },
    ...extra,
  });

  it('a kept step does not run; the step after it runs with its output; the report keeps its logs', async () => {
    const base = createLocalExecutorSet();
    const ran: string[] = [];
    const events: RunEvent[] = [];
    const dag = testDag(dir, {
      type: 'graph',
      steps: [step('make', 'echo fresh', { output: 'VALUE' }), step('use', 'echo "got ${VALUE}"', { depends: ['make'] })],
    });
    const report = await runDag({
      dag,
      executors: { ...base, runOnHost: base.runOnHost, executorFor: (s) => ({ run: (ctx: StepContext) => (ran.push(s.name), base.executorFor(s).run(ctx)) }) },
      runId: 'r1',
      logDir: join(dir, 'attempt-2'),
      signal: new AbortController().signal,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      onEvent: (ev) => events.push(ev),
      kept: new Map([['make', { status: 'succeeded', exitCode: 0, error: null, stdoutFile: '/earlier/make.stdout.log', stderrFile: '/earlier/make.stderr.log', output: 'from-attempt-1' }]]),
    });
    assert.deepEqual(ran, ['use']);
    assert.equal(report.status, 'succeeded');
    assert.deepEqual(report.steps[0], { name: 'make', status: 'succeeded', exitCode: 0, error: null, stdoutFile: '/earlier/make.stdout.log', stderrFile: '/earlier/make.stderr.log', outputs: { VALUE: 'from-attempt-1' } });
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(report.steps[1]!.stdoutFile!, 'utf8'), 'got from-attempt-1\n');
    const makeEvents = events.filter((e) => (e.type === 'step-start' || e.type === 'step-end') && e.step === 'make');
    assert.deepEqual(makeEvents.map((e) => [e.type, e.type === 'step-end' ? e.kept : undefined]), [['step-end', true]]);
  });

  it('a retry stopped by its DAG precondition still reports the kept steps as they were', async () => {
    const base = createLocalExecutorSet();
    const dag = testDag(dir, {
      type: 'graph',
      preconditions: [{ condition: 'false', negate: false }],
      steps: [step('make', 'echo fresh', { output: 'VALUE' }), step('use', 'echo use', { depends: ['make'] })],
    });
    const report = await runDag({
      dag,
      executors: base,
      runId: 'r2',
      logDir: join(dir, 'attempt-3'),
      signal: new AbortController().signal,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      kept: new Map([['make', { status: 'succeeded', exitCode: 0, error: null, stdoutFile: '/earlier/make.stdout.log', stderrFile: null, output: 'v1' }]]),
    });
    assert.equal(report.status, 'aborted');
    assert.deepEqual(report.steps.map((s) => [s.name, s.status, s.outputs]), [['make', 'succeeded', { VALUE: 'v1' }], ['use', 'not_started', {}]]);
  });
});
