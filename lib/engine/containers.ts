// Container endpoints as typed calls, no policy: the executor decides order and ownership
// (docs/engine-api.md §6). Wire types keep Docker's PascalCase.
import type { Readable } from 'node:stream';
import type { Hijacked } from './hijack.js';
import type { BorrowedStream } from './borrowed.js';
import { SkiffError, isSkiffError } from './errors.js';
import type { Transport } from './request.js';
import { unreachableError } from './unreachable.js';
import type { ContainersApi } from './facets.js';

export interface CreateBody {
  Image?: string;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Labels?: Record<string, string>;
  HostConfig?: Record<string, unknown>;
  NetworkingConfig?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  ExitCode: number;
  Error?: string;
  OOMKilled?: boolean;
  Health?: { Status: 'none' | 'starting' | 'healthy' | 'unhealthy'; FailingStreak?: number };
}

export interface ContainerInfo {
  Id: string;
  Name: string;
  State: ContainerState;
  Config: { Tty?: boolean; Labels?: Record<string, string> | null; Image?: string; Healthcheck?: { Test?: string[] } | null; [k: string]: unknown };
  HostConfig: Record<string, unknown>;
  NetworkSettings?: { Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null>; Networks?: Record<string, { Aliases?: string[] | null; IPAddress?: string }> };
  [field: string]: unknown;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
}

export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export interface Signalled {
  signal?: AbortSignal;
}

export class Containers implements ContainersApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  async create(body: CreateBody, options: Signalled & { name?: string; platform?: string } = {}): Promise<{ Id: string; Warnings: string[] }> {
    const res = await this.#t.json<{ Id: string; Warnings: string[] | null }>({
      method: 'POST',
      path: '/containers/create',
      query: { name: options.name, platform: options.platform },
      json: body,
      signal: options.signal,
      what: options.name ? `create container ${options.name}` : 'create container',
    });
    return { Id: res.Id, Warnings: res.Warnings ?? [] };
  }

  /** 304 (already running) is success. */
  async start(id: string, options: Signalled = {}): Promise<void> {
    await this.#t.empty({ method: 'POST', path: `/containers/${id}/start`, ok: [304], signal: options.signal, what: 'start container' });
  }

  /**
   * Registers a wait and resolves once the daemon has sent the response headers, i.e. once the
   * waiter exists; only then is it safe to start (docs/engine-api.md rule 2). `result` settles when the
   * condition is met.
   */
  async registerWait(id: string, condition: 'next-exit' | 'removed' | 'not-running', options: Signalled = {}): Promise<{ result: Promise<WaitResult> }> {
    const res = await this.#t.call({ method: 'POST', path: `/containers/${id}/wait`, query: { condition }, long: true, signal: options.signal, what: 'wait for container' });
    const result = (res.body.json() as Promise<WaitResult>).catch((err: unknown) => {
      if (options.signal?.aborted) throw new SkiffError('aborted', 'wait for container: cancelled', { cause: err });
      // The daemon stopping or dying mid-step shows up here first: say so, not "protocol".
      const lost = unreachableError(this.#t.target, err);
      if (lost) throw new SkiffError('engine-unreachable', `wait for container: ${lost.message}`, { cause: err, hint: lost.hint });
      throw new SkiffError('protocol', `wait for container: the engine ended the wait without a result (${(err as Error).message})`, { cause: err });
    });
    return { result };
  }

  attach(id: string, streams: AttachStreams, options: Signalled = {}): Promise<Hijacked> {
    return this.#t.hijack({ method: 'POST', ...attachCall(id, streams), signal: options.signal });
  }

  /**
   * attach() read into one reused buffer (borrowed.ts), or undefined where that cannot be done
   * here: then call attach().
   */
  attachBorrowed(id: string, streams: AttachStreams, options: Signalled = {}): Promise<BorrowedStream | undefined> {
    return this.#t.borrow({ ...attachCall(id, streams), signal: options.signal });
  }

  inspect(id: string, options: Signalled = {}): Promise<ContainerInfo> {
    // `docker inspect` prints names as `/name`; the API wants them without the slash.
    const name = id.replace(/^\//, '');
    return this.#t.json<ContainerInfo>({ method: 'GET', path: `/containers/${encodeURIComponent(name)}/json`, signal: options.signal, what: `inspect container ${name}` });
  }

  /** Inspect, with "no such container" as undefined instead of an error. */
  async find(id: string, options: Signalled = {}): Promise<ContainerInfo | undefined> {
    try {
      return await this.inspect(id, options);
    } catch (err) {
      if (isSkiffError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /** A followed log never goes idle-timeout; cancel it with `signal`. */
  async logs(id: string, query: { follow?: boolean; stdout?: boolean; stderr?: boolean; since?: number; tail?: string; timestamps?: boolean }, options: Signalled = {}): Promise<Readable> {
    const res = await this.#t.call({
      method: 'GET',
      path: `/containers/${id}/logs`,
      query: { stdout: query.stdout ?? true, stderr: query.stderr ?? true, follow: query.follow, since: query.since, tail: query.tail, timestamps: query.timestamps },
      long: query.follow === true,
      signal: options.signal,
      what: 'read container logs',
    });
    return res.body;
  }

  /** 304 (not running) is success; the call blocks for up to `t` seconds. */
  async stop(id: string, options: Signalled & { t?: number; stopSignal?: string } = {}): Promise<void> {
    const t = options.t ?? 10;
    await this.#t.empty({
      method: 'POST',
      path: `/containers/${id}/stop`,
      query: { t, signal: options.stopSignal },
      ok: [304],
      timeoutMs: (t + 30) * 1000,
      signal: options.signal,
      what: 'stop container',
    });
  }

  /** Sends a signal; a container that is no longer running is not an error here. */
  async kill(id: string, signal = 'SIGKILL', options: Signalled = {}): Promise<void> {
    try {
      await this.#t.empty({ method: 'POST', path: `/containers/${id}/kill`, query: { signal }, signal: options.signal, what: 'kill container' });
    } catch (err) {
      if (isSkiffError(err, 'conflict') || isSkiffError(err, 'not-found')) return;
      throw err;
    }
  }

  /** For cleanup, gone and "removal already in progress" both mean done (docs/engine-api.md §6.7). */
  async remove(id: string, options: Signalled & { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    try {
      await this.#t.empty({
        method: 'DELETE',
        path: `/containers/${id}`,
        query: { force: options.force || undefined, v: options.volumes || undefined },
        signal: options.signal,
        what: 'remove container',
      });
    } catch (err) {
      if (isSkiffError(err, 'not-found')) return;
      if (isSkiffError(err, 'conflict') && /already in progress/.test(err.message)) return;
      throw err;
    }
  }

  list(filters: Record<string, string[]>, options: Signalled & { all?: boolean } = {}): Promise<ContainerSummary[]> {
    return this.#t.json<ContainerSummary[]>({
      method: 'GET',
      path: '/containers/json',
      query: { all: options.all ?? true, filters: JSON.stringify(filters) },
      signal: options.signal,
      what: 'list containers',
    });
  }
}

export interface AttachStreams {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  logs?: boolean;
}

function attachCall(id: string, streams: AttachStreams) {
  return {
    path: `/containers/${id}/attach`,
    query: { stream: true, stdin: streams.stdin || undefined, stdout: streams.stdout ?? true, stderr: streams.stderr ?? true, logs: streams.logs || undefined },
    what: 'attach to container',
  };
}
