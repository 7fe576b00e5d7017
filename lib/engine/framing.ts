// Framing is decided by the container's or exec's Tty flag, never by Content-Type (1.41 labels
// framed streams as raw; engine-api.md rule 4).
import { Writable } from 'node:stream';
import { DemuxStream } from './demux.js';

/** The Writable to pipe an attach/exec stream into; it never ends `stdout` or `stderr`. */
export function outputSink(tty: boolean, stdout: Writable, stderr: Writable): Writable {
  if (!tty) return new DemuxStream(stdout, stderr);
  // A TTY stream is raw bytes with stderr merged in (engine-api.md §8.2).
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (stdout.write(chunk)) cb();
      else stdout.once('drain', () => cb());
    },
  });
}
