// How a stop reaches an executor, shared by every executor (local process, container, exec).
import { SkiffError } from '../engine/errors.js';

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
