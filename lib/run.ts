// Running a DAG file from code, as `skiff run` does minus the terminal: load it, choose the
// engine connection (live, recorded into a directory, or replayed from one), run it with its
// events, and hand back the report and the exit code the CLI would use. The composition root of
// the DAG layer and the executors: `skiff/run` imports it, the package root only on first use.
import type { Dag } from './common/model.js';
import type { RunEvent } from './dag/events.js';
import type { RunReport } from './dag/report.js';
import { SkiffError } from './common/errors.js';
import type { ExecutorSet } from './executors/contract.js';
import type { EngineSelection } from './engine/context.js';
import type { KeptStep } from './dag/kept-steps.js';

export type { Dag } from './common/model.js';
export type { RunEvent } from './dag/events.js';
export { failedBeforeSteps, type RunReport, type RunStatus, type StepReport, type StepStatus } from './dag/report.js';
export { DagLoadError, type Problem } from './common/problem.js';

export interface LoadDagFileOptions {
  /** Positional values or `NAME=value`, overriding the DAG's `params` (as `skiff run -- …`). */
  params?: string[];
  /** The environment the file's `${VAR}`s and steps see (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The file's text, read already (a retry loads its run's stored copy, not the file on disk). */
  text?: string;
}

export interface RunDagOptions extends LoadDagFileOptions {
  /** Aborted = cancel: running steps are stopped, cancel and exit handlers run. */
  signal?: AbortSignal;
  /** Aborted = kill the steps now (a second Ctrl-C). */
  forceSignal?: AbortSignal;
  /** Every event of the run, in order (`skiff run` renders these). Must not throw. */
  onEvent?(event: RunEvent): void;
  /** Also emit `step-output` events with the steps' output as it arrives. */
  follow?: boolean;
  /** Default: a new sortable id, `20261123T085501Z-1a2b3c4d`. */
  runId?: string;
  /** Where the step logs go. Default: `<state dir>/runs/<dag>/<run id>` (as `skiff run`). */
  logDir?: string;
  /** Record every exchange with the engine into this directory (`engine.jsonl`, secrets redacted). */
  recordDir?: string;
  /** Serve the engine from this directory's recording instead of a daemon. */
  replayDir?: string;
  /**
   * The engine, as the docker CLI's `-H` (`host`) or `--context` (`context`): over DOCKER_HOST,
   * DOCKER_CONTEXT and the current docker context, which are used otherwise.
   */
  engine?: EngineSelection;
  /** A retry: steps whose result an earlier attempt of the run keeps; they do not run again. */
  kept?: ReadonlyMap<string, KeptStep>;
}

export interface DagRunResult {
  report: RunReport;
  runId: string;
  logDir: string;
  /** What `skiff run` exits with: 0 succeeded, 1 failed, 130 cancelled. */
  exitCode: number;
  /** The error that kept the run from starting (no engine, a bad credential store), when one did. */
  startupError?: SkiffError;
  /** Recorded requests a replayed run did not make. */
  unusedRecorded: string[];
}

/** Reads, validates and builds a DAG file; throws one DagLoadError listing every problem with its place. */
export async function loadDagFile(file: string, options: LoadDagFileOptions = {}): Promise<Dag> {
  const { loadDag } = await import('./dag/index.js');
  return loadDag(file, { params: options.params ?? [], env: options.env ?? process.env, ...(options.text !== undefined ? { text: options.text } : {}) });
}

/**
 * Runs a DAG (a file, or one loadDagFile gave). Step failures, a cancel and a run that could not
 * start are results in the report, never exceptions; a file that does not load throws its
 * DagLoadError before anything runs.
 */
export async function runDagFile(dagOrFile: Dag | string, options: RunDagOptions = {}): Promise<DagRunResult> {
  if (options.recordDir !== undefined && options.replayDir !== undefined) throw new SkiffError('usage', 'a run is either recorded or replayed, not both');
  const dag = typeof dagOrFile === 'string' ? await loadDagFile(dagOrFile, options) : dagOrFile;
  const env = options.env ?? process.env;
  const [{ runDag, exitCodeFor }, { newRunId, runDirFor }, { failedBeforeSteps }] = await Promise.all([import('./dag/scheduler.js'), import('./dag/run-dir.js'), import('./dag/report.js')]);
  const runId = options.runId ?? newRunId();
  const logDir = options.logDir ?? runDirFor(dag.name, runId, env);
  const signal = options.signal ?? new AbortController().signal;
  const cancelled = () => signal.aborted || options.forceSignal?.aborted === true;
  const unusedRecorded: string[] = [];
  let executors: ExecutorSet;
  try {
    executors = await createExecutorSet(dag, env, options, unusedRecorded, { runId, signal });
  } catch (err) {
    if (!(err instanceof SkiffError)) throw err;
    const report = failedBeforeSteps('startup', err.message, dag.steps.map((s) => s.name));
    return { report, runId, logDir, exitCode: exitCodeFor(report, cancelled()), startupError: err, unusedRecorded };
  }
  const report = await runDag({ dag, executors, runId, logDir, signal, forceSignal: options.forceSignal, onEvent: options.onEvent, follow: options.follow, env, ...(options.kept ? { kept: options.kept } : {}) });
  return { report, runId, logDir, exitCode: exitCodeFor(report, cancelled()), unusedRecorded };
}

/**
 * The executors for this run; recording and replaying choose the engine connection here. The
 * recorder or replay is owned by the returned set and closed (or checked) with it.
 */
async function createExecutorSet(dag: Dag, env: NodeJS.ProcessEnv, options: RunDagOptions, unused: string[], early: { runId: string; signal: AbortSignal }): Promise<ExecutorSet> {
  const { createExecutors } = await import('./executors/index.js');
  if (options.recordDir !== undefined) {
    const [{ RecordingDispatcher, secretsOfAuthConfig }, { createDispatcher }] = await Promise.all([import('./engine/record/index.js'), import('./engine/dispatcher.js')]);
    const dir = options.recordDir;
    let recorder: InstanceType<typeof RecordingDispatcher> | undefined;
    const set = createExecutors(dag, {
      env,
      engine: options.engine,
      reap: false,
      early,
      checkEngine: false,
      // The recorder talks to the real daemon: its PIDs are this host's (a cancelled exec is stopped).
      reachesDaemon: true,
      dispatcher: (target) => (recorder = RecordingDispatcher.forDir(dir, createDispatcher(target))),
      onCredentials: (credentials) => recorder?.addSecrets(...secretsOfAuthConfig(credentials)),
    });
    return { ...set, close: async () => {
      await set.close();
      await recorder?.close();
    } };
  }
  if (options.replayDir !== undefined) {
    const [{ ReplayDispatcher }, { skiffMatchRules }] = await Promise.all([import('./engine/replay/index.js'), import('./replay-rules.js')]);
    const replay = ReplayDispatcher.fromDir(options.replayDir, { match: skiffMatchRules });
    const set = createExecutors(dag, { env, reap: false, checkEngine: false, early, dispatcher: () => replay });
    return { ...set, close: async () => {
      await set.close();
      unused.push(...replay.unused());
    } };
  }
  return createExecutors(dag, { env, engine: options.engine, early });
}
