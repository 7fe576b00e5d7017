// Dagu's conformance cases that fall in skiff's scope, ported as data (spec/conformance/specNNN.ts)
// and run through the CLI as a user types it: `skiff validate dag.yaml` or `skiff run --report`,
// in a fresh directory that holds the file. spec/conformance/README.md lists what was ported and
// what was left out, and why.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeTempDirs, skiff, tempDir } from '../support/skiff-cli.js';
import type { ConformanceCase } from './case.js';
import { spec002 } from './spec002.js';
import { spec005 } from './spec005.js';
import { spec006 } from './spec006.js';
import { spec009 } from './spec009.js';
import { spec014 } from './spec014.js';
import { spec015 } from './spec015.js';
import { spec023 } from './spec023.js';

after(() => removeTempDirs());

async function check(c: ConformanceCase): Promise<void> {
  const dir = await tempDir(`conformance-${c.spec}`);
  for (const [path, content] of Object.entries(c.setup ?? {})) {
    if (path.endsWith('/')) mkdirSync(join(dir, path), { recursive: true });
    else writeFileSync(join(dir, path), content);
  }
  const file = join(dir, 'dag.yaml');
  writeFileSync(file, c.yaml);
  const args = c.verb === 'run' ? ['run', ...(c.params ? ['--params', c.params] : []), file] : ['validate', file];
  const res = await skiff(args, { cwd: dir, env: c.env });
  const said = `${res.stderr}\n${res.report?.error ?? ''}`;
  const context = `\n--- ${c.dagu}: skiff ${c.verb} exited ${res.code}\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}\nreport: ${res.reportText}`;
  assert.equal(res.code, c.exit, `exit code${context}`);
  for (const part of c.stderr ?? []) {
    if (typeof part === 'string') assert.ok(said.includes(part), `stderr lacks ${JSON.stringify(part)}${context}`);
    else assert.match(said, part, context);
  }
  for (const [path, content] of Object.entries(c.files ?? {})) {
    assert.ok(existsSync(join(dir, path)), `${path} was not written${context}`);
    assert.equal(readFileSync(join(dir, path), 'utf8'), content, `${path}${context}`);
  }
  for (const path of c.absent ?? []) assert.ok(!existsSync(join(dir, path)), `${path} exists, so something ran that must not${context}`);
  if (c.status) assert.equal(res.report?.status, c.status, `run status${context}`);
  for (const [name, status] of Object.entries(c.steps ?? {})) {
    assert.equal(res.report?.steps.find((s) => s.name === name)?.status, status, `step ${name}${context}`);
  }
}

const specs: Array<[string, ConformanceCase[]]> = [
  ['002 document schema', spec002],
  ['005 params', spec005],
  ['006 env', spec006],
  ['009 step references', spec009],
  ['014 run, command form', spec014],
  ['015 run, script form', spec015],
  ['023 preconditions', spec023],
];

for (const [title, cases] of specs) {
  describe(`Dagu conformance spec ${title}`, { concurrency: 4 }, () => {
    for (const c of cases) test(`${c.name} (${c.dagu})`, () => check(c));
  });
}
