// The one way the tests start the real `skiff` executable: a child process of this node, with an
// environment of the test's choosing, collecting what it prints. The three front ends
// (spec/cli/run-cli.ts, spec/support/skiff-cli.ts, spec/executors/docker-support.ts) differ only
// in what they put around it: a sandbox, a report file, a copy of the build.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './live.js';

// SKIFF_TEST_BIN: the same tests against another build, e.g. the lone bundle (offline-install check).
export const SKIFF_BIN = process.env.SKIFF_TEST_BIN ?? join(repoRoot, 'bin', 'skiff.js');

export interface CliOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when `timeoutMs` ran out and the child was killed. */
  timedOut: boolean;
}

export interface StartOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Another executable than SKIFF_BIN (a copy of the build). */
  bin?: string;
  /** Called with each chunk of stdout; may return a signal to send to skiff. */
  onStdout?(text: string, all: string): NodeJS.Signals | undefined;
  /** SIGKILL the child after this long (the result says `timedOut`). */
  timeoutMs?: number;
  /** Given to node before the executable (`--import` a test hook). */
  nodeArgs?: string[];
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves once stdout+stderr together contain `text`; rejects if the process ends first. */
  waitFor(text: string | RegExp): Promise<void>;
  done: Promise<CliOutput>;
}

/**
 * The environment a test's skiff runs in: this process's, less `scrub`, with FORCE_COLOR and
 * SKIFF_DEBUG always removed and NO_COLOR set, then `overrides` (undefined removes a variable).
 */
export function cliEnv(overrides: Record<string, string | undefined>, scrub: readonly string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !scrub.includes(k)) env[k] = v;
  delete env.FORCE_COLOR;
  delete env.SKIFF_DEBUG;
  env.NO_COLOR = '1';
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function startSkiff(args: string[], options: StartOptions): RunningCli {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.bin ?? SKIFF_BIN, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let ended = false;
  let timedOut = false;
  const waiters = new Set<() => void>();
  const check = (): void => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const signal = options.onStdout?.(chunk, stdout);
    if (signal) child.kill(signal);
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    check();
  });
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs);
  const done = new Promise<CliOutput>((resolveDone, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolveDone({ code, signal, stdout, stderr, timedOut }));
  }).finally(() => {
    clearTimeout(timer);
    ended = true;
    check();
  });
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
