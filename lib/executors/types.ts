// The contract between the scheduler and whatever runs a step (a host process, a container,
// an exec). Executors report a non-zero exit as a result, and throw a SkiffError only when the
// step could not be run at all (bad config, engine unreachable, image missing...).
import type { Writable } from 'node:stream';
import type { Command, Dag, Step } from '../dag/model.js';
import type { Lookup } from '../dag/expand.js';

export type ExecutorEvent =
  | { type: 'pull-start'; step: string; image: string }
  | { type: 'pull-progress'; step: string; image: string; fraction: number; layersDone: number; layersKnown: number; bytesCurrent: number; bytesTotal: number }
  | { type: 'pull-done'; step: string; image: string; pulled: boolean }
  | { type: 'warning'; step?: string; message: string }
  | { type: 'info'; step?: string; message: string };

export interface StepContext {
  dag: Dag;
  step: Step;
  runId: string;
  /** The step's command with `${VAR}` already expanded; undefined when the step has none. */
  command?: Command;
  /** The variables the step sees (§2.1 precedence): used to expand executor config. */
  lookup: Lookup;
  /** The complete environment of a local step's process. */
  env: Record<string, string>;
  /** They copy what they keep: a chunk may be reused once its write has been called back. */
  stdout: Writable;
  stderr: Writable;
  /**
   * Aborted on cancel (reason: a SkiffError of kind 'aborted') or on the step's timeout
   * (reason: a DOMException named 'TimeoutError'). The executor stops what it started
   * (signalOnStop, then SIGKILL after dag.maxCleanUpTimeSec), waits for it, then returns.
   */
  signal: AbortSignal;
  emit(event: ExecutorEvent): void;
}

export interface StepResult {
  exitCode: number;
  /** Dagu's error text for a non-zero exit: `exit status N` (plus a stderr tail for containers). */
  error?: string;
}

/** What is known of a step before it starts, for work begun ahead of it. */
export interface PrepareContext {
  dag: Dag;
  step: Step;
  runId: string;
  /** The step's command as it will be (no `${…}` left that an upstream could change). */
  command?: Command;
  expandAhead: ExpandAhead;
  emit(event: ExecutorEvent): void;
}

export interface Executor {
  run(ctx: StepContext): Promise<StepResult>;
  /**
   * Optional: begin, before the step may start, what its run will need (create its container).
   * Returns at once; never throws. run() uses it only if the step still wants exactly that.
   */
  prepare?(ctx: PrepareContext): void;
  /** Undo prepare() for a step that will not start after all; never throws. */
  unprepare?(step: Step): Promise<void>;
}

/**
 * A step's config value with its `${…}` expanded as the step will see it, or undefined when that
 * is not known before the step starts (a name an output, a step env entry or a step's log file
 * may still define). No command substitution: nothing runs early.
 */
export type ExpandAhead = (step: Step, value: unknown) => unknown;

/** What run-wide set-up gets: the run, its cancel signal, and what is known before any step. */
export interface SetupContext {
  dag: Dag;
  runId: string;
  signal: AbortSignal;
  emit(event: ExecutorEvent): void;
  /** Lets set-up begin work that steps will need (pull their images) before they start. */
  expandAhead?: ExpandAhead;
}

/** Everything the scheduler needs to run a DAG's steps; owned and closed by the caller. */
export interface ExecutorSet {
  /** Run-wide set-up before the first step (the DAG-level container); failure = phase 'startup'. */
  setup?(ctx: SetupContext): Promise<void>;
  executorFor(step: Step): Executor;
  /** Run-wide teardown after the handlers, on every path; must not throw. */
  close(): Promise<void>;
}
