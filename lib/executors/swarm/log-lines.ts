// A swarm service's output, read from its logs (GET /services/{id}/logs, `details=1`). A followed
// service log never ends on its own (the swarm keeps it open for tasks yet to come), so it is cut
// once the tasks are done, and whatever had not arrived yet is taken from a second, unfollowed
// read of the same log, skipping the messages already written. Messages are counted per task and
// stream, and only whole messages are written, so nothing is lost or written twice. Each message
// starts with the swarm's context (`com.docker.swarm.node.id=…,…task.id=… `), dropped here
// (docs/engine-api.md §13.4).
import { Writable } from 'node:stream';

/** Counts of messages written, per task and stream, shared by the followed and the catch-up read. */
export class LogProgress {
  readonly written = new Map<string, number>();
}

/** One stream (stdout or stderr) of a service log, demultiplexed, into its target. */
export class ServiceLogLines extends Writable {
  readonly #target: Writable;
  readonly #stream: 'out' | 'err';
  readonly #progress: LogProgress;
  /** Messages to skip per task (the catch-up read): those the followed read already wrote. */
  readonly #skip: Map<string, number>;
  #partial: Buffer[] = [];

  constructor(target: Writable, stream: 'out' | 'err', progress: LogProgress, catchUp: boolean) {
    super();
    this.#target = target;
    this.#stream = stream;
    this.#progress = progress;
    this.#skip = catchUp ? new Map(progress.written) : new Map();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let start = 0;
    const writes: Promise<void>[] = [];
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl + 1);
      const line = this.#partial.length ? Buffer.concat([...this.#partial, piece]) : piece;
      this.#partial = [];
      start = nl + 1;
      const write = this.#message(line);
      if (write) writes.push(write);
    }
    // Copied: the chunk may be reused once this write is called back.
    if (start < chunk.length) this.#partial.push(Buffer.from(chunk.subarray(start)));
    if (writes.length === 0) cb();
    else Promise.all(writes).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    // A last message without a newline (a followed read is cut, never ended: this is the end of
    // a complete read).
    if (this.#partial.length) {
      const write = this.#message(Buffer.concat(this.#partial));
      this.#partial = [];
      if (write) return void write.then(() => cb(), cb);
    }
    cb();
  }

  #message(line: Buffer): Promise<void> | undefined {
    const space = line.indexOf(32);
    const context = space === -1 ? '' : line.subarray(0, space).toString('latin1');
    const hasContext = context.includes('com.docker.swarm.');
    const task = hasContext ? (/com\.docker\.swarm\.task\.id=([^,]*)/.exec(context)?.[1] ?? '') : '';
    const key = `${task}/${this.#stream}`;
    const skip = this.#skip.get(key) ?? 0;
    if (skip > 0) {
      this.#skip.set(key, skip - 1);
      return undefined;
    }
    this.#progress.written.set(key, (this.#progress.written.get(key) ?? 0) + 1);
    const text = hasContext ? line.subarray(space + 1) : line;
    if (this.#target.writableEnded || this.#target.destroyed) return undefined;
    return new Promise((resolve) => this.#target.write(text, () => resolve()));
  }
}
