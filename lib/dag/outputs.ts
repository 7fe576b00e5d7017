// A step's output streams: its log files (appended, never held in memory), the bounded capture
// of stdout for `output:` (dagu-behavior.md §1.9), and the line scan continueOn.output needs.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { matchesPattern } from './status.js';

export const TRUNCATED_MARKER = '\n[OUTPUT TRUNCATED]';

/**
 * One append-only log file shared by every attempt of a step. A write error (disk full, …) is
 * remembered and later writes are dropped, so the step's process is never blocked on a pipe
 * nobody reads; the scheduler reports the error as a warning.
 */
export class LogFile {
  readonly path: string;
  readonly #stream: WriteStream;
  #error: Error | undefined;

  constructor(path: string) {
    this.path = path;
    // 1 MiB, not 16 KiB: the next chunk is read from the engine while the last ones are being
    // written (in one writev), instead of one file write per 64 KiB read, in turn.
    this.#stream = createWriteStream(path, { flags: 'a', highWaterMark: 1024 * 1024 });
    this.#stream.on('error', (err) => {
      this.#error ??= err;
    });
  }

  get error(): Error | undefined {
    return this.#error;
  }

  /** Calls `done` once the chunk is accepted (after 'drain' when the file is behind). */
  write(chunk: Buffer, done: () => void): void {
    if (this.#error || this.#stream.destroyed) return done();
    if (this.#stream.write(chunk)) return done();
    const settle = (): void => {
      this.#stream.off('drain', settle);
      this.#stream.off('error', settle);
      this.#stream.off('close', settle);
      done();
    };
    this.#stream.on('drain', settle);
    this.#stream.on('error', settle);
    this.#stream.on('close', settle);
  }

  /** Flushes and closes; never rejects (the error, if any, stays readable on `error`). */
  close(): Promise<void> {
    const stream = this.#stream;
    if (stream.closed) return Promise.resolve();
    return new Promise((resolve) => {
      stream.once('close', () => resolve());
      if (this.#error) stream.destroy();
      else stream.end();
    });
  }
}

export interface StepOutputOptions {
  file: LogFile;
  /** Keep up to this many bytes for `output:`; undefined = capture nothing. */
  captureBytes?: number;
  /** Called with every chunk (for `--follow`); must not throw. */
  onChunk?(chunk: Buffer): void;
}

/**
 * The Writable an executor gets as `ctx.stdout`/`ctx.stderr` for one attempt: each chunk goes to
 * the log file (with backpressure), to the bounded capture and to `onChunk`. Ending it does not
 * close the log file, which later attempts append to.
 */
export class StepOutput extends Writable {
  readonly #file: LogFile;
  readonly #limit: number | undefined;
  readonly #onChunk: ((chunk: Buffer) => void) | undefined;
  readonly #kept: Buffer[] = [];
  #keptBytes = 0;
  #truncated = false;

  constructor(options: StepOutputOptions) {
    super();
    this.#file = options.file;
    this.#limit = options.captureBytes;
    this.#onChunk = options.onChunk;
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), encoding);
    this.#keep(buf);
    this.#onChunk?.(buf);
    this.#file.write(buf, () => callback());
  }

  #keep(buf: Buffer): void {
    if (this.#limit === undefined || this.#truncated) return;
    const room = this.#limit - this.#keptBytes;
    if (buf.length > room) {
      if (room > 0) this.#kept.push(buf.subarray(0, room));
      this.#keptBytes = this.#limit;
      this.#truncated = true;
      return;
    }
    // Copy: the caller may reuse its buffer once the write is done.
    this.#kept.push(Buffer.from(buf));
    this.#keptBytes += buf.length;
  }

  /** The captured stdout, trimmed, with the marker when the cap was hit; undefined without capture. */
  captured(): string | undefined {
    if (this.#limit === undefined) return undefined;
    const text = Buffer.concat(this.#kept).toString('utf8').trim();
    return this.#truncated ? (text + TRUNCATED_MARKER).trimStart() : text;
  }
}

/**
 * continueOn.output (§1.6): does any line of the log file match one of the patterns? Read line by
 * line so a large log is never held whole; a missing file matches nothing.
 */
export async function logContainsPattern(file: string, patterns: readonly string[]): Promise<boolean> {
  if (patterns.length === 0) return false;
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (patterns.some((p) => matchesPattern(line, p))) return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    lines.close();
    input.destroy();
  }
}
