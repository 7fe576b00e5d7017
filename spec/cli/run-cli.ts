// Spawns the real `skiff` executable (bin/skiff.js) from the repository root, the way users and
// CI do, with its own state directory and NO_COLOR, and collects what it printed.
import { SKIFF_BIN, cliEnv, startSkiff, type RunningCli } from '../support/cli-process.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/spec/cli/run-cli.js → the repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = SKIFF_BIN;

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
  const env = cliEnv({ SKIFF_STATE_DIR: join(dir, 'state'), ...extraEnv });
  return {
    dir,
    env,
    path: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type { RunningCli };

/** `nodeArgs` go to node before the executable (`--import` a test hook). */
export function startCli(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): RunningCli {
  return startSkiff(args, { env, cwd: ROOT, nodeArgs });
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, env).done;
}

export function readJson<T = unknown>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** `2026-11-23T09:00:00.000Z ` at the start of a plain line. */
export const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
