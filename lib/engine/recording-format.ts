// What the recorder (record/) writes and the replay (replay/) reads: the event types of a
// recording file, how bytes become JSON (text when it is printable UTF-8, else base64), reading
// and writing lines, and the one adapter from undici's legacy handler style (what
// `dispatcher.request()` passes) to the controller style both dispatchers speak. Secrets are
// redacted before anything reaches the disk (redaction.ts).
//
// ## The recording format (skiff-engine-recording, version 1)
//
// One JSON object per line (JSONL), written in the order things happened, so that a recording
// reads top to bottom and diffs line by line. The first line is the header:
//
//     {"format":"skiff-engine-recording","version":1}
//
// Every other line is one event of one exchange. `n` is the exchange number (1, 2, … in the
// order the client made its requests); concurrent exchanges (attach and wait side by side,
// parallel steps) interleave, and `n` tells them apart. `ev` says what happened:
//
//   request      {"n","ev":"request","method","path"[,"upgrade":"tcp"][,"headers"][,"json"|"body"|"stream":true]}
//                `path` is the full path with its query, as sent (`/v1.41/containers/create?name=x`).
//                `headers` keeps only content-type and x-registry-auth (always "<redacted>").
//                A JSON body is `json` (the value itself); any other body given whole is `body`
//                (data, below); a streamed body (an image import's tar) is `"stream":true`,
//                followed by `body` events as its chunks pass and one `body-end` {"bytes": N}.
//   response     {"n","ev":"response","status","headers"}: status and the headers that matter
//                (content-type, api-version, ostype, docker-experimental, builder-version, swarm,
//                x-docker-container-path-stat, upgrade). No content-length: bodies are chunks.
//   data         {"n","ev":"data","data"}: one response body chunk, as it arrived. Streams
//                (logs, pull progress, a wait's result) stay streams: one line per chunk.
//   end          {"n","ev":"end"}: the response body ended.
//   error        {"n","ev":"error","message"[,"code","name"]}: the request failed (no daemon,
//                connection reset, timeout…); replay fails it with the same message and code.
//   aborted      {"n","ev":"aborted"}: the client gave up on the exchange (a signal, a destroyed
//                body); replay serves what came before and then waits for the client to abort.
//   upgrade      {"n","ev":"upgrade","status":101,"headers"}: the connection was hijacked
//                (attach, exec start). What follows is the raw session, both ways, in order:
//   client       {"n","ev":"client","data"}: bytes the client wrote (stdin).
//   client-end   {"n","ev":"client-end"}: the client half-closed (stdin EOF).
//   client-destroy {"n","ev":"client-destroy"}: the client tore the connection down.
//   server       {"n","ev":"server","data"}: bytes the daemon sent (frames, or raw TTY output).
//   server-end   {"n","ev":"server-end"}: the daemon closed its side.
//   server-error {"n","ev":"server-error","message"[,"code"]}: the connection failed.
//
// `data` (in body, data, client, server) is a JSON string when the bytes are printable UTF-8
// (text, JSON, TTY output), else {"b64": "<standard base64>"} (frame headers, binary stdin).
// Replay keeps the order of `server` bytes relative to `client` bytes and `client-end`: output
// that came after the client's input is delivered only once the client has sent that input.
//
// Hand-written fixtures may add `{"comment": "..."}` lines anywhere after the header; they are
// skipped. Unknown events, bad JSON or another version are errors naming the line.
//
// Secrets never reach the disk: the X-Registry-Auth value is written as "<redacted>", the
// password and tokens inside it, and every value passed in `secrets` (or to `addSecrets`
// later, e.g. when a credential helper answers), are replaced by "<redacted>" in paths,
// headers, JSON, body chunks and hijacked bytes, together with their JSON-escaped, URL-encoded,
// base64 and base64url forms (also inside longer base64 texts). A secret split across two
// chunks is caught: a chunk's tail that could start a secret is held until the next chunk.
// Redaction changes lengths, so a secret printed inside a framed (non-TTY) stream leaves a
// frame whose header no longer matches its payload; replaying that step fails loudly.
//
import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { SkiffError } from './errors.js';

export const RECORDING_FORMAT = 'skiff-engine-recording';
export const RECORDING_VERSION = 1;
export const REDACTED = '<redacted>';
/** One recording per engine in a run directory: `DIR/engine.jsonl`. */
export const RECORDING_FILE = 'engine.jsonl';

/** Bytes on a line: the text itself when it is printable UTF-8, else `{"b64": "..."}`. */
export type Data = string | { b64: string };
export type RecordedHeaders = Record<string, string | string[]>;

export type RequestEvent = {
  n: number;
  ev: 'request';
  method: string;
  path: string;
  upgrade?: string;
  headers?: RecordedHeaders;
  /** A JSON body (content-type application/json), as JSON. */
  json?: unknown;
  /** Any other body given whole (a string or a Buffer). */
  body?: Data;
  /** The body is a stream: `body` events follow, then `body-end`. */
  stream?: true;
};

export type RecordedEvent =
  | RequestEvent
  | { n: number; ev: 'body'; data: Data }
  | { n: number; ev: 'body-end'; bytes: number }
  | { n: number; ev: 'response'; status: number; headers?: RecordedHeaders }
  | { n: number; ev: 'data'; data: Data }
  | { n: number; ev: 'end' }
  | { n: number; ev: 'error'; message: string; code?: string; name?: string }
  | { n: number; ev: 'aborted'; message?: string }
  | { n: number; ev: 'upgrade'; status: number; headers?: RecordedHeaders }
  | { n: number; ev: 'client'; data: Data }
  | { n: number; ev: 'client-end' }
  | { n: number; ev: 'client-destroy' }
  | { n: number; ev: 'server'; data: Data }
  | { n: number; ev: 'server-end' }
  | { n: number; ev: 'server-error'; message: string; code?: string };

export type EventName = RecordedEvent['ev'];

/** Appends one event to a recording. */
export type WriteEvent = (event: RecordedEvent) => void;

export interface RecordingHeader {
  format: typeof RECORDING_FORMAT;
  version: typeof RECORDING_VERSION;
  note?: string;
}

export interface Recording {
  header: RecordingHeader;
  events: RecordedEvent[];
  /** Where it came from, for messages (a file path, or `<memory>`). */
  source: string;
}

const EVENT_NAMES: ReadonlySet<string> = new Set<EventName>([
  'request', 'body', 'body-end', 'response', 'data', 'end', 'error', 'aborted',
  'upgrade', 'client', 'client-end', 'client-destroy', 'server', 'server-end', 'server-error',
]);

/** Request headers worth keeping: they change what the daemon does. */
export const REQUEST_HEADERS = ['content-type', 'x-registry-auth'] as const;
/** Response headers worth keeping: content type, negotiation, and what the client reads. */
export const RESPONSE_HEADERS = [
  'content-type', 'api-version', 'ostype', 'docker-experimental', 'builder-version', 'swarm',
  'x-docker-container-path-stat', 'upgrade',
] as const;

// ---------------------------------------------------------------------------------------------
// Bytes <-> JSON

// Tab, LF, CR and everything from space up, except DEL and the C1 controls; and except the line
// and paragraph separators, bidi controls and BOM, which make a diff lie about what it shows.
const PRINTABLE = /^[\t\n\r\x20-\x7e\u00a0-\u{10ffff}]*$/u;
const MISLEADING = /[\u2028-\u202e\u2066-\u2069\ufeff]/u;

export function encodeData(chunk: Uint8Array): Data {
  const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (isUtf8(buf)) {
    const text = buf.toString('utf8');
    if (PRINTABLE.test(text) && !MISLEADING.test(text)) return text;
  }
  return { b64: buf.toString('base64') };
}

export function decodeData(data: Data): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.b64, 'base64');
}

export function formatHeader(note?: string): string {
  const header: RecordingHeader = { format: RECORDING_FORMAT, version: RECORDING_VERSION, ...(note && { note }) };
  return JSON.stringify(header);
}

export function formatEvent(event: RecordedEvent): string {
  return JSON.stringify(event);
}

/**
 * Reads a recording. Blank lines and `{"comment": "..."}` lines are skipped (hand-written
 * fixtures explain themselves that way); anything else that is not an event is an error that
 * names the line.
 */
export function parseRecording(text: string, source = '<memory>'): Recording {
  const lines = text.split('\n');
  let header: RecordingHeader | undefined;
  const events: RecordedEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new SkiffError('protocol', `${where}: not a JSON line (${(err as Error).message})`, { cause: err });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SkiffError('protocol', `${where}: expected a JSON object`);
    const obj = value as Record<string, unknown>;
    if (header === undefined) {
      if (obj.format !== RECORDING_FORMAT) throw new SkiffError('protocol', `${where}: not a skiff engine recording (the first line must be {"format":"${RECORDING_FORMAT}","version":${RECORDING_VERSION}})`);
      if (obj.version !== RECORDING_VERSION) {
        throw new SkiffError('protocol', `${where}: recording format version ${String(obj.version)}; this skiff reads version ${RECORDING_VERSION}`, { hint: 'record it again with this version of skiff' });
      }
      header = obj as unknown as RecordingHeader;
      continue;
    }
    if ('comment' in obj && !('ev' in obj)) continue;
    if (typeof obj.n !== 'number' || !Number.isInteger(obj.n) || obj.n < 1) throw new SkiffError('protocol', `${where}: "n" must be an exchange number (1, 2, …)`);
    if (typeof obj.ev !== 'string' || !EVENT_NAMES.has(obj.ev)) throw new SkiffError('protocol', `${where}: unknown event ${JSON.stringify(obj.ev)}`);
    checkEvent(obj, where);
    events.push(obj as unknown as RecordedEvent);
  }
  if (header === undefined) throw new SkiffError('protocol', `${source}: empty recording (no header line)`);
  return { header, events, source };
}

function checkEvent(obj: Record<string, unknown>, where: string): void {
  const isData = (d: unknown) => typeof d === 'string' || (typeof d === 'object' && d !== null && typeof (d as { b64?: unknown }).b64 === 'string');
  switch (obj.ev) {
    case 'request':
      if (typeof obj.method !== 'string' || typeof obj.path !== 'string') throw new SkiffError('protocol', `${where}: a request needs "method" and "path"`);
      if (obj.body !== undefined && !isData(obj.body)) throw new SkiffError('protocol', `${where}: "body" must be text or {"b64": …}`);
      break;
    case 'response':
    case 'upgrade':
      if (typeof obj.status !== 'number') throw new SkiffError('protocol', `${where}: "${obj.ev}" needs a numeric "status"`);
      break;
    case 'body':
    case 'data':
    case 'client':
    case 'server':
      if (!isData(obj.data)) throw new SkiffError('protocol', `${where}: "${obj.ev}" needs "data" (text or {"b64": …})`);
      break;
    case 'error':
    case 'server-error':
      if (typeof obj.message !== 'string') throw new SkiffError('protocol', `${where}: "${obj.ev}" needs a "message"`);
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Headers

/** Lower-cased header names to values, from any shape undici accepts. */
export function headerObject(headers: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const add = (key: unknown, value: unknown) => {
    if (value === undefined || value === null) return;
    const k = String(key).toLowerCase();
    const v = Array.isArray(value) ? value.map(String) : String(value);
    const prev = out[k];
    out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(v) ? v : [v])];
  };
  if (headers === null || headers === undefined) return out;
  if (Array.isArray(headers)) {
    // Flat [name, value, name, value…] (strings or Buffers).
    for (let i = 0; i + 1 < headers.length; i += 2) add(headers[i], headers[i + 1]);
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const pair of headers as Iterable<[unknown, unknown]>) add(pair[0], pair[1]);
  } else if (typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers)) add(k, v);
  }
  return out;
}

export function pickHeaders(headers: Record<string, string | string[] | undefined>, names: readonly string[]): RecordedHeaders | undefined {
  const out: RecordedHeaders = {};
  for (const name of names) {
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

// ---------------------------------------------------------------------------------------------
// Handlers

/** undici's `destroy(err?, callback?)` arguments, told apart. */
export function destroyArguments(a?: Error | null | (() => void), b?: () => void): { err: Error | null; callback: (() => void) | undefined } {
  return typeof a === 'function' ? { err: null, callback: a } : { err: a ?? null, callback: b };
}

/**
 * undici's `request()` hands a dispatcher a legacy handler (onConnect/onHeaders/onData/…), the
 * hijack code a controller-style one. Both dispatchers here speak the controller style only; this
 * adapts the legacy one (our own, rather than undici's internal WrapHandler).
 */
export function controllerHandler(handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler {
  if (typeof handler.onRequestStart === 'function') return handler;
  const legacy = handler;
  const raw = (headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Buffer[] => {
    const out: Buffer[] = [];
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) out.push(Buffer.from(k, 'latin1'), Buffer.from(String(one), 'latin1'));
    }
    return out;
  };
  return {
    onRequestStart(controller, context) {
      (legacy.onConnect as ((abort: (err?: Error) => void, context: unknown) => void) | undefined)?.((reason?: Error) => controller.abort(reason ?? new Error('aborted')), context);
    },
    onRequestUpgrade(_controller, statusCode, headers, socket: Duplex) {
      legacy.onUpgrade?.(statusCode, raw(headers), socket);
    },
    onResponseStart(controller, statusCode, headers, statusMessage) {
      if (legacy.onHeaders?.(statusCode, raw(headers), () => controller.resume(), statusMessage ?? '') === false) controller.pause();
    },
    onResponseData(controller, chunk) {
      if (legacy.onData?.(chunk) === false) controller.pause();
    },
    onResponseEnd(_controller, trailers) {
      legacy.onComplete?.(raw(trailers) as unknown as string[]);
    },
    onResponseError(_controller, error) {
      if (!legacy.onError) throw error;
      legacy.onError(error);
    },
  };
}
