// docs/library.md shows excerpts of the example files; each excerpt must still be in its file, so
// the docs show code that the example tests run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/live.js';

const doc = readFileSync(join(repoRoot, 'docs', 'library.md'), 'utf8');
const blocks = [...doc.matchAll(/```js\n\/\/ (examples\/library\/\S+)\n([\s\S]*?)```/g)].map((m) => ({ file: m[1]!, code: m[2]! }));

test('docs/library.md has an excerpt of every example', () => {
  const files = new Set(blocks.map((b) => b.file));
  for (const f of ['open-engine.mjs', 'run-container.mjs', 'exec-stdin.mjs', 'pull-progress.mjs', 'record-replay.mjs', 'run-dag.mjs', 'user-test/job-runner.test.mjs']) {
    assert.ok(files.has(`examples/library/${f}`), `no excerpt of examples/library/${f}`);
  }
});

for (const { file, code } of blocks) {
  test(`docs/library.md's excerpt of ${file} is in the file as shown`, () => {
    assert.ok(readFileSync(join(repoRoot, file), 'utf8').includes(code), `the excerpt differs from ${file}:\n${code}`);
  });
}
