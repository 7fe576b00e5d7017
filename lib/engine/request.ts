// One request to the engine: versioned path, JSON or stream body, finite timeouts for short
// calls and none for long ones (docs/engine-api.md rule 8), and every failure turned into a SkiffError
// that keeps the daemon's text.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { SkiffError, daemonError, abortError } from './errors.js';
import type { EngineTarget } from './host.js';
import { chooseVersion } from './negotiate.js';
import { unreachableError } from './unreachable.js';
import { hijack, type Hijacked } from './hijack.js';
import { canBorrow, openBorrowed, type BorrowedStream } from './borrowed.js';
import { request } from './undici.js';

export type Query = Record<string, string | number | boolean | undefined | null | readonly string[]>;
export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface CallOptions {
  method: Method;
  /** Without the version prefix: `/containers/create`. */
  path: string;
  query?: Query;
  json?: unknown;
  body?: Buffer | string | Readable;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** A stream or long poll (wait, follow logs, pull, events): no timeouts, cancel with `signal`. */
  long?: boolean;
  /** Short calls: how long the daemon may take to answer (default 60 s). */
  timeoutMs?: number;
  /** Statuses that are success here besides 2xx (304 on start/stop). */
  ok?: readonly number[];
  /** What the call does, for messages: `create container`. */
  what: string;
}

export interface EngineResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { dump(): Promise<void>; text(): Promise<string>; json(): Promise<unknown> };
}

const ERROR_BODY_CAP = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 60_000;

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(s)}`);
    }
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

export class Transport {
  readonly dispatcher: Dispatcher;
  readonly target: EngineTarget;
  /**
   * The dispatcher is our own pool on `target`, so a connection opened beside it (borrowed.ts)
   * reaches the same daemon and misses nothing a wrapper (a recording) would have seen.
   */
  readonly ownsPool: boolean;
  #pinned: string | undefined;
  #version: Promise<string> | undefined;

  constructor(dispatcher: Dispatcher, target: EngineTarget, options: { apiVersion?: string; ownsPool?: boolean } = {}) {
    this.dispatcher = dispatcher;
    this.target = target;
    this.ownsPool = options.ownsPool ?? false;
    this.#pinned = options.apiVersion;
  }

  /** The API version in use; negotiated once, on first use, shared by concurrent callers. */
  version(signal?: AbortSignal): Promise<string> {
    if (this.#pinned) return Promise.resolve(this.#pinned);
    this.#version ??= this.#negotiate(signal).catch((err) => {
      this.#version = undefined;
      throw err;
    });
    return this.#version;
  }

  async #negotiate(signal?: AbortSignal): Promise<string> {
    const res = await this.#send({ method: 'HEAD', path: '/_ping', what: 'ping the Docker engine', signal, timeoutMs: 10_000, ok: [500] }, '/_ping');
    await res.body.dump();
    const header = res.headers['api-version'];
    return chooseVersion(Array.isArray(header) ? header[0] : header);
  }

  async call(options: CallOptions): Promise<EngineResponse> {
    const version = await this.version(options.signal);
    return this.#send(options, this.#versioned(version, options));
  }

  async json<T>(options: CallOptions): Promise<T> {
    const res = await this.call(options);
    try {
      return (await res.body.json()) as T;
    } catch (err) {
      throw this.#failure(err, options);
    }
  }

  /** For calls whose answer has no useful body; returns the status (e.g. 204 or 304). */
  async empty(options: CallOptions): Promise<number> {
    const res = await this.call(options);
    await res.body.dump();
    return res.status;
  }

  async hijack(options: Omit<CallOptions, 'long' | 'timeoutMs' | 'ok' | 'body'> & { body?: string }): Promise<Hijacked> {
    const version = await this.version(options.signal);
    try {
      return await hijack(this.dispatcher, {
        path: this.#versioned(version, options),
        body: options.json === undefined ? options.body : JSON.stringify(options.json),
        contentType: options.json === undefined ? 'text/plain' : 'application/json',
        signal: options.signal,
        what: options.what,
      });
    } catch (err) {
      throw this.#failure(err, options);
    }
  }

  /**
   * An upgrade (POST, JSON body or none) on a connection of our own, read into one reused buffer
   * (borrowed.ts); undefined where that cannot be done (TLS, an injected dispatcher) or the
   * daemon did not answer 101: then hijack() asks, and reports the daemon's error.
   */
  async borrow(options: Pick<CallOptions, 'path' | 'query' | 'json' | 'signal' | 'what'>): Promise<BorrowedStream | undefined> {
    if (!this.ownsPool || !canBorrow(this.target)) return undefined;
    const version = await this.version(options.signal);
    return openBorrowed(this.target, { path: this.#versioned(version, options), json: options.json, signal: options.signal, what: options.what });
  }

  /** The full request path (base path, version prefix, query) for a connection of the caller's own. */
  async fullPath(options: Pick<CallOptions, 'path' | 'query' | 'signal'>): Promise<string> {
    return this.#versioned(await this.version(options.signal), options);
  }

  #versioned(version: string, options: Pick<CallOptions, 'path' | 'query'>): string {
    return `${this.target.kind === 'tcp' ? this.target.basePath : ''}/v${version}${options.path}${encodeQuery(options.query)}`;
  }

  async #send(options: CallOptions, fullPath: string): Promise<EngineResponse> {
    const headers: Record<string, string> = { ...options.headers };
    let body: Buffer | string | Readable | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.contentType) {
      headers['content-type'] = options.contentType;
    }
    const timeout = options.long ? 0 : (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let res: Dispatcher.ResponseData;
    try {
      res = await request.call(this.dispatcher, {
        method: options.method,
        path: fullPath,
        headers,
        body,
        signal: options.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (err) {
      throw this.#failure(err, options);
    }
    if ((res.statusCode >= 200 && res.statusCode < 300) || options.ok?.includes(res.statusCode)) {
      return { status: res.statusCode, headers: res.headers, body: res.body as EngineResponse['body'] };
    }
    const text = await readCapped(res.body).catch(() => '');
    if (res.statusCode >= 300 && res.statusCode < 400) {
      // The daemon's router redirects paths it cannot route, e.g. a name holding a `/`.
      throw new SkiffError('bad-request', `${options.what}: the engine could not route ${options.method} ${options.path} (HTTP ${res.statusCode}); is a name in it invalid?`, { status: res.statusCode });
    }
    throw daemonError(res.statusCode, messageOf(text, res.headers['content-type']), options.what);
  }

  #failure(err: unknown, options: Pick<CallOptions, 'what' | 'signal' | 'timeoutMs'>): SkiffError {
    if (err instanceof SkiffError) return err;
    if (options.signal?.aborted) return abortError(options.signal, options.what);
    const code = (err as { code?: string }).code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new SkiffError('timeout', `${options.what}: the Docker engine did not answer within ${Math.round((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s`, { cause: err });
    }
    return (
      unreachableError(this.target, err) ??
      new SkiffError('protocol', `${options.what}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
    );
  }
}

/** Docker's error bodies are JSON `{"message"}` or plain text (docs/engine-api.md §3.1). */
export function messageOf(text: string, contentType: string | string[] | undefined): string {
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  if (type?.includes('json') || text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // not JSON after all: fall through to the text
    }
  }
  return text.trim();
}

export async function readCapped(body: AsyncIterable<Buffer>, cap = ERROR_BODY_CAP): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < cap) chunks.push(chunk.subarray(0, cap - size));
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
