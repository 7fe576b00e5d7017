// The layering holds: lib/dag knows executors only through their contract and never needs the
// engine. Read from the sources (every import, type-only ones included) and from the compiled
// modules (what loading the DAG layer actually evaluates). No engine, no network.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CONTRACT = 'lib/executors/contract.ts';

/** Relative module specifiers of a file: static imports, re-exports and dynamic imports. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) found.push(m[1]!);
  return found;
}

/** Repository-relative path of a specifier, with the source's `.ts` for a `.js` specifier. */
function resolveFrom(file: string, spec: string, ext: '.ts' | '.js'): string {
  const target = relative(root, resolve(dirname(join(root, file)), spec));
  return ext === '.ts' ? target.replace(/\.js$/, '.ts') : target;
}

/** Every `.ts` file under a folder of the repository, subfolders included. */
function sourcesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourcesUnder(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
}

function dagSources(): string[] {
  return sourcesUnder('lib/dag');
}

describe('layers', () => {
  it('lib/dag imports nothing from lib/executors but the contract, and nothing from lib/engine', () => {
    const offending: string[] = [];
    for (const file of dagSources()) {
      for (const spec of specifiers(readFileSync(join(root, file), 'utf8'))) {
        const target = resolveFrom(file, spec, '.ts');
        if ((target.startsWith('lib/executors/') && target !== CONTRACT) || target.startsWith('lib/engine/') || target.startsWith('cli/')) {
          offending.push(`${file} imports ${target}`);
        }
      }
    }
    assert.deepEqual(offending, []);
  });

  it('below the DAG layer nothing imports upward: executors not dag or cli, engine not executors, common only itself', () => {
    const rules: Array<[string, string[]]> = [
      ['lib/executors', ['lib/dag/', 'lib/pack/', 'lib/run', 'cli/']],
      ['lib/engine', ['lib/executors/', 'lib/dag/', 'lib/pack/', 'lib/run', 'cli/']],
      ['lib/common', ['lib/engine/', 'lib/executors/', 'lib/dag/', 'lib/pack/', 'lib/run', 'cli/']],
    ];
    const offending: string[] = [];
    for (const [dir, forbidden] of rules) {
      for (const file of sourcesUnder(dir)) {
        for (const spec of specifiers(readFileSync(join(root, file), 'utf8'))) {
          const target = resolveFrom(file, spec, '.ts');
          if (forbidden.some((f) => target.startsWith(f))) offending.push(`${file} imports ${target}`);
        }
      }
    }
    assert.deepEqual(offending, []);
  });

  it('the scan sees the imports it judges (a moved or renamed folder fails here, not silently)', () => {
    const targets = dagSources().flatMap((file) => specifiers(readFileSync(join(root, file), 'utf8')).map((s) => resolveFrom(file, s, '.ts')));
    assert.ok(targets.includes(CONTRACT), 'lib/dag imports the executor contract');
    assert.ok(targets.includes('lib/common/errors.ts'), 'lib/dag takes its errors from lib/common');
    for (const target of targets) assert.ok(existsSync(join(root, target)), `${target} exists`);
  });

  it('loading the DAG layer evaluates no engine or executor implementation module', () => {
    // The compiled modules: type-only imports are gone, so this is what `import` really loads.
    const seen = new Set<string>();
    const queue = dagSources().map((f) => `dist/${f.replace(/\.ts$/, '.js')}`);
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const spec of specifiers(readFileSync(join(root, file), 'utf8'))) queue.push(resolveFrom(file, spec, '.js'));
    }
    const reached = [...seen].sort();
    assert.deepEqual(
      reached.filter((f) => f.startsWith('dist/lib/engine/') || f.startsWith('dist/cli/')),
      [],
    );
    // The contract brings the executors' load-time checks (pure decoding) and nothing that runs a step.
    const executors = reached.filter((f) => f.startsWith('dist/lib/executors/'));
    assert.deepEqual(
      executors.filter((f) => !/^dist\/lib\/executors\/(contract|docker\/(checks|config|container-config|decode|keys|key-schemas)|swarm\/(checks|config|constraints))\.js$/.test(f)),
      [],
    );
    assert.ok(executors.includes('dist/lib/executors/contract.js'));
  });
});
