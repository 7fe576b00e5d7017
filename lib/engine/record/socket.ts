// A hijacked connection (attach, exec start) recorded both ways as it passes.
import { Duplex } from 'node:stream';
import { encodeData, type WriteEvent } from '../recording-format.js';
import type { Redactor, StreamRedactor } from '../redaction.js';

/**
 * The hijacked connection as the client sees it: everything is forwarded both ways and recorded
 * as it passes. Backpressure goes through (a slow reader pauses the socket, a full socket holds
 * the writer), and so does half-close (the client's `end()` is a FIN on the real socket, and the
 * daemon's output after it still arrives). Like undici's upgraded socket, it is not half-open
 * on the read side: when the daemon closes, the write side ends too.
 */
export class TappedSocket extends Duplex {
  readonly #inner: Duplex;
  readonly #n: number;
  readonly #write: WriteEvent;
  readonly #client: StreamRedactor;
  readonly #server: StreamRedactor;
  #serverEnded = false;
  #destroyingInner = false;

  constructor(inner: Duplex, n: number, write: WriteEvent, redactor: Redactor) {
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
