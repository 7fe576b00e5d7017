// The package's front door loads the engine client only: importing `skiff` (or a subpath) must
// not load the CLI, clipanion, or the DAG layer and its parsers (yaml, typebox). Checked in a
// fresh process that lists every module the import loads (scripts/import-graph.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relative } from 'node:path';
import { repoRoot } from '../support/live.js';

const { modulesOf } = (await import(`${repoRoot}/scripts/import-graph.mjs`)) as { modulesOf: (specifier: string, cwd?: string) => string[] };

const FORBIDDEN = [/^dist\/lib\/run\.js$/, /^dist\/cli\//, /^dist\/lib\/dag\//, /^dist\/lib\/executors\//, /node_modules\/clipanion\//, /node_modules\/yaml\//, /node_modules\/typebox\//, /node_modules\/tar-stream\//];

for (const specifier of ['skiff', 'skiff/engine', 'skiff/replay']) {
  test(`import '${specifier}' loads the engine client only: no CLI, clipanion, DAG layer, executors or their parsers`, () => {
    const loaded = modulesOf(specifier).map((f) => relative(repoRoot, f));
    assert.ok(loaded.some((f) => f.startsWith('dist/lib/engine/')), `the engine client itself is loaded: ${loaded.join(' ')}`);
    const wrong = loaded.filter((f) => FORBIDDEN.some((re) => re.test(f)));
    assert.deepEqual(wrong, []);
  });
}

test("import 'skiff' gives the front door's names", async () => {
  const lib = (await import('skiff' as string)) as Record<string, unknown>;
  for (const name of ['openEngine', 'Engine', 'SkiffError', 'isSkiffError', 'RecordingDispatcher', 'ReplayDispatcher', 'DemuxStream', 'PullProgress', 'runDagFile']) {
    assert.equal(typeof lib[name], 'function', `${name} is exported`);
  }
});
