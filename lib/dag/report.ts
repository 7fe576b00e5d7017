// The run report (`skiff run --report FILE`): the shape CI and the conformance suite read.
// Its shape is a contract with users, documented in the README; change neither without the other.

export type RunStatus = 'succeeded' | 'partially_succeeded' | 'failed' | 'aborted';
export type StepStatus = 'succeeded' | 'failed' | 'aborted' | 'skipped' | 'not_started' | 'cancelled';
export type FailurePhase = 'load' | 'startup' | 'step';

export interface StepReport {
  name: string;
  status: StepStatus;
  exitCode: number | null;
  error: string | null;
  /** Absolute paths; null for a step that never ran. */
  stdoutFile: string | null;
  stderrFile: string | null;
  outputs: Record<string, string>;
}

/** A handler that ran (onSuccess, onFailure, onCancel, onExit), in the order they ran. */
export interface HandlerReport extends Omit<StepReport, 'outputs'> {
  on: 'success' | 'failure' | 'cancel' | 'exit';
}

export interface RunReport {
  status: RunStatus;
  /** Where a failed run failed; null on success. */
  phase: FailurePhase | null;
  /**
   * The load or start-up error, else the error of the step that made the run fail, named:
   * `step "compile": exit status 2` (a failure continueOn allowed only when no other failed).
   */
  error: string | null;
  /** Every step in file order (handlers are not listed here). */
  steps: StepReport[];
  /** The handlers that ran; none before the steps could start. */
  handlers: HandlerReport[];
}

/** The report of a run that failed before any step could run. */
export function failedBeforeSteps(phase: 'load' | 'startup', error: string, stepNames: string[] = []): RunReport {
  return {
    status: 'failed',
    phase,
    error,
    steps: stepNames.map((name) => ({ name, status: 'not_started', exitCode: null, error: null, stdoutFile: null, stderrFile: null, outputs: {} })),
    handlers: [],
  };
}
