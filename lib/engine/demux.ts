// Docker's multiplexed (non-TTY) stream framing, docs/engine-api.md §8.1: an 8-byte header
// (type, three zero bytes, big-endian uint32 length) before each payload.
//
// Error convention: `Demuxer.write()` and `Demuxer.end()` throw a SkiffError synchronously
// (kind 'protocol') when the bytes are not a valid framed stream. A type-3 frame is not a
// framing error but a message from the daemon, so it goes to `onSystemError` instead of being
// thrown; `DemuxStream` turns it into a stream error of kind 'engine'. After either, the
// demuxer has nothing trustworthy left to parse and ignores further input.

import { Writable } from 'node:stream';
import { SkiffError } from './errors.js';

const HEADER_BYTES = 8;
const STDIN = 0; // the daemon echoes stdin with type 0; the CLI shows it on stdout
const STDERR = 2;
const SYSTEM_ERROR = 3;

export interface DemuxSink {
  /** Payload bytes of a stdout (or stdin-echo) frame; a slice of the written chunk, not a copy. */
  onStdout(buf: Buffer): boolean | void;
  /** Payload bytes of a stderr frame; a slice of the written chunk, not a copy. */
  onStderr(buf: Buffer): boolean | void;
  /** The whole text of a type-3 frame; the stream ends here. */
  onSystemError(message: string): void;
}

export class Demuxer {
  readonly #sink: DemuxSink;
  // Only header bytes are ever buffered: payloads go to the sink as slices of the caller's chunk.
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerFill = 0;
  #type = STDIN;
  #payloadLeft = 0;
  #systemErrorParts: Buffer[] = [];
  #offset = 0; // stream position of the chunk being parsed, for error messages
  #stopped = false;

  constructor(sink: DemuxSink) {
    this.#sink = sink;
  }

  /**
   * Parses `chunk`, calling the sink for each payload piece. Returns false when a sink returned
   * false (like `Writable.write`), so the caller knows to wait for its targets to drain.
   */
  write(chunk: Buffer): boolean {
    let ok = true;
    let pos = 0;
    while (pos < chunk.length && !this.#stopped) {
      if (this.#payloadLeft === 0) {
        // Fast path: a whole, valid header inside this chunk is read in place. Split or invalid
        // headers take the careful path, which also words the errors.
        if (this.#headerFill === 0 && pos + HEADER_BYTES <= chunk.length && chunk[pos]! <= SYSTEM_ERROR && (chunk[pos + 1]! | chunk[pos + 2]! | chunk[pos + 3]!) === 0) {
          this.#type = chunk[pos]!;
          this.#payloadLeft = chunk.readUInt32BE(pos + 4);
          pos += HEADER_BYTES;
          if (this.#payloadLeft === 0 && this.#type === SYSTEM_ERROR) this.#finishSystemError();
          continue;
        }
        pos = this.#readHeader(chunk, pos);
        continue;
      }
      const end = Math.min(chunk.length, pos + this.#payloadLeft);
      const piece = chunk.subarray(pos, end);
      this.#payloadLeft -= end - pos;
      pos = end;
      if (this.#type === SYSTEM_ERROR) {
        this.#systemErrorParts.push(piece);
        if (this.#payloadLeft === 0) this.#finishSystemError();
      } else if (this.#type === STDERR) {
        ok = this.#sink.onStderr(piece) !== false && ok;
      } else {
        ok = this.#sink.onStdout(piece) !== false && ok;
      }
    }
    this.#offset += chunk.length;
    return ok;
  }

  /** Call at EOF: throws if the stream stopped inside a frame. */
  end(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const missing = this.#headerFill > 0 ? HEADER_BYTES - this.#headerFill : this.#payloadLeft;
    if (missing > 0) {
      const part = this.#headerFill > 0 ? 'frame header' : 'frame';
      throw new SkiffError('protocol', `stream truncated: ${missing} bytes of a ${part} missing`);
    }
  }

  /** Consumes header bytes from `chunk` at `pos`; returns the position after them. */
  #readHeader(chunk: Buffer, pos: number): number {
    const take = Math.min(HEADER_BYTES - this.#headerFill, chunk.length - pos);
    chunk.copy(this.#header, this.#headerFill, pos, pos + take);
    // Check type and padding as soon as they arrive, so a TTY stream fails on its first byte
    // with a useful message instead of waiting for 8 bytes or a bogus length.
    for (let i = this.#headerFill; i < Math.min(this.#headerFill + take, 4); i++) {
      this.#checkHeaderByte(i, this.#offset + pos + (i - this.#headerFill));
    }
    this.#headerFill += take;
    if (this.#headerFill === HEADER_BYTES) {
      this.#headerFill = 0;
      this.#type = this.#header[0]!;
      this.#payloadLeft = this.#header.readUInt32BE(4);
      // An empty frame is legal and carries nothing, except that an empty type 3 still ends the stream.
      if (this.#payloadLeft === 0 && this.#type === SYSTEM_ERROR) this.#finishSystemError();
    }
    return pos + take;
  }

  #checkHeaderByte(index: number, streamOffset: number): void {
    const byte = this.#header[index]!;
    const valid = index === 0 ? byte <= SYSTEM_ERROR : byte === 0;
    if (valid) return;
    this.#stopped = true;
    const hex = `0x${byte.toString(16).padStart(2, '0')}`;
    const expected = index === 0 ? 'a stream type 0-3' : '0';
    throw new SkiffError(
      'protocol',
      `stream is not framed: byte ${index} of a frame header is ${hex} at stream offset ` +
        `${streamOffset}, expected ${expected}; this is likely a TTY stream demuxed by mistake`,
      { hint: 'only demultiplex output of containers and execs created with Tty: false' },
    );
  }

  #finishSystemError(): void {
    this.#stopped = true;
    const message = Buffer.concat(this.#systemErrorParts).toString('utf8');
    this.#systemErrorParts = [];
    this.#sink.onSystemError(message);
  }
}

/**
 * A Writable that demultiplexes what is written to it into `stdout` and `stderr`. It waits for
 * a full target to drain before accepting more input, so a slow consumer pauses the socket.
 * It never ends the targets: they are often process.stdout/stderr, which must stay open.
 */
export class DemuxStream extends Writable {
  readonly #demuxer: Demuxer;
  readonly #targets: ReadonlySet<Writable>;
  #systemError: SkiffError | undefined;

  constructor(stdout: Writable, stderr: Writable) {
    super();
    this.#targets = new Set([stdout, stderr]);
    this.#demuxer = new Demuxer({
      onStdout: (buf) => stdout.write(buf),
      onStderr: (buf) => stderr.write(buf),
      onSystemError: (message) => {
        this.#systemError = new SkiffError('engine', message.trim());
      },
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    let ok: boolean;
    try {
      ok = this.#demuxer.write(chunk);
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (this.#systemError) {
      callback(this.#systemError);
      return;
    }
    if (ok) {
      callback();
      return;
    }
    const full = [...this.#targets].filter((target) => target.writableNeedDrain);
    Promise.all(full.map(drained)).then(() => callback(), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    try {
      this.#demuxer.end();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

// A target that closes or fails while full would never emit 'drain'; without this the
// DemuxStream would hang instead of failing.
function drained(target: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error): void => {
      target.off('drain', onDrain).off('error', onError).off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onError = (err: Error): void => settle(err);
    const onClose = (): void =>
      settle(new SkiffError('aborted', 'output stream closed while container output was being written'));
    target.on('drain', onDrain).on('error', onError).on('close', onClose);
  });
}
