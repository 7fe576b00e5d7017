// One step, start to end: its scope and preconditions, its command and retry plan, each attempt
// under its own timeout with its output going to the step's logs, the retries, and the outcome
// continueOn makes of the last attempt (docs/dagu-behavior.md §1.6–§1.8).
import { finished } from 'node:stream/promises';
import { SkiffError } from '../common/errors.js';
import type { Executor, ExecutorEvent, ExecutorSet } from '../executors/contract.js';
import type { RunEvent } from './events.js';
import type { Command, Dag, Precondition, Step } from '../common/model.js';
import { LogFile, StepOutput, logContainsPattern } from './outputs.js';
import type { StepStatus } from './report.js';
import { continueAllowedWithoutOutput, retryDelayMs, settleFailure, shouldRetry } from './status.js';
import { expandCommand, firstUnmet, retryPlanFor, stepScope, type Produced, type RetryPlan, type RunScope, type Scope } from './step-scope.js';

export interface Outcome {
  status: StepStatus;
  exitCode: number | null;
  error: string | null;
  allowed: boolean;
  logs?: { stdout: string; stderr: string };
  output?: string;
}

/** What the run lends each step. */
export interface StepHost {
  dag: Dag;
  runId: string;
  scope: RunScope;
  executors: ExecutorSet;
  /** Emit step-output events with the output chunks. */
  follow: boolean;
  emit(ev: RunEvent): void;
  emitExecutor(event: ExecutorEvent): void;
  /** The step's log files, unique within the run. */
  allocateLogs(stepName: string): { stdout: string; stderr: string };
  /** The outcome of a step stopped while it ran (or waited to retry): cancelled, or aborted by the DAG timeout. */
  stoppedOutcome(signal: AbortSignal): Outcome;
}

type Attempt =
  | { kind: 'succeeded'; exitCode: number; captured?: string }
  | { kind: 'failed'; exitCode: number; error: string; retryable: boolean; captured?: string }
  | { kind: 'stopped'; exitCode: number | null; captured?: string };

export async function runStep(host: StepHost, step: Step, signal: AbortSignal, handler: boolean, producers: readonly Produced[]): Promise<Outcome> {
  const logs = host.allocateLogs(step.name);
  // Backticks run while the run goes on (other steps' output, the live view, Ctrl-C), and stop with the step.
  const commands = { executors: host.executors, graceMs: host.dag.maxCleanUpTimeSec * 1000, signal };
  let scope: Scope;
  try {
    scope = await stepScope(host.scope, step, producers, logs, commands);
  } catch (err) {
    if (signal.aborted) return notStarted();
    return failure(1, messageOf(err));
  }

  if (step.preconditions.length > 0) {
    const unmet = await firstUnmet(step.preconditions, step.dir, scope, signal, { executors: host.executors, graceMs: host.dag.maxCleanUpTimeSec * 1000 });
    if (signal.aborted) return notStarted();
    // The reason goes with the status, so a skipped step never leaves the user guessing why.
    if (unmet) return { status: 'skipped', exitCode: null, error: unmetText(unmet), allowed: false };
  }
  if (signal.aborted) return notStarted();

  let command: Command | undefined;
  let retry: RetryPlan | undefined;
  let executor: Executor;
  try {
    command = await expandCommand(step.command, scope, step.dir, step.executor.type === 'local', commands);
    retry = await retryPlanFor(step, scope, commands);
    executor = host.executors.executorFor(step);
  } catch (err) {
    if (signal.aborted) return notStarted();
    return failure(1, executorErrorText(err));
  }

  const stdoutLog = new LogFile(logs.stdout);
  const stderrLog = new LogFile(logs.stderr);
  const captures: string[] = [];
  let last: Attempt;
  try {
    for (let attempt = 1; ; attempt++) {
      host.emit({ type: 'step-start', step: step.name, attempt, handler });
      last = await runAttempt(host, step, executor, command, scope, signal, stdoutLog, stderrLog);
      if (last.captured) captures.push(last.captured);
      if (last.kind !== 'failed' || !last.retryable || !retry || !shouldRetry(retry, attempt, last.error)) break;
      const delayMs = retryDelayMs(retry, attempt);
      host.emit({ type: 'step-retry', step: step.name, attempt: attempt + 1, delayMs, error: last.error });
      if (!(await sleep(delayMs, signal))) {
        last = { kind: 'stopped', exitCode: last.exitCode };
        break;
      }
    }
  } finally {
    await Promise.all([stdoutLog.close(), stderrLog.close()]);
    for (const log of [stdoutLog, stderrLog]) {
      if (log.error) host.emitExecutor({ type: 'warning', step: step.name, message: `cannot write ${log.path}: ${log.error.message}` });
    }
  }

  const ran = { logs, ...(step.output !== undefined ? { output: captures.join('\n') } : {}) };
  if (last.kind === 'succeeded') return { status: 'succeeded', exitCode: last.exitCode, error: null, allowed: false, ...ran };
  if (last.kind === 'stopped') return { ...host.stoppedOutcome(signal), exitCode: last.exitCode, ...ran };

  let allowed = continueAllowedWithoutOutput(step.continueOn, last.exitCode);
  if (!allowed && step.continueOn.output.length > 0) allowed = await logContainsPattern(logs.stdout, step.continueOn.output);
  const settled = settleFailure(step.continueOn, allowed);
  return {
    status: settled.status,
    exitCode: last.exitCode,
    error: settled.clearError ? null : last.error,
    allowed: settled.allowed,
    ...ran,
  };
}

async function runAttempt(
  host: StepHost,
  step: Step,
  executor: Executor,
  command: Command | undefined,
  scope: Scope,
  stepSignal: AbortSignal,
  stdoutLog: LogFile,
  stderrLog: LogFile,
): Promise<Attempt> {
  if (stepSignal.aborted) return { kind: 'stopped', exitCode: null };
  // One controller per attempt: the step's stop and the attempt's own timeout both end it.
  const ctrl = new AbortController();
  const forward = (): void => ctrl.abort(stepSignal.reason);
  stepSignal.addEventListener('abort', forward, { once: true });
  const timeoutSec = step.timeoutSec ?? 0;
  const timer =
    timeoutSec > 0
      ? setTimeout(() => ctrl.abort(new DOMException(`step timed out after ${timeoutSec}s`, 'TimeoutError')), timeoutSec * 1000)
      : undefined;
  const follow = host.follow;
  const stdout = new StepOutput({
    file: stdoutLog,
    ...(step.output !== undefined ? { captureBytes: host.dag.maxOutputSize } : {}),
    ...(follow ? { onChunk: (chunk: Buffer) => host.emit({ type: 'step-output', step: step.name, stream: 'stdout', chunk }) } : {}),
  });
  const stderr = new StepOutput({
    file: stderrLog,
    ...(follow ? { onChunk: (chunk: Buffer) => host.emit({ type: 'step-output', step: step.name, stream: 'stderr', chunk }) } : {}),
  });

  const started = performance.now();
  let result: { exitCode: number; error?: string } | undefined;
  let thrown: unknown;
  try {
    result = await executor.run({
      dag: host.dag,
      step,
      runId: host.runId,
      ...(command ? { command } : {}),
      lookup: scope.lookup,
      env: scope.env,
      stdout,
      stderr,
      signal: ctrl.signal,
      emit: (event) => host.emitExecutor(event),
    });
  } catch (err) {
    thrown = err;
  } finally {
    clearTimeout(timer);
    stepSignal.removeEventListener('abort', forward);
  }
  const elapsedMs = performance.now() - started;
  await Promise.all([endOutput(stdout), endOutput(stderr)]);
  const cut = stdout.cut();
  if (cut !== undefined) {
    // The value goes on, cut: the user is told where, and where the whole of it is.
    host.emitExecutor({
      type: 'warning',
      step: step.name,
      message: `output ${step.output} cut at ${cut.keptBytes} bytes (maxOutputSize) of the ${cut.writtenBytes} the step printed, and marked "[OUTPUT TRUNCATED]"; the whole output is in ${stdoutLog.path}`,
    });
  }
  const captured = stdout.captured();
  const withCapture = captured === undefined ? {} : { captured };

  if (result && thrown === undefined && result.exitCode === 0 && result.error === undefined) {
    return { kind: 'succeeded', exitCode: 0, ...withCapture };
  }
  const reason: unknown = ctrl.signal.aborted ? ctrl.signal.reason : undefined;
  if ((reason as { name?: unknown } | undefined)?.name === 'TimeoutError') {
    // Not retried (§1.8); 124 as timeout(1) and Dagu report it.
    const error = `step timed out after ${formatSeconds(elapsedMs)} (timeout: ${timeoutSec}s)`;
    return { kind: 'failed', exitCode: 124, error, retryable: false, ...withCapture };
  }
  if (reason !== undefined) return { kind: 'stopped', exitCode: result?.exitCode ?? null, ...withCapture };
  if (thrown !== undefined || !result) return { kind: 'failed', exitCode: 1, error: executorErrorText(thrown), retryable: true, ...withCapture };
  return { kind: 'failed', exitCode: result.exitCode, error: result.error ?? `exit status ${result.exitCode}`, retryable: true, ...withCapture };
}

/** `precondition not met: test -f ready (expected "yes")`. */
export function unmetText(cond: Precondition): string {
  const expected = cond.expected !== undefined ? ` (expected ${JSON.stringify(cond.expected)})` : '';
  return `precondition not met: ${cond.negate ? 'not ' : ''}${cond.condition}${expected}`;
}

/** A step stopped before its process started (during preconditions): like any step not started. */
export function notStarted(): Outcome {
  return { status: 'aborted', exitCode: null, error: null, allowed: false };
}

export function failure(exitCode: number, error: string): Outcome {
  return { status: 'failed', exitCode, error, allowed: false };
}

/** A SkiffError's message is for users; anything else thrown is our bug, said without a stack. */
export function executorErrorText(err: unknown): string {
  if (err instanceof SkiffError) return err.message;
  return `internal error: ${messageOf(err)}`;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `1.5s`, `0.012s`: elapsed time the way the step timeout error shows it. */
function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** Resolves true after `ms`, false as soon as `signal` aborts; leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Ends a step's output Writable (if the executor did not) and waits until the log has it. */
async function endOutput(stream: StepOutput): Promise<void> {
  if (!stream.writableEnded) stream.end();
  try {
    await finished(stream);
  } catch {
    // Destroyed by the executor: what was written is in the log already.
  }
}
