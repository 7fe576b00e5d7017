// The run report as CI reads it: where it can go is checked before anything runs, a wrong
// command line still leaves one, and its error names the step that made the run fail.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { fixture, readJson, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };

describe('the run report', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('--report on a folder, or under a file, fails before the run starts (exit 2, no step ran)', T, async () => {
    const folder = box.path('reports');
    mkdirSync(folder);
    const pidFile = box.path('never.pid');
    const onFolder = await runCli(['run', '--report', folder, fixture('sleep.yaml')], { ...box.env, SKIFF_TEST_PID_FILE: pidFile });
    assert.equal(onFolder.code, 2);
    assert.equal(onFolder.stderr, `skiff: --report ${folder}: is a directory; give a file name\n`);
    assert.equal(existsSync(pidFile), false, 'a step ran');

    const aFile = box.path('plain-file');
    writeFileSync(aFile, '');
    const underFile = await runCli(['run', '--report', `${aFile}/r.json`, fixture('sleep.yaml')], { ...box.env, SKIFF_TEST_PID_FILE: pidFile });
    assert.equal(underFile.code, 2);
    assert.match(underFile.stderr, /^skiff: --report .*plain-file\/r\.json: cannot write there \(.*plain-file is not a directory\)\n$/);
    assert.equal(existsSync(pidFile), false, 'a step ran');
  });

  it('a command line clipanion cannot parse still writes the report (exit 2, phase load)', T, async () => {
    const reportFile = box.path('bogus.json');
    const res = await runCli(['run', '--bogus', `--report=${reportFile}`, fixture('ok.yaml')], box.env);
    assert.equal(res.code, 2);
    assert.deepEqual(readJson<RunReport>(reportFile), { status: 'failed', phase: 'load', error: 'usage: Unsupported option name ("--bogus").', steps: [], handlers: [] });
  });

  it('a usage error found by `run` itself writes the report too', T, async () => {
    const reportFile = box.path('quiet-follow.json');
    const res = await runCli(['run', '-q', '-f', '--report', reportFile, fixture('ok.yaml')], box.env);
    assert.equal(res.code, 2);
    const report = readJson<RunReport>(reportFile);
    assert.equal(report.phase, 'load');
    assert.equal(report.error, 'usage: --quiet and --follow cannot be used together');
  });

  it('report.error names the step that made the run fail (not one continueOn let pass); handlers that ran are listed, a failing onFailure shown', T, async () => {
    const file = box.path('handlers.yaml');
    writeFileSync(
      file,
      [
        'type: graph',
        'handlerOn:',
        '  failure:',
        '    command: echo "notify failed" >&2; exit 5',
        '  exit:',
        '    command: echo bye',
        'steps:',
        '  - name: flaky',
        '    command: exit 3',
        '    continueOn:',
        '      failure: true',
        '  - name: compile',
        '    command: |',
        '      echo "error: foo.c:12: undefined reference" >&2',
        '      exit 2',
        '    depends: [flaky]',
        '',
      ].join('\n'),
    );
    const reportFile = box.path('handlers.json');
    const res = await runCli(['run', '--report', reportFile, file], box.env);
    assert.equal(res.code, 1);
    const report = readJson<RunReport>(reportFile);
    assert.equal(report.error, 'step "compile": exit status 2\nrecent stderr (tail):\nerror: foo.c:12: undefined reference');
    assert.deepEqual(
      report.handlers.map((h) => [h.name, h.on, h.status, h.exitCode, h.error]),
      [
        ['onFailure', 'failure', 'failed', 5, 'exit status 5\nrecent stderr (tail):\nnotify failed'],
        ['onExit', 'exit', 'succeeded', 0, null],
      ],
    );
    assert.ok(report.handlers.every((h) => h.stdoutFile !== null && h.stderrFile !== null));
    assert.match(res.stderr, /^handler onFailure failed: exit status 5\nrecent stderr \(tail\):\nnotify failed\n {2}full output: \S+onFailure\.stderr\.log/m);
  });
});
