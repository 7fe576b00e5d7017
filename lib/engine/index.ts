// The public surface of the engine client (`skiff/engine`): `openEngine()` gives an Engine with one facet per
// kind of object. The caller owns it and closes it; the dispatcher is injectable so a recording
// or a replay can stand in for the daemon.
import type { Dispatcher } from 'undici';
import { createDispatcher } from './dispatcher.js';
import { resolveEngineTarget, type EngineSelection, type EngineTarget } from './host.js';
import { pinnedVersion } from './negotiate.js';
import { Transport } from './request.js';
import { Containers } from './containers.js';
import { Execs } from './exec.js';
import { Images } from './images.js';
import { Networks } from './networks.js';
import { Volumes } from './volumes.js';
import { Services, Tasks } from './services.js';
import { Events } from './events.js';
import type { EngineApi } from './facets.js';

export interface EngineInfo {
  OSType: string;
  Architecture: string;
  ServerVersion: string;
  [field: string]: unknown;
}

/** GET /version: the daemon's own build; `Os`/`Arch` are Go's names (`linux`/`amd64`), as platforms have them. */
export interface EngineVersion {
  Os: string;
  Arch: string;
  Version: string;
  ApiVersion: string;
  [field: string]: unknown;
}

export interface OpenEngineOptions extends EngineSelection {
  /** DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG, the TLS variables, SKIFF_SSH_OPTS (default: process.env). */
  env?: NodeJS.ProcessEnv;
  // `host` and `context` are the docker CLI's -H and -c: they win over the environment.
  /** A ready dispatcher (replay, recording, tests); otherwise a Pool on the engine chosen as the docker CLI chooses it. */
  dispatcher?: Dispatcher;
  /**
   * The dispatcher passed in reaches the real daemon at DOCKER_HOST (a RecordingDispatcher around
   * a live pool does; a replay or a test fake does not). With a Unix socket, that makes the host
   * PIDs the daemon reports processes of this machine (`Engine.local`). Default: true for the
   * pool openEngine builds itself, false for a dispatcher passed in.
   */
  reachesDaemon?: boolean;
  apiVersion?: string;
}

export class Engine implements EngineApi {
  readonly target: EngineTarget;
  readonly transport: Transport;
  readonly containers: Containers;
  readonly exec: Execs;
  readonly images: Images;
  readonly networks: Networks;
  readonly volumes: Volumes;
  readonly services: Services;
  readonly tasks: Tasks;
  readonly events: Events;
  /**
   * The daemon runs on this host: host PIDs it reports (exec inspect) are processes on this
   * machine. True for a real daemon on a Unix socket, recorded or not; false over TCP and for a
   * replay or a fake, whose PIDs are nobody's here.
   */
  readonly local: boolean;
  /** The dispatcher is the pool this engine built (not one passed in): close() closes it. */
  readonly ownsDispatcher: boolean;

  constructor(transport: Transport, options: { reachesDaemon?: boolean } = {}) {
    this.target = transport.target;
    this.ownsDispatcher = transport.ownsPool;
    this.local = (options.reachesDaemon ?? transport.ownsPool) && transport.target.kind === 'unix';
    this.transport = transport;
    this.containers = new Containers(transport);
    this.exec = new Execs(transport);
    this.images = new Images(transport);
    this.networks = new Networks(transport);
    this.volumes = new Volumes(transport);
    this.services = new Services(transport);
    this.tasks = new Tasks(transport);
    this.events = new Events(transport);
  }

  /** The negotiated API version (pings once). */
  version(signal?: AbortSignal): Promise<string> {
    return this.transport.version(signal);
  }

  /** Cheap, unlike /info, which counts containers and images and slows down on a busy engine. */
  serverVersion(signal?: AbortSignal): Promise<EngineVersion> {
    return this.transport.json<EngineVersion>({ method: 'GET', path: '/version', signal, what: 'read engine version' });
  }

  info(signal?: AbortSignal): Promise<EngineInfo> {
    return this.transport.json<EngineInfo>({ method: 'GET', path: '/info', signal, what: 'read engine info' });
  }

  /** Lets running requests finish, then closes the connections (a dispatcher passed in stays open). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.transport.dispatcher.close();
  }

  /** Aborts whatever is still running; for the last stage of Ctrl-C. */
  async destroy(): Promise<void> {
    if (this.ownsDispatcher) await this.transport.dispatcher.destroy();
  }
}

/**
 * The connection pool openEngine would build (for `selection`, else the environment's engine),
 * for a caller that wraps it (a RecordingDispatcher) before passing it to openEngine with the
 * same selection. The caller closes it.
 */
export function openDispatcher(env: NodeJS.ProcessEnv = process.env, selection: EngineSelection = {}): Dispatcher {
  return createDispatcher(resolveEngineTarget(env, selection));
}

export function openEngine(options: OpenEngineOptions = {}): Engine {
  const env = options.env ?? process.env;
  const target = resolveEngineTarget(env, { host: options.host, context: options.context });
  const dispatcher = options.dispatcher ?? createDispatcher(target);
  const ownsPool = options.dispatcher === undefined;
  const transport = new Transport(dispatcher, target, { apiVersion: options.apiVersion ?? pinnedVersion(env), ownsPool });
  return new Engine(transport, { reachesDaemon: options.reachesDaemon ?? ownsPool });
}

export { SkiffError, isSkiffError, type ErrorKind, type Place } from './errors.js';
export type { EngineSelection, EngineTarget, TlsFiles } from './host.js';
// Facets, for a type that names one (a test fake, a helper taking `engine.containers`).
export type { Containers, Execs, Images, Networks, Volumes };
export type { ContainersApi, EngineApi, EventsApi, ExecApi, ImagesApi, NetworksApi, VolumesApi } from './facets.js';
export type { EngineEvent, EventsQuery } from './events.js';
// The wire types: Docker's own field names, as the Engine API sends and takes them.
export type { AttachStreams, ContainerInfo, ContainerState, ContainerSummary, CreateBody, Signalled, WaitResult } from './containers.js';
export type { ExecBody, ExecInfo } from './exec.js';
export type { ImageInfo } from './images.js';
export type { NetworkInfo } from './networks.js';
export type { VolumeInfo } from './volumes.js';
export type { ProgressEvent } from './json-lines.js';
export type { Hijacked } from './hijack.js';
export type { AuthConfig } from './auth.js';
// Reading what the engine sends: framed output, stdin, pull progress, registry auth.
export { DemuxStream, Demuxer, type DemuxSink } from './demux.js';
export { outputSink } from './framing.js';
export { closeStdin, feedStdin } from './hijack.js';
export { PullProgress, type LayerProgress, type PullSnapshot } from './pull-progress.js';
export { encodeRegistryAuth } from './auth.js';
