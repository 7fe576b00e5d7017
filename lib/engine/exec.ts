// Exec endpoints (docs/engine-api.md §7): create, start hijacked, inspect for the exit code.
import type { Hijacked } from './hijack.js';
import type { BorrowedStream } from './borrowed.js';
import type { Transport } from './request.js';
import type { Signalled } from './containers.js';
import type { ExecApi } from './facets.js';

export interface ExecBody {
  Cmd: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
}

export interface ExecInfo {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ContainerID: string;
  Pid: number;
}

export class Execs implements ExecApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  async create(containerId: string, body: ExecBody, options: Signalled = {}): Promise<string> {
    const res = await this.#t.json<{ Id: string }>({
      method: 'POST',
      path: `/containers/${encodeURIComponent(containerId)}/exec`,
      json: { AttachStdout: true, AttachStderr: true, ...body },
      signal: options.signal,
      what: 'create exec',
    });
    return res.Id;
  }

  /** The framing follows the start body's Tty, so it must repeat the create's (docs/engine-api.md §7.2). */
  start(id: string, tty: boolean, options: Signalled = {}): Promise<Hijacked> {
    return this.#t.hijack({ method: 'POST', ...startCall(id, tty), signal: options.signal });
  }

  /** start() read into one reused buffer (borrowed.ts), or undefined where that cannot be done: then call start(). */
  startBorrowed(id: string, tty: boolean, options: Signalled = {}): Promise<BorrowedStream | undefined> {
    return this.#t.borrow({ ...startCall(id, tty), signal: options.signal });
  }

  inspect(id: string, options: Signalled = {}): Promise<ExecInfo> {
    return this.#t.json<ExecInfo>({ method: 'GET', path: `/exec/${id}/json`, signal: options.signal, what: 'inspect exec' });
  }
}

function startCall(id: string, tty: boolean) {
  return { path: `/exec/${id}/start`, json: { Detach: false, Tty: tty }, what: 'start exec' };
}
