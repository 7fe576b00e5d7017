// YAML syntax errors as a DAG author meets them in `skiff validate` and `skiff run`: what to do,
// at the place of the mistake, never the YAML library's programmer-facing words.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { readJson, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };

const CASES: Array<{ name: string; text: string; place: string; message: RegExp }> = [
  {
    name: 'a plain command holding ": "',
    text: 'steps:\n  - name: a\n    command: echo "a"; echo "error: x" >&2\n',
    place: '3:14',
    message: /a plain value cannot contain ": " \(colon and space\): quote the whole value, or write it as a block with "\|"/,
  },
  {
    name: 'an alias to no anchor, merged',
    text: 'steps:\n  - name: a\n    command: echo hi\n    <<: *missing\n',
    place: '4:9',
    message: /"\*missing" refers to no anchor: define "&missing" on a value above it/,
  },
  {
    name: 'an alias to no anchor',
    text: 'env:\n  - A: *nowhere\nsteps:\n  - name: a\n    command: echo hi\n',
    place: '2:8',
    message: /"\*nowhere" refers to no anchor/,
  },
  {
    name: 'a second document',
    text: 'steps:\n  - name: a\n    command: echo hi\n---\nsteps:\n  - name: b\n    command: echo b\n',
    place: '4:1',
    message: /a DAG file holds one YAML document: remove this "---" line/,
  },
  {
    name: 'a quote never closed',
    text: 'steps:\n  - name: a\n    command: "echo hi\n',
    place: '3:14',
    message: /this double-quoted value is never closed: add the closing "/,
  },
  {
    name: 'a key out of line',
    text: 'steps:\n  - name: a\n  command: x\n',
    place: '3:1',
    message: /the keys of one mapping start in the same column/,
  },
  {
    name: 'a value starting with a reserved character',
    text: 'steps:\n  - name: a\n    command: @deploy\n',
    place: '3:14',
    message: /a plain value cannot start with "@": quote the whole value/,
  },
];

describe('YAML errors say what to do', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  CASES.forEach(({ name, text, place, message }, i) => {
    it(`${name}: validate and run point at ${place}`, T, async () => {
      const file = box.path(`case-${i}.yaml`);
      writeFileSync(file, text);
      const validate = await runCli(['validate', file], box.env);
      assert.equal(validate.code, 2);
      assert.equal(validate.stderr.trimEnd().split('\n').length, 1, validate.stderr);
      assert.ok(validate.stderr.startsWith(`${file}:${place}: invalid YAML: `), validate.stderr);
      assert.match(validate.stderr, message);
      assert.doesNotMatch(validate.stderr, /parseAllDocuments|compact mappings|Merge sources|Unresolved alias/);

      const reportFile = box.path(`case-${i}.json`);
      const run = await runCli(['run', '--report', reportFile, file], box.env);
      assert.equal(run.code, 2);
      const report = readJson<RunReport>(reportFile);
      assert.equal(report.phase, 'load');
      assert.match(report.error ?? '', message);
    });
  });
});
