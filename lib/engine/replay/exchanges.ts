// A recording as the replay serves it: its exchanges (a request and what followed it), and the
// shape of a request (method, path, query, upgrade, auth presence, body) on both sides, recorded
// and live, so the two can be compared and described in messages.
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { SkiffError } from '../errors.js';
import { decodeData, headerObject, type RecordedEvent, type Recording, type RequestEvent } from '../recording-format.js';
import { isTextual, show } from './text.js';

export type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'bytes'; bytes: Buffer } | { kind: 'stream' };

export interface Shape {
  method: string;
  /** As sent, for messages. */
  rawPath: string;
  pathname: string;
  query: Array<[string, string]>;
  upgrade: boolean;
  auth: boolean;
  body: Body;
}

export interface RecordedExchange {
  n: number;
  /** Line position of the request in the recording. */
  pos: number;
  request: RequestEvent;
  shape: Shape;
  /** Everything after the request line, except the streamed request body. */
  events: RecordedEvent[];
  /** Line position of each of `events`. */
  positions: number[];
  bodyChunks: Buffer[];
  used: boolean;
}

export function groupExchanges(recording: Recording): RecordedExchange[] {
  const byN = new Map<number, RecordedExchange>();
  const list: RecordedExchange[] = [];
  for (const [pos, event] of recording.events.entries()) {
    if (event.ev === 'request') {
      if (byN.has(event.n)) throw new SkiffError('protocol', `${recording.source}: exchange ${event.n} has two requests`);
      const ex: RecordedExchange = { n: event.n, pos, request: event, shape: recordedShape(event), events: [], positions: [], bodyChunks: [], used: false };
      byN.set(event.n, ex);
      list.push(ex);
      continue;
    }
    const ex = byN.get(event.n);
    if (!ex) throw new SkiffError('protocol', `${recording.source}: a "${event.ev}" event for exchange ${event.n} before its request`);
    if (event.ev === 'body') ex.bodyChunks.push(decodeData(event.data));
    else if (event.ev !== 'body-end') {
      ex.events.push(event);
      ex.positions.push(pos);
    }
  }
  return list;
}

function splitPath(raw: string): { pathname: string; query: Array<[string, string]> } {
  const q = raw.indexOf('?');
  const pathname = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? [] : [...new URLSearchParams(raw.slice(q + 1))];
  let decoded = pathname;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    // keep it as sent
  }
  return { pathname: decoded, query };
}

function recordedShape(ev: RequestEvent): Shape {
  const { pathname, query } = splitPath(ev.path);
  const body: Body = ev.stream ? { kind: 'stream' } : ev.json !== undefined ? { kind: 'json', value: ev.json } : ev.body !== undefined ? { kind: 'bytes', bytes: decodeData(ev.body) } : { kind: 'none' };
  return {
    method: ev.method.toUpperCase(),
    rawPath: ev.path,
    pathname,
    query,
    upgrade: ev.upgrade !== undefined,
    auth: ev.headers?.['x-registry-auth'] !== undefined,
    body,
  };
}

export function liveShape(options: Dispatcher.DispatchOptions): Shape {
  const rawPath = String(options.path);
  const { pathname, query } = splitPath(rawPath);
  const headers = headerObject(options.headers);
  const contentType = String(headers['content-type'] ?? '');
  const raw = options.body;
  let body: Body = { kind: 'none' };
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    body = { kind: 'bytes', bytes: buf };
    if (contentType.includes('json') && buf.length > 0) {
      try {
        body = { kind: 'json', value: JSON.parse(buf.toString('utf8')) };
      } catch {
        // labelled JSON but not JSON, as the recorder keeps it
      }
    }
  } else if (raw !== undefined && raw !== null && (raw instanceof Readable || typeof (raw as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (raw as unknown as Iterable<unknown>)[Symbol.iterator] === 'function')) {
    body = { kind: 'stream' };
  }
  return {
    method: String(options.method).toUpperCase(),
    rawPath,
    pathname,
    query,
    upgrade: Boolean(options.upgrade),
    auth: headers['x-registry-auth'] !== undefined,
    body,
  };
}

export function bodyText(body: Body): string {
  switch (body.kind) {
    case 'none':
      return 'no body';
    case 'stream':
      return 'a streamed body';
    case 'json':
      return show(body.value);
    case 'bytes':
      return isTextual(body.bytes) ? show(body.bytes.toString('utf8')) : `${body.bytes.length} bytes`;
  }
}

const SHOWN_BODY = 120;

/** `POST /v1.41/containers/create {"Image":…}`: a request as an error message shows it. */
export function describe(shape: Shape): string {
  let body = '';
  if (shape.body.kind === 'json') {
    const text = JSON.stringify(shape.body.value);
    body = ` ${text.length > SHOWN_BODY ? `${text.slice(0, SHOWN_BODY)}…` : text}`;
  } else if (shape.body.kind !== 'none') body = ` (${bodyText(shape.body)})`;
  return `${shape.method} ${shape.rawPath}${shape.upgrade ? ' [upgrade]' : ''}${body}`;
}
