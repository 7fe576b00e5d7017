#!/usr/bin/env node
// Fuzzes loadDag with mutated copies of the project's own DAG files (examples/**, fixtures/dags/**;
// fixtures/dags/corpus/ holds seeds written for it: YAML mistakes, typos, keys skiff does not support).
// Every case must load, or throw a SkiffError in which every problem names a place (file:line:col). Any other
// exception, a message without a place, or a case slower than --case-ms is a failure.
// Every --cli-every'th case also goes through `skiff validate`: the exit code loadDag implies, a
// placed first error line, no stack trace.
//   node scripts/reliability/fuzz-dag.mjs [--cases 10000] [--seed N] [--case-ms 5000] [--budget-s 300] [--cli-every 200]
// Runs loadDag in a worker thread so a hang is detected (and the worker killed) rather than waited on.
import { spawnSync } from 'node:child_process';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mutate, parseArgs, rng, PLACE } from './fuzz-lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function seedFiles() {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e)) out.push(p);
    }
  };
  walk(join(root, 'examples'));
  walk(join(root, 'fixtures', 'dags'));
  return out.sort();
}

export async function fuzzDags({ cases, seed, caseMs = 5000, budgetS = 300, cliEvery = 0, log = () => {} }) {
  const files = seedFiles();
  const sources = files.map((f) => ({ rel: relative(root, f), text: readFileSync(f, 'latin1') }));
  const dir = mkdtempSync(join(tmpdir(), 'skiff-fuzz-dag-'));
  const counts = { cases: 0, loaded: 0, placedErrors: 0, failures: 0, hangs: 0, cliCases: 0 };
  const failures = [];
  const started = Date.now();
  let worker;
  const spawnWorker = () => {
    worker = new Worker(fileURLToPath(import.meta.url), { workerData: { dir }, env: { PATH: '/nonexistent' } });
    worker.unref();
  };
  spawnWorker();
  try {
    const r = rng(seed);
    for (let i = 0; i < cases; i++) {
      if (Date.now() - started > budgetS * 1000) { failures.push({ i, reason: `time budget ${budgetS}s spent after ${i} cases` }); break; }
      const src = r.pick(sources);
      const { text, kind } = mutate(src.text, r);
      const result = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ hang: true }), caseMs);
        const onMsg = (m) => { clearTimeout(timer); worker.off('error', onErr); resolve(m); };
        const onErr = (e) => { clearTimeout(timer); worker.off('message', onMsg); resolve({ ok: false, kind: 'worker-crash', message: String(e?.stack ?? e) }); };
        worker.once('message', onMsg);
        worker.once('error', onErr);
        worker.postMessage({ i, name: basename(src.rel), text });
      });
      counts.cases++;
      if (result.hang || result.kind === 'worker-crash') {
        if (result.hang) counts.hangs++;
        counts.failures++;
        failures.push({ i, src: src.rel, mutation: kind, reason: result.hang ? `no answer within ${caseMs} ms` : result.message, text });
        worker.removeAllListeners();
        await worker.terminate();
        spawnWorker();
        continue;
      }
      if (result.loaded) counts.loaded++;
      else if (result.skiff && result.placed) counts.placedErrors++;
      else {
        counts.failures++;
        failures.push({ i, src: src.rel, mutation: kind, reason: result.skiff ? `message names no place: ${result.message}` : `${result.name}: ${result.message}\n${result.stack}`, text });
      }
      if (cliEvery > 0 && i % cliEvery === 0) {
        const reason = viaCli(dir, basename(src.rel), text, result.loaded);
        counts.cliCases++;
        if (reason) { counts.failures++; failures.push({ i, src: src.rel, mutation: kind, reason: `skiff validate: ${reason}`, text }); }
      }
      if (i % 1000 === 999) log(`  ${i + 1} cases, ${counts.failures} failures`);
    }
  } finally {
    worker.removeAllListeners();
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
  return { counts, failures, files: files.length, ms: Date.now() - started };
}

/** The same case through `skiff validate`: exit 0 or 2 as loadDag said, a placed first line, no stack. */
function viaCli(dir, name, text, loaded) {
  const file = join(dir, 'cli', name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, Buffer.from(text, 'latin1'));
  const r = spawnSync(process.execPath, [join(root, 'bin', 'skiff.js'), 'validate', file], { encoding: 'utf8', env: { PATH: '/nonexistent', NO_COLOR: '1' }, timeout: 30_000 });
  if (/\n\s+at /.test(r.stderr)) return `a stack trace:\n${r.stderr}`;
  if (r.status !== (loaded ? 0 : 2)) return `exit ${r.status} (${r.signal ?? 'no signal'}), loadDag ${loaded ? 'loaded it' : 'refused it'}:\n${r.stderr}`;
  if (!loaded && !PLACE.test(r.stderr.split('\n')[0])) return `the first error line names no place: ${r.stderr}`;
  return undefined;
}

if (!isMainThread) {
  const { loadDag } = await import(pathToFileURL(join(root, 'dist', 'lib', 'dag', 'index.js')).href);
  const { SkiffError } = await import(pathToFileURL(join(root, 'dist', 'lib', 'common', 'errors.js')).href);
  const { dir } = workerData;
  parentPort.on('message', ({ i, name, text }) => {
    const caseDir = join(dir, String(i % 8));
    mkdirSync(caseDir, { recursive: true });
    const file = join(caseDir, name);
    writeFileSync(file, Buffer.from(text, 'latin1'));
    const t0 = Date.now();
    try {
      const dag = loadDag(file);
      // A file that loads may still carry warnings (Dagu keys skiff ignores): each names its place too.
      const unplaced = dag.warnings.find((w) => !(w.place?.file && w.place.line >= 1 && w.place.col >= 1));
      if (unplaced) parentPort.postMessage({ loaded: false, skiff: true, placed: false, message: `warning without a place: ${unplaced.message}`, ms: Date.now() - t0 });
      else parentPort.postMessage({ loaded: true, ms: Date.now() - t0 });
    } catch (err) {
      // A DagLoadError lists problems: each must carry its own place, not only the first.
      const placed = Array.isArray(err?.problems)
        ? err.problems.length > 0 && err.problems.every((p) => p.place?.file && p.place.line >= 1 && p.place.col >= 1)
        : PLACE.test(String(err?.message));
      parentPort.postMessage({ loaded: false, skiff: err instanceof SkiffError, placed, name: err?.name, message: String(err?.message ?? err), stack: String(err?.stack ?? ''), ms: Date.now() - t0 });
    }
  });
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = parseArgs(process.argv.slice(2), { cases: 10000, seed: Math.floor(Math.random() * 2 ** 31), caseMs: 5000, budgetS: 300, cliEvery: 200, out: '' });
  console.error(`fuzz-dag: seed ${args.seed} (reproduce with --seed ${args.seed})`);
  const res = await fuzzDags({ ...args, log: (s) => console.error(s) });
  for (const f of res.failures.slice(0, 5)) {
    console.error(`--- case ${f.i} (${f.src}, ${f.mutation}): ${f.reason}`);
  }
  if (res.failures.length > 0 && args.out) writeFileSync(args.out, JSON.stringify(res.failures, null, 1));
  const c = res.counts;
  console.log(`fuzz-dag: seed=${args.seed} files=${res.files} cases=${c.cases} loaded=${c.loaded} placed-errors=${c.placedErrors} via-cli=${c.cliCases} failures=${c.failures} hangs=${c.hangs} time=${(res.ms / 1000).toFixed(1)}s ${c.failures === 0 && c.cases === args.cases ? 'OK' : 'FAIL'}`);
  process.exit(c.failures === 0 && c.cases === args.cases ? 0 : 1);
}
