// The must-show install check, in the suite: `npm pack` of this checkout, `npm install --offline`
// of the tarball into an empty project, an ES module there importing `skiff` runs a container on
// the local engine, and a TypeScript file using the same imports type-checks with
// `tsc --noEmit` against the installed package's own types (scripts/reliability/library-install.mjs,
// which the offline-install reliability check runs too, with the CLI's checks).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { liveEngine, repoRoot, TEST_IMAGE } from '../support/live.js';

interface PackResult {
  tgz: string;
  packed: { entryCount: number; files: Array<{ path: string }>; bundled?: string[] };
}
const { pack, installOffline, checkLibrary } = (await import(join(repoRoot, 'scripts', 'reliability', 'library-install.mjs'))) as {
  pack(root: string, dir: string): PackResult;
  installOffline(tgz: string, dir: string): string | undefined;
  checkLibrary(o: { dir: string; image: string; tscBin: string; typesRoot: string; fields?: Record<string, unknown> }): string[];
};

test('npm pack → npm install --offline → the library runs a container and its types check', { timeout: 300_000 }, async () => {
  await (await liveEngine()).close();
  const work = mkdtempSync(join(tmpdir(), 'skiff-install-'));
  try {
    const { tgz, packed } = pack(repoRoot, join(work, 'pack'));
    const paths = new Set(packed.files.map((f) => f.path));
    // Every path package.json names (main, types, bin, each export and its types) is in the tarball.
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { main: string; types: string; bin: Record<string, string>; exports: Record<string, string | Record<string, string>> };
    const named = [pkg.main, pkg.types, ...Object.values(pkg.bin), ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))];
    assert.ok(named.length >= 9, named.join(' '));
    for (const p of named) assert.ok(paths.has(p.replace(/^\.\//, '')), `${p} (package.json) is in the tarball`);
    assert.ok(paths.has('dist/skiff.cjs') && paths.has('docs/library.md'));
    assert.ok(![...paths].some((p) => p.startsWith('dist/spec/')), 'no tests in the tarball');
    const dir = join(work, 'project');
    assert.equal(installOffline(tgz, dir), undefined);
    const fields: Record<string, unknown> = {};
    const problems = checkLibrary({ dir, image: TEST_IMAGE, tscBin: join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), typesRoot: join(repoRoot, 'node_modules', '@types'), fields });
    assert.deepEqual(problems, []);
    assert.deepEqual(fields, { libraryRun: 'exit 0: "installed skiff ran me\\n"', typeCheck: 'ok' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
