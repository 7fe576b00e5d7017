// The hijacked connection (attach, exec start) on replay: a Duplex that plays the daemon's
// recorded bytes in order relative to the client's input and half-close.
import { Duplex } from 'node:stream';
import { SkiffError } from '../errors.js';
import { decodeData } from '../recording-format.js';
import { ByteMatcher } from './byte-matcher.js';
import { describe, type RecordedExchange } from './exchanges.js';
import { recordedError, type Session } from './player.js';

/**
 * The hijacked connection on replay. The daemon's bytes come in recorded order, and never ahead
 * of the client: output recorded after the client's n-th byte of input (or its half-close) is
 * delivered once the client has written that much (or half-closed). The client's bytes must be
 * the recorded ones. Not half-open on the read side, like the real upgraded socket.
 */
export class ReplaySocket extends Duplex {
  readonly #ex: RecordedExchange;
  readonly #session: Session;
  readonly #stdin: ByteMatcher;
  /** The next event of the exchange (the first after the upgrade, to begin with). */
  #i: number;
  /** Client bytes the recording had seen by the current event. */
  #required = 0;
  #clientEnded = false;
  #serverEnded = false;
  #wantsRead = false;
  #scheduled = false;
  #cancelWait: (() => void) | undefined;

  constructor(ex: RecordedExchange, first: number, session: Session) {
    super({ allowHalfOpen: false });
    this.#ex = ex;
    this.#i = first;
    this.#session = session;
    this.#stdin = new ByteMatcher(ex.events.slice(first).flatMap((e) => (e.ev === 'client' ? [decodeData(e.data)] : [])));
  }

  override _read(): void {
    this.#wantsRead = true;
    this.#schedule();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const at = this.#stdin.feed(chunk);
    if (at !== -1) {
      callback(new SkiffError('replay', `replay: the input written to ${describe(this.#ex.shape)} differs from the recording (#${this.#ex.n}) at byte ${at}`));
      return;
    }
    callback();
    this.#schedule();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#clientEnded = true;
    if (!this.#stdin.complete) {
      callback(new SkiffError('replay', `replay: the input to ${describe(this.#ex.shape)} ended after ${this.#stdin.seen} bytes; the recording (#${this.#ex.n}) has ${this.#stdin.total}`));
      return;
    }
    callback();
    this.#schedule();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancelWait?.();
    callback(error);
  }

  /** The daemon's next event may go out: the requests recorded before it have been made. */
  #ordered(): boolean {
    const pos = this.#ex.positions[this.#i]!;
    if (this.#session.order.ready(pos)) return true;
    this.#cancelWait?.();
    this.#cancelWait = this.#session.order.wait(pos, () => this.#schedule());
    return false;
  }

  #schedule(): void {
    if (this.#scheduled || this.destroyed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#step();
    });
  }

  #step(): void {
    while (!this.destroyed) {
      const ev = this.#ex.events[this.#i];
      if (!ev) {
        if (!this.#serverEnded) this.destroy(new SkiffError('replay', `replay: the recording ends inside the hijacked session of #${this.#ex.n} ${describe(this.#ex.shape)}`));
        return;
      }
      switch (ev.ev) {
        case 'client': {
          const need = this.#required + decodeData(ev.data).length;
          if (this.#stdin.seen < need) return;
          this.#required = need;
          break;
        }
        case 'client-end':
          if (!this.#clientEnded) return;
          break;
        case 'server': {
          if (!this.#ordered()) return;
          if (!this.#wantsRead) return;
          if (!this.push(decodeData(ev.data))) this.#wantsRead = false;
          this.#i++;
          if (this.#session.split) {
            this.#schedule();
            return;
          }
          continue;
        }
        case 'server-end':
          if (!this.#ordered()) return;
          this.#serverEnded = true;
          this.push(null);
          break;
        case 'server-error':
          if (!this.#ordered()) return;
          this.#i++;
          this.destroy(recordedError(ev.message, ev.code));
          return;
        case 'client-destroy':
          // The client tore the session down here when it was recorded; wait for it to.
          return;
        default:
          this.destroy(new SkiffError('protocol', `replay: exchange #${this.#ex.n} has a "${ev.ev}" event inside its hijacked session`));
          return;
      }
      this.#i++;
    }
  }
}
