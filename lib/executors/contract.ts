// The contract between the DAG layer and whatever runs a step (a host process, a container, an
// exec): the one module of lib/executors that lib/dag imports. It says what a step run gets and
// returns, the events it may emit, how a stop reaches it, what a run-wide executor set offers,
// and which load-time checks each executor type hands to the DAG loader.
// Executors report a non-zero exit as a result, and throw a SkiffError only when the step could
// not be run at all (bad config, engine unreachable, image missing...).
import type { Writable } from 'node:stream';
import type { TSchema } from 'typebox';
import { SkiffError } from '../common/errors.js';
import type { Lookup } from '../common/expand.js';
import type { Locate, Problem } from '../common/problem.js';
import type { Command, Dag, DagContainer, Step } from '../common/model.js';
import { dockerConfigChecks } from './docker/checks.js';
import { swarmConfigChecks } from './swarm/checks.js';

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

/**
 * A step's config value with its `${…}` expanded as the step will see it, or undefined when that
 * is not known before the step starts (a name an output, a step env entry or a step's log file
 * may still define). No command substitution: nothing runs early.
 */
export type ExpandAhead = (step: Step, value: unknown) => unknown;

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
  /**
   * Runs argv as a process on this host, for what Dagu evaluates there whatever the steps'
   * executor (command preconditions). Resolves with the exit code; a stop follows StopRequest.
   */
  runOnHost(argv: readonly string[], options: HostRunOptions): Promise<StepResult>;
  /** Run-wide teardown after the handlers, on every path; must not throw. */
  close(): Promise<void>;
}

export interface HostRunOptions {
  cwd: string;
  env: Record<string, string>;
  signal: AbortSignal;
  /** Where the output goes (a backtick's stdout is its value); undefined = discarded. */
  stdout?: Writable;
  stderr?: Writable;
  /** Time between the stop signal and SIGKILL. */
  graceMs: number;
}

// ---- stop requests: how a stop reaches an executor (local process, container, exec) ----

/**
 * How a stop is escalated. StepContext has a single `signal`, so the scheduler's stop reason
 * carries a second one: a SkiffError of kind 'aborted' with a `force` AbortSignal that is aborted
 * when the user asks to kill now (second Ctrl-C). An executor that sees `signal` aborted stops
 * gracefully (signalOnStop, SIGKILL after dag.maxCleanUpTimeSec) and kills at once when `force`
 * is (or becomes) aborted. Any other reason (a step timeout, a plain abort) has no force signal.
 */
export class StopRequest extends SkiffError {
  readonly force: AbortSignal;

  constructor(message: string, force: AbortSignal) {
    super('aborted', message);
    this.force = force;
  }
}

/** The force signal carried by an aborted signal's reason (duck-typed, see StopRequest). */
export function forceSignalOf(signal: AbortSignal): AbortSignal | undefined {
  const force = (signal.reason as { force?: unknown } | null | undefined)?.force;
  return force instanceof AbortSignal ? force : undefined;
}

// ---- load-time checks: each executor type decodes and validates its own config ----

/** What an executor type checks when a DAG loads; the DAG layer calls it by executor type. */
export interface ExecutorConfigChecks {
  /** The schema of a step's `executor.config`, published in the DAG file's JSON schema. */
  stepConfigSchema: TSchema;
  /** Every problem of a step's `executor.config`, each placed; `ctx.path` is the config's key path. */
  checkStepConfig(raw: unknown, locate: Locate, ctx: { path: string }): Problem[];
  /** Present on the executor type that runs the DAG-level `container:` block. */
  dagContainer?: {
    schema: TSchema;
    build(raw: unknown, locate: Locate, ctx: { dir: string; lookup: Lookup; path: string }): { value?: DagContainer; problems: Problem[] };
  };
}

// The built-in executors' checks are listed here rather than registered by a side effect of
// importing the executor, so loading a DAG checks it fully whoever loads it. They are pure
// decoding: no engine code comes with them.
const configChecks = new Map<string, ExecutorConfigChecks>([
  ['docker', dockerConfigChecks],
  ['swarm', swarmConfigChecks],
]);

/** Adds (or replaces) the load-time checks of an executor type. */
export function registerConfigChecks(type: string, checks: ExecutorConfigChecks): void {
  configChecks.set(type, checks);
}

/** The load-time checks registered for an executor type; a missing one is skiff's own bug. */
export function configChecksFor(type: string): ExecutorConfigChecks {
  const checks = configChecks.get(type);
  if (!checks) throw new SkiffError('config', `internal error: no load-time checks registered for executor type "${type}"`);
  return checks;
}
