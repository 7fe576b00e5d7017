#!/usr/bin/env node
// What importing a module costs: the modules it loads (ES modules through a load hook, CommonJS
// ones from require's cache) and, in a process without the hook, how long the import takes.
// Each measure is a fresh `node` process, so nothing is cached but the OS's file cache.
//   node scripts/import-graph.mjs SPECIFIER [--cwd DIR] [--times N]
// prints JSON: { specifier, modules: [file paths], count, ms: [one per time] }. Bare specifiers
// resolve from DIR (default: this checkout, where `skiff` is the package itself). Used by
// spec/package/import-graph.test.ts and the bench's import row.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const HOOK = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.IMPORT_GRAPH_LOG, url + '\\n');
  return next(url, context);
}`;

function node(code, cwd, env = {}) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`node -e exited ${r.status}: ${r.stderr.slice(-1500)}`);
  return r.stdout;
}

/** The files a fresh process loads to import `specifier` (node: builtins not counted). */
export function modulesOf(specifier, cwd = ROOT) {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-import-graph-'));
  const log = join(dir, 'loaded');
  try {
    const out = node(
      `import { register, createRequire } from 'node:module';
       register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});
       await import(${JSON.stringify(specifier)});
       process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`,
      cwd,
      { IMPORT_GRAPH_LOG: log },
    );
    const esm = readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
    return [...new Set([...esm, ...JSON.parse(out)])].sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Milliseconds `await import(specifier)` takes in a fresh process (node's own start not counted). */
export function importMs(specifier, cwd = ROOT) {
  const out = node(`const t0 = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t0));`, cwd);
  return Number(out);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const specifier = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? fallback : args[i + 1];
  };
  if (!specifier) {
    process.stderr.write('usage: node scripts/import-graph.mjs SPECIFIER [--cwd DIR] [--times N]\n');
    process.exit(2);
  }
  const cwd = opt('cwd', ROOT);
  const modules = modulesOf(specifier, cwd);
  const ms = Array.from({ length: Number(opt('times', 1)) }, () => importMs(specifier, cwd));
  process.stdout.write(`${JSON.stringify({ specifier, count: modules.length, ms, modules }, null, 1)}\n`);
}
