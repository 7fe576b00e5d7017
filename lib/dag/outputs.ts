// A step's output streams: its log files (appended, never held in memory), the bounded capture
// of stdout for `output:` (docs/dagu-behavior.md §1.9), and the line scan continueOn.output needs.
import { close as fsClose, createReadStream, open as fsOpen, write as fsWrite } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { matchesPattern } from './status.js';

export const TRUNCATED_MARKER = '\n[OUTPUT TRUNCATED]';

const STAGING_BYTES = 256 * 1024;
// How long a partly filled staging buffer may wait for more output before it is written anyway.
// Each write is a round trip through libuv's thread pool (a wake-up on both sides): written as
// each read came in, 1 GiB of output took ~20 000 of them and moved ~20 % slower.
const FLUSH_DELAY_MS = 5;

/**
 * One append-only log file shared by every attempt of a step. Chunks are copied into one of two
 * staging buffers and written from there, so a caller may reuse a chunk as soon as its write is
 * called back (an executor reads container output into one reused buffer) and a fast producer
 * gets one file write per staging buffer, not one per chunk. A partly filled buffer goes out
 * FLUSH_DELAY_MS after the file falls idle, so the log stays current within a few ms. A write
 * error (disk full, ...) is remembered and later writes are dropped, so the step's process is
 * never blocked on a pipe nobody reads; the scheduler reports the error as a warning.
 */
export class LogFile {
  readonly path: string;
  readonly #fd: Promise<number | undefined>;
  readonly #free: Buffer[] = [];
  #allocated = 0;
  #filling: Staged | undefined;
  /** Full staging buffers, in file order, behind the one being written. */
  readonly #ready: Staged[] = [];
  #writing = false;
  /** Writes waiting for a staging buffer, in file order. */
  readonly #waiting: Array<() => void> = [];
  readonly #idle: Array<() => void> = [];
  /** Set when the buffer being filled may be written before it is full: its delay ran out, or close(). */
  #due = false;
  #closing = false;
  #timer: NodeJS.Timeout | undefined;
  #error: Error | undefined;

  constructor(path: string) {
    this.path = path;
    this.#fd = new Promise((resolve) => {
      fsOpen(path, 'a', (err, fd) => {
        if (err) this.#error ??= err;
        resolve(err ? undefined : fd);
      });
    });
  }

  get error(): Error | undefined {
    return this.#error;
  }

  /** Calls `done` once the chunk is copied (after a staging buffer frees up when the file is behind). */
  write(chunk: Buffer, done: () => void): void {
    if (this.#waiting.length > 0) this.#waiting.push(() => this.#copy(chunk, done));
    else this.#copy(chunk, done);
  }

  /** Writes what is staged, then closes; never rejects (the error, if any, stays readable on `error`). */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    this.#flush();
    while (this.#writing || this.#waiting.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    const fd = await this.#fd;
    if (fd !== undefined) await new Promise<void>((resolve) => fsClose(fd, () => resolve()));
  }

  #copy(chunk: Buffer, done: () => void): void {
    let offset = 0;
    while (offset < chunk.length && !this.#error) {
      this.#filling ??= this.#take();
      if (!this.#filling) {
        const rest = chunk.subarray(offset);
        // First in line: whatever else waits was written after this chunk.
        this.#waiting.unshift(() => this.#copy(rest, done));
        this.#flush();
        return;
      }
      const staged = this.#filling;
      const n = chunk.copy(staged.buf, staged.len, offset);
      staged.len += n;
      offset += n;
      if (staged.len === staged.buf.length) {
        this.#ready.push(staged);
        this.#filling = undefined;
        this.#notDue();
      }
    }
    this.#flush();
    done();
  }

  #take(): Staged | undefined {
    let buf = this.#free.pop();
    if (!buf && this.#allocated < 2) {
      this.#allocated++;
      buf = Buffer.allocUnsafe(STAGING_BYTES);
    }
    return buf && { buf, len: 0 };
  }

  /** Starts the next write when none is running: a full buffer first, else what is being filled. */
  #flush(): void {
    if (this.#writing) return;
    let next = this.#ready.shift();
    if (!next && this.#filling && this.#filling.len > 0) {
      if (!this.#due && !this.#closing) {
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          this.#due = true;
          this.#flush();
        }, FLUSH_DELAY_MS);
        return;
      }
      next = this.#filling;
      this.#filling = undefined;
      this.#notDue();
    }
    if (!next) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    const staged = next;
    this.#writing = true;
    void this.#writeAll(staged.buf.subarray(0, staged.len)).then(() => {
      this.#writing = false;
      this.#free.push(staged.buf);
      while (this.#waiting.length > 0 && (this.#error || this.#free.length > 0 || this.#filling)) this.#waiting.shift()!();
      this.#flush();
    });
  }

  /** The buffer being filled went out (full or due): the next one starts its own delay. */
  #notDue(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = false;
  }

  async #writeAll(data: Buffer): Promise<void> {
    const fd = await this.#fd;
    let offset = 0;
    while (fd !== undefined && offset < data.length && !this.#error) {
      try {
        offset += await new Promise<number>((resolve, reject) => fsWrite(fd, data, offset, data.length - offset, null, (err, n) => (err ? reject(err) : resolve(n))));
      } catch (err) {
        this.#error ??= err as Error;
      }
    }
  }
}

interface Staged {
  buf: Buffer;
  len: number;
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
 * the log file (with backpressure), to the bounded capture and to `onChunk`. Everything it keeps
 * is a copy, so the writer may reuse a chunk once its write is called back. Ending it does not
 * close the log file, which later attempts append to.
 */
export class StepOutput extends Writable {
  readonly #file: LogFile;
  readonly #limit: number | undefined;
  readonly #onChunk: ((chunk: Buffer) => void) | undefined;
  readonly #kept: Buffer[] = [];
  #keptBytes = 0;
  #seenBytes = 0;
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
    // A copy: the writer may reuse its buffer once this write is called back, and a listener
    // (the --follow renderer) may hold on to the chunk longer.
    this.#onChunk?.(Buffer.from(buf));
    this.#file.write(buf, () => callback());
  }

  #keep(buf: Buffer): void {
    this.#seenBytes += buf.length;
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

  /** Where the capture was cut: the bytes kept and the bytes written; undefined when it was not. */
  cut(): { keptBytes: number; writtenBytes: number } | undefined {
    return this.#truncated ? { keptBytes: this.#keptBytes, writtenBytes: this.#seenBytes } : undefined;
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
