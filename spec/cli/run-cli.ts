// Spawns the real `skiff` executable (bin/skiff.js) from the repository root, the way users and
// CI do, with its own state directory and NO_COLOR, and collects what it printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/spec/cli/run-cli.js → the repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// SKIFF_TEST_BIN: the same tests against another build, e.g. the lone bundle (offline-install check).
export const BIN = process.env.SKIFF_TEST_BIN ?? join(ROOT, 'bin', 'skiff.js');

export function fixture(name: string): string {
  return join('fixtures', 'dags', 'cli', name);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  path(name: string): string;
  cleanup(): void;
}

/** A temporary directory holding the state directory and whatever a test writes (reports, pids). */
export function sandbox(extraEnv: NodeJS.ProcessEnv = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SKIFF_STATE_DIR: join(dir, 'state'), NO_COLOR: '1', ...extraEnv };
  delete env.SKIFF_DEBUG;
  delete env.FORCE_COLOR;
  return {
    dir,
    env,
    path: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves once stdout+stderr together contain `text`; rejects if the process ends first. */
  waitFor(text: string | RegExp): Promise<void>;
  done: Promise<CliResult>;
}

/** `nodeArgs` go to node before the executable (`--import` a test hook). */
export function startCli(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): RunningCli {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const check = (): void => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    check();
  });
  const done = new Promise<CliResult>((resolveDone, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      check();
      resolveDone({ code, signal, stdout, stderr });
    });
  });
  let ended = false;
  void done.then(
    () => {
      ended = true;
      check();
    },
    () => {
      ended = true;
      check();
    },
  );
  const waitFor = (text: string | RegExp): Promise<void> =>
    new Promise((resolveWait, reject) => {
      const test = (): void => {
        const all = stdout + stderr;
        if (typeof text === 'string' ? all.includes(text) : text.test(all)) {
          waiters.delete(test);
          resolveWait();
        } else if (ended) {
          waiters.delete(test);
          reject(new Error(`skiff ended before printing ${String(text)}:\n${stdout}\n${stderr}`));
        }
      };
      waiters.add(test);
      test();
    });
  return { child, waitFor, done };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, env).done;
}

export function readJson<T = unknown>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** `2026-11-23T09:00:00.000Z ` at the start of a plain line. */
export const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
