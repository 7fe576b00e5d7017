// Swarm services and their tasks (Engine API 1.41: /services, /tasks), as typed calls with no
// policy: the swarm executor decides order and ownership. Wire types keep Docker's PascalCase.
// A service's logs are framed like a non-TTY container's (docs/engine-api.md §8.1), one frame
// per message; with `details` each message starts with the swarm's context (§13.4).
import type { Readable } from 'node:stream';
import { isSkiffError } from './errors.js';
import type { Transport } from './request.js';
import type { Signalled } from './containers.js';
import type { ServicesApi, TasksApi } from './facets.js';

/** POST /services/create's body (`swarm.ServiceSpec`); the executor fills it in. */
export interface ServiceSpec {
  Name?: string;
  Labels?: Record<string, string>;
  TaskTemplate: Record<string, unknown>;
  Mode: Record<string, unknown>;
  [field: string]: unknown;
}

export interface ServiceSummary {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string> | null };
}

export type TaskState =
  | 'new' | 'allocated' | 'pending' | 'assigned' | 'accepted' | 'preparing' | 'ready' | 'starting' | 'running'
  | 'complete' | 'shutdown' | 'failed' | 'rejected' | 'remove' | 'orphaned';

export interface TaskInfo {
  ID: string;
  NodeID?: string;
  ServiceID: string;
  Slot?: number;
  DesiredState: TaskState;
  Status: {
    State: TaskState;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; PID?: number; ExitCode?: number };
  };
  CreatedAt?: string;
}

export interface NodeInfo {
  ID: string;
  Description?: { Hostname?: string };
  Spec?: { Labels?: Record<string, string> | null };
}

export interface ServiceLogsQuery {
  follow?: boolean;
  details?: boolean;
  timestamps?: boolean;
}

/** Terminal task states: the task will not run (again). */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);

export class Services implements ServicesApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** The registry credentials go with the spec (X-Registry-Auth), so every node can pull. */
  async create(spec: ServiceSpec, options: Signalled & { registryAuth?: string } = {}): Promise<{ ID: string; Warnings?: string[] | null }> {
    return this.#t.json({
      method: 'POST',
      path: '/services/create',
      json: spec,
      headers: options.registryAuth ? { 'X-Registry-Auth': options.registryAuth } : undefined,
      signal: options.signal,
      what: `create service ${spec.Name ?? ''}`.trim(),
    });
  }

  /** A service already gone is not an error: removal is how every run of one ends. */
  async remove(id: string, options: Signalled = {}): Promise<void> {
    try {
      await this.#t.empty({ method: 'DELETE', path: `/services/${encodeURIComponent(id)}`, signal: options.signal, what: 'remove service' });
    } catch (err) {
      if (!isSkiffError(err, 'not-found')) throw err;
    }
  }

  list(filters: Record<string, string[]>, options: Signalled = {}): Promise<ServiceSummary[]> {
    return this.#t.json<ServiceSummary[]>({ method: 'GET', path: '/services', query: { filters: JSON.stringify(filters) }, signal: options.signal, what: 'list services' });
  }

  async logs(id: string, query: ServiceLogsQuery, options: Signalled = {}): Promise<Readable> {
    const res = await this.#t.call({
      method: 'GET',
      path: `/services/${encodeURIComponent(id)}/logs`,
      query: { stdout: true, stderr: true, follow: query.follow, details: query.details, timestamps: query.timestamps },
      long: query.follow === true,
      signal: options.signal,
      what: 'read service logs',
    });
    return res.body;
  }
}

export class Tasks implements TasksApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  list(filters: Record<string, string[]>, options: Signalled = {}): Promise<TaskInfo[]> {
    return this.#t.json<TaskInfo[]>({ method: 'GET', path: '/tasks', query: { filters: JSON.stringify(filters) }, signal: options.signal, what: 'list tasks' });
  }

  /** The swarm node ID of the engine skiff talks to (GET /info), if it is in a swarm. */
  async selfNode(options: Signalled = {}): Promise<string | undefined> {
    const info = await this.#t.json<{ Swarm?: { NodeID?: string } }>({ method: 'GET', path: '/info', signal: options.signal, what: 'read engine info' });
    return info.Swarm?.NodeID || undefined;
  }

  /** GET /nodes/{id}: where a task ran (for the step's log). */
  node(id: string, options: Signalled = {}): Promise<NodeInfo> {
    return this.#t.json<NodeInfo>({ method: 'GET', path: `/nodes/${encodeURIComponent(id)}`, signal: options.signal, what: 'inspect node' });
  }
}
