// Signals during a run. SIGINT (Ctrl-C), SIGTERM (a supervisor) and SIGHUP (the terminal or the
// ssh session closed) all mean "stop": the first cancels (the run's signal is aborted, the
// scheduler stops every step gracefully, runs the cancel/exit handlers and cleans up), the second
// forces (running steps and handlers are killed at once), later ones change nothing. skiff then
// exits 128 + the first signal's number, as a shell reports a process killed by it.
//
// The process-wide listeners are installed by bin/skiff.js before anything else loads and are
// never removed: a signal that arrives before the run is ready for it is kept and handed to the
// run when it starts, and one that arrives while the process winds down is ignored. Either way
// the default handler (death with no report, steps left running) is never reached.
import { SkiffError } from '../lib/common/errors.js';

export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 2);
}

export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/** The one place signals arrive; shaped so that bin/skiff.js (plain JS) can make it too. */
export interface SignalHub {
  /** Every stop signal received so far, in order. */
  readonly received: NodeJS.Signals[];
  /** Who is told of the next one; undefined: it is only recorded. */
  listener: ((signal: NodeJS.Signals) => void) | undefined;
  /** Set once a command took charge of the signals (so the exit code is its own). */
  claimed: boolean;
}

const HUB_KEY = Symbol.for('skiff.signal-hub');

/** Listens on `source` for good and returns the hub. */
export function createSignalHub(source: SignalSource): SignalHub {
  const hub: SignalHub = { received: [], listener: undefined, claimed: false };
  for (const sig of STOP_SIGNALS) {
    source.on(sig, (signal) => {
      hub.received.push(signal);
      hub.listener?.(signal);
    });
  }
  return hub;
}

/** The process's hub: the one bin/skiff.js installed, else one installed now (library callers). */
export function processSignalHub(): SignalHub {
  const global = globalThis as { [HUB_KEY]?: SignalHub };
  global[HUB_KEY] ??= createSignalHub(process);
  return global[HUB_KEY];
}

export interface Interrupts {
  /** Aborted on the first signal, with a SkiffError of kind 'aborted'. */
  readonly signal: AbortSignal;
  /** Aborted on the second signal. */
  readonly forceSignal: AbortSignal;
  /** A signal arrived: the run was cancelled by the user. */
  readonly cancelled: boolean;
  /** The signal that cancelled the run. */
  readonly cancelledBy: NodeJS.Signals | undefined;
  /** Stops listening: later signals are recorded and ignored. Idempotent. */
  dispose(): void;
}

export interface TrapOptions {
  /** Told once, on the first signal (print "cancelling…"). */
  onCancel?(signal: NodeJS.Signals): void;
  /** Told once, on the second signal. */
  onForce?(signal: NodeJS.Signals): void;
  /** Where signals come from (default: the process's hub; tests pass their own). */
  hub?: SignalHub;
}

/** Takes charge of the hub's signals, those that arrived before the call first. */
export function trapInterrupts(opts: TrapOptions = {}): Interrupts {
  const hub = opts.hub ?? processSignalHub();
  const cancel = new AbortController();
  const force = new AbortController();
  let count = 0;
  let first: NodeJS.Signals | undefined;

  const listener = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      first = signal;
      cancel.abort(new SkiffError('aborted', `cancelled by user (${signal})`));
      opts.onCancel?.(signal);
    } else if (count === 2) {
      force.abort(new SkiffError('aborted', `forced by user (${signal})`));
      opts.onForce?.(signal);
    }
    // A third signal is ignored on purpose: exiting now would leave processes and containers.
  };
  hub.claimed = true;
  for (const early of hub.received) listener(early);
  hub.listener = listener;

  let disposed = false;
  return {
    signal: cancel.signal,
    forceSignal: force.signal,
    get cancelled() {
      return count > 0;
    },
    get cancelledBy() {
      return first;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (hub.listener === listener) hub.listener = undefined;
    },
  };
}
