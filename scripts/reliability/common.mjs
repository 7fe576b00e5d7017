// Helpers shared by the reliability checks that run skiff against an engine.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(root, 'bin', 'skiff.js');

export const engineEnv = Object.fromEntries(
  readFileSync(join(root, 'scripts', 'engine.env'), 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => {
    const eq = l.indexOf('=');
    const raw = l.slice(eq + 1);
    const fb = /^\$\{[A-Z_]+:-(.*)\}$/.exec(raw);
    return [l.slice(0, eq), (fb ? fb[1] : raw).replace(/^'(.*)'$/, '$1')];
  }),
);

export async function openEngine(env = process.env) {
  const { openEngine } = await import(pathToFileURL(join(root, 'dist', 'lib', 'engine', 'index.js')).href);
  return openEngine({ env });
}

/** A DAG step (YAML, two-space list indent) running `command` in a new test-image container. */
export const dockerStep = (name, command, extra = '') => `  - name: ${name}
    executor:
      type: docker
      config:
        image: ${engineEnv.SKIFF_TEST_IMAGE}
        autoRemove: true
${extra}    command: ${JSON.stringify(command)}
`;

export function sandbox(prefix = 'skiff-rel-', extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = { ...process.env, SKIFF_STATE_DIR: join(dir, 'state'), NO_COLOR: '1', ...extraEnv };
  delete env.SKIFF_DEBUG;
  delete env.FORCE_COLOR;
  return { dir, env, path: (n) => join(dir, n), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `node bin/skiff.js …args`; `done` resolves with code, signal, stdout, stderr, ms. */
export function startSkiff(args, env, { bin = BIN, cwd = root, uid, gid } = {}) {
  const t0 = Date.now();
  const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], uid, gid });
  let stdout = '';
  let stderr = '';
  const listeners = new Set();
  child.stdout.setEncoding('utf8').on('data', (c) => { stdout += c; for (const l of listeners) l(); });
  child.stderr.setEncoding('utf8').on('data', (c) => { stderr += c; for (const l of listeners) l(); });
  const done = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 }));
  });
  const waitFor = (re, ms = 60_000) => new Promise((resolve, reject) => {
    const check = () => { if (re.test(stdout + stderr)) { listeners.delete(check); clearTimeout(t); resolve(Date.now() - t0); } };
    const t = setTimeout(() => { listeners.delete(check); reject(new Error(`timed out waiting for ${re}:\n${stdout}\n${stderr}`)); }, ms);
    listeners.add(check);
    check();
    void done.then(() => { if (listeners.has(check)) { listeners.delete(check); clearTimeout(t); reject(new Error(`skiff ended before ${re}:\n${stdout}\n${stderr}`)); } });
  });
  return { child, done, waitFor, out: () => stdout + stderr };
}

export const runSkiff = (args, env, opts) => startSkiff(args, env, opts).done;

export function readReport(file) {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** `runs/<dag>/<run id>/…` → the run id. */
export function runIdOf(logPath) {
  const m = /\/runs\/[^/]+\/([^/]+)\//.exec(logPath ?? '');
  return m?.[1];
}

export async function skiffObjects(engine, runId) {
  const filters = { label: runId ? ['dev.skiff.owner=skiff', `dev.skiff.run=${runId}`] : ['dev.skiff.owner=skiff'] };
  const containers = await engine.containers.list(filters, { all: true });
  const networks = await engine.networks.list(filters);
  return { containers, networks };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function summary(name, ok, fields) {
  console.log(`${name}: ${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(' ')} ${ok ? 'OK' : 'FAIL'}`);
  return ok ? 0 : 1;
}
