// The engine as its users see it: one interface per facet (containers, exec, images, networks,
// volumes, swarm services and tasks, events). The facet classes implement them, the executors
// take them (each function only the members it calls), so a test's fake engine is type-checked
// against the same signatures as the real one and cannot drift from it.
import type { Readable } from 'node:stream';
import type { BorrowedStream } from './borrowed.js';
import type { AttachStreams, ContainerInfo, ContainerSummary, CreateBody, Signalled, WaitResult } from './containers.js';
import type { ExecBody, ExecInfo } from './exec.js';
import type { Hijacked } from './hijack.js';
import type { ImageInfo } from './images.js';
import type { ProgressEvent } from './json-lines.js';
import type { NetworkInfo } from './networks.js';
import type { VolumeInfo } from './volumes.js';
import type { NodeInfo, ServiceLogsQuery, ServiceSpec, ServiceSummary, TaskInfo } from './services.js';
import type { EngineEvent, EventsQuery } from './events.js';

export interface LogsQuery {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: number;
  tail?: string;
  timestamps?: boolean;
}

export interface ContainersApi {
  create(body: CreateBody, options?: Signalled & { name?: string; platform?: string }): Promise<{ Id: string; Warnings: string[] }>;
  start(id: string, options?: Signalled): Promise<void>;
  /** Resolves once the daemon registered the wait; `result` settles when the condition is met. */
  registerWait(id: string, condition: 'next-exit' | 'removed' | 'not-running', options?: Signalled): Promise<{ result: Promise<WaitResult> }>;
  attach(id: string, streams: AttachStreams, options?: Signalled): Promise<Hijacked>;
  /** The output on a borrowed connection, or undefined where that path is not available. */
  attachBorrowed(id: string, streams: AttachStreams, options?: Signalled): Promise<BorrowedStream | undefined>;
  inspect(id: string, options?: Signalled): Promise<ContainerInfo>;
  find(id: string, options?: Signalled): Promise<ContainerInfo | undefined>;
  logs(id: string, query: LogsQuery, options?: Signalled): Promise<Readable>;
  stop(id: string, options?: Signalled & { t?: number; stopSignal?: string }): Promise<void>;
  kill(id: string, signal?: string, options?: Signalled): Promise<void>;
  remove(id: string, options?: Signalled & { force?: boolean; volumes?: boolean }): Promise<void>;
  list(filters: Record<string, string[]>, options?: Signalled & { all?: boolean }): Promise<ContainerSummary[]>;
}

export interface ExecApi {
  create(containerId: string, body: ExecBody, options?: Signalled): Promise<string>;
  start(id: string, tty: boolean, options?: Signalled): Promise<Hijacked>;
  startBorrowed(id: string, tty: boolean, options?: Signalled): Promise<BorrowedStream | undefined>;
  inspect(id: string, options?: Signalled): Promise<ExecInfo>;
}

export interface ImagesApi {
  find(name: string, options?: Signalled): Promise<ImageInfo | undefined>;
  distribution(name: string, options?: Signalled & { registryAuth?: string }): Promise<{ Descriptor: { digest: string } }>;
  pull(image: string, options?: Signalled & { platform?: string; registryAuth?: string }): AsyncIterable<ProgressEvent>;
  import(tar: Readable, options: Signalled & { repo: string; tag?: string; changes?: string[]; platform?: string }): Promise<string>;
  remove(name: string, options?: Signalled & { force?: boolean }): Promise<void>;
  tag(name: string, repo: string, tag: string, options?: Signalled): Promise<void>;
  push(name: string, options?: Signalled & { tag?: string; registryAuth?: string }): AsyncIterable<ProgressEvent>;
}

export interface NetworksApi {
  find(name: string, options?: Signalled): Promise<NetworkInfo | undefined>;
  create(name: string, options?: Signalled & { labels?: Record<string, string>; driver?: string }): Promise<string>;
  remove(name: string, options?: Signalled): Promise<void>;
  list(filters: Record<string, string[]>, options?: Signalled): Promise<NetworkInfo[]>;
}

export interface VolumesApi {
  create(name: string, options?: Signalled & { labels?: Record<string, string> }): Promise<VolumeInfo>;
  remove(name: string, options?: Signalled & { force?: boolean }): Promise<void>;
  list(filters: Record<string, string[]>, options?: Signalled): Promise<VolumeInfo[]>;
}

export interface ServicesApi {
  create(spec: ServiceSpec, options?: Signalled & { registryAuth?: string }): Promise<{ ID: string; Warnings?: string[] | null }>;
  remove(id: string, options?: Signalled): Promise<void>;
  list(filters: Record<string, string[]>, options?: Signalled): Promise<ServiceSummary[]>;
  logs(id: string, query: ServiceLogsQuery, options?: Signalled): Promise<Readable>;
}

export interface TasksApi {
  list(filters: Record<string, string[]>, options?: Signalled): Promise<TaskInfo[]>;
  selfNode(options?: Signalled): Promise<string | undefined>;
  node(id: string, options?: Signalled): Promise<NodeInfo>;
}

export interface EventsApi {
  stream(query: EventsQuery, options?: Signalled): Promise<AsyncIterable<EngineEvent>>;
}

/** What the executors use of an engine; `Engine` implements it. */
export interface EngineApi {
  readonly containers: ContainersApi;
  readonly exec: ExecApi;
  readonly images: ImagesApi;
  readonly networks: NetworksApi;
  readonly volumes: VolumesApi;
  readonly services: ServicesApi;
  readonly tasks: TasksApi;
  readonly events: EventsApi;
  /** Host PIDs the engine reports (exec inspect) are processes on this machine. */
  readonly local: boolean;
}
