// A bounded tail of a stream, for the step error (`exit status N` + recent stderr, like Dagu's
// tail.go): the stream passes through untouched, only the last bytes are kept. Local and
// container steps alike.
import { Writable } from 'node:stream';

export class TailWriter extends Writable {
  readonly #target: Writable;
  readonly #limit: number;
  #kept: Buffer = Buffer.alloc(0);

  constructor(target: Writable, limitBytes = 4096) {
    super();
    this.#target = target;
    this.#limit = limitBytes;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // Buffer.concat copies, so the kept bytes never alias a chunk the target may reuse.
    this.#kept =
      chunk.length >= this.#limit
        ? Buffer.from(chunk.subarray(chunk.length - this.#limit))
        : Buffer.concat([this.#kept.subarray(Math.max(0, this.#kept.length - (this.#limit - chunk.length))), chunk]);
    // A target already ended (the step is over after an abort) takes nothing more: writing would
    // raise an error event nobody listens to.
    if (this.#target.writableEnded || this.#target.destroyed) return cb();
    // Called back when the target is done with the chunk, not merely when it took it: the
    // writer may reuse the chunk then (run.ts, targetsCopy). The tail itself never fails.
    this.#target.write(chunk, () => cb());
  }

  /** Resolves once every chunk written so far has reached the tail (and was passed on). */
  async settled(): Promise<void> {
    if (this.writableLength === 0) return;
    await new Promise<void>((resolve) => this.once('drain', resolve));
  }

  /** `exit status N`, plus the last lines of stderr when there were any. */
  failure(exitCode: number): string {
    const tail = this.lines();
    return `exit status ${exitCode}${tail.length ? `\nrecent stderr (tail):\n${tail.join('\n')}` : ''}`;
  }

  /** The last `lines` complete or partial lines, without trailing blank lines. */
  lines(lines = 10): string[] {
    const text = this.#kept.toString('utf8').replace(/\s+$/, '');
    if (text === '') return [];
    return text.split(/\r?\n/).slice(-lines);
  }
}
