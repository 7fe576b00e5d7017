// Runs a built DAG: starts steps whose dependencies are satisfied, under maxActiveSteps, with
// preconditions, retries, timeouts, continueOn, outputs and handlers (docs/dagu-behavior.md §1.4–§1.10,
// §2.1). One AbortSignal cancels, a second one forces; typed events go to the caller, nothing is
// printed. The decisions themselves are pure functions in status.ts; one step's run (attempts,
// retries, logs) is step-run.ts, the variables it sees step-scope.ts.
//
// Choices where Dagu leaves room (tested in spec/dag/scheduler.test.ts):
// - Cancel: running steps get their signal aborted with a StopRequest (executors/contract.ts) whose
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
import { SkiffError } from '../common/errors.js';
import { StopRequest, type Executor, type ExecutorEvent, type ExecutorSet, type ExpandAhead } from '../executors/contract.js';
import type { RunEvent } from './events.js';
import { withKept, type KeptStep } from './kept-steps.js';
import type { Dag, Handlers, Step } from '../common/model.js';
import { LogFile } from './outputs.js';
import { failedBeforeSteps, type HandlerReport, type RunReport, type StepReport, type StepStatus } from './report.js';
import { stepLogPaths } from './run-dir.js';
import { phaseFor, readinessFor, runStatusFor, type FinishedStep, type Readiness } from './status.js';
import { AheadPreparer } from './prepare-ahead.js';
import { aheadExpander, dagScope, firstUnmet, runScope, type RunScope } from './step-scope.js';
import { failure, messageOf, runStep, sleep, unmetText, type Outcome, type StepHost } from './step-run.js';

export { exitCodeFor } from './status.js';
export type { KeptStep } from './kept-steps.js';

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
  /**
   * A retry: the steps that keep their result from an earlier attempt, by name. They count as
   * done from the start (their output and logs visible downstream) and do not run again.
   */
  kept?: ReadonlyMap<string, KeptStep>;
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
      report = withKept(await run.execute(), opts.kept, opts.dag);
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

interface Stop {
  kind: 'cancel' | 'timeout';
  reason: StopRequest;
}

class DagRun {
  readonly #opts: RunDagOptions;
  readonly #dag: Dag;
  readonly #runDir: string;
  readonly #states: StepState[];
  readonly #scope: RunScope;
  readonly #stepHost: StepHost;
  readonly #controllers = new Set<AbortController>();
  readonly #stopCtrl = new AbortController();
  readonly #force = new AbortController();
  readonly #logNames = new Set<string>();
  readonly #ahead: AheadPreparer<StepState>;
  readonly #expandAhead: ExpandAhead;
  #stop: Stop | undefined;
  #runLog: LogFile | undefined;
  #handlerError: string | null = null;
  readonly #handlers: HandlerReport[] = [];

  constructor(opts: RunDagOptions) {
    this.#opts = opts;
    this.#dag = opts.dag;
    this.#runDir = resolvePath(opts.logDir);
    this.#scope = runScope(this.#dag, {
      DAG_NAME: this.#dag.name,
      DAG_RUN_ID: opts.runId,
      DAG_RUN_LOG_FILE: join(this.#runDir, 'run.log'),
    }, opts.env ?? process.env);
    this.#expandAhead = aheadExpander(this.#scope, this.#dag.steps);
    this.#ahead = new AheadPreparer({ dag: this.#dag, runId: opts.runId, executors: opts.executors, expandAhead: this.#expandAhead, emit: (event) => this.#emitExecutor(event) });
    this.#stepHost = {
      dag: this.#dag,
      runId: opts.runId,
      scope: this.#scope,
      executors: opts.executors,
      follow: opts.follow === true,
      emit: (ev) => this.emit(ev),
      emitExecutor: (event) => this.#emitExecutor(event),
      allocateLogs: (name) => this.#allocateLogs(name),
      stoppedOutcome: (signal) => this.#stoppedOutcome(signal),
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
    for (const st of this.#states) {
      const kept = opts.kept?.get(st.step.name);
      if (kept) Object.assign(st, { ...kept, phase: 'done' });
    }
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
    this.#runLog = new LogFile(this.#scope.runVars.DAG_RUN_LOG_FILE!);
    this.emit({ type: 'run-start', runId: this.#opts.runId, dag: this.#dag.name, logDir: this.#runDir });
    for (const st of this.#states) {
      if (this.#opts.kept?.has(st.step.name)) this.emit({ type: 'step-end', step: st.step.name, status: st.status, exitCode: st.exitCode, error: st.error, handler: false, kept: true });
    }

    this.#opts.signal.addEventListener('abort', this.#onCancel, { once: true });
    this.#opts.forceSignal?.addEventListener('abort', this.#onForce, { once: true });
    if (this.#opts.forceSignal?.aborted) this.#onForce();
    else if (this.#opts.signal.aborted) this.#onCancel();

    if (!this.#stop && this.#dag.preconditions.length > 0) {
      const unmet = await firstUnmet(this.#dag.preconditions, this.#dag.dir, dagScope(this.#scope), this.#stopCtrl.signal, {
        executors: this.#opts.executors,
        graceMs: this.#dag.maxCleanUpTimeSec * 1000,
      });
      if (unmet && !this.#stop) {
        return { ...failedBeforeSteps('startup', '', names), status: 'aborted', phase: null, error: unmetText(unmet) };
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
          expandAhead: this.#expandAhead,
        });
        this.emit({ type: 'startup-end' });
      } catch (err) {
        const error = messageOf(err);
        const hint = err instanceof SkiffError ? err.hint : undefined;
        this.emit({ type: 'startup-end', error, ...(hint !== undefined ? { hint } : {}) });
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
      if (!this.#stop) this.#ahead.prepare(this.#states);
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
    this.#ahead.unprepare(st);
    st.phase = 'done';
    st.status = readiness.kind;
    st.error = readiness.error;
    this.emit({ type: 'step-end', step: st.step.name, status: st.status, exitCode: null, error: st.error, handler: false });
  }

  async #runStep(st: StepState): Promise<void> {
    const ctrl = this.#newController();
    let outcome: Outcome;
    try {
      outcome = await runStep(this.#stepHost, st.step, ctrl.signal, false, this.#producersOf(st));
    } catch (err) {
      outcome = failure(1, `internal error: ${messageOf(err)}`);
    } finally {
      this.#controllers.delete(ctrl);
    }
    this.#ahead.unprepare(st);
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
        outcome = await runStep(this.#stepHost, step, ctrl.signal, true, this.#states);
      } catch (err) {
        outcome = failure(1, `internal error: ${messageOf(err)}`);
      } finally {
        this.#controllers.delete(ctrl);
      }
      this.emit({ type: 'step-end', step: step.name, status: outcome.status, exitCode: outcome.exitCode, error: outcome.error, handler: true });
      this.#handlers.push({
        name: step.name,
        on: kind,
        status: outcome.status,
        exitCode: outcome.exitCode,
        error: outcome.error,
        stdoutFile: outcome.logs?.stdout ?? null,
        stderrFile: outcome.logs?.stderr ?? null,
      });
      if (outcome.status === 'failed' || outcome.status === 'cancelled') {
        this.#handlerError ??= `handler ${step.name} failed: ${outcome.error ?? 'cancelled'}`;
      }
    }
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
    // The step that made the run fail: a failure continueOn let pass did not, unless it is all there is.
    const failed = this.#states.filter((s) => s.status === 'failed');
    const decisive = failed.find((s) => !s.allowed) ?? failed[0];
    const timedOut = this.#stop?.kind === 'timeout' ? this.#stop.reason.message : null;
    const abortedWithReason = this.#states.find((s) => s.status === 'aborted' && s.error !== null && s.error !== 'upstream failed');
    const named = (st: StepState | undefined): string | null => (st ? `step "${st.step.name}": ${st.error}` : null);
    const error = named(decisive) ?? timedOut ?? named(abortedWithReason) ?? this.#handlerError ?? (this.#stop ? 'cancelled' : null);
    const somethingFailed = decisive !== undefined || timedOut !== null || abortedWithReason !== undefined || this.#handlerError !== null;
    return { status, phase: phaseFor(status, somethingFailed), error, steps, handlers: this.#handlers };
  }
}

// ---- helpers ----

function finishedView(st: StepState): FinishedStep {
  return { status: st.status, error: st.error, allowed: st.allowed, continueOnSkipped: st.step.continueOn.skipped };
}
