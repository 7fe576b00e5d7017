// One exchange recorded: every callback of the client's handler passed on unchanged, and written
// as it passes (response, body chunks, end, error, abort, and the hand-over of a hijacked socket).
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { errors } from '../undici.js';
import { RESPONSE_HEADERS, encodeData, pickHeaders, type RecordedEvent, type WriteEvent } from '../recording-format.js';
import type { Redactor, StreamRedactor } from '../redaction.js';
import { TappedSocket } from './socket.js';

interface ExchangeHooks {
  finished(): void;
  upgraded(socket: TappedSocket): void;
}

/** Records one exchange while passing every callback on to the client's handler unchanged. */
export class ExchangeRecorder implements Dispatcher.DispatchHandler {
  readonly #n: number;
  readonly #target: Dispatcher.DispatchHandler;
  readonly #write: WriteEvent;
  readonly #redactor: Redactor;
  readonly #body: StreamRedactor;
  readonly #hooks: ExchangeHooks;
  #controller: Dispatcher.DispatchController | undefined;
  #wrapped: Dispatcher.DispatchController | undefined;
  #done = false;

  constructor(n: number, target: Dispatcher.DispatchHandler, write: WriteEvent, redactor: Redactor, hooks: ExchangeHooks) {
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
