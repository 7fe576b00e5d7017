// `skiff stop` (docs/run-history.md §4): ask the process running an attempt to cancel as on
// Ctrl-C (cancel flag, then a wake-up signal to its pid), and wait until its record is final.
import { setTimeout as sleep } from 'node:timers/promises';
import { SkiffError } from '../../common/errors.js';
import { STOP_SIGNAL, requestCancel } from './cancel.js';
import { readRun, type StoredRun } from './store.js';

export interface StopOptions {
  /** Give up waiting after this long (the run goes on stopping; nothing is killed). */
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Who asked (kept in the flag file). */
  by?: string;
}

/** Resolves with the run as it ended; throws a `timeout` SkiffError when it is still running at the deadline. */
export async function stopRun(run: StoredRun, opts: StopOptions): Promise<StoredRun> {
  if (!run.live || !run.pid) return run;
  await requestCancel(run.attemptDir, opts.by ?? `skiff stop (pid ${process.pid})`);
  try {
    process.kill(run.pid.pid, STOP_SIGNAL);
  } catch {
    // Gone already: the record says how it ended (or is repaired when read).
  }
  return waitForEnd(run, opts);
}

/** Polls the run's record until it is no longer running. */
export async function waitForEnd(run: StoredRun, opts: StopOptions): Promise<StoredRun> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const now = await readRun(run.dir);
    if (!now || !now.live) return now ?? run;
    if (Date.now() > deadline) {
      throw new SkiffError('timeout', `run ${run.runId} of ${run.record.dag} is still stopping after ${Math.round(opts.timeoutMs / 1000)}s (pid ${run.pid?.pid})`, {
        hint: 'its steps may take longer to stop; `skiff status` shows how far it got',
      });
    }
    await sleep(opts.pollMs ?? 100, undefined, opts.signal ? { signal: opts.signal } : {});
  }
}
