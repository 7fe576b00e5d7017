#!/usr/bin/env node
// The `skiff` executable. `--version` is answered here, from package.json, without loading
// clipanion or the library: a version check must cost no more than starting node. Everything
// else runs from the single-file bundle (dist/skiff.cjs, with a V8 code cache: load-bundle.js)
// when it is newer than every source file (a clone edited since its last bundle uses dist/cli):
// one file loads much faster than a hundred modules.
import { readFileSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// First thing: the stop signals are recorded from now on (cli/signals.ts takes them over, same
// shape, same key), so a Ctrl-C, SIGTERM or SIGHUP while the code loads still reaches the run,
// which then stops cleanly and writes its report instead of the process dying at once.
const signalHub = { received: [], listener: undefined, claimed: false };
globalThis[Symbol.for('skiff.signal-hub')] = signalHub;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, (signal) => {
    signalHub.received.push(signal);
    signalHub.listener?.(signal);
  });
}

const args = process.argv.slice(2);
const bundle = new URL('../dist/skiff.cjs', import.meta.url);

// An installed package is never rebuilt in place, and npm's extraction gives its files the time
// they were written, in no useful order: there the bundle is always current.
const installed = fileURLToPath(import.meta.url).split(/[\\/]/).includes('node_modules');

function mtime(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return -1;
  }
}

// Sources, not dist/cli: tsc rewrites every output file even when nothing changed, so a type
// check alone would make the bundle look stale (and the CLI three times slower to start).
// Asynchronous, so that the stat calls run on libuv's threads while V8 compiles the bundle.
async function newerSourceThan(made) {
  const found = await Promise.all(
    ['lib/', 'cli/'].map(async (dir) => {
      const base = new URL(`../${dir}`, import.meta.url);
      const names = await readdir(base, { recursive: true }).catch(() => []);
      const times = await Promise.all(names.filter((n) => n.endsWith('.ts')).map((n) => stat(new URL(n, base)).then((s) => s.mtimeMs, () => -1)));
      return times.some((t) => t > made);
    }),
  );
  return found.includes(true);
}

let bundled;
async function bundleIsCurrent() {
  const made = mtime(bundle);
  if (made <= 0) return false;
  const stale = installed ? Promise.resolve(false) : newerSourceThan(made);
  const { loadBundle } = await import('./load-bundle.js');
  const command = ['run', 'validate', 'schema', 'cleanup'].includes(args[0]) ? args[0] : 'other';
  // Compiling and evaluating the bundle's top level starts nothing: its main() is what runs.
  bundled = loadBundle(fileURLToPath(bundle), command);
  return !(await stale);
}

if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else if (await bundleIsCurrent()) {
  await bundled.main(args);
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
