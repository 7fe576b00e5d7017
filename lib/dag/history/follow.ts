// A run's step logs read as one stream of pieces, in step order, for `skiff logs`: what is there
// now, and with `follow` what the steps still write until the run ends. Files are read in slices
// from the offset reached, never whole; a slow reader slows the reading (an async generator).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StepRecord } from './record.js';
import { readRun } from './store.js';

export interface LogPiece {
  step: string;
  chunk: Buffer;
}

export interface FollowOptions {
  runDir: string;
  /** Only this step (its runtime name); default every step, then the handlers. */
  step?: string;
  stream: 'stdout' | 'stderr';
  follow: boolean;
  signal?: AbortSignal;
  pollMs?: number;
}

/** Yields the pieces of each log from where the last read stopped; ends with the run (when following) or at once. */
export async function* readStepLogs(opts: FollowOptions): AsyncGenerator<LogPiece> {
  const offsets = new Map<string, number>();
  const pollMs = opts.pollMs ?? 200;
  for (;;) {
    const run = await readRun(opts.runDir);
    if (!run) return;
    const live = run.live;
    const steps = [...run.record.steps, ...run.record.handlers].filter((s) => opts.step === undefined || s.name === opts.step);
    for (const step of steps) {
      const file = fileOf(step, opts.stream);
      if (file === null) continue;
      const from = offsets.get(file) ?? 0;
      const size = await stat(file).then((s) => s.size, () => 0);
      if (size <= from) continue;
      for await (const chunk of createReadStream(file, { start: from, end: size - 1 })) {
        if (opts.signal?.aborted) return;
        yield { step: step.name, chunk: chunk as Buffer };
      }
      offsets.set(file, size);
    }
    // One more pass after the run ended picks up its last writes.
    if (!opts.follow || !live || opts.signal?.aborted) return;
    try {
      await sleep(pollMs, undefined, opts.signal ? { signal: opts.signal } : {});
    } catch {
      return;
    }
  }
}

function fileOf(step: StepRecord, stream: 'stdout' | 'stderr'): string | null {
  return stream === 'stdout' ? step.stdoutFile : step.stderrFile;
}
