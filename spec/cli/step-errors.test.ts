// What a failed step says, through `skiff run` as a user meets it: the end of its stderr and
// where its own log is, not only `exit status N` and the run folder.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { readJson, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };

describe('failed local steps', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  /** Writes NAME.yaml from `lines`, runs it with a report, and gives the result and the report. */
  async function runLines(name: string, lines: string[]) {
    const file = box.path(`${name}.yaml`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const reportFile = box.path(`${name}.json`);
    const res = await runCli(['run', '--report', reportFile, file], box.env);
    return { res, report: readJson<RunReport>(reportFile) };
  }

  it('a local step that fails carries its stderr tail, and the summary names its own log file', T, async () => {
    const { res, report } = await runLines('compile', [
        'name: build',
        'steps:',
        '  - name: compile',
        '    command: |',
        '      echo compiling',
        '      echo "error: foo.c:12: undefined reference" >&2',
        '      exit 2',
    ]);
    assert.equal(res.code, 1, res.stderr);
    const step = report.steps[0]!;
    assert.equal(step.error, 'exit status 2\nrecent stderr (tail):\nerror: foo.c:12: undefined reference');
    assert.match(res.stderr, /step compile failed: exit status 2\nrecent stderr \(tail\):\nerror: foo\.c:12: undefined reference\n/);
    assert.ok(step.stderrFile !== null);
    assert.ok(res.stderr.includes(`  full output: ${step.stderrFile} (stdout: compile.stdout.log)`), res.stderr);
    assert.equal(readFileSync(step.stderrFile, 'utf8'), 'error: foo.c:12: undefined reference\n');
  });

  it('a step that fails silently says only its exit status', T, async () => {
    const { res, report } = await runLines('silent', ['steps:', '  - name: quiet', '    command: exit 4']);
    assert.equal(res.code, 1);
    assert.equal(report.steps[0]!.error, 'exit status 4');
  });

  it('an output over maxOutputSize is cut with a warning saying where; a variable too big for exec is a step error naming it and its size', T, async () => {
    const { res, report } = await runLines('big', [
        'steps:',
        '  - name: make',
        "    command: head -c 2000000 /dev/zero | tr '\\0' x",
        '    output: RESULT',
        '  - name: use',
        '    command: echo "${#RESULT}"',
        '    depends: [make]',
    ]);
    assert.equal(res.code, 1);
    const make = report.steps[0]!;
    assert.equal(make.status, 'succeeded');
    assert.ok(res.stdout.includes(`warning: step make: output RESULT cut at 1048576 bytes (maxOutputSize) of the 2000000 the step printed, and marked "[OUTPUT TRUNCATED]"; the whole output is in ${make.stdoutFile}`), res.stdout);
    assert.equal(make.outputs.RESULT!.length, 1048576 + '\n[OUTPUT TRUNCATED]'.length);
    const use = report.steps[1]!;
    assert.equal(use.status, 'failed');
    assert.match(use.error!, /^cannot start the step: environment variable RESULT is 1048603 bytes, more than the 131072 the OS takes for one variable or argument; pass a value that large through a file/);
    assert.doesNotMatch(res.stderr, /internal error|E2BIG/);
  });
});
