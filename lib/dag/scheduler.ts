// Runs a built DAG: starts steps whose dependencies are satisfied, under maxActiveSteps, with
// preconditions, retries, timeouts, continueOn, outputs and handlers (dagu-behavior.md §1.4–§1.10,
// §2.1). One AbortSignal cancels, a second one forces; typed events go to the caller, nothing is
// printed. The decisions themselves are pure functions in status.ts.
//
// Choices where Dagu leaves room (tested in spec/dag/scheduler.test.ts):
// - Cancel: running steps get their signal aborted with a StopRequest (executors/stop.ts) whose
//   `force` signal is aborted on the second "force" request; executors stop gracefully first and
//   kill at once on force. The scheduler never returns before every executor has returned.
//   Stopped steps are `cancelled` (error `cancelled`), steps that never started are `aborted`.
//   The cancel and exit handlers then run with fresh signals that only a force aborts; after a
//   force no handler runs.
// - DAG timeout: like a cancel, but stopped steps are `aborted` with `DAG timed out after Ns`;
//   the timer covers the steps, not the executor set-up.
// - DAG preconditions are checked before the executor set-up; when one fails no step runs (all
//   `not_started`), no handler runs, the run is `aborted` with phase null and the error
//   `precondition not met: <condition>` (Dagu cancels the run and `dagu start` fails: exit 1).
// - Handlers are not in report.steps; a failed handler makes the run `failed` (and sets
//   report.error when nothing else did). No handler runs after a failed set-up.
import { mkdir } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { finished } from 'node:stream/promises';
import { SkiffError } from '../common/errors.js';
import { StopRequest, type Executor, type ExecutorEvent, type ExecutorSet } from '../executors/contract.js';
import { chainLookups, expand, type Lookup } from '../common/expand.js';
import type { RunEvent } from './events.js';
import type { Command, Dag, Handlers, Precondition, Step } from './model.js';
import { LogFile, StepOutput, logContainsPattern } from './outputs.js';
import { failedBeforeSteps, type RunReport, type StepReport, type StepStatus } from './report.js';
import { stepLogPaths } from './run-dir.js';
import {
  continueAllowedWithoutOutput,
  matchesPattern,
  phaseFor,
  readinessFor,
  retryDelayMs,
  runStatusFor,
  settleFailure,
  shouldRetry,
  type FinishedStep,
  type Readiness,
} from './status.js';

export { exitCodeFor } from './status.js';

export interface RunDagOptions {
  dag: Dag;
  executors: ExecutorSet;
  runId: string;
  /** This run's directory (logs, run.log); created if missing. */
  logDir: string;
  /** Aborted = cancel (Ctrl-C). */
  signal: AbortSignal;
  /** Aborted = kill now (second Ctrl-C); implies a cancel. */
  forceSignal?: AbortSignal;
  /** Must not throw; an exception from it is ignored so it cannot break the run's cleanup. */
  onEvent?(ev: RunEvent): void;
  /** Emit step-output events with the output chunks. */
  follow?: boolean;
  /** The process environment steps inherit (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the DAG and reports how it went. Step failures are results, never exceptions;
 * `executors.close()` is called on every path.
 */
export async function runDag(opts: RunDagOptions): Promise<RunReport> {
  const run = new DagRun(opts);
  try {
    let report: RunReport;
    try {
      report = await run.execute();
    } finally {
      try {
        await opts.executors.close();
      } catch {
        // close() must not throw (types.ts); if it does, the run's result still stands.
      }
    }
    run.emit({ type: 'run-end', report });
    return report;
  } finally {
    await run.dispose();
  }
}

type HandlerKind = keyof Handlers;

interface StepState {
  step: Step;
  index: number;
  phase: 'pending' | 'running' | 'done';
  status: StepStatus;
  exitCode: number | null;
  error: string | null;
  allowed: boolean;
  stdoutFile: string | null;
  stderrFile: string | null;
  /** The captured `output:` value, when the step ran and has one. */
  output?: string;
  deps: StepState[];
  missingDeps: string[];
}

interface Outcome {
  status: StepStatus;
  exitCode: number | null;
  error: string | null;
  allowed: boolean;
  logs?: { stdout: string; stderr: string };
  output?: string;
}

interface Scope {
  lookup: Lookup;
  env: Record<string, string>;
}

type Attempt =
  | { kind: 'succeeded'; exitCode: number; captured?: string }
  | { kind: 'failed'; exitCode: number; error: string; retryable: boolean; captured?: string }
  | { kind: 'stopped'; exitCode: number | null; captured?: string };

interface Stop {
  kind: 'cancel' | 'timeout';
  reason: StopRequest;
}

class DagRun {
  readonly #opts: RunDagOptions;
  readonly #dag: Dag;
  readonly #runDir: string;
  readonly #states: StepState[];
  readonly #processEnv: Record<string, string>;
  readonly #dagEnv: Record<string, string>;
  readonly #namedParams: Record<string, string>;
  readonly #params: Record<string, string>;
  readonly #runVars: Record<string, string>;
  readonly #controllers = new Set<AbortController>();
  readonly #stopCtrl = new AbortController();
  readonly #force = new AbortController();
  readonly #logNames = new Set<string>();
  #stop: Stop | undefined;
  #runLog: LogFile | undefined;
  #handlerError: string | null = null;

  constructor(opts: RunDagOptions) {
    this.#opts = opts;
    this.#dag = opts.dag;
    this.#runDir = resolvePath(opts.logDir);
    this.#processEnv = definedOnly(opts.env ?? process.env);
    this.#dagEnv = Object.fromEntries(this.#dag.env);
    this.#namedParams = Object.fromEntries(this.#dag.params.named);
    this.#params = { ...Object.fromEntries(this.#dag.params.positional.map((v, i) => [String(i + 1), v])), ...this.#namedParams };
    this.#runVars = {
      DAG_NAME: this.#dag.name,
      DAG_RUN_ID: opts.runId,
      DAG_RUN_LOG_FILE: join(this.#runDir, 'run.log'),
    };
    this.#states = this.#dag.steps.map((step, index) => ({
      step,
      index,
      phase: 'pending',
      status: 'not_started',
      exitCode: null,
      error: null,
      allowed: false,
      stdoutFile: null,
      stderrFile: null,
      deps: [],
      missingDeps: [],
    }));
    const byName = new Map(this.#states.map((s) => [s.step.name, s]));
    for (const st of this.#states) {
      for (const name of st.step.depends) {
        const dep = byName.get(name);
        if (dep) st.deps.push(dep);
        else st.missingDeps.push(name);
      }
    }
  }

  emit(ev: RunEvent): void {
    if (ev.type !== 'step-output' && ev.type !== 'executor') {
      this.#runLog?.write(Buffer.from(`${new Date().toISOString()} ${JSON.stringify(ev)}\n`), () => {});
    }
    try {
      this.#opts.onEvent?.(ev);
    } catch {
      // A renderer's bug must not leave processes behind.
    }
  }

  async dispose(): Promise<void> {
    this.#opts.signal.removeEventListener('abort', this.#onCancel);
    this.#opts.forceSignal?.removeEventListener('abort', this.#onForce);
    await this.#runLog?.close();
  }

  async execute(): Promise<RunReport> {
    const names = this.#states.map((s) => s.step.name);
    try {
      await mkdir(this.#runDir, { recursive: true });
    } catch (err) {
      this.emit({ type: 'run-start', runId: this.#opts.runId, dag: this.#dag.name, logDir: this.#runDir });
      return failedBeforeSteps('startup', `cannot create the run directory ${this.#runDir}: ${messageOf(err)}`, names);
    }
    this.#runLog = new LogFile(this.#runVars.DAG_RUN_LOG_FILE!);
    this.emit({ type: 'run-start', runId: this.#opts.runId, dag: this.#dag.name, logDir: this.#runDir });

    this.#opts.signal.addEventListener('abort', this.#onCancel, { once: true });
    this.#opts.forceSignal?.addEventListener('abort', this.#onForce, { once: true });
    if (this.#opts.forceSignal?.aborted) this.#onForce();
    else if (this.#opts.signal.aborted) this.#onCancel();

    if (!this.#stop && this.#dag.preconditions.length > 0) {
      const scope: Scope = {
        lookup: chainLookups(this.#runVars, this.#params, this.#dagEnv, this.#processEnv),
        env: { ...this.#processEnv, ...this.#dagEnv, ...this.#namedParams, ...this.#runVars },
      };
      const unmet = await this.#firstUnmet(this.#dag.preconditions, this.#dag.dir, scope, this.#stopCtrl.signal);
      if (unmet && !this.#stop) {
        return { ...failedBeforeSteps('startup', '', names), status: 'aborted', phase: null, error: `precondition not met: ${unmet.condition}` };
      }
    }

    if (!this.#stop && this.#opts.executors.setup) {
      this.emit({ type: 'startup-start' });
      try {
        await this.#opts.executors.setup({
          dag: this.#dag,
          runId: this.#opts.runId,
          signal: this.#opts.signal,
          emit: (event) => this.#emitExecutor(event),
        });
        this.emit({ type: 'startup-end' });
      } catch (err) {
        const error = messageOf(err);
        this.emit({ type: 'startup-end', error });
        const report = failedBeforeSteps('startup', error, names);
        return this.#stop ? { ...report, status: 'aborted' } : report;
      }
    }

    const timeoutSec = this.#dag.timeoutSec ?? 0;
    const dagTimer =
      timeoutSec > 0 ? setTimeout(() => this.#requestStop('timeout', `DAG timed out after ${timeoutSec}s`), timeoutSec * 1000) : undefined;
    try {
      await this.#schedule();
    } finally {
      clearTimeout(dagTimer);
    }

    const stepsStatus = runStatusFor({ steps: this.#states, stopped: this.#stop !== undefined, handlerFailed: false });
    await this.#runHandlers(stepsStatus === 'succeeded' || stepsStatus === 'partially_succeeded');
    return this.#report();
  }

  // ---- cancel, force, DAG timeout ----

  readonly #onCancel = (): void => {
    if (this.#stop?.kind === 'cancel') return; // already forced
    this.emit({ type: 'cancel-requested', force: false });
    this.#requestStop('cancel', 'cancelled');
  };

  readonly #onForce = (): void => {
    this.emit({ type: 'cancel-requested', force: true });
    this.#force.abort();
    this.#requestStop('cancel', 'forced');
    // Handlers started after the first stop have fresh signals: a force ends them too.
    for (const ctrl of this.#controllers) if (!ctrl.signal.aborted) ctrl.abort(new StopRequest('forced', this.#force.signal));
  };

  #requestStop(kind: Stop['kind'], message: string): void {
    if (this.#stop) return;
    const reason = new StopRequest(message, this.#force.signal);
    this.#stop = { kind, reason };
    this.#stopCtrl.abort(reason);
    for (const ctrl of this.#controllers) ctrl.abort(reason);
  }

  // ---- scheduling ----

  async #schedule(): Promise<void> {
    const running = new Map<StepState, Promise<void>>();
    const stopped = new Promise<void>((resolve) => {
      if (this.#stopCtrl.signal.aborted) resolve();
      else this.#stopCtrl.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const max = this.#dag.maxActiveSteps > 0 ? this.#dag.maxActiveSteps : Infinity;
    for (;;) {
      if (!this.#stop) await this.#launchReady(running, max);
      if (running.size === 0) break;
      await Promise.race(this.#stop ? running.values() : [...running.values(), stopped]);
    }
    for (const st of this.#states) {
      if (st.phase !== 'pending') continue;
      // Stopped runs leave the rest aborted without an error; otherwise only a dependency cycle
      // (rejected at load) could leave a step waiting with nothing running.
      this.#finishWithout(st, { kind: 'aborted', error: this.#stop ? null : 'dependency cycle: step can never start' });
    }
  }

  /** Starts what may start and settles what never will, until nothing changes. */
  async #launchReady(running: Map<StepState, Promise<void>>, max: number): Promise<void> {
    let progressed = true;
    while (progressed && !this.#stop) {
      progressed = false;
      for (const st of this.#states) {
        if (this.#stop) return;
        if (st.phase !== 'pending' || !st.deps.every((d) => d.phase === 'done')) continue;
        if (st.missingDeps.length > 0) {
          this.#finishWithout(st, { kind: 'aborted', error: `depends on non-existent step ${st.missingDeps[0]}` });
          progressed = true;
          continue;
        }
        const readiness = readinessFor(st.deps.map(finishedView));
        if (readiness.kind !== 'run') {
          this.#finishWithout(st, readiness);
          progressed = true;
          continue;
        }
        if (running.size >= max) continue;
        st.phase = 'running';
        running.set(
          st,
          this.#runStep(st).finally(() => running.delete(st)),
        );
        progressed = true;
        if (this.#dag.delaySec > 0) await sleep(this.#dag.delaySec * 1000, this.#stopCtrl.signal);
      }
    }
  }

  #finishWithout(st: StepState, readiness: Exclude<Readiness, { kind: 'run' }>): void {
    st.phase = 'done';
    st.status = readiness.kind;
    st.error = readiness.error;
    this.emit({ type: 'step-end', step: st.step.name, status: st.status, exitCode: null, error: st.error, handler: false });
  }

  async #runStep(st: StepState): Promise<void> {
    const ctrl = this.#newController();
    let outcome: Outcome;
    try {
      outcome = await this.#execute(st.step, ctrl, false, this.#producersOf(st));
    } catch (err) {
      outcome = failure(1, `internal error: ${messageOf(err)}`);
    } finally {
      this.#controllers.delete(ctrl);
    }
    st.phase = 'done';
    st.status = outcome.status;
    st.exitCode = outcome.exitCode;
    st.error = outcome.error;
    st.allowed = outcome.allowed;
    st.stdoutFile = outcome.logs?.stdout ?? null;
    st.stderrFile = outcome.logs?.stderr ?? null;
    if (outcome.output !== undefined) st.output = outcome.output;
    this.emit({ type: 'step-end', step: st.step.name, status: st.status, exitCode: st.exitCode, error: st.error, handler: false });
  }

  #newController(): AbortController {
    const ctrl = new AbortController();
    this.#controllers.add(ctrl);
    return ctrl;
  }

  /** Steps whose outputs a step sees: its transitive dependencies; in chain mode also every earlier step. */
  #producersOf(st: StepState): StepState[] {
    const seen = new Set<StepState>();
    const visit = (s: StepState): void => {
      for (const dep of s.deps) {
        if (seen.has(dep)) continue;
        seen.add(dep);
        visit(dep);
      }
    };
    visit(st);
    if (this.#dag.type === 'chain') for (const s of this.#states.slice(0, st.index)) if (s.phase === 'done') seen.add(s);
    return [...seen].sort((a, b) => a.index - b.index);
  }

  // ---- handlers ----

  async #runHandlers(succeeded: boolean): Promise<void> {
    const kinds: HandlerKind[] = this.#stop ? ['cancel', 'exit'] : succeeded ? ['success', 'exit'] : ['failure', 'exit'];
    for (const kind of kinds) {
      const step = this.#dag.handlerOn[kind];
      if (!step || this.#force.signal.aborted) continue;
      const ctrl = this.#newController();
      let outcome: Outcome;
      try {
        outcome = await this.#execute(step, ctrl, true, this.#states);
      } catch (err) {
        outcome = failure(1, `internal error: ${messageOf(err)}`);
      } finally {
        this.#controllers.delete(ctrl);
      }
      this.emit({ type: 'step-end', step: step.name, status: outcome.status, exitCode: outcome.exitCode, error: outcome.error, handler: true });
      if (outcome.status === 'failed' || outcome.status === 'cancelled') {
        this.#handlerError ??= `handler ${step.name} failed: ${outcome.error ?? 'cancelled'}`;
      }
    }
  }

  // ---- one step ----

  async #execute(step: Step, ctrl: AbortController, handler: boolean, producers: StepState[]): Promise<Outcome> {
    const logs = this.#allocateLogs(step.name);
    const signal = ctrl.signal;
    let scope: Scope;
    try {
      scope = this.#scopeFor(step, producers, logs);
    } catch (err) {
      return failure(1, messageOf(err));
    }

    if (step.preconditions.length > 0) {
      const unmet = await this.#firstUnmet(step.preconditions, step.dir, scope, signal);
      if (signal.aborted) return notStarted();
      if (unmet) return { status: 'skipped', exitCode: null, error: null, allowed: false };
    }
    if (signal.aborted) return notStarted();

    let command: Command | undefined;
    let retry: RetryPlan | undefined;
    let executor: Executor;
    try {
      command = expandCommand(step.command, scope, step.dir);
      retry = retryPlanFor(step, scope);
      executor = this.#opts.executors.executorFor(step);
    } catch (err) {
      return failure(1, executorErrorText(err));
    }

    const stdoutLog = new LogFile(logs.stdout);
    const stderrLog = new LogFile(logs.stderr);
    const captures: string[] = [];
    let last: Attempt;
    try {
      for (let attempt = 1; ; attempt++) {
        this.emit({ type: 'step-start', step: step.name, attempt, handler });
        last = await this.#attempt(step, executor, command, scope, signal, stdoutLog, stderrLog);
        if (last.captured) captures.push(last.captured);
        if (last.kind !== 'failed' || !last.retryable || !retry || !shouldRetry(retry, attempt, last.error)) break;
        const delayMs = retryDelayMs(retry, attempt);
        this.emit({ type: 'step-retry', step: step.name, attempt: attempt + 1, delayMs, error: last.error });
        if (!(await sleep(delayMs, signal))) {
          last = { kind: 'stopped', exitCode: last.exitCode };
          break;
        }
      }
    } finally {
      await Promise.all([stdoutLog.close(), stderrLog.close()]);
      for (const log of [stdoutLog, stderrLog]) {
        if (log.error) this.#emitExecutor({ type: 'warning', step: step.name, message: `cannot write ${log.path}: ${log.error.message}` });
      }
    }

    const ran = { logs, ...(step.output !== undefined ? { output: captures.join('\n') } : {}) };
    if (last.kind === 'succeeded') return { status: 'succeeded', exitCode: last.exitCode, error: null, allowed: false, ...ran };
    if (last.kind === 'stopped') return { ...this.#stoppedOutcome(signal), exitCode: last.exitCode, ...ran };

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

  async #attempt(
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
    const follow = this.#opts.follow === true;
    const stdout = new StepOutput({
      file: stdoutLog,
      ...(step.output !== undefined ? { captureBytes: this.#dag.maxOutputSize } : {}),
      ...(follow ? { onChunk: (chunk: Buffer) => this.emit({ type: 'step-output', step: step.name, stream: 'stdout', chunk }) } : {}),
    });
    const stderr = new StepOutput({
      file: stderrLog,
      ...(follow ? { onChunk: (chunk: Buffer) => this.emit({ type: 'step-output', step: step.name, stream: 'stderr', chunk }) } : {}),
    });

    const started = performance.now();
    let result: { exitCode: number; error?: string } | undefined;
    let thrown: unknown;
    try {
      result = await executor.run({
        dag: this.#dag,
        step,
        runId: this.#opts.runId,
        ...(command ? { command } : {}),
        lookup: scope.lookup,
        env: scope.env,
        stdout,
        stderr,
        signal: ctrl.signal,
        emit: (event) => this.#emitExecutor(event),
      });
    } catch (err) {
      thrown = err;
    } finally {
      clearTimeout(timer);
      stepSignal.removeEventListener('abort', forward);
    }
    const elapsedMs = performance.now() - started;
    await Promise.all([endOutput(stdout), endOutput(stderr)]);
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

  /** A step stopped while it ran (or waited to retry). */
  #stoppedOutcome(signal: AbortSignal): Outcome {
    if (this.#stop?.kind === 'timeout' && signal.reason === this.#stop.reason) {
      return { status: 'aborted', exitCode: null, error: this.#stop.reason.message, allowed: false };
    }
    return { status: 'cancelled', exitCode: null, error: 'cancelled', allowed: false };
  }

  #allocateLogs(stepName: string): { stdout: string; stderr: string } {
    // Names that differ only in unsafe characters (`a b`, `a/b`) must not share a file.
    let name = stepName;
    for (let n = 2; this.#logNames.has(stepLogPaths(this.#runDir, name).stdout); n++) name = `${stepName}-${n}`;
    const paths = stepLogPaths(this.#runDir, name);
    this.#logNames.add(paths.stdout);
    return paths;
  }

  /**
   * The variables of one step (§2.1), highest first: built-ins > step env > outputs > params >
   * DAG env > process env. Step env entries are evaluated in order (backticks included), each
   * seeing the ones before it.
   */
  #scopeFor(step: Step, producers: StepState[], logs: { stdout: string; stderr: string }): Scope {
    const outputs: Record<string, string> = {};
    const refs: Record<string, string> = {};
    for (const p of producers) {
      if (p.step.output !== undefined && p.output !== undefined) outputs[p.step.output] = p.output;
      if (p.step.id !== undefined && p.stdoutFile !== null) {
        refs[`${p.step.id}.stdout`] = p.stdoutFile;
        refs[`${p.step.id}.stderr`] = p.stderrFile ?? '';
        if (p.exitCode !== null) refs[`${p.step.id}.exitCode`] = String(p.exitCode);
      }
    }
    const builtins = {
      ...this.#runVars,
      DAG_RUN_STEP_NAME: step.name,
      DAG_RUN_STEP_STDOUT_FILE: logs.stdout,
      DAG_RUN_STEP_STDERR_FILE: logs.stderr,
      PWD: step.dir,
    };
    const stepEnv: Record<string, string> = {};
    // chainLookups reads the records when called, so entries added below are seen by later ones.
    const lookup = chainLookups(builtins, stepEnv, outputs, refs, this.#params, this.#dagEnv, this.#processEnv);
    const envNow = (): Record<string, string> => ({
      ...this.#processEnv,
      ...this.#dagEnv,
      ...this.#namedParams,
      ...outputs,
      ...stepEnv,
      ...builtins,
    });
    for (const [name, value] of step.env) {
      stepEnv[name] = expand(value, lookup, { backticks: true, cwd: step.dir, env: envNow() });
    }
    return { lookup, env: envNow() };
  }

  /** The first precondition that does not hold, or undefined (§1.8); evaluated on the host. */
  async #firstUnmet(conditions: readonly Precondition[], cwd: string, scope: Scope, signal: AbortSignal): Promise<Precondition | undefined> {
    for (const cond of conditions) {
      let met: boolean;
      try {
        if (cond.expected !== undefined) {
          const value = expand(cond.condition, scope.lookup, { backticks: true, cwd, env: scope.env });
          met = matchesPattern(value, expand(cond.expected, scope.lookup), 'equal');
        } else {
          const script = expand(cond.condition, scope.lookup);
          const result = await this.#opts.executors.runOnHost(['/bin/sh', '-c', script], {
            cwd,
            env: scope.env,
            signal,
            graceMs: this.#dag.maxCleanUpTimeSec * 1000,
          });
          met = result.exitCode === 0;
        }
      } catch {
        met = false;
      }
      if (cond.negate) met = !met;
      if (signal.aborted || !met) return cond;
    }
    return undefined;
  }

  #emitExecutor(event: ExecutorEvent): void {
    this.emit({ type: 'executor', event });
  }

  #report(): RunReport {
    const steps: StepReport[] = this.#states.map((st) => ({
      name: st.step.name,
      status: st.status,
      exitCode: st.exitCode,
      error: st.error,
      stdoutFile: st.stdoutFile,
      stderrFile: st.stderrFile,
      outputs: st.step.output !== undefined && st.output !== undefined ? { [st.step.output]: st.output } : {},
    }));
    const status = runStatusFor({ steps: this.#states, stopped: this.#stop !== undefined, handlerFailed: this.#handlerError !== null });
    const firstFailed = this.#states.find((s) => s.status === 'failed');
    const timedOut = this.#stop?.kind === 'timeout' ? this.#stop.reason.message : null;
    const stepError = this.#states.find((s) => s.status === 'aborted' && s.error !== null && s.error !== 'upstream failed')?.error ?? null;
    const error = firstFailed?.error ?? timedOut ?? stepError ?? this.#handlerError ?? (this.#stop ? 'cancelled' : null);
    const somethingFailed = firstFailed !== undefined || timedOut !== null || stepError !== null || this.#handlerError !== null;
    return { status, phase: phaseFor(status, somethingFailed), error, steps };
  }
}

// ---- helpers ----

interface RetryPlan {
  limit: number;
  intervalSec: number;
  backoff: number;
  maxIntervalSec?: number;
  exitCodes: number[];
}

/** retryPolicy with its run-time strings expanded and parsed (§1.7). */
function retryPlanFor(step: Step, scope: Scope): RetryPlan | undefined {
  const policy = step.retryPolicy;
  if (!policy) return undefined;
  const evaluate = (value: number | string, key: string): number => {
    if (typeof value === 'number') return value;
    const text = expand(value, scope.lookup, { backticks: true, cwd: step.dir, env: scope.env }).trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n) || n < 0) {
      throw new SkiffError('config', `step "${step.name}": retryPolicy.${key} must be a non-negative number, got "${text}" (from "${value}")`, {
        place: step.place,
      });
    }
    return n;
  };
  return {
    limit: Math.floor(evaluate(policy.limit, 'limit')),
    intervalSec: evaluate(policy.intervalSec, 'intervalSec'),
    backoff: policy.backoff,
    ...(policy.maxIntervalSec !== undefined ? { maxIntervalSec: policy.maxIntervalSec } : {}),
    exitCodes: policy.exitCodes,
  };
}

/**
 * §2.2: shell-form scripts get `${VAR}` expansion only (the shell runs their backticks);
 * exec-form arguments reach no shell, so their backticks are run here.
 */
function expandCommand(command: Command | undefined, scope: Scope, cwd: string): Command | undefined {
  if (!command) return undefined;
  if (command.form === 'shell') return { form: 'shell', script: expand(command.script, scope.lookup) };
  return { form: 'exec', argv: command.argv.map((arg) => expand(arg, scope.lookup, { backticks: true, cwd, env: scope.env })) };
}

function finishedView(st: StepState): FinishedStep {
  return { status: st.status, error: st.error, allowed: st.allowed, continueOnSkipped: st.step.continueOn.skipped };
}

/** A step stopped before its process started (during preconditions): like any step not started. */
function notStarted(): Outcome {
  return { status: 'aborted', exitCode: null, error: null, allowed: false };
}

function failure(exitCode: number, error: string): Outcome {
  return { status: 'failed', exitCode, error, allowed: false };
}

/** A SkiffError's message is for users; anything else thrown is our bug, said without a stack. */
function executorErrorText(err: unknown): string {
  if (err instanceof SkiffError) return err.message;
  return `internal error: ${messageOf(err)}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** `1.5s`, `0.012s`: elapsed time the way the step timeout error shows it. */
function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** Resolves true after `ms`, false as soon as `signal` aborts; leaves no timer behind. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
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
