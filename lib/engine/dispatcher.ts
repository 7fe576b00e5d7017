// The one connection pool to the engine. A Pool, never a single Client: a blocking wait or a
// followed log holds its connection for minutes and must not stall create/start (docs/engine-api.md
// §1.1). Engine code receives a Dispatcher; only this file builds the live one.
import { isIP, type Socket } from 'node:net';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import { Pool } from './undici.js';
import type { EngineTarget } from './host.js';
import { SshConnection } from './ssh.js';
import { SshMaster } from './ssh-master.js';

export function createDispatcher(target: EngineTarget): Dispatcher {
  const common = {
    // The daemon keeps idle connections forever; reuse them across steps of a run.
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    // Per-request timeouts are set by request.ts; these are only the fallbacks.
    headersTimeout: 0,
    bodyTimeout: 0,
  };
  if (target.kind === 'unix') {
    return new Pool('http://localhost', { ...common, connect: { socketPath: target.socketPath } });
  }
  if (target.kind === 'ssh') {
    // Each connection the pool opens is an ssh process of its own, as for the docker CLI; the
    // pool closes it like any socket (idle timeout, close, destroy), which stops the process.
    // They share one login (ssh-master.ts), which lives while one of them does.
    const master = SshMaster.wanted(target) ? new SshMaster(target) : undefined;
    return new SshPool(master, {
      ...common,
      // undici's type says net.Socket; it uses only the Duplex side and, when present, ref/unref.
      // It needs the callback on a later turn, as a real connect gives it.
      connect: (_options, callback) => {
        const connection = new SshConnection(target, master);
        connection.started.then(
          () => callback(null, connection as unknown as Socket),
          (err: Error) => callback(err, null),
        );
      },
    });
  }
  const origin = `${target.tls ? 'https' : 'http'}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return new Pool(origin, {
    ...common,
    connect: {
      timeout: 3_000,
      ...(target.tls && {
        ca: target.tls.ca,
        cert: target.tls.cert,
        key: target.tls.key,
        rejectUnauthorized: target.tls.verify,
        // SNI carries names only: an address there draws Node's DEP0123 warning on every run
        // (the certificate is still checked against the address).
        ...(isIP(target.host) === 0 && { servername: target.host }),
      }),
    },
  });
}

/** The pool of an ssh engine: closing or destroying it also stops the shared login (ssh-master.ts). */
class SshPool extends Pool {
  readonly #master: SshMaster | undefined;

  constructor(master: SshMaster | undefined, options: UndiciPool.Options) {
    super('http://docker', options);
    this.#master = master;
  }

  // undici's promise forms call the callback forms on `this`: only those add the master's stop.
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    if (!callback) return new Promise<void>((resolve) => this.close(resolve));
    super.close(() => this.#stopMaster(callback));
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const [err, callback] = typeof a === 'function' ? [null, a] : [a ?? null, b];
    if (!callback) return new Promise<void>((resolve) => this.destroy(err, resolve));
    super.destroy(err, () => this.#stopMaster(callback));
  }

  #stopMaster(callback: () => void): void {
    if (!this.#master) return callback();
    this.#master.close().then(callback, callback);
  }
}
