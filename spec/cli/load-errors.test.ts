// Broken DAG files: every problem as `file:line:col: message`, no stack, exit 2, and a report
// with phase 'load' for `run`; the same lines for `validate`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { fixture, readJson, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };

const CASES: Array<{ file: string; line: number; message: RegExp }> = [
  { file: 'broken-indent.yaml', line: 6, message: /invalid YAML: this line is indented deeper than the keys above it/ },
  { file: 'broken-unknown-key.yaml', line: 5, message: /comand/ },
  { file: 'broken-type.yaml', line: 5, message: /timeoutSec/ },
  { file: 'broken-missing-dep.yaml', line: 7, message: /compile/ },
  { file: 'broken-cycle.yaml', line: 4, message: /cycle/ },
];

describe('DAG load errors', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  for (const c of CASES) {
    it(`run ${c.file}: exit 2, file:line:col on stderr, report phase load`, T, async () => {
      const reportFile = box.path(`${c.file}.json`);
      const res = await runCli(['run', '--report', reportFile, fixture(c.file)], box.env);
      assert.equal(res.code, 2, res.stderr);
      assert.equal(res.stdout, '');
      const lines = res.stderr.trimEnd().split('\n');
      const first = lines[0] ?? '';
      assert.ok(first.startsWith(`${fixture(c.file)}:${c.line}:`), first);
      assert.match(first, /^[^:]+:\d+:\d+: /);
      assert.match(first, c.message);
      for (const line of lines) assert.match(line, /^[^:]+:\d+:\d+: \S/);
      assert.ok(!res.stderr.includes('    at '), res.stderr);

      const report = readJson<RunReport>(reportFile);
      assert.equal(report.status, 'failed');
      assert.equal(report.phase, 'load');
      assert.equal(report.error, res.stderr.trimEnd());
      assert.deepEqual(report.steps, []);
    });

    it(`validate ${c.file}: exit 2 with the same lines`, T, async () => {
      const run = await runCli(['run', fixture(c.file)], box.env);
      const res = await runCli(['validate', fixture(c.file)], box.env);
      assert.equal(res.code, 2);
      assert.equal(res.stdout, '');
      assert.equal(res.stderr, run.stderr);
    });
  }
});
