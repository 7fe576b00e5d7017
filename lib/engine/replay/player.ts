// Serving one matched exchange to its undici handler: status and headers, body chunks one by one
// (each in its own turn when `split`), errors, and the hand-over to a ReplaySocket for a
// hijacked session; a streamed request body is checked byte for byte first.
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { SkiffError } from '../errors.js';
import { decodeData, type RecordedHeaders } from '../recording-format.js';
import { ByteMatcher } from './byte-matcher.js';
import { ReplayController } from './controller.js';
import { describe, type RecordedExchange } from './exchanges.js';
import type { Mapping } from './mapping.js';
import type { Orderer } from './order.js';
import type { CompiledRules } from './rules.js';
import { ReplaySocket } from './socket.js';

/** What every exchange of one replay shares. */
export interface Session {
  rules: CompiledRules;
  maps: Mapping;
  split: boolean;
  order: Orderer;
}

export class ExchangePlayer {
  readonly #ex: RecordedExchange;
  readonly #target: Dispatcher.DispatchHandler;
  readonly #body: Dispatcher.DispatchOptions['body'];
  readonly #session: Session;
  readonly #onDone: () => void;
  readonly #controller: ReplayController;
  #i = 0;
  #ready = false;
  #finished = false;
  #scheduled = false;
  #socket: ReplaySocket | undefined;
  #cancelWait: (() => void) | undefined;

  constructor(ex: RecordedExchange, target: Dispatcher.DispatchHandler, body: Dispatcher.DispatchOptions['body'], session: Session, onDone: () => void) {
    this.#ex = ex;
    this.#target = target;
    this.#body = body;
    this.#session = session;
    this.#onDone = onDone;
    this.#controller = new ReplayController(
      () => this.#schedule(),
      (reason) => this.#fail(reason),
    );
  }

  start(): void {
    this.#target.onRequestStart?.(this.#controller, {});
    if (this.#finished) return;
    if (this.#ex.shape.body.kind === 'stream') {
      consumeBody(this.#body, this.#ex).then(
        () => {
          this.#ready = true;
          this.#schedule();
        },
        (err: Error) => this.#fail(err),
      );
    } else {
      this.#ready = true;
      this.#schedule();
    }
  }

  destroy(err: Error): void {
    this.#socket?.destroy(err);
    this.#fail(err);
  }

  #done(): void {
    this.#finished = true;
    this.#cancelWait?.();
    this.#onDone();
  }

  #fail(err: Error): void {
    if (this.#finished) return;
    this.#done();
    queueMicrotask(() => this.#target.onResponseError?.(this.#controller, err));
  }

  #schedule(): void {
    if (this.#scheduled || this.#finished || !this.#ready) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#step();
    });
  }

  #step(): void {
    while (!this.#finished && !this.#controller.paused && !this.#controller.aborted) {
      const ev = this.#ex.events[this.#i];
      const n = this.#ex.n;
      if (!ev) {
        this.#fail(new SkiffError('replay', `replay: the recording ends in the middle of exchange #${n} ${describe(this.#ex.shape)}`));
        return;
      }
      const pos = this.#ex.positions[this.#i]!;
      if (ev.ev !== 'aborted' && !this.#session.order.ready(pos)) {
        this.#cancelWait?.();
        this.#cancelWait = this.#session.order.wait(pos, () => this.#schedule());
        return;
      }
      this.#i++;
      switch (ev.ev) {
        case 'response':
          this.#target.onResponseStart?.(this.#controller, ev.status, responseHeaders(ev.headers), '');
          break;
        case 'data': {
          this.#target.onResponseData?.(this.#controller, this.#session.maps.rewriteResponse(decodeData(ev.data), this.#session.rules));
          if (this.#session.split) {
            this.#schedule();
            return;
          }
          break;
        }
        case 'end':
          this.#done();
          this.#target.onResponseEnd?.(this.#controller, {});
          return;
        case 'error':
          this.#fail(recordedError(ev.message, ev.code, ev.name));
          return;
        case 'aborted':
          // The client gave up here when it was recorded; it will again, and then #fail runs.
          return;
        case 'upgrade': {
          this.#done();
          this.#socket = new ReplaySocket(this.#ex, this.#i, this.#session);
          this.#target.onRequestUpgrade?.(this.#controller, ev.status, responseHeaders(ev.headers), this.#socket);
          return;
        }
        default:
          this.#fail(new SkiffError('protocol', `replay: exchange #${n} has a "${ev.ev}" event outside a hijacked session`));
          return;
      }
    }
  }
}

function responseHeaders(headers: RecordedHeaders | undefined): Record<string, string | string[]> {
  return { ...headers };
}

export function recordedError(message: string, code?: string, name?: string): Error {
  const err = new Error(message);
  if (name) err.name = name;
  if (code) (err as Error & { code?: string }).code = code;
  return err;
}

async function consumeBody(body: Dispatcher.DispatchOptions['body'], ex: RecordedExchange): Promise<void> {
  const matcher = new ByteMatcher(ex.bodyChunks);
  const source = body instanceof Readable ? body : Readable.from(body as unknown as AsyncIterable<unknown>, { objectMode: false });
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece as Uint8Array);
    const at = matcher.feed(chunk);
    if (at !== -1) {
      source.destroy();
      throw new SkiffError('replay', `replay: the body sent with ${describe(ex.shape)} differs from the recording (#${ex.n}) at byte ${at}`);
    }
  }
  if (!matcher.complete) throw new SkiffError('replay', `replay: the body sent with ${describe(ex.shape)} has ${matcher.seen} bytes; the recording (#${ex.n}) has ${matcher.total}`);
}

export function drain(body: Dispatcher.DispatchOptions['body']): void {
  if (body instanceof Readable) body.on('error', () => undefined).destroy();
}
