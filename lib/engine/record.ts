// Recording: a Dispatcher that wraps the real one and writes every exchange with the engine to a
// file, as it happens, so that replay.ts can serve the same run later with no daemon at all.
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
// Use: `const recorder = RecordingDispatcher.forDir(dir, createDispatcher(target), { secrets })`
// (or `new RecordingDispatcher(inner, { file, secrets })`), `openEngine({ dispatcher: recorder })`,
// `recorder.addSecrets(...)` for credentials found later, and `await recorder.close()` at the end
// (it closes the wrapped dispatcher too unless `ownsDispatcher: false`). Replay the same DIR with
// `ReplayDispatcher.fromDir(dir)`.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Duplex, Readable, Transform, pipeline } from 'node:stream';
import type { Dispatcher } from 'undici';
import { DispatcherBase, errors } from './undici.js';
import { SkiffError } from './errors.js';
import {
  RECORDING_FILE,
  REDACTED,
  REQUEST_HEADERS,
  RESPONSE_HEADERS,
  Redactor,
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
  type StreamRedactor,
} from './recording-format.js';

export { RECORDING_FILE, secretsOfAuthConfig } from './recording-format.js';

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

type Write = (event: RecordedEvent) => void;

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
    const write: Write = (event) => this.#write(event);
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

  #recordRequest(n: number, options: Dispatcher.DispatchOptions, write: Write): Dispatcher.DispatchOptions['body'] {
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

interface ExchangeHooks {
  finished(): void;
  upgraded(socket: TappedSocket): void;
}

/** Records one exchange while passing every callback on to the client's handler unchanged. */
class ExchangeRecorder implements Dispatcher.DispatchHandler {
  readonly #n: number;
  readonly #target: Dispatcher.DispatchHandler;
  readonly #write: Write;
  readonly #redactor: Redactor;
  readonly #body: StreamRedactor;
  readonly #hooks: ExchangeHooks;
  #controller: Dispatcher.DispatchController | undefined;
  #wrapped: Dispatcher.DispatchController | undefined;
  #done = false;

  constructor(n: number, target: Dispatcher.DispatchHandler, write: Write, redactor: Redactor, hooks: ExchangeHooks) {
    this.#n = n;
    this.#target = target;
    this.#write = write;
    this.#redactor = redactor;
    this.#body = redactor.stream();
    this.#hooks = hooks;
  }

  #finish(event: RecordedEvent | undefined): void {
    if (this.#done) return;
    this.#done = true;
    if (event) this.#write(event);
    this.#hooks.finished();
  }

  // The client's abort goes through here, so the recording can say who ended the exchange.
  #wrap(controller: Dispatcher.DispatchController): Dispatcher.DispatchController {
    if (this.#controller === controller && this.#wrapped) return this.#wrapped;
    this.#controller = controller;
    const self = this;
    this.#wrapped = {
      get aborted() {
        return controller.aborted;
      },
      get paused() {
        return controller.paused;
      },
      get reason() {
        return controller.reason;
      },
      get rawHeaders() {
        return controller.rawHeaders;
      },
      get rawTrailers() {
        return controller.rawTrailers;
      },
      abort(reason: Error) {
        self.#finish({ n: self.#n, ev: 'aborted' });
        controller.abort(reason);
      },
      pause() {
        controller.pause();
      },
      resume() {
        controller.resume();
      },
    };
    return this.#wrapped;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#target.onRequestStart?.(this.#wrap(controller), context);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    const picked = pickHeaders(headers, RESPONSE_HEADERS);
    const clean = picked && Object.fromEntries(Object.entries(picked).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => this.#redactor.text(x)) : this.#redactor.text(v)]));
    if (!this.#done) this.#write({ n: this.#n, ev: 'response', status: statusCode, ...(clean && { headers: clean }) });
    this.#target.onResponseStart?.(this.#wrap(controller), statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#done) {
      const clean = this.#body.push(chunk);
      if (clean.length > 0) this.#write({ n: this.#n, ev: 'data', data: encodeData(clean) });
    }
    this.#target.onResponseData?.(this.#wrap(controller), chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    if (!this.#done) {
      const rest = this.#body.flush();
      if (rest.length > 0) this.#write({ n: this.#n, ev: 'data', data: encodeData(rest) });
    }
    this.#finish({ n: this.#n, ev: 'end' });
    this.#target.onResponseEnd?.(this.#wrap(controller), trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.#done) {
      const rest = this.#body.flush();
      if (rest.length > 0) this.#write({ n: this.#n, ev: 'data', data: encodeData(rest) });
    }
    const code = (error as { code?: unknown }).code;
    this.#finish({
      n: this.#n,
      ev: 'error',
      message: this.#redactor.text(String(error?.message ?? error)),
      ...(typeof code === 'string' && { code }),
      ...(error?.name && error.name !== 'Error' && { name: error.name }),
    });
    this.#target.onResponseError?.(controller ? this.#wrap(controller) : detachedController(error), error);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, socket: Duplex): void {
    const picked = pickHeaders(headers, RESPONSE_HEADERS);
    this.#write({ n: this.#n, ev: 'upgrade', status: statusCode, ...(picked && { headers: picked }) });
    const tapped = new TappedSocket(socket, this.#n, this.#write, this.#redactor);
    this.#hooks.upgraded(tapped);
    this.#finish(undefined);
    this.#target.onRequestUpgrade?.(this.#wrap(controller), statusCode, headers, tapped);
  }
}

/**
 * The hijacked connection as the client sees it: everything is forwarded both ways and recorded
 * as it passes. Backpressure goes through (a slow reader pauses the socket, a full socket holds
 * the writer), and so does half-close (the client's `end()` is a FIN on the real socket, and the
 * daemon's output after it still arrives). Like undici's upgraded socket, it is not half-open
 * on the read side: when the daemon closes, the write side ends too.
 */
class TappedSocket extends Duplex {
  readonly #inner: Duplex;
  readonly #n: number;
  readonly #write: Write;
  readonly #client: StreamRedactor;
  readonly #server: StreamRedactor;
  #serverEnded = false;
  #destroyingInner = false;

  constructor(inner: Duplex, n: number, write: Write, redactor: Redactor) {
    super({ allowHalfOpen: false });
    this.#inner = inner;
    this.#n = n;
    this.#write = write;
    this.#client = redactor.stream();
    this.#server = redactor.stream();
    inner.on('data', (chunk: Buffer) => {
      this.#record('server', this.#server.push(chunk));
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => {
      this.#serverEnded = true;
      this.#record('server', this.#server.flush());
      this.#write({ n, ev: 'server-end' });
      this.push(null);
    });
    inner.on('error', (err: Error) => {
      if (this.#destroyingInner) return;
      const code = (err as { code?: unknown }).code;
      this.#record('server', this.#server.flush());
      this.#write({ n, ev: 'server-error', message: redactor.text(err.message), ...(typeof code === 'string' && { code }) });
      this.#destroyingInner = true;
      this.destroy(err);
    });
    inner.on('close', () => {
      // After the daemon's end, what is buffered here is still the client's to read.
      if (this.#serverEnded || this.destroyed) return;
      this.#destroyingInner = true;
      this.destroy();
    });
  }

  #record(ev: 'server' | 'client', clean: Buffer): void {
    if (clean.length > 0) this.#write({ n: this.#n, ev, data: encodeData(clean) });
  }

  override _read(): void {
    if (this.#inner.isPaused()) this.#inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#record('client', this.#client.push(chunk));
    if (this.#inner.write(chunk)) {
      callback();
      return;
    }
    const go = () => {
      this.#inner.off('drain', go);
      this.#inner.off('close', go);
      callback();
    };
    this.#inner.on('drain', go);
    this.#inner.on('close', go);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#record('client', this.#client.flush());
    this.#write({ n: this.#n, ev: 'client-end' });
    if (!this.#inner.writableEnded && !this.#inner.destroyed) this.#inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Both sides ended (autoDestroy) is the normal end, not something the client did.
    const finished = this.#serverEnded && this.writableFinished;
    if (!this.#destroyingInner && !finished) {
      // The client tore it down (an abort, a failed pipeline).
      this.#record('client', this.#client.flush());
      this.#write({ n: this.#n, ev: 'client-destroy' });
      this.#destroyingInner = true;
    }
    if (!this.#inner.destroyed) this.#inner.destroy();
    callback(error);
  }
}

/** Passes a streamed request body on to the real dispatcher, recording each chunk as it goes. */
function tapBody(source: Readable | AsyncIterable<unknown> | Iterable<unknown>, n: number, write: Write, redact: StreamRedactor): Readable {
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

function isAsyncIterable(value: unknown): boolean {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

function isIterable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

/** For errors reported before the exchange has a controller of its own. */
export function detachedController(reason: Error | null = null): Dispatcher.DispatchController {
  return {
    aborted: reason !== null,
    paused: false,
    reason,
    abort() {},
    pause() {},
    resume() {},
  };
}
