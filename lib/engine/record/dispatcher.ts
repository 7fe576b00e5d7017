// Recording: a Dispatcher that wraps the real one and writes every exchange with the engine to a
// file, as it happens, so that a ReplayDispatcher can serve the same run later with no daemon at
// all. The format is described in recording-format.ts; what is redacted, in redaction.ts.
//
// Use: `const recorder = RecordingDispatcher.forDir(dir, openDispatcher(), { secrets })` (or
// `new RecordingDispatcher(inner, { file, secrets })`), `openEngine({ dispatcher: recorder,
// reachesDaemon: true })`, `recorder.addSecrets(...)` for credentials found later, and `await
// recorder.close()` at the end (it closes the wrapped dispatcher too unless `ownsDispatcher:
// false`). Replay the same DIR with `ReplayDispatcher.fromDir(dir)`.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { DispatcherBase, errors } from '../undici.js';
import { SkiffError } from '../errors.js';
import {
  RECORDING_FILE,
  REDACTED,
  REQUEST_HEADERS,
  controllerHandler,
  destroyArguments,
  encodeData,
  formatEvent,
  formatHeader,
  headerObject,
  pickHeaders,
  type RecordedEvent,
  type RecordedHeaders,
  type RequestEvent,
  type WriteEvent,
} from '../recording-format.js';
import { Redactor } from '../redaction.js';
import { isAsyncIterable, isIterable, tapBody } from './body.js';
import { ExchangeRecorder, detachedController } from './exchange.js';
import type { TappedSocket } from './socket.js';

export interface RecordingOptions {
  /** The recording file; created (with its directory) or truncated. */
  file: string;
  /** Values that must not reach the file (registry passwords, tokens, config.json `auth`). */
  secrets?: Iterable<string>;
  /** Close and destroy the wrapped dispatcher with this one (default true). */
  ownsDispatcher?: boolean;
  /** A free-text note for the header line (what was recorded). */
  note?: string;
}

export class RecordingDispatcher extends DispatcherBase {
  readonly file: string;
  readonly #inner: Dispatcher;
  readonly #owns: boolean;
  readonly #redactor: Redactor;
  #fd: number | undefined;
  #next = 1;
  #closing: Promise<void> | undefined;
  #destroyed = false;
  /** Exchanges not finished yet, and hijacked sockets not closed yet. */
  #active = 0;
  readonly #sockets = new Set<TappedSocket>();
  #idleWaiters: Array<() => void> = [];

  /** Records into `DIR/engine.jsonl`, the file `ReplayDispatcher.fromDir(DIR)` reads. */
  static forDir(dir: string, dispatcher: Dispatcher, options: Omit<RecordingOptions, 'file'> = {}): RecordingDispatcher {
    return new RecordingDispatcher(dispatcher, { ...options, file: join(dir, RECORDING_FILE) });
  }

  constructor(dispatcher: Dispatcher, options: RecordingOptions) {
    super();
    if (!dispatcher || typeof dispatcher.dispatch !== 'function') throw new TypeError('RecordingDispatcher: the first argument must be the Dispatcher to record (e.g. createDispatcher(target))');
    if (!options || typeof options.file !== 'string' || options.file === '') throw new TypeError('RecordingDispatcher: options.file is required, e.g. join(dir, RECORDING_FILE)');
    this.file = options.file;
    this.#inner = dispatcher;
    this.#owns = options.ownsDispatcher ?? true;
    this.#redactor = new Redactor(options.secrets ?? []);
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      // 0600: the file holds container output, which is the user's business.
      this.#fd = openSync(this.file, 'w', 0o600);
      writeSync(this.#fd, `${formatHeader(options.note)}\n`);
    } catch (err) {
      throw new SkiffError('usage', `cannot write the engine recording ${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** More values to redact from now on (credentials found during the run). */
  addSecrets(...values: string[]): void {
    for (const v of values) this.#redactor.add(v);
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const target = controllerHandler(handler);
    if (this.#destroyed || this.#closing) {
      const err = this.#destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError();
      target.onResponseError?.(detachedController(err), err);
      return false;
    }
    const n = this.#next++;
    const write: WriteEvent = (event) => this.#write(event);
    const exchange = new ExchangeRecorder(n, target, write, this.#redactor, {
      finished: () => this.#settle(),
      upgraded: (socket) => {
        this.#sockets.add(socket);
        this.#active++;
        socket.once('close', () => {
          this.#sockets.delete(socket);
          this.#settle();
        });
      },
    });
    this.#active++;
    let body: Dispatcher.DispatchOptions['body'];
    try {
      body = this.#recordRequest(n, options, write);
    } catch (err) {
      this.#settle();
      throw err;
    }
    return this.#inner.dispatch({ ...options, body }, exchange);
  }

  #recordRequest(n: number, options: Dispatcher.DispatchOptions, write: WriteEvent): Dispatcher.DispatchOptions['body'] {
    const r = this.#redactor;
    const all = headerObject(options.headers);
    const auth = all['x-registry-auth'];
    if (auth !== undefined) for (const v of Array.isArray(auth) ? auth : [auth]) r.addRegistryAuth(v);
    const headers: RecordedHeaders = {};
    for (const [k, v] of Object.entries(pickHeaders(all, REQUEST_HEADERS) ?? {})) {
      headers[k] = k === 'x-registry-auth' ? REDACTED : Array.isArray(v) ? v.map((x) => r.text(x)) : r.text(v);
    }
    const event: RequestEvent = {
      n,
      ev: 'request',
      method: String(options.method),
      path: r.text(String(options.path)),
      ...(options.upgrade && { upgrade: String(options.upgrade) }),
      ...(Object.keys(headers).length > 0 && { headers }),
    };
    const body = options.body;
    if (body === undefined || body === null) {
      write(event);
      return body;
    }
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const contentType = String(headers['content-type'] ?? '');
      let json: unknown;
      let isJson = false;
      if (contentType.includes('json') && buf.length > 0) {
        try {
          json = JSON.parse(buf.toString('utf8'));
          isJson = true;
        } catch {
          // labelled JSON but not JSON: keep the bytes
        }
      }
      write(isJson ? { ...event, json: r.json(json) } : { ...event, body: encodeData(r.bytes(buf)) });
      return body;
    }
    if (body instanceof Readable || isAsyncIterable(body) || isIterable(body)) {
      write({ ...event, stream: true });
      return tapBody(body as Readable | AsyncIterable<unknown> | Iterable<unknown>, n, write, r.stream());
    }
    // FormData / Blob bodies: the engine client never sends them; record the request alone.
    write(event);
    return body;
  }

  #write(event: RecordedEvent): void {
    if (this.#fd === undefined) return;
    // Synchronous and line by line: the order on disk is the order of events, and a crash
    // leaves every event so far on disk.
    writeSync(this.#fd, `${formatEvent(event)}\n`);
  }

  #settle(): void {
    this.#active--;
    if (this.#active <= 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  #idle(): Promise<void> {
    if (this.#active <= 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #closeFile(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    closeSync(fd);
  }

  /** Lets running exchanges (and hijacked sessions) finish, then closes the file. */
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.#closing ??= (async () => {
      if (this.#owns) await this.#inner.close();
      await this.#idle();
      this.#closeFile();
    })();
    if (callback) {
      this.#closing.then(callback, callback);
      return;
    }
    return this.#closing;
  }

  /** Aborts what is running, writes what that caused, closes the file. */
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null): Promise<void>;
  override destroy(): Promise<void>;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const { callback, err } = destroyArguments(a, b);
    const done = (async () => {
      if (!this.#destroyed) {
        this.#destroyed = true;
        for (const socket of this.#sockets) socket.destroy(err ?? undefined);
        if (this.#owns) await this.#inner.destroy(err);
      }
      this.#closeFile();
    })();
    if (callback) {
      done.then(callback, callback);
      return;
    }
    return done;
  }
}
