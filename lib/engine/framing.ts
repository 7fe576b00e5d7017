// Framing is decided by the container's or exec's Tty flag, never by Content-Type (1.41 labels
// framed streams as raw; docs/engine-api.md rule 4).
import { Writable } from 'node:stream';
import type { BorrowedStream } from './borrowed.js';
import { DemuxStream, Demuxer } from './demux.js';
import { SkiffError } from './errors.js';

/** The Writable to pipe an attach/exec stream into; it never ends `stdout` or `stderr`. */
export function outputSink(tty: boolean, stdout: Writable, stderr: Writable): Writable {
  if (!tty) return new DemuxStream(stdout, stderr);
  // A TTY stream is raw bytes with stderr merged in (docs/engine-api.md §8.2).
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (stdout.write(chunk)) cb();
      else stdout.once('drain', () => cb());
    },
  });
}

/**
 * Reads a borrowed stream into `stdout`/`stderr` (demultiplexed unless `tty`). Each piece is
 * written with a callback and reading pauses until every piece of the current read has been
 * called back, so the targets must be done with a chunk by then (they copy what they keep, as a
 * file, hash or log writer does; a PassThrough does not). Never ends the targets.
 */
export function pumpOutput(stream: BorrowedStream, tty: boolean, stdout: Writable, stderr: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let pending = 0;
    let paused = false;
    let ended = false;
    let failed = false;
    let systemError: SkiffError | undefined;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      stream.socket.destroy();
      reject(err);
    };
    const finish = (): void => {
      if (failed) return;
      try {
        demuxer?.end();
        resolve();
      } catch (err) {
        fail(err);
      }
    };
    const written = (err?: Error | null): void => {
      if (err) fail(err);
      pending--;
      if (pending > 0 || failed) return;
      if (ended) finish();
      else if (paused) {
        paused = false;
        stream.resume();
      }
    };
    const write = (target: Writable, piece: Buffer): void => {
      pending++;
      target.write(piece, written);
    };
    const demuxer = tty
      ? undefined
      : new Demuxer({
          onStdout: (piece) => write(stdout, piece),
          onStderr: (piece) => write(stderr, piece),
          onSystemError: (message) => {
            systemError = new SkiffError('engine', message.trim());
          },
        });
    stream
      .read((chunk) => {
        if (failed) return false;
        try {
          if (demuxer) demuxer.write(chunk);
          else write(stdout, chunk);
        } catch (err) {
          fail(err);
          return false;
        }
        if (systemError) {
          fail(systemError);
          return false;
        }
        if (pending === 0) return true;
        paused = true;
        return false;
      })
      .then(() => {
        ended = true;
        if (pending === 0) finish();
      }, fail);
  });
}
