// JSON-lines progress streams (pull, import, push), docs/engine-api.md §3.3 and §4.3. A failure after
// the first line cannot change the HTTP status any more, so the daemon reports it in-band as
// an `errorDetail`/`error` line; this parser turns that line into a thrown SkiffError.

import { SkiffError } from './errors.js';

export interface ProgressEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number; units?: string };
  progress?: string;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
}

export interface ReadJsonLinesOptions {
  /** Longest accepted line in bytes, terminator not counted. Default 1 MiB. */
  maxLineBytes?: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SHOWN_CHARS = 200;

/**
 * Yields each JSON line of `source` parsed. Throws SkiffError 'engine' for an error line and
 * 'protocol' for a line that is not JSON, too long, or cut off by the end of the stream.
 */
export async function* readJsonLines<T = unknown>(
  source: AsyncIterable<Buffer | string>,
  opts: ReadJsonLinesOptions = {},
): AsyncGenerator<T> {
  const maxLineBytes = opts.maxLineBytes ?? 1024 * 1024;
  // The incomplete last line, kept as the pieces it arrived in and joined once when its newline
  // comes, so a long line spread over many chunks is copied once rather than once per chunk.
  let tail: Buffer[] = [];
  let tailBytes = 0;

  for await (const piece of source) {
    // Work in bytes: 0x0a never occurs inside a UTF-8 sequence, and decoding whole lines keeps
    // characters that straddle chunks intact.
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const rest = chunk.subarray(start, nl);
      const line = tailBytes === 0 ? rest : Buffer.concat([...tail, rest], tailBytes + rest.length);
      tail = [];
      tailBytes = 0;
      start = nl + 1;
      const text = lineText(stripCarriageReturn(line), maxLineBytes);
      if (text !== undefined) yield checked(parseJson(text)) as T;
    }
    if (start < chunk.length) {
      tail.push(chunk.subarray(start));
      tailBytes += chunk.length - start;
      // Checked before the newline arrives so a stream that never sends one cannot grow memory
      // without bound; one byte of slack for a `\r` that the `\n` will follow.
      if (tailBytes > maxLineBytes + 1) throw tooLong(maxLineBytes);
    }
  }

  if (tailBytes === 0) return;
  const text = lineText(stripCarriageReturn(Buffer.concat(tail, tailBytes)), maxLineBytes);
  if (text === undefined) return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Without a newline, invalid JSON most likely means the connection dropped mid-line.
    throw new SkiffError('protocol', `stream truncated: the last line is incomplete: ${shown(text)}`, {
      cause: err,
    });
  }
  yield checked(value) as T;
}

/** The line as text, or undefined for a blank line. */
function lineText(line: Buffer, maxLineBytes: number): string | undefined {
  if (line.length > maxLineBytes) throw tooLong(maxLineBytes);
  const text = line.toString('utf8');
  return text.trim() === '' ? undefined : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SkiffError('protocol', `progress stream sent a line that is not JSON: ${shown(text)}`, {
      cause: err,
    });
  }
}

function checked(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    const { errorDetail, error } = value as ProgressEvent;
    if (errorDetail !== undefined || error !== undefined) {
      // `error` is the deprecated mirror of errorDetail.message; older daemons may send only it.
      const message = errorDetail?.message || error || 'the daemon reported an error without a message';
      throw new SkiffError('engine', message);
    }
  }
  return value;
}

function stripCarriageReturn(line: Buffer): Buffer {
  return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
}

function tooLong(maxLineBytes: number): SkiffError {
  return new SkiffError('protocol', `progress stream sent a line longer than ${maxLineBytes} bytes`);
}

function shown(text: string): string {
  return JSON.stringify(text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text);
}
