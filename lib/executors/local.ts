// The local executor: a step becomes a host process (shell form through `/bin/sh -c` or the
// step's shell, exec form as argv). The process leads its own process group so that a stop
// reaches everything it started; nothing of it is left running when `run` returns.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { SkiffError } from '../common/errors.js';
import type { Executor, StepContext, StepResult } from './contract.js';
import { forceSignalOf } from './contract.js';
import { TailWriter } from './tail.js';

export const localExecutor: Executor = { run: runLocalStep };

export async function runLocalStep(ctx: StepContext): Promise<StepResult> {
  const { step, dag } = ctx;
  const command = ctx.command ?? step.command;
  if (!command) throw new SkiffError('config', `step "${step.name}": step command is empty`, { place: step.place });
  const argv = command.form === 'shell' ? [...shellArgv(step.shell), command.script] : command.argv;
  // `exit status 2` alone sends the user digging: the step error carries the end of stderr, as a
  // container step's does.
  const stderr = new TailWriter(ctx.stderr);
  const result = await runProcess(argv, {
    cwd: step.dir,
    env: ctx.env,
    stdout: ctx.stdout,
    stderr,
    signal: ctx.signal,
    stopSignal: step.signalOnStop,
    graceMs: dag.maxCleanUpTimeSec * 1000,
  });
  if (result.exitCode === 0 || result.error?.startsWith('signal: ')) return result;
  await stderr.settled();
  return { exitCode: result.exitCode, error: stderr.failure(result.exitCode) };
}

/** `bash -e` → `['bash', '-e', '-c']`; undefined → `['/bin/sh', '-c']`. */
export function shellArgv(shell: string | undefined): string[] {
  const parts = (shell ?? '').trim().split(/\s+/).filter((p) => p !== '');
  if (parts.length === 0) return ['/bin/sh', '-c'];
  return parts[parts.length - 1] === '-c' ? parts : [...parts, '-c'];
}

export interface RunProcessOptions {
  cwd: string;
  env: Record<string, string>;
  /** Where the output goes; undefined = discarded. Never ended by runProcess. */
  stdout?: Writable;
  stderr?: Writable;
  signal: AbortSignal;
  /** First signal of a stop (default SIGTERM), with or without the `SIG` prefix. */
  stopSignal?: string;
  /** Time between the stop signal and SIGKILL. */
  graceMs: number;
}

/**
 * Spawns argv in a new process group, streams its output (pipe() keeps backpressure), and
 * resolves once the process has exited *and* its output streams are closed. A non-zero exit is
 * a result (`exit status N`, Go's wording, which retryPolicy parses); a process that could not
 * be started is a SkiffError('config').
 */
export function runProcess(argv: readonly string[], options: RunProcessOptions): Promise<StepResult> {
  const file = argv[0];
  if (file === undefined || file === '') return Promise.reject(new SkiffError('config', 'step command is empty'));
  const stopSignal = signalName(options.stopSignal ?? 'SIGTERM');
  if (!stopSignal) return Promise.reject(new SkiffError('config', `invalid signalOnStop: ${options.stopSignal}`));
  // Never start what we would have to stop at once.
  if (options.signal.aborted) return Promise.reject(abortedBeforeStart(options.signal));

  return new Promise<StepResult>((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, argv.slice(1), {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', options.stdout ? 'pipe' : 'ignore', options.stderr ? 'pipe' : 'ignore'],
        // Its own process group: a stop signals -pid, which reaches the shell's children too.
        detached: true,
      });
    } catch (err) {
      // Node throws some spawn failures (E2BIG: arguments or environment too large) instead of emitting them.
      reject(describeSpawnError(err as NodeJS.ErrnoException, file, options.cwd, argv, options.env));
      return;
    }
    if (options.stdout) child.stdout?.pipe(options.stdout, { end: false });
    if (options.stderr) child.stderr?.pipe(options.stderr, { end: false });

    let spawnError: NodeJS.ErrnoException | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let force: AbortSignal | undefined;

    const signalGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the whole group is already gone.
      }
    };
    const killNow = (): void => signalGroup('SIGKILL');
    const stop = (): void => {
      force = forceSignalOf(options.signal);
      if (force?.aborted) return killNow();
      signalGroup(stopSignal);
      killTimer = setTimeout(killNow, Math.max(0, options.graceMs));
      force?.addEventListener('abort', killNow, { once: true });
    };

    child.once('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
    });
    child.once('close', (code, sig) => {
      options.signal.removeEventListener('abort', stop);
      force?.removeEventListener('abort', killNow);
      if (killTimer) clearTimeout(killTimer);
      const settle = (): void => {
        if (spawnError && child.pid === undefined) return reject(describeSpawnError(spawnError, file, options.cwd, argv, options.env));
        if (sig) {
          const number = constants.signals[sig] ?? 0;
          return resolve({ exitCode: 128 + number, error: `signal: ${describeSignal(sig)}` });
        }
        const exitCode = code ?? 1;
        resolve(exitCode === 0 ? { exitCode } : { exitCode, error: `exit status ${exitCode}` });
      };
      if (options.signal.aborted && child.pid !== undefined) {
        // The leader is gone, but something it started may have left the pipes and ignored the
        // stop signal: nothing of a stopped step survives it, and the stop is over only once
        // the group is gone (a process that closed its pipes may still be exiting).
        killNow();
        void groupGone(child.pid).then(settle);
      } else {
        settle();
      }
    });
    options.signal.addEventListener('abort', stop, { once: true });
  });
}

const GROUP_GONE_MS = 1000;

/** Resolves once no process of the group is left, or after GROUP_GONE_MS (a zombie nobody reaps). */
async function groupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + GROUP_GONE_MS;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await sleep(5);
  }
}

function abortedBeforeStart(signal: AbortSignal): SkiffError {
  const reason: unknown = signal.reason;
  if (reason instanceof SkiffError) return reason;
  return new SkiffError('aborted', 'cancelled before start', { cause: reason });
}

/** `TERM`, `sigterm`, `SIGTERM` → `SIGTERM`; unknown → undefined. */
export function signalName(name: string): NodeJS.Signals | undefined {
  const upper = name.trim().toUpperCase();
  const full = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return Object.hasOwn(constants.signals, full) ? (full as NodeJS.Signals) : undefined;
}

// Go's names for signals (exec.ExitError says `signal: killed`), which Dagu shows as is.
const GO_SIGNAL_NAMES: Partial<Record<NodeJS.Signals, string>> = {
  SIGHUP: 'hangup',
  SIGINT: 'interrupt',
  SIGQUIT: 'quit',
  SIGILL: 'illegal instruction',
  SIGTRAP: 'trace/breakpoint trap',
  SIGABRT: 'aborted',
  SIGBUS: 'bus error',
  SIGFPE: 'floating point exception',
  SIGKILL: 'killed',
  SIGUSR1: 'user defined signal 1',
  SIGSEGV: 'segmentation fault',
  SIGUSR2: 'user defined signal 2',
  SIGPIPE: 'broken pipe',
  SIGALRM: 'alarm clock',
  SIGTERM: 'terminated',
};

function describeSignal(sig: NodeJS.Signals): string {
  return GO_SIGNAL_NAMES[sig] ?? sig;
}

// Go's wording for a process that could not be started (os/exec), which Dagu passes through.
function describeSpawnError(err: NodeJS.ErrnoException, file: string, cwd: string, argv: readonly string[], env: Record<string, string>): SkiffError {
  if (err.code === 'E2BIG') return tooBigForExec(argv, env, err);
  let message: string;
  if (err.code === 'ENOENT' && !isDirectory(cwd)) message = `chdir ${cwd}: no such file or directory`;
  else if (err.code === 'ENOENT') {
    message = file.includes('/') ? `fork/exec ${file}: no such file or directory` : `exec: "${file}": executable file not found in $PATH`;
  } else if (err.code === 'EACCES') message = `fork/exec ${file}: permission denied`;
  else message = `fork/exec ${file}: ${err.message}`;
  return new SkiffError('config', message, { cause: err });
}

// Linux's limits for execve: one argument or `NAME=value` of at most 32 pages (MAX_ARG_STRLEN),
// and all of them together within a quarter of the stack limit (2 MiB with the usual 8 MiB).
const MAX_ONE_STRING = 128 * 1024;

/** E2BIG said as what is too big: the largest variable or argument, by name, and its size. */
function tooBigForExec(argv: readonly string[], env: Record<string, string>, cause: Error): SkiffError {
  const items = [
    ...Object.entries(env).map(([name, value]) => ({ what: `environment variable ${name}`, bytes: Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1 })),
    ...argv.map((arg, i) => ({ what: i === 0 ? 'the command' : `argument ${i}`, bytes: Buffer.byteLength(arg) + 1 })),
  ];
  const largest = items.reduce((a, b) => (b.bytes > a.bytes ? b : a), { what: 'nothing', bytes: 0 });
  const total = items.reduce((sum, item) => sum + item.bytes, 0);
  const why =
    largest.bytes > MAX_ONE_STRING
      ? `${largest.what} is ${largest.bytes} bytes, more than the ${MAX_ONE_STRING} the OS takes for one variable or argument`
      : `the arguments and environment come to ${total} bytes, more than the OS takes in all; the largest is ${largest.what} (${largest.bytes} bytes)`;
  // Said in the message, not a hint: a step's error is all the report and summary carry.
  return new SkiffError('config', `cannot start the step: ${why}; pass a value that large through a file (\`\${id.stdout}\` is the path of a step's stdout log)`, { cause });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
