// Pure status rules (docs/dagu-behavior.md §1.5, §1.6, §1.10): whether a step may start, whether a
// failure may be continued past, what the run's status, phase, error and exit code are.
// No I/O: the scheduler gathers the facts (exit codes, log matches) and asks these functions.
import type { ContinueOn } from '../common/model.js';
import type { FailurePhase, RunReport, RunStatus, StepStatus } from './report.js';

/** What a finished step looks like to the steps that wait for it. */
export interface FinishedStep {
  status: StepStatus;
  error: string | null;
  /** A failed step whose continueOn condition matched (without markSuccess). */
  allowed: boolean;
  continueOnSkipped: boolean;
}

export type Readiness =
  | { kind: 'run' }
  | { kind: 'aborted'; error: string | null }
  | { kind: 'skipped'; error: 'upstream skipped' };

export const UPSTREAM_FAILED = 'upstream failed';
export const UPSTREAM_SKIPPED = 'upstream skipped';

/**
 * §1.5, for a step whose dependencies have all finished. A failure (or an abort) upstream wins
 * over a skip: the waiter is aborted and never runs. An aborted dependency passes its own error
 * on (`upstream failed` keeps propagating; a step aborted by a cancel had none).
 */
export function readinessFor(deps: readonly FinishedStep[]): Readiness {
  let skipped = false;
  let aborted: { error: string | null } | undefined;
  for (const dep of deps) {
    switch (dep.status) {
      case 'succeeded':
        break;
      case 'failed':
        if (!dep.allowed) return { kind: 'aborted', error: UPSTREAM_FAILED };
        break;
      case 'skipped':
        if (!dep.continueOnSkipped) skipped = true;
        break;
      case 'aborted':
      case 'cancelled':
      case 'not_started':
        aborted ??= { error: dep.status === 'aborted' && dep.error === UPSTREAM_FAILED ? UPSTREAM_FAILED : null };
        break;
    }
  }
  if (aborted) return { kind: 'aborted', error: aborted.error };
  if (skipped) return { kind: 'skipped', error: UPSTREAM_SKIPPED };
  return { kind: 'run' };
}

/**
 * `re:…` is a regular expression searched in the text; anything else is a plain substring
 * (`equal`: the whole text must match, as preconditions compare values). A bad expression
 * matches nothing rather than failing the run.
 */
export function matchesPattern(text: string, pattern: string, mode: 'substring' | 'equal' = 'substring'): boolean {
  if (pattern.startsWith('re:')) {
    try {
      return new RegExp(pattern.slice(3)).test(text);
    } catch {
      return false;
    }
  }
  return mode === 'equal' ? text === pattern : text.includes(pattern);
}

/** The continueOn conditions that need no log file (§1.6). */
export function continueAllowedWithoutOutput(continueOn: ContinueOn, exitCode: number | null): boolean {
  return continueOn.failure || (exitCode !== null && continueOn.exitCodes.includes(exitCode));
}

/** What continueOn makes of a failed step: still failed (maybe allowed), or turned into a success. */
export function settleFailure(
  continueOn: ContinueOn,
  allowed: boolean,
): { status: 'failed' | 'succeeded'; allowed: boolean; clearError: boolean } {
  if (allowed && continueOn.markSuccess) return { status: 'succeeded', allowed: false, clearError: true };
  return { status: 'failed', allowed, clearError: false };
}

export interface RunFacts {
  steps: ReadonlyArray<{ status: StepStatus; allowed: boolean }>;
  /** The user cancelled, or the DAG timed out. */
  stopped: boolean;
  /** A handler (success/failure/cancel/exit) failed. */
  handlerFailed: boolean;
}

/** §1.10, in its order. */
export function runStatusFor(facts: RunFacts): RunStatus {
  const { steps } = facts;
  const allOk = steps.every((s) => s.status === 'succeeded' || s.status === 'skipped');
  if (facts.stopped && (!allOk || facts.handlerFailed)) return 'aborted';
  const failed = steps.filter((s) => s.status === 'failed');
  if (failed.length > 0) {
    const allAllowed = failed.every((s) => s.allowed);
    // One step that failed "allowed" and nothing that succeeded is still a failure (§1.10).
    if (allAllowed && steps.some((s) => s.status === 'succeeded') && !facts.handlerFailed) return 'partially_succeeded';
    return 'failed';
  }
  if (steps.some((s) => s.status === 'aborted' || s.status === 'cancelled')) return facts.stopped ? 'aborted' : 'failed';
  return facts.handlerFailed ? 'failed' : 'succeeded';
}

/**
 * The exit code a retryPolicy decision uses (§1.7): parsed from the error text `exit status N`;
 * anything else (a docker exec's `exec failed with exit code: N`, a thrown error) counts as 1.
 */
export function retryExitCode(error: string): number {
  const match = /exit status (\d+)/.exec(error);
  return match ? Number(match[1]) : 1;
}

/** Whether a failed attempt is retried: attempts left, and the code listed (or no list). */
export function shouldRetry(policy: { limit: number; exitCodes: readonly number[] }, attempt: number, error: string): boolean {
  if (attempt > policy.limit) return false;
  return policy.exitCodes.length === 0 || policy.exitCodes.includes(retryExitCode(error));
}

/** The wait before attempt `attempt + 1`: interval × backoff^(attempt-1), capped by maxIntervalSec. */
export function retryDelayMs(policy: { intervalSec: number; backoff: number; maxIntervalSec?: number }, attempt: number): number {
  const factor = policy.backoff > 1 ? policy.backoff ** (attempt - 1) : 1;
  let seconds = policy.intervalSec * factor;
  if (policy.maxIntervalSec !== undefined && policy.maxIntervalSec > 0) seconds = Math.min(seconds, policy.maxIntervalSec);
  return Math.max(0, Math.round(seconds * 1000));
}

/** Where a run failed: null on success and for runs stopped without a failure (cancel, DAG precondition). */
export function phaseFor(status: RunStatus, somethingFailed: boolean): FailurePhase | null {
  if (status === 'succeeded') return null;
  return somethingFailed ? 'step' : null;
}

/**
 * The process exit code for `skiff run` (§1.10): 130 after a cancel; 0 only for a clean success;
 * 1 whenever a step error was recorded (partial success and continueOn-allowed failures included;
 * a step turned into a success by markSuccess records none).
 */
export function exitCodeFor(report: RunReport, cancelled: boolean): number {
  if (cancelled) return 130;
  if (report.status !== 'succeeded') return 1;
  return report.steps.some((s) => s.status === 'failed') ? 1 : 0;
}
