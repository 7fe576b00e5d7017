// The public surface of the engine client: `openEngine()` gives an Engine with one facet per
// kind of object. The caller owns it and closes it; the dispatcher is injectable so a recording
// or a replay can stand in for the daemon.
import type { Dispatcher } from 'undici';
import { createDispatcher } from './dispatcher.js';
import { resolveEngineTarget, type EngineTarget } from './host.js';
import { pinnedVersion } from './negotiate.js';
import { Transport } from './request.js';
import { Containers } from './containers.js';
import { Execs } from './exec.js';
import { Images } from './images.js';
import { Networks } from './networks.js';
import { Volumes } from './volumes.js';
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

export interface OpenEngineOptions {
  env?: NodeJS.ProcessEnv;
  /** A ready dispatcher (replay, recording, tests); otherwise a Pool on DOCKER_HOST. */
  dispatcher?: Dispatcher;
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
  /**
   * True when this is a live engine on a local socket: host PIDs it reports (exec inspect) are
   * processes on this machine. False over TCP and for an injected dispatcher (replay, tests).
   */
  readonly local: boolean;
  /** The dispatcher is the live pool this engine built (not one passed in): it closes it. */
  readonly #ownsDispatcher: boolean;

  constructor(transport: Transport) {
    this.target = transport.target;
    this.local = transport.live && transport.target.kind === 'unix';
    this.transport = transport;
    this.#ownsDispatcher = transport.live;
    this.containers = new Containers(transport);
    this.exec = new Execs(transport);
    this.images = new Images(transport);
    this.networks = new Networks(transport);
    this.volumes = new Volumes(transport);
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
    if (this.#ownsDispatcher) await this.transport.dispatcher.close();
  }

  /** Aborts whatever is still running; for the last stage of Ctrl-C. */
  async destroy(): Promise<void> {
    if (this.#ownsDispatcher) await this.transport.dispatcher.destroy();
  }
}

export function openEngine(options: OpenEngineOptions = {}): Engine {
  const env = options.env ?? process.env;
  const target = resolveEngineTarget(env);
  const dispatcher = options.dispatcher ?? createDispatcher(target);
  const transport = new Transport(dispatcher, target, { apiVersion: options.apiVersion ?? pinnedVersion(env), live: options.dispatcher === undefined });
  return new Engine(transport);
}

export { SkiffError, isSkiffError } from './errors.js';
export type { EngineTarget } from './host.js';
