// The writing side of a run's history: opens an attempt (its directory, the pid file, the
// definition snapshot on a first start) and appends a status record as the run's events come in.
// Appends are queued, so records land in event order without blocking the run.
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent } from '../events.js';
import type { Dag } from '../model.js';
import { stepLogPaths } from '../run-dir.js';
import { DEFINITION_FILE, PID_FILE, STATUS_FILE, attemptDir, runDirFor, type Definition } from './layout.js';
import { writePidFile } from './liveness.js';
import { newRunRecord, runEnded, stepEnded, stepStarted, type RunRecord, type StepRecord, type Trigger } from './record.js';

export interface OpenAttemptOptions {
  dag: Dag;
  runId: string;
  trigger: Trigger;
  params: string[];
  /** The DAG file's text, snapshotted for a first start (`start`, `restart`); a retry has it already. */
  text?: string;
  /** Steps a retry keeps from the earlier attempt. */
  kept?: ReadonlyMap<string, StepRecord>;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}

export class AttemptRecorder {
  readonly runDir: string;
  readonly dir: string;
  readonly attempt: number;
  readonly #record: RunRecord;
  readonly #dag: Dag;
  readonly #now: () => Date;
  #queue: Promise<void> = Promise.resolve();
  #error: Error | undefined;

  private constructor(runDir: string, attempt: number, record: RunRecord, dag: Dag, now: () => Date) {
    this.runDir = runDir;
    this.attempt = attempt;
    this.dir = attemptDir(runDir, attempt);
    this.#record = record;
    this.#dag = dag;
    this.#now = now;
  }

  /** Creates the attempt's directory (the next free number), the pid file and the first record. */
  static async open(opts: OpenAttemptOptions): Promise<AttemptRecorder> {
    const now = opts.now ?? (() => new Date());
    const runDir = runDirFor(opts.dag.name, opts.runId, opts.env);
    await mkdir(join(runDir, 'attempts'), { recursive: true });
    if (opts.text !== undefined) {
      const definition: Definition = { dag: opts.dag.name, runId: opts.runId, file: opts.dag.file, text: opts.text, params: opts.params, createdAt: now().toISOString() };
      await writeFile(join(runDir, DEFINITION_FILE), `${JSON.stringify(definition, null, 2)}\n`);
    }
    const attempt = await claimAttempt(runDir);
    const record = newRunRecord({ dag: opts.dag, runId: opts.runId, attempt, trigger: opts.trigger, pid: process.pid, params: opts.params, now: now(), ...(opts.kept ? { kept: opts.kept } : {}) });
    const recorder = new AttemptRecorder(runDir, attempt, record, opts.dag, now);
    await writePidFile(join(recorder.dir, PID_FILE));
    recorder.#append();
    await recorder.#queue;
    if (recorder.#error) throw recorder.#error;
    return recorder;
  }

  /** The first write error, if any (later records were dropped). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Feed it every RunEvent; it never throws. */
  onEvent(ev: RunEvent): void {
    const now = this.#now();
    switch (ev.type) {
      case 'step-start': {
        const step = ev.handler ? Object.values(this.#dag.handlerOn).find((h) => h?.name === ev.step) : this.#dag.steps.find((s) => s.name === ev.step);
        if (!step) return;
        stepStarted(this.#record, step, ev.handler, ev.attempt - 1, stepLogPaths(this.dir, ev.step), now);
        break;
      }
      case 'step-end':
        // A kept step's record is the earlier attempt's, as it is.
        if (ev.kept) return;
        stepEnded(this.#record, ev.step, ev.handler, ev, now);
        break;
      case 'run-end':
        runEnded(this.#record, ev.report, now);
        break;
      default:
        return;
    }
    this.#append();
  }

  /** Waits until every record is on disk. */
  async close(): Promise<void> {
    await this.#queue;
  }

  #append(): void {
    const line = `${JSON.stringify(this.#record)}\n`;
    const file = join(this.dir, STATUS_FILE);
    this.#queue = this.#queue.then(async () => {
      if (this.#error) return;
      try {
        await appendFile(file, line);
      } catch (err) {
        this.#error = err as Error;
      }
    });
  }
}

/** The next attempt number, claimed with an exclusive mkdir so two retries never share one. */
async function claimAttempt(runDir: string): Promise<number> {
  const existing = (await readdir(join(runDir, 'attempts'))).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  for (let n = Math.max(0, ...existing) + 1; ; n++) {
    try {
      await mkdir(attemptDir(runDir, n));
      return n;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
