// What record.ts writes and replay.ts reads: the event types of a recording file, how bytes
// become JSON (text when it is printable UTF-8, else base64), how secrets are redacted before
// anything reaches the disk, and the one adapter from undici's legacy handler style (what
// `dispatcher.request()` passes) to the controller style both dispatchers speak. The format
// itself is described at the top of record.ts.
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
// Redaction

/**
 * Replaces secrets by `<redacted>`: each value as given, JSON-escaped, URL-encoded, and its
 * base64 and base64url encodings (padded, unpadded, and the part that any base64 text containing
 * the value at any byte offset must include, so it is caught inside a longer encoded blob such as
 * an X-Registry-Auth header or a config.json `auth`). Longest forms are replaced first.
 */
export class Redactor {
  #secrets = new Set<string>();
  #forms: Buffer[] = [];
  #textForms: string[] = [];
  #longest = 0;

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  get size(): number {
    return this.#secrets.size;
  }

  add(secret: string): void {
    if (typeof secret !== 'string' || secret === '' || this.#secrets.has(secret)) return;
    this.#secrets.add(secret);
    const forms = new Set<string>(secretForms(secret));
    forms.delete(REDACTED);
    const all = new Set([...this.#textForms, ...forms]);
    this.#textForms = [...all].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    this.#forms = this.#textForms.map((f) => Buffer.from(f, 'utf8'));
    this.#longest = this.#forms[0]?.length ?? 0;
  }

  /** Adds the credentials inside an X-Registry-Auth value (password and tokens). */
  addRegistryAuth(headerValue: string): void {
    for (const s of secretsOfRegistryAuth(headerValue)) this.add(s);
  }

  text(value: string): string {
    if (this.#textForms.length === 0) return value;
    let out = value;
    for (const form of this.#textForms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out;
  }

  bytes(chunk: Buffer): Buffer {
    if (this.#forms.length === 0) return chunk;
    let out = chunk;
    for (const form of this.#forms) out = replaceAll(out, form);
    return out;
  }

  /** Every string (and key) inside a JSON value. */
  json(value: unknown): unknown {
    if (this.#textForms.length === 0) return value;
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.json(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.text(k), this.json(v)]));
    }
    return value;
  }

  /** For bytes that arrive in chunks: a secret split across two chunks is still caught. */
  stream(): StreamRedactor {
    return new StreamRedactor(this);
  }

  /** How many trailing bytes of `buf` could be the start of a secret form. */
  heldTail(buf: Buffer): number {
    const max = Math.min(this.#longest - 1, buf.length);
    for (let len = max; len > 0; len--) {
      const tail = buf.subarray(buf.length - len);
      for (const form of this.#forms) if (form.length > len && form.subarray(0, len).equals(tail)) return len;
    }
    return 0;
  }
}

export class StreamRedactor {
  readonly #r: Redactor;
  #pending: Buffer = Buffer.alloc(0);

  constructor(redactor: Redactor) {
    this.#r = redactor;
  }

  /** The bytes safe to write now; a tail that may be the start of a secret waits for the next chunk. */
  push(chunk: Buffer): Buffer {
    const joined = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const clean = this.#r.bytes(joined);
    const hold = this.#r.heldTail(clean);
    this.#pending = hold === 0 ? Buffer.alloc(0) : Buffer.from(clean.subarray(clean.length - hold));
    return hold === 0 ? clean : clean.subarray(0, clean.length - hold);
  }

  flush(): Buffer {
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    return rest;
  }
}

function replaceAll(buf: Buffer, form: Buffer): Buffer {
  let at = buf.indexOf(form);
  if (at === -1) return buf;
  const parts: Buffer[] = [];
  let from = 0;
  const marker = Buffer.from(REDACTED, 'utf8');
  while (at !== -1) {
    parts.push(buf.subarray(from, at), marker);
    from = at + form.length;
    at = buf.indexOf(form, from);
  }
  parts.push(buf.subarray(from));
  return Buffer.concat(parts);
}

const MIN_CORE_CHARS = 6;

export function secretForms(secret: string): string[] {
  const raw = Buffer.from(secret, 'utf8');
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  const std = raw.toString('base64');
  const url = toBase64Url(std);
  for (const b of [std, url]) {
    forms.add(b);
    forms.add(b.replace(/=+$/, ''));
  }
  // Inside a longer base64 text the secret starts at some byte offset k (mod 3); the characters
  // whose 6 bits all come from the secret are fixed for each k.
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), raw]).toString('base64');
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + raw.length)) / 6); // exclusive
    if (last - first >= MIN_CORE_CHARS) {
      const core = encoded.slice(first, last);
      forms.add(core);
      forms.add(toBase64Url(core));
    }
  }
  forms.delete('');
  return [...forms];
}

function toBase64Url(b64: string): string {
  return b64.replace(/\+/g, '-').replace(/\//g, '_');
}

/** The secrets inside an X-Registry-Auth value: password and tokens (not the user name). */
export function secretsOfRegistryAuth(headerValue: string): string[] {
  const out: string[] = [headerValue];
  try {
    const decoded = JSON.parse(Buffer.from(headerValue, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const key of ['password', 'identitytoken', 'registrytoken', 'auth']) {
      const v = decoded[key];
      if (typeof v === 'string' && v !== '') out.push(v);
    }
    if (typeof decoded.auth === 'string') out.push(...secretsOfAuthConfig({ auth: decoded.auth }));
  } catch {
    // not what the daemon would decode either; the whole value is redacted anyway
  }
  return out;
}

/**
 * The values of one set of registry credentials that must never reach a recording (for the
 * caller's `secrets` option): password, tokens, the config.json `auth` and the password inside it.
 */
export function secretsOfAuthConfig(config: { password?: string; auth?: string; identitytoken?: string; registrytoken?: string }): string[] {
  const out: string[] = [];
  for (const v of [config.password, config.auth, config.identitytoken, config.registrytoken]) if (v) out.push(v);
  if (config.auth) {
    const decoded = Buffer.from(config.auth.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      const password = decoded.slice(colon + 1).replace(/\0+$/, '');
      if (password) out.push(password);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Handlers

/**
 * undici's `request()` hands a dispatcher a legacy handler (onConnect/onHeaders/onData/…), the
 * hijack code a controller-style one. Both dispatchers here speak the controller style only; this
 * adapts the legacy one (our own, rather than undici's internal WrapHandler).
 */
/** undici's `destroy(err?, callback?)` arguments, told apart. */
export function destroyArguments(a?: Error | null | (() => void), b?: () => void): { err: Error | null; callback: (() => void) | undefined } {
  return typeof a === 'function' ? { err: null, callback: a } : { err: a ?? null, callback: b };
}

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
