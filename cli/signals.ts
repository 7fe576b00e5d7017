// Ctrl-C during a run. The first SIGINT/SIGTERM cancels: the run's signal is aborted and the
// scheduler stops every step gracefully, runs the cancel/exit handlers and cleans up. The second
// forces: running steps (and handlers) are killed at once. Later ones change nothing. The
// process never exits on its own here: runDag returns only once everything it started has
// stopped, and the CLI then exits 130.
import { SkiffError } from '../lib/common/errors.js';

const TRAPPED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface Interrupts {
  /** Aborted on the first signal, with a SkiffError of kind 'aborted'. */
  readonly signal: AbortSignal;
  /** Aborted on the second signal. */
  readonly forceSignal: AbortSignal;
  /** A signal arrived: the run was cancelled by the user. */
  readonly cancelled: boolean;
  /** Removes the listeners (signals get their default behaviour back). Idempotent. */
  dispose(): void;
}

export interface TrapOptions {
  /** Told once, on the first signal (print "cancelling…"). */
  onCancel?(signal: NodeJS.Signals): void;
  /** Told once, on the second signal. */
  onForce?(signal: NodeJS.Signals): void;
  /** Where signals come from (default: the process; tests pass an EventEmitter). */
  source?: SignalSource;
}

export function trapInterrupts(opts: TrapOptions = {}): Interrupts {
  const source: SignalSource = opts.source ?? process;
  const cancel = new AbortController();
  const force = new AbortController();
  let count = 0;

  const listener = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      cancel.abort(new SkiffError('aborted', `cancelled by user (${signal})`));
      opts.onCancel?.(signal);
    } else if (count === 2) {
      force.abort(new SkiffError('aborted', `forced by user (${signal})`));
      opts.onForce?.(signal);
    }
    // A third signal is ignored on purpose: exiting now would leave processes and containers.
  };
  for (const sig of TRAPPED) source.on(sig, listener);

  let disposed = false;
  return {
    signal: cancel.signal,
    forceSignal: force.signal,
    get cancelled() {
      return count > 0;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const sig of TRAPPED) source.off(sig, listener);
    },
  };
}
