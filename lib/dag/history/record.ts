// The status record of one attempt of a run: what `status`, `history`, `logs` and `retry` read.
// An attempt's records are appended to its `status.jsonl` as the run goes on (the last line is
// the current state), so a reader never needs the running process. Pure data and pure updates.
import type { Command, Dag, Step } from '../../common/model.js';
import type { FailurePhase, RunReport, RunStatus, StepStatus } from '../report.js';

export type RecordedRunStatus = RunStatus | 'running';
export type RecordedStepStatus = StepStatus | 'running';
/** What made the attempt: a `skiff run`, a `skiff retry` of the same run, a `skiff restart` (new run). */
export type Trigger = 'start' | 'retry' | 'restart';

export interface StepRecord {
  name: string;
  status: RecordedStepStatus;
  /** ISO times; null until the step starts / ends. */
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  error: string | null;
  stdoutFile: string | null;
  stderrFile: string | null;
  outputs: Record<string, string>;
  /** The command as written (shell text, or argv joined by spaces); null without one. */
  command: string | null;
  /** How many times the step's retryPolicy ran it again. */
  retries: number;
  /** The attempt whose result this is: lower than the record's own attempt when a retry kept it. */
  attempt: number;
}

export interface RunRecord {
  dag: string;
  runId: string;
  attempt: number;
  trigger: Trigger;
  status: RecordedRunStatus;
  phase: FailurePhase | null;
  error: string | null;
  /** The skiff process that runs (ran) the attempt. */
  pid: number;
  /** Absolute path of the DAG file the run was started from. */
  file: string;
  params: string[];
  startedAt: string;
  finishedAt: string | null;
  steps: StepRecord[];
  /** Handlers that ran, in the order they ran. */
  handlers: StepRecord[];
}

export function commandText(command: Command | undefined): string | null {
  if (!command) return null;
  return command.form === 'shell' ? command.script : command.argv.join(' ');
}

export function emptyStepRecord(step: Step, attempt: number): StepRecord {
  return {
    name: step.name,
    status: 'not_started',
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    error: null,
    stdoutFile: null,
    stderrFile: null,
    outputs: {},
    command: commandText(step.command),
    retries: 0,
    attempt,
  };
}

export interface NewRecord {
  dag: Dag;
  runId: string;
  attempt: number;
  trigger: Trigger;
  pid: number;
  params: string[];
  now: Date;
  /** Steps a retry keeps from the earlier attempt, by name. */
  kept?: ReadonlyMap<string, StepRecord>;
}

export function newRunRecord(r: NewRecord): RunRecord {
  return {
    dag: r.dag.name,
    runId: r.runId,
    attempt: r.attempt,
    trigger: r.trigger,
    status: 'running',
    phase: null,
    error: null,
    pid: r.pid,
    file: r.dag.file,
    params: r.params,
    startedAt: r.now.toISOString(),
    finishedAt: null,
    steps: r.dag.steps.map((s) => r.kept?.get(s.name) ?? emptyStepRecord(s, r.attempt)),
    handlers: [],
  };
}

/** A step (or handler) started, or started again after a retryPolicy wait. */
export function stepStarted(record: RunRecord, step: Step, handler: boolean, retry: number, paths: { stdout: string; stderr: string }, now: Date): void {
  let rec = (handler ? record.handlers : record.steps).find((s) => s.name === step.name);
  if (!rec) {
    rec = emptyStepRecord(step, record.attempt);
    record.handlers.push(rec);
  }
  if (retry === 0) rec.startedAt = now.toISOString();
  rec.status = 'running';
  rec.retries = retry;
  rec.attempt = record.attempt;
  rec.stdoutFile = paths.stdout;
  rec.stderrFile = paths.stderr;
}

export function stepEnded(
  record: RunRecord,
  name: string,
  handler: boolean,
  end: { status: StepStatus | 'partially_succeeded'; exitCode: number | null; error: string | null },
  now: Date,
): void {
  const rec = (handler ? record.handlers : record.steps).find((s) => s.name === name);
  if (!rec) return;
  // A step that never started (aborted upstream) still belongs to this attempt.
  rec.attempt = record.attempt;
  rec.status = end.status === 'partially_succeeded' ? 'succeeded' : end.status;
  rec.exitCode = end.exitCode;
  rec.error = end.error;
  rec.finishedAt = now.toISOString();
  if (rec.startedAt === null) {
    rec.stdoutFile = null;
    rec.stderrFile = null;
  }
}

/** The run ended: the report is the final word on statuses, log files and outputs. */
export function runEnded(record: RunRecord, report: RunReport, now: Date): void {
  record.status = report.status;
  record.phase = report.phase;
  record.error = report.error;
  record.finishedAt = now.toISOString();
  for (const step of report.steps) {
    const rec = record.steps.find((s) => s.name === step.name);
    if (!rec) continue;
    rec.status = step.status;
    rec.exitCode = step.exitCode;
    rec.error = step.error;
    rec.stdoutFile = step.stdoutFile;
    rec.stderrFile = step.stderrFile;
    rec.outputs = step.outputs;
  }
  // Nothing is running once the run has ended (a step the report does not list, a handler).
  for (const rec of [...record.steps, ...record.handlers]) if (rec.status === 'running') rec.status = 'aborted';
}

/** The record of an attempt whose process died: running work becomes failed, with why. */
export function repaired(record: RunRecord, finishedAt: Date): RunRecord {
  const error = `the skiff process (pid ${record.pid}) ended before the run finished`;
  const fix = (s: StepRecord): StepRecord => (s.status === 'running' ? { ...s, status: 'failed', error, finishedAt: finishedAt.toISOString() } : s);
  return {
    ...record,
    status: 'failed',
    phase: 'step',
    error,
    finishedAt: finishedAt.toISOString(),
    steps: record.steps.map(fix),
    handlers: record.handlers.map(fix),
  };
}
