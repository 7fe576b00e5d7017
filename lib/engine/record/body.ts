// A streamed request body (an image import's tar) recorded chunk by chunk on its way out.
import { Readable, Transform, pipeline } from 'node:stream';
import { encodeData, type WriteEvent } from '../recording-format.js';
import type { StreamRedactor } from '../redaction.js';

/** Passes a streamed request body on to the real dispatcher, recording each chunk as it goes. */
export function tapBody(source: Readable | AsyncIterable<unknown> | Iterable<unknown>, n: number, write: WriteEvent, redact: StreamRedactor): Readable {
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer | string, _encoding, callback) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
      bytes += buf.length;
      const clean = redact.push(buf);
      if (clean.length > 0) write({ n, ev: 'body', data: encodeData(clean) });
      callback(null, buf);
    },
    flush(callback) {
      const rest = redact.flush();
      if (rest.length > 0) write({ n, ev: 'body', data: encodeData(rest) });
      write({ n, ev: 'body-end', bytes });
      callback();
    },
  });
  const readable = source instanceof Readable ? source : Readable.from(source as AsyncIterable<unknown>, { objectMode: false });
  // Errors travel both ways: a failing source fails the request, a failed request stops the source.
  pipeline(readable, tap, () => undefined);
  return tap;
}

export function isAsyncIterable(value: unknown): boolean {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

export function isIterable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}
