// The writing side of a run's history: opens an attempt (its directory, the pid file, the
// definition snapshot on a first start) and appends a status record as the run's events come in,
// without blocking the run.
import { appendFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunEvent } from '../events.js';
import type { Dag } from '../../common/model.js';
import { stepLogPaths } from '../run-dir.js';
import { redactDefinitionText } from './redact.js';
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
  #writing: Promise<void> | undefined;
  #dirty = false;
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
      const { text, redacted } = redactDefinitionText(opts.text);
      const definition: Definition = { dag: opts.dag.name, runId: opts.runId, file: opts.dag.file, text, params: opts.params, createdAt: now().toISOString(), ...(redacted.length > 0 ? { redacted } : {}) };
      // Registry credentials are taken out; the file may still hold others (env): owner only.
      await writeFile(join(runDir, DEFINITION_FILE), `${JSON.stringify(definition, null, 2)}\n`, { mode: 0o600 });
    }
    const attempt = await claimAttempt(runDir);
    const record = newRunRecord({ dag: opts.dag, runId: opts.runId, attempt, trigger: opts.trigger, pid: process.pid, params: opts.params, now: now(), ...(opts.kept ? { kept: opts.kept } : {}) });
    const recorder = new AttemptRecorder(runDir, attempt, record, opts.dag, now);
    await writePidFile(join(recorder.dir, PID_FILE));
    recorder.#append();
    await recorder.#writing;
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

  /**
   * Waits until the last record is on disk, then compacts the file to that one record (readers
   * only ever want the last line; a long run's file would otherwise keep every state it passed).
   */
  async close(): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#error) return;
    const file = join(this.dir, STATUS_FILE);
    const temp = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(temp, `${JSON.stringify(this.#record)}\n`);
      await rename(temp, file);
    } catch {
      // The appended file is still whole and its last line current.
      await rm(temp, { force: true });
    }
  }

  /**
   * Appends the current record. A write in flight is not queued behind: when it ends, the latest
   * record is written once, so a burst of events costs one write, not one each.
   */
  #append(): void {
    this.#dirty = true;
    this.#writing ??= this.#flush();
  }

  async #flush(): Promise<void> {
    const file = join(this.dir, STATUS_FILE);
    while (this.#dirty && !this.#error) {
      const started = Date.now();
      this.#dirty = false;
      try {
        await appendFile(file, `${JSON.stringify(this.#record)}\n`);
      } catch (err) {
        this.#error = err as Error;
      }
      // At most one record per interval: each holds every step, so a DAG of many short steps
      // would otherwise spend its time serialising them. Readers are that much behind at worst.
      const wait = MIN_INTERVAL_MS - (Date.now() - started);
      if (this.#dirty && wait > 0) await sleep(wait);
    }
    this.#writing = undefined;
  }
}

const MIN_INTERVAL_MS = 50;

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
