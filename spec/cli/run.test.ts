// `skiff run` end to end on local-only DAGs: exit codes, plain output, the report file.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { TIMESTAMP, fixture, readJson, runCli, sandbox, startCli, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };

describe('skiff run', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('runs a succeeding DAG: exit 0, timestamped lines, summary, report with logs and outputs', T, async () => {
    const reportFile = box.path('ok.json');
    const res = await runCli(['run', '--report', reportFile, fixture('ok.yaml')], box.env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, '');

    const lines = res.stdout.trimEnd().split('\n');
    const timestamped = lines.filter((l) => TIMESTAMP.test(l)).map((l) => l.replace(TIMESTAMP, ''));
    assert.ok(timestamped.includes('step greet started'), res.stdout);
    assert.ok(timestamped.some((l) => /^step greet succeeded \(exit 0, \d+(ms|\.\ds)\)$/.test(l)), res.stdout);
    assert.match(res.stdout, /^run succeeded \(3 steps: 3 succeeded\) in \S+$/m);
    assert.match(res.stdout, /^logs: \/.*cli-ok\//m);

    const report = readJson<RunReport>(reportFile);
    assert.equal(report.status, 'succeeded');
    assert.equal(report.phase, null);
    assert.equal(report.error, null);
    assert.deepEqual(report.steps.map((s) => s.name), ['greet', 'use', 'warn']);
    for (const step of report.steps) {
      assert.equal(step.status, 'succeeded');
      assert.equal(step.exitCode, 0);
      assert.ok(step.stdoutFile && isAbsolute(step.stdoutFile) && existsSync(step.stdoutFile), step.stdoutFile ?? 'null');
      assert.ok(step.stderrFile && isAbsolute(step.stderrFile) && existsSync(step.stderrFile), step.stderrFile ?? 'null');
    }
    const [greet, use, warn] = report.steps;
    assert.deepEqual(greet!.outputs, { GREETING: 'hello world' });
    assert.equal(readFileSync(greet!.stdoutFile!, 'utf8'), 'hello world\n');
    assert.equal(readFileSync(use!.stdoutFile!, 'utf8'), 'got hello world and first\n');
    assert.equal(readFileSync(warn!.stderrFile!, 'utf8'), 'to stderr\n');
    // The report is written whole (temp file + rename): nothing is left beside it.
    assert.equal(existsSync(`${reportFile}.tmp`), false);
  });

  it('passes --params and the arguments after -- to the DAG, in that order', T, async () => {
    const reportFile = box.path('params.json');
    const res = await runCli(['run', '--report', reportFile, '--params', 'one "NAME=big world"', fixture('ok.yaml'), '--', 'two'], box.env);
    assert.equal(res.code, 0, res.stderr);
    const report = readJson<RunReport>(reportFile);
    assert.deepEqual(report.steps[0]!.outputs, { GREETING: 'hello big world' });
    assert.equal(readFileSync(report.steps[1]!.stdoutFile!, 'utf8'), 'got hello big world and one\n');
  });

  it('runs a failing DAG: exit 1, the failed step and its error, report phase step', T, async () => {
    const reportFile = box.path('fail.json');
    const res = await runCli(['run', '--report', reportFile, fixture('fail.yaml')], box.env);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stdout, new RegExp(`${TIMESTAMP.source.slice(1)}step broken failed \\(exit 3\\): exit status 3\nrecent stderr \\(tail\\):\nabout to fail$`, 'm'));
    assert.match(res.stdout, /^run failed \(3 steps: 1 succeeded, 1 failed, 1 aborted\) in \S+$/m);
    assert.match(res.stderr, /^step broken failed: exit status 3\nrecent stderr \(tail\):\nabout to fail\n  full output: \S+\/broken\.stderr\.log \(stdout: broken\.stdout\.log\)$/m);
    assert.doesNotMatch(res.stderr, /^\s+at /m);

    const report = readJson<RunReport>(reportFile);
    assert.equal(report.status, 'failed');
    assert.equal(report.phase, 'step');
    assert.equal(report.error, 'step "broken": exit status 3\nrecent stderr (tail):\nabout to fail');
    assert.deepEqual(
      report.steps.map((s) => [s.name, s.status, s.exitCode]),
      [
        ['first', 'succeeded', 0],
        ['broken', 'failed', 3],
        ['after', 'aborted', null],
      ],
    );
    assert.equal(readFileSync(report.steps[1]!.stderrFile!, 'utf8'), 'about to fail\n');
  });

  it('--quiet prints only the summary line, and the errors on stderr', T, async () => {
    const ok = await runCli(['run', '--quiet', fixture('ok.yaml')], box.env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^run succeeded \(3 steps: 3 succeeded\) in \S+\n$/);
    assert.equal(ok.stderr, '');

    const failed = await runCli(['run', '-q', fixture('fail.yaml')], box.env);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout, /^run failed \(3 steps: 1 succeeded, 1 failed, 1 aborted\) in \S+\n$/);
    assert.match(failed.stderr, /^step broken failed: exit status 3\nrecent stderr \(tail\):\nabout to fail\n  full output: \S+\/broken\.stderr\.log \(stdout: broken\.stdout\.log\)\n$/);
  });

  it('rejects bad usage with exit 2 and the usage on stderr', T, async () => {
    const unknown = await runCli(['run', '--no-such-option', fixture('ok.yaml')], box.env);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /--no-such-option/);
    assert.match(unknown.stderr, /\$ skiff run/);

    const missing = await runCli(['run'], box.env);
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, '');

    const both = await runCli(['run', '--quiet', '--follow', fixture('ok.yaml')], box.env);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--quiet and --follow cannot be used together/);

    const quote = await runCli(['run', '--params', 'a "b', fixture('ok.yaml')], box.env);
    assert.equal(quote.code, 2);
    assert.match(quote.stderr, /unterminated double quote/);
  });

  it('exits 2 for a file that does not exist, still writing the report', T, async () => {
    const reportFile = box.path('missing.json');
    const res = await runCli(['run', '--report', reportFile, 'no-such-dag.yaml'], box.env);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stderr, 'no-such-dag.yaml:1:1: cannot read DAG file: no such file\n');
    const report = readJson<RunReport>(reportFile);
    assert.deepEqual(report, { status: 'failed', phase: 'load', error: 'no-such-dag.yaml:1:1: cannot read DAG file: no such file', steps: [], handlers: [] });
  });

  it('finishes the run when its output pipe is closed (skiff run … | head)', T, async () => {
    const reportFile = box.path('epipe.json');
    const cli = startCli(['run', '--report', reportFile, fixture('ok.yaml')], box.env);
    cli.child.stdout!.once('data', () => cli.child.stdout!.destroy());
    const res = await cli.done;
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, '');
    assert.equal(readJson<RunReport>(reportFile).status, 'succeeded');
  });

  it('fails (exit 1) when the report cannot be written, after running the DAG', T, async () => {
    // The place was fine when the run started (checked then); the step puts a directory there,
    // so the rename onto it fails at the end.
    const reportFile = box.path('taken.json');
    const dagFile = box.path('take-report-place.yaml');
    writeFileSync(dagFile, 'steps:\n  - name: take\n    command: mkdir "$SKIFF_TEST_REPORT"\n');
    const res = await runCli(['run', '--quiet', '--report', reportFile, dagFile], { ...box.env, SKIFF_TEST_REPORT: reportFile });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stdout, /^run succeeded/);
    assert.match(res.stderr, /^skiff: cannot write the report /m);
  });
});
