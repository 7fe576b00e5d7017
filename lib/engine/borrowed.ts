// A hijacked stream read into one reused buffer. undici hands an upgraded socket over as a
// normal stream, where every 64 KiB read is a new Buffer: on a long output that is garbage V8
// collects late (a 1 GiB attach peaks at ~35 MB of dead read buffers, a third of the process).
// Node reads into a caller's buffer only on a socket it opens itself (`onread`), so for the live
// engine on a Unix socket or plain TCP this opens the connection itself and speaks the one
// HTTP/1.1 exchange an upgrade is. TLS, and injected dispatchers (record, replay), keep the
// dispatcher's path: the caller falls back to hijack.ts whenever this returns undefined.
import { connect, type Socket } from 'node:net';
import { SkiffError, abortError } from './errors.js';
import type { EngineTarget } from './host.js';

export interface BorrowedStream {
  /** Owned by the caller: end() half-closes stdin, destroy() on abort. */
  readonly socket: Socket;
  /**
   * Reads to EOF. `onData` gets views of one reused buffer: a view is valid until `onData`
   * returns true, or, when it returns false (reading pauses), until the caller calls resume().
   * Resolves at the daemon's end of the stream; rejects if the connection fails or is destroyed.
   */
  read(onData: (chunk: Buffer) => boolean): Promise<void>;
  resume(): void;
}

export interface BorrowedOptions {
  /** The full request path, version prefix included. */
  path: string;
  /** A JSON body (exec start); none for attach. */
  json?: unknown;
  signal?: AbortSignal;
  what: string;
  /** How long the daemon may take to answer 101. */
  timeoutMs?: number;
}

const READ_BUFFER_BYTES = 64 * 1024;
const HEAD_CAP = 16 * 1024;

/** Whether a socket of our own can speak to the target: not over TLS or ssh, which stay with the dispatcher. */
export function canBorrow(target: EngineTarget): target is Extract<EngineTarget, { kind: 'unix' | 'tcp' }> {
  return target.kind === 'unix' || (target.kind === 'tcp' && target.tls === undefined);
}

/**
 * POSTs an upgrade request on a connection of its own. Resolves with the stream on 101, with
 * undefined on anything else (connection refused, an error status, a malformed answer): the
 * caller then asks through the dispatcher, which reports the daemon's own error.
 */
export function openBorrowed(target: EngineTarget, options: BorrowedOptions): Promise<BorrowedStream | undefined> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal, options.what));
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    let head = Buffer.alloc(0);
    let onData: ((chunk: Buffer) => boolean) | undefined;
    let early: Buffer | undefined;
    let settled = false;

    if (!canBorrow(target)) throw new TypeError(`openBorrowed: cannot open a connection of its own to ${target.url}`);
    const socket = connect({
      ...(target.kind === 'unix' ? { path: target.socketPath } : { host: target.host, port: target.port }),
      onread: {
        buffer,
        callback: (nread: number, buf: Uint8Array): boolean => {
          const chunk = Buffer.from(buf.buffer, buf.byteOffset, nread);
          if (onData) return onData(chunk);
          if (settled) {
            // Upgraded, not yet read: keep the bytes (rare; a copy) and wait for read().
            early = early ? Buffer.concat([early, chunk]) : Buffer.from(chunk);
            return false;
          }
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > HEAD_CAP) give(undefined);
            return true;
          }
          const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'));
          if (status?.[1] !== '101') {
            give(undefined);
            return false;
          }
          const rest = head.subarray(end + 4);
          if (rest.length > 0) early = Buffer.from(rest);
          give(stream);
          return false;
        },
      },
    });

    // Listened to for the socket's whole life: an error between the answer and read() must not
    // be an uncaught exception. read() reports it when the socket closes.
    let failure: Error | undefined;
    socket.on('error', (err) => {
      failure ??= err;
    });

    const stream: BorrowedStream = {
      socket,
      read(handler) {
        return new Promise((done, fail) => {
          const closed = () => failure ?? new SkiffError('aborted', `${options.what}: the connection closed before the output ended`);
          // Paused since the answer, so it cannot have ended; but it may have failed meanwhile.
          if (socket.destroyed) return fail(closed());
          let ended = false;
          socket.once('end', () => {
            ended = true;
            done();
          });
          socket.once('close', () => {
            if (!ended) fail(closed());
          });
          const first = early;
          early = undefined;
          onData = handler;
          if (!first || handler(first)) socket.resume();
        });
      },
      resume() {
        socket.resume();
      },
    };

    const timer = setTimeout(() => {
      give(new SkiffError('timeout', `${options.what}: the Docker engine did not answer within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`));
    }, options.timeoutMs ?? 60_000);
    const onAbort = () => give(abortError(signal!, options.what));
    signal?.addEventListener('abort', onAbort, { once: true });
    // Before the answer, any failure means "ask the dispatcher", which words it properly.
    const onEarlyClose = () => give(undefined);
    socket.once('close', onEarlyClose);

    function give(result: BorrowedStream | SkiffError | undefined): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('close', onEarlyClose);
      if (result === stream) {
        resolve(stream);
        return;
      }
      socket.destroy();
      if (result instanceof SkiffError) reject(result);
      else resolve(undefined);
    }

    const body = options.json === undefined ? '' : JSON.stringify(options.json);
    const type = options.json === undefined ? 'text/plain' : 'application/json';
    socket.write(`POST ${options.path} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}
