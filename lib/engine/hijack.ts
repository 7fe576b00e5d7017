// Attach and exec start take over the connection (`Upgrade: tcp`, 101). undici's own upgrade()
// turns any other status into a bare "bad upgrade" and loses the daemon's text (docs/engine-api.md
// §14), so this is a handler of our own: 101 hands the socket to the caller, anything else is
// read to the end and becomes an error with the daemon's status and message.
import type { Duplex, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { SkiffError, abortError, daemonError } from './errors.js';

export interface Hijacked {
  /** Owned by the caller from now on: half-close it for stdin EOF, destroy it on abort. */
  socket: Duplex;
  headers: Record<string, string | string[] | undefined>;
}

export interface HijackOptions {
  path: string;
  body?: string;
  contentType: string;
  signal?: AbortSignal;
  what: string;
}

const ERROR_BODY_CAP = 64 * 1024;

export function hijack(dispatcher: Dispatcher, options: HijackOptions): Promise<Hijacked> {
  return new Promise<Hijacked>((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) {
      reject(abortError(signal, options.what));
      return;
    }
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let contentType: string | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const onAbort = () => controller?.abort(abortError(signal!, options.what));
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        controller = ctrl;
        if (signal?.aborted) ctrl.abort(abortError(signal, options.what));
      },
      onRequestUpgrade(_ctrl, _statusCode, headers, socket) {
        settle();
        resolve({ socket, headers: headers as Hijacked['headers'] });
      },
      onResponseStart(_ctrl, statusCode, headers) {
        status = statusCode;
        const ct = headers['content-type'];
        contentType = Array.isArray(ct) ? ct[0] : ct;
      },
      onResponseData(_ctrl, chunk) {
        if (size < ERROR_BODY_CAP) chunks.push(chunk.subarray(0, ERROR_BODY_CAP - size));
        size += chunk.length;
      },
      onResponseEnd() {
        settle();
        const text = Buffer.concat(chunks).toString('utf8');
        // A 200 without upgrade would be a raw stream we did not ask for; the Go client refuses it too.
        const message = status >= 200 && status < 300 ? `expected 101 Switching Protocols, got ${status}` : parseMessage(text, contentType);
        reject(daemonError(status, message, options.what));
      },
      onResponseError(_ctrl, error) {
        settle();
        reject(error instanceof SkiffError ? error : error);
      },
    };

    dispatcher.dispatch(
      {
        method: 'POST',
        path: options.path,
        upgrade: 'tcp',
        headers: { 'content-type': options.contentType },
        body: options.body,
        // The daemon answers 101 only once the container is attached; that can take a while
        // on a loaded engine, but it is never a long poll.
        headersTimeout: 60_000,
      },
      handler,
    );
  });
}

function parseMessage(text: string, contentType: string | undefined): string {
  if (contentType?.includes('json') || text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // plain text after all (errors written after the daemon hijacked are raw text)
    }
  }
  return text.trim();
}

/** Sends stdin EOF: a TCP half-close, not a destroy, so the remaining output still arrives. */
export function closeStdin(socket: Duplex): void {
  if (!socket.writableEnded) socket.end();
}

/** Writes stdin (if any) and then half-closes; with none, half-closes at once as the CLI does. */
export function feedStdin(socket: Duplex, stdin: Readable | Buffer | string | undefined): void {
  if (stdin === undefined) {
    closeStdin(socket);
  } else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) {
    socket.write(stdin);
    closeStdin(socket);
  } else {
    stdin.pipe(socket, { end: false });
    stdin.once('end', () => closeStdin(socket));
  }
}
