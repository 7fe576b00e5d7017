#!/usr/bin/env node
// The `skiff` executable. `--version` is answered here, from package.json, without loading
// clipanion or the library: a version check must cost no more than starting node. Everything
// else runs from the single-file bundle (dist/skiff.cjs, with a V8 code cache: load-bundle.js)
// when it is at least as new as the compiled CLI (a clone where only tsc ran uses dist/cli): one
// file loads much faster than a hundred modules.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const dist = new URL('../dist/', import.meta.url);

// An installed package is never rebuilt in place, and npm's extraction gives its files the time
// they were written, in no useful order: there the bundle is always current.
const installed = fileURLToPath(import.meta.url).split(/[\\/]/).includes('node_modules');

function mtime(name) {
  try {
    return statSync(new URL(name, dist)).mtimeMs;
  } catch {
    return -1;
  }
}

if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else if (mtime('skiff.cjs') > 0 && (installed || mtime('skiff.cjs') >= mtime('cli/main.js'))) {
  const { loadBundle } = await import('./load-bundle.js');
  const command = ['run', 'validate', 'schema', 'cleanup'].includes(args[0]) ? args[0] : 'other';
  await loadBundle(fileURLToPath(new URL('skiff.cjs', dist)), command).main(args);
} else {
  let runExit;
  try {
    ({ runExit } = await import('../dist/cli/main.js'));
  } catch (err) {
    process.stderr.write(`skiff: cannot load dist/cli/main.js (${err?.message ?? err}); build it with "npm run build"\n`);
    process.exit(70);
  }
  await runExit(args);
}
