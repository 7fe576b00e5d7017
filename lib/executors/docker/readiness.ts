// Is the DAG-level container ready (docs/dagu-behavior.md §4.4)? `waitFor` running or healthy, then
// an optional log pattern, all under one budget. Errors state the last thing observed, in
// Dagu's wording, so a user sees why it never became ready.
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EngineApi } from '../../engine/facets.js';
import type { ContainerInfo } from '../../engine/containers.js';
import { DemuxStream } from '../../engine/demux.js';
import { SkiffError } from '../../common/errors.js';
import { compileLogPattern } from '../../common/log-pattern.js';

export const READINESS_BUDGET_MS = 120_000;
const POLL_MS = 200;
const MAX_LINE_BYTES = 1024 * 1024;

export interface ReadinessOptions {
  waitFor: 'running' | 'healthy';
  logPattern?: string;
  tty: boolean;
  /** The run's signal; the budget is added to it here. */
  signal: AbortSignal;
  budgetMs?: number;
  /**
   * Wait this long before the first look (Dagu waits 0.5 s). An image's own command that exits
   * at once would otherwise still be seen "running"; skiff's keepalive loop needs no such wait.
   */
  firstCheckAfterMs?: number;
  warn(message: string): void;
}

export async function waitReady(engine: EngineApi, id: string, options: ReadinessOptions): Promise<void> {
  const budget = AbortSignal.timeout(options.budgetMs ?? READINESS_BUDGET_MS);
  const signal = AbortSignal.any([options.signal, budget]);
  const short = id.slice(0, 12);
  let last: ContainerInfo | undefined;
  let mode = options.waitFor;
  try {
    if (options.firstCheckAfterMs) await sleep(options.firstCheckAfterMs, undefined, { signal });
    for (;;) {
      last = await engine.containers.inspect(id, { signal });
      const state = last.State;
      if (['exited', 'dead', 'removing'].includes(state.Status)) {
        throw new SkiffError('engine', `container ${short} not running; status=${state.Status}, exitCode=${state.ExitCode}`);
      }
      if (mode === 'healthy' && !state.Health) {
        options.warn('Selected waitFor=healthy but image has no healthcheck; falling back to running');
        mode = 'running';
      }
      if (mode === 'running' ? state.Running : state.Health?.Status === 'healthy') break;
      await sleep(POLL_MS, undefined, { signal });
    }
    if (options.logPattern && options.logPattern.trim() !== '') await waitForLog(engine, id, options.logPattern, options.tty, signal);
  } catch (err) {
    if (!budget.aborted || options.signal.aborted) throw err;
    const observed =
      options.logPattern && last?.State.Running && (mode === 'running' || last.State.Health?.Status === 'healthy')
        ? `logPattern; pattern=${JSON.stringify(options.logPattern)}`
        : mode === 'healthy'
          ? `healthy; last health=${last?.State.Health?.Status ?? 'unknown'}`
          : `running; last state=running=${last?.State.Running ?? false},status=${last?.State.Status ?? 'unknown'}`;
    throw new SkiffError('timeout', `readiness timeout waiting for ${observed}: context deadline exceeded`, { cause: err });
  }
}

/**
 * Follows the logs from the start (stdout and stderr merged, as Dagu reads them); the first line
 * matching anywhere ends the wait and closes the log stream. The stream ending first is an error.
 */
async function waitForLog(engine: EngineApi, id: string, pattern: string, tty: boolean, signal: AbortSignal): Promise<void> {
  const regex = compileLogPattern(pattern);
  const logs = await engine.containers.logs(id, { follow: true, stdout: true, stderr: true }, { signal });
  let matched = false;
  let partial = '';
  const check = (line: string): void => {
    if (!matched && regex.test(line.replace(/\r$/, ''))) matched = true;
  };
  // Never fails: an error here would not reach the pipeline (DemuxStream writes to it on the
  // side) and would crash the process. A match stops the stream from the reading end instead.
  const lines = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!matched) {
        partial += chunk.toString('utf8');
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        if (partial.length > MAX_LINE_BYTES) partial = partial.slice(-MAX_LINE_BYTES);
        for (const line of parts) check(line);
      }
      cb();
      if (matched) logs.destroy();
    },
  });
  try {
    await pipeline(logs, tty ? lines : new DemuxStream(lines, lines));
  } catch (err) {
    if (!matched) throw err;
  }
  // A last line without a newline, if the engine delivers one (20.10 drops it from followed
  // logs, observed): DemuxStream never ends `lines`, so it is looked at here.
  if (partial !== '') check(partial);
  if (!matched) throw new SkiffError('engine', `log stream ended before pattern matched: ${JSON.stringify(pattern)}`);
}
