// Bulk bodies (image archives of hundreds of MB) on a connection of our own. Through undici every
// 64 KiB read is a new Buffer and passes through llhttp: on a 566 MB `docker save` that is
// ~70 MB of garbage V8 collects late and a transfer ~1.5× slower than the docker CLI's. Here the
// response is read into one reused buffer (`onread`) and de-chunked in place, and a request
// body is written from the caller's buffers, each handed back only once the socket is done with
// it. For the live engine on a Unix socket or plain TCP (borrowed.ts's rule): elsewhere (TLS, an
// injected dispatcher) the caller keeps the undici path.
import { connect } from 'node:net';
import { canBorrow } from './borrowed.js';
import { SkiffError, abortError, daemonError } from './errors.js';
import type { EngineTarget } from './host.js';
import { messageOf } from './request.js';
import { unreachableError } from './unreachable.js';

export interface BulkRequest {
  method: 'GET' | 'POST';
  /** The full request path, version prefix and query included. */
  path: string;
  contentType?: string;
  /** The request body's length, then the body: each buffer may be reused once the next is asked for. */
  body?: { length: number; chunks: AsyncIterable<Buffer> };
  /** Views of one reused buffer, valid only during the call; a throw aborts the exchange. */
  onBody(chunk: Buffer): void;
  /**
   * The answer is not read before this resolves: the request goes at once, so the engine gets
   * its answer ready meanwhile (an image export starts) and then waits on the socket.
   */
  ready?: Promise<void>;
  signal?: AbortSignal;
  what: string;
}

const READ_BUFFER_BYTES = 1024 * 1024;
const HEAD_CAP = 64 * 1024;
const ERROR_CAP = 64 * 1024;

/** Resolves once the response has ended and every byte went to `onBody`; rejects with a SkiffError. */
export function bulkExchange(target: EngineTarget, request: BulkRequest): Promise<void> {
  const { signal, what } = request;
  if (signal?.aborted) return Promise.reject(abortError(signal, what));
  return new Promise<void>((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    let head: Buffer | undefined = Buffer.alloc(0);
    let status = 0;
    let contentType: string | undefined;
    let errorText: Buffer[] | undefined;
    let errorBytes = 0;
    let settled = false;
    const body = new Dechunker((chunk) => {
      if (errorText) {
        if (errorBytes < ERROR_CAP) errorText.push(Buffer.from(chunk.subarray(0, ERROR_CAP - errorBytes)));
        errorBytes += chunk.length;
      } else {
        request.onBody(chunk);
      }
    });

    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = (): void => finish(abortError(signal!, what));
    signal?.addEventListener('abort', onAbort, { once: true });

    if (!canBorrow(target)) throw new TypeError(`bulkExchange: cannot open a connection of its own to ${target.url}`);
    const socket = connect({
      ...(target.kind === 'unix' ? { path: target.socketPath } : { host: target.host, port: target.port }),
      onread: {
        buffer,
        callback: (nread: number, buf: Uint8Array): boolean => {
          if (settled) return false;
          let chunk = Buffer.from(buf.buffer, buf.byteOffset, nread);
          try {
            if (head) {
              head = Buffer.concat([head, chunk]);
              const end = head.indexOf('\r\n\r\n');
              if (end < 0) {
                if (head.length > HEAD_CAP) throw new SkiffError('protocol', `${what}: the engine's answer has no end of headers`);
                return true;
              }
              const lines = head.subarray(0, end).toString('latin1').split('\r\n');
              const rest = head.subarray(end + 4);
              head = undefined;
              status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
              const fields = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
              contentType = fields.get('content-type');
              if (status < 200 || status >= 300) errorText = [];
              body.frame(fields.get('transfer-encoding')?.toLowerCase().includes('chunked') ? 'chunked' : fields.has('content-length') ? Number(fields.get('content-length')) : 'eof');
              chunk = rest;
            }
            if (body.push(chunk)) end();
          } catch (err) {
            finish(err);
            return false;
          }
          return true;
        },
      },
    });
    const end = (): void => {
      if (errorText) finish(daemonError(status, messageOf(Buffer.concat(errorText).toString('utf8'), contentType), what));
      else finish();
    };
    if (request.ready) {
      socket.pause();
      request.ready.then(() => settled || socket.resume(), () => {});
    }
    socket.on('error', (err) => finish(unreachableError(target, err) ?? new SkiffError('protocol', `${what}: ${err.message}`, { cause: err })));
    socket.on('end', () => {
      if (!head && body.endOfStream()) end();
      else finish(new SkiffError('protocol', `${what}: the engine closed the connection before the end of its answer`));
    });
    socket.on('close', () => finish(new SkiffError('protocol', `${what}: the connection closed before the end of the answer`)));

    const lengthHeader = request.body ? `Content-Length: ${request.body.length}\r\nContent-Type: ${request.contentType ?? 'application/octet-stream'}\r\n` : '';
    socket.write(`${request.method} ${request.path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n${lengthHeader}\r\n`);
    if (request.body) void send(request.body.chunks);

    async function send(chunks: AsyncIterable<Buffer>): Promise<void> {
      try {
        for await (const chunk of chunks) {
          // An early answer (the daemon refused the archive) ends the exchange: stop sending.
          if (settled || status !== 0) return;
          await new Promise<void>((done, fail) => socket.write(chunk, (err) => (err ? fail(err) : done())));
        }
      } catch (err) {
        finish(err instanceof SkiffError ? err : new SkiffError('protocol', `${what}: ${(err as Error).message}`, { cause: err }));
      }
    }
  });
}

/** HTTP/1.1 body framing, fed views; hands on the payload as views too (no copy). */
class Dechunker {
  readonly #out: (chunk: Buffer) => void;
  #mode: 'chunked' | number | 'eof' = 'eof';
  /** Chunked: bytes of payload left in the current chunk; -1 while reading a size line. */
  #left = -1;
  #line = '';
  /** Bytes of the `\r\n` after a chunk's payload still to skip. */
  #crlf = 0;
  #done = false;

  constructor(out: (chunk: Buffer) => void) {
    this.#out = out;
  }

  frame(mode: 'chunked' | number | 'eof'): void {
    this.#mode = mode;
    if (mode === 0) this.#done = true;
  }

  /** True once the body is complete. */
  push(chunk: Buffer): boolean {
    let at = 0;
    while (at < chunk.length && !this.#done) {
      if (this.#mode === 'eof') {
        this.#out(chunk.subarray(at));
        return false;
      }
      if (typeof this.#mode === 'number') {
        const n = Math.min(this.#mode, chunk.length - at);
        this.#out(chunk.subarray(at, at + n));
        this.#mode -= n;
        at += n;
        if (this.#mode === 0) this.#done = true;
        continue;
      }
      if (this.#crlf > 0) {
        this.#crlf--;
        at++;
        continue;
      }
      if (this.#left > 0) {
        const n = Math.min(this.#left, chunk.length - at);
        this.#out(chunk.subarray(at, at + n));
        this.#left -= n;
        at += n;
        if (this.#left === 0) {
          this.#left = -1;
          this.#crlf = 2;
        }
        continue;
      }
      const nl = chunk.indexOf(0x0a, at);
      this.#line += chunk.toString('latin1', at, nl < 0 ? chunk.length : nl);
      if (this.#line.length > 1024) throw new SkiffError('protocol', 'the engine sent a malformed chunked body');
      if (nl < 0) return false;
      at = nl + 1;
      const size = parseInt(this.#line.trim().split(';')[0] ?? '', 16);
      this.#line = '';
      if (!Number.isFinite(size)) throw new SkiffError('protocol', 'the engine sent a malformed chunked body');
      // The last chunk: trailers (none from the daemon) and the final CRLF are not waited for.
      if (size === 0) this.#done = true;
      else this.#left = size;
    }
    return this.#done;
  }

  endOfStream(): boolean {
    return this.#done || this.#mode === 'eof';
  }
}
