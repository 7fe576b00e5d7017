// The cancel flag of an attempt: `skiff stop` writes it, the process running the attempt watches
// for it and cancels as on Ctrl-C. A file, not only a signal, so the request is durable (a stop
// that races the start of the watch is still seen) and says who asked.
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CANCEL_FILE } from './layout.js';

export async function requestCancel(attemptDir: string, by: string): Promise<void> {
  await writeFile(join(attemptDir, CANCEL_FILE), `${JSON.stringify({ by, at: new Date().toISOString() })}\n`);
}

export function cancelRequested(attemptDir: string): boolean {
  return existsSync(join(attemptDir, CANCEL_FILE));
}

// Where inotify is missing (some network file systems), the flag is looked for this often.
const POLL_MS = 500;

/**
 * Calls `onCancel` once, when the flag appears (or at once if it is there already). The returned
 * function stops watching; the watch never keeps the process alive.
 */
export function watchCancelFlag(attemptDir: string, onCancel: () => void): () => void {
  let done = false;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    done = true;
    watcher?.close();
    clearInterval(timer);
  };
  const check = (): void => {
    if (done || !cancelRequested(attemptDir)) return;
    stop();
    onCancel();
  };
  try {
    watcher = watch(attemptDir, { persistent: false }, (_event, name) => {
      if (name === null || name === CANCEL_FILE) check();
    });
    watcher.on('error', () => {
      watcher?.close();
      timer ??= setInterval(check, POLL_MS).unref();
    });
  } catch {
    timer = setInterval(check, POLL_MS).unref();
  }
  check();
  return stop;
}

/**
 * The signal `skiff stop` sends after writing the flag, to wake a run whose file watch is slow
 * (polled). Not SIGINT or SIGTERM: a stop is one graceful cancel, and the flag and the signal
 * arriving both must not count as two Ctrl-Cs (which forces). A running skiff ignores it unless
 * the flag is there.
 */
export const STOP_SIGNAL: NodeJS.Signals = 'SIGUSR2';
