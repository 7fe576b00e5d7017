// `skiff retry` through the CLI: after a failed run, only the failed step and its descendants
// run again (a succeeded upstream step appends to a file each time it runs: it must not append
// twice), from the run's stored copy of the file, with the kept step's output; the run then
// succeeds under the same id with a second attempt, and `status` and `history` say so.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { fixture, readJson, ROOT, runCli, sandbox, startCli, type Sandbox } from './run-cli.js';

const T = { timeout: 120_000 };

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('skiff retry', () => {
  let box: Sandbox;
  let dagFile: string;
  before(() => {
    box = sandbox();
    dagFile = box.path('retry.yaml');
    copyFileSync(join(ROOT, fixture('retry.yaml')), dagFile);
  });
  after(() => box.cleanup());

  it('re-runs only what failed and its descendants, from the stored definition, then the run succeeds', T, async () => {
    const first = await runCli(['run', '--report', box.path('first.json'), dagFile, '--', `DIR=${box.dir}`], box.env);
    assert.equal(first.code, 1, first.stderr);
    const runId = readdirSync(join(box.dir, 'state', 'runs', 'cli-retry'))[0]!;
    assert.deepEqual(readJson<RunReport>(box.path('first.json')).steps.map((s) => [s.name, s.status]), [
      ['prepare', 'succeeded'],
      ['side', 'succeeded'],
      ['flaky', 'failed'],
      ['after', 'aborted'],
    ]);
    assert.deepEqual(lines(box.path('prepare.count')), ['ran']);

    // The cause is fixed; the file on disk changes meanwhile, which the retry must not see.
    writeFileSync(box.path('fixed'), '');
    writeFileSync(dagFile, readFileSync(dagFile, 'utf8').replace('after got', 'EDITED got'));

    const retry = await runCli(['retry', '--report', box.path('retry.json'), dagFile], box.env);
    assert.equal(retry.code, 0, retry.stderr + retry.stdout);
    assert.match(retry.stderr, new RegExp(`retrying run ${runId} \\(attempt 2\\): flaky, after`));
    assert.match(retry.stdout, /step prepare succeeded \(kept from an earlier attempt\)\n/);
    assert.doesNotMatch(retry.stdout, /step prepare started/);
    assert.deepEqual(lines(box.path('prepare.count')), ['ran'], 'prepare did not run again');
    assert.deepEqual(lines(box.path('side.count')), ['side'], 'side did not run again');
    assert.deepEqual(lines(box.path('after.out')), ['after got value-from-prepare'], "after ran from the stored file, with prepare's kept output");
    const report = readJson<RunReport>(box.path('retry.json'));
    assert.equal(report.status, 'succeeded');
    assert.deepEqual(report.steps.map((s) => [s.name, s.status]), [
      ['prepare', 'succeeded'],
      ['side', 'succeeded'],
      ['flaky', 'succeeded'],
      ['after', 'succeeded'],
    ]);
    assert.deepEqual(report.steps[0]!.outputs, { VALUE: 'value-from-prepare' });
    assert.match(report.steps[0]!.stdoutFile!, /\/attempts\/1\/prepare\.stdout\.log$/, "the kept step's log is the first attempt's");
    assert.match(report.steps[2]!.stdoutFile!, /\/attempts\/2\/flaky\.stdout\.log$/);
    assert.deepEqual(readdirSync(join(box.dir, 'state', 'runs', 'cli-retry')), [runId], 'same run id');

    const status = await runCli(['status', dagFile], box.env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Succeeded - /);
    assert.match(status.stdout, new RegExp(`run ${runId}, attempt 2 \\(retry\\)`));
    assert.match(status.stdout, /├─prepare \(\d+ms\) \[succeeded\] \(kept from attempt 1\)/);
    assert.match(status.stdout, /├─flaky \(\d+ms\) \[succeeded\]\n/);
    assert.match(status.stdout, /Result: Succeeded\n$/);

    const history = await runCli(['history', dagFile, '--format', 'json'], box.env);
    const items = JSON.parse(history.stdout) as Array<{ runId: string; status: string; attempt: number }>;
    assert.deepEqual(items.map((i) => [i.runId, i.status, i.attempt]), [[runId, 'succeeded', 2]]);
  });

  it('--step re-runs that step only; --downstream adds its descendants; nothing to retry after a success', T, async () => {
    const nothing = await runCli(['retry', dagFile], box.env);
    assert.equal(nothing.code, 0);
    assert.match(nothing.stderr, /nothing to retry: every step of run \S+ succeeded or was skipped/);

    const one = await runCli(['retry', dagFile, '--step', 'prepare'], box.env);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stderr, /\(attempt 3\): prepare\n/);
    assert.deepEqual(lines(box.path('prepare.count')), ['ran', 'ran']);
    assert.deepEqual(lines(box.path('after.out')), ['after got value-from-prepare'], 'after is not downstream-retried without --downstream');

    const down = await runCli(['retry', dagFile, '--step', 'flaky', '--downstream'], box.env);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /\(attempt 4\): flaky, after\n/);
    assert.deepEqual(lines(box.path('prepare.count')), ['ran', 'ran']);
    assert.equal(lines(box.path('after.out')).length, 2);

    const usage = await runCli(['retry', dagFile, '--downstream'], box.env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--downstream requires --step/);
    const unknown = await runCli(['retry', dagFile, '--step', 'nope'], box.env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /has no step named "nope"/);
  });

  it('a run that is still running is not retried (exit 1, says to stop it first)', T, async () => {
    const pidFile = box.path('running.pid');
    const env = { ...box.env, SKIFF_TEST_PID_FILE: pidFile };
    const run = startCli(['run', fixture('sleep.yaml')], env);
    while (!existsSync(pidFile)) await new Promise((r) => setTimeout(r, 20));
    const retry = await runCli(['retry', fixture('sleep.yaml')], env);
    assert.equal(retry.code, 1);
    assert.match(retry.stderr, new RegExp(`is still running \\(pid ${run.child.pid}\\); stop it first \\(skiff stop\\)`));
    run.child.kill('SIGINT');
    assert.equal((await run.done).code, 130);
  });
});
