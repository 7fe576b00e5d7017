// A swarm service's output, read from its logs (GET /services/{id}/logs, `details=1`). A followed
// service log never ends on its own (the swarm keeps it open for tasks yet to come), so it is cut
// once the tasks are done, and whatever had not arrived yet is taken from a second, unfollowed
// read of the same log, skipping the messages already written. Messages are counted per task and
// stream, and only whole messages are written, so nothing is lost or written twice. Each message
// starts with the swarm's context (`com.docker.swarm.node.id=…,…task.id=… `), dropped here
// (docs/engine-api.md §13.4).
//
// A task whose container runs on the node skiff talks to is read from that container's own log
// instead (node-logs.ts): the same messages in the same order, counted the same way, so a task
// can change source midway: the new source skips what the old one wrote, and the service log
// then passes that task's messages by.
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DemuxStream } from '../../engine/demux.js';

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

  /** Set for a container's own log: its messages carry no context, and all are this task's. */
  readonly #task: string | undefined;
  /** Tasks whose messages are taken from elsewhere (their container's log): passed by here. */
  readonly #elsewhere: (task: string) => boolean;

  /**
   * `catchUp`: skip what was written so far (a second read of the same log). `task`: the log of
   * that one task's container. `elsewhere`: tasks this log must pass by.
   */
  constructor(target: Writable, stream: 'out' | 'err', progress: LogProgress, catchUp: boolean, options: { task?: string; elsewhere?: (task: string) => boolean } = {}) {
    super();
    this.#target = target;
    this.#stream = stream;
    this.#progress = progress;
    this.#task = options.task;
    this.#elsewhere = options.elsewhere ?? (() => false);
    this.#skip = !catchUp ? new Map() : options.task === undefined ? new Map(progress.written) : new Map([[`${options.task}/${stream}`, progress.written.get(`${options.task}/${stream}`) ?? 0]]);
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
    let task = this.#task;
    let text = line;
    if (task === undefined) {
      const space = line.indexOf(32);
      const context = space === -1 ? '' : line.subarray(0, space).toString('latin1');
      const hasContext = context.includes('com.docker.swarm.');
      task = hasContext ? (/com\.docker\.swarm\.task\.id=([^,]*)/.exec(context)?.[1] ?? '') : '';
      if (hasContext) text = line.subarray(space + 1);
      if (task !== '' && this.#elsewhere(task)) return undefined;
    }
    const key = `${task}/${this.#stream}`;
    const skip = this.#skip.get(key) ?? 0;
    if (skip > 0) {
      this.#skip.set(key, skip - 1);
      return undefined;
    }
    this.#progress.written.set(key, (this.#progress.written.get(key) ?? 0) + 1);
    if (this.#target.writableEnded || this.#target.destroyed) return undefined;
    return new Promise((resolve) => this.#target.write(text, () => resolve()));
  }
}

/** Reads a framed log (stdout and stderr) into its two line writers to its end, and ends them. */
export async function readLines(body: Readable, out: ServiceLogLines, err: ServiceLogLines, signal: AbortSignal): Promise<void> {
  await pipeline(body, new DemuxStream(out, err), { signal });
  await Promise.all([endOf(out), endOf(err)]);
}

function endOf(w: Writable): Promise<void> {
  return new Promise((resolve, reject) => w.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
