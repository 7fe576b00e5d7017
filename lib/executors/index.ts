// Which executor runs which step, for one run. The engine is opened only when a step needs it
// (a DAG of local steps never touches Docker) and closed with the set.
import type { Dag, RegistryAuths } from '../common/model.js';
import type { Dispatcher } from 'undici';
import { openEngine, type Engine, type EngineSelection, type EngineTarget } from '../engine/index.js';
import { resolveEngineTarget } from '../engine/host.js';
import { encodeRegistryAuth, type AuthConfig } from '../engine/auth.js';
import { firstOf, fromConfigDocument, fromDockerConfigFile, fromMap, registryOf, type CredentialSource } from '../engine/credentials.js';
import type { ExecutorEvent, ExecutorSet } from './contract.js';
import { reapOrphans } from './docker/reap.js';
import { reapServices } from './swarm/reap.js';
import { SwarmStepExecutor } from './swarm/step.js';
import { localExecutor, runProcess } from './local.js';
import { DockerStepExecutor, type DockerRuntime } from './docker/step.js';
import { DagContainerExecutor, DagContainerRun } from './docker/dag-container.js';
import { ImagesAhead, imageNeeds } from './docker/images-ahead.js';

export interface CreateExecutorsOptions {
  env: NodeJS.ProcessEnv;
  /** The command line's `-H` / `-c`: they win over the DAG's env and the process's. */
  engine?: EngineSelection;
  /**
   * Stands in for the live connection to the engine DOCKER_HOST names: a recording wrapped
   * around it, or a replay. Called once, when a step first needs the engine; its owner closes it.
   */
  dispatcher?(target: EngineTarget): Dispatcher;
  /**
   * That dispatcher reaches the real daemon at DOCKER_HOST (a recording of the live pool does, a
   * replay does not): a local daemon's PIDs are then this host's, so a cancelled exec's process
   * is stopped as it is in a live run.
   */
  reachesDaemon?: boolean;
  /** Told of every set of registry credentials a pull is about to use (so a recorder can redact them). */
  onCredentials?(credentials: AuthConfig): void;
  /**
   * Remove leftovers of dead runs at start (default true). Off for recorded and replayed runs:
   * what it finds depends on this host's processes at that moment, so it cannot be replayed.
   */
  reap?: boolean;
  /**
   * The run's id and cancel signal, when known this early: start-up work that does not depend on
   * the steps (the DAG-level container's create and start) then begins at once, while the rest of
   * start-up goes on, instead of when setup() is called.
   */
  early?: { runId: string; signal: AbortSignal };
  /**
   * Ask the engine for its version once at set-up, before any step, when a step needs it (default
   * true): an engine that is not there fails the run's start, once, instead of every docker step
   * on its own. Off for recorded and replayed runs, whose exchanges must be the steps' own.
   */
  checkEngine?: boolean;
}

export function createExecutors(dag: Dag, options: CreateExecutorsOptions): ExecutorSet {
  // The DAG's env may point at another engine (examples/seed-000: `env: DOCKER_HOST: tcp://…`).
  const env = { ...options.env, ...Object.fromEntries(dag.env) };
  let engine: Engine | undefined;
  let platform: Promise<string> | undefined;
  const credentials = credentialChain(dag.registryAuths, env);
  const open = (): Engine =>
    (engine ??= openEngine({ env, ...options.engine, dispatcher: options.dispatcher?.(resolveEngineTarget(env, options.engine)), reachesDaemon: options.reachesDaemon }));
  const runtime: DockerRuntime = {
    engine: open,
    platform: (signal) =>
      (platform ??= open()
        .serverVersion(signal)
        .then((v) => `${v.Os}/${v.Arch}`)),
    registryAuthFor: async (image, warn) => {
      const registry = registryOf(image);
      const found = await credentials(registry, warn);
      if (found) options.onCredentials?.(found);
      return encodeRegistryAuth(found, registry);
    },
  };
  const ahead = new ImagesAhead(runtime);
  const docker = new DockerStepExecutor(runtime, ahead);
  const swarm = new SwarmStepExecutor(runtime);
  const steps = allSteps(dag);
  const hasSwarm = steps.some((step) => step.executor.type === 'swarm');
  const shared = dag.container ? new DagContainerRun(dag.container, runtime) : undefined;
  const inContainer = shared ? new DagContainerExecutor(shared, runtime.engine) : undefined;
  // Containers made here are made for the daemon's platform; a swarm step's service never is.
  const needsPlatform = shared !== undefined || steps.some((step) => step.executor.type === 'docker');
  const needsEngine = needsPlatform || hasSwarm;
  const checkEngine = (options.checkEngine ?? true) && needsEngine;
  // Whether the engine is there: the platform when containers will be made here, else the API
  // version alone (one ping), so a swarm-only run asks nothing it will not use before its first service.
  const reachable = (signal?: AbortSignal): Promise<unknown> => (needsPlatform ? runtime.platform(signal) : open().version(signal));
  // Start-up overlap: what the first container waits for and no step decides (the API version,
  // the daemon's platform, leftovers of dead runs, the DAG-level container) begins now, while
  // the rest of start-up (run directory, renderer, scheduler) goes on. Events wait for setup().
  const events = new HeldEvents();
  const version = needsEngine ? reachable() : undefined;
  version?.catch(() => undefined); // an engine that is not there is reported once, by setup()
  // Reaping waits for the engine's answer: none, and set-up says so once, with no warning besides.
  const reaping = needsEngine && (options.reap ?? true) ? version!.then(() => reap(open(), hasSwarm, events.emit), () => undefined) : undefined;
  // Not before DAG preconditions: a run they stop must create nothing.
  const early = shared && options.early && dag.preconditions.length === 0 ? shared.setup({ dag, ...options.early, emit: events.emit }) : undefined;
  early?.catch(() => undefined); // awaited in setup(), or by close() if setup never comes
  const setup: ExecutorSet['setup'] = async (ctx) => {
    events.release(ctx.emit);
    // Needed anyway (a pull's platform, the API version); asked first, it tells whether the engine is there.
    if (checkEngine) await reachable(ctx.signal);
    // With a DAG-level container no step pulls: its own image is pulled by its set-up below.
    if (!shared) {
      // The docker steps, and the exit handler, which always runs; the others may never be needed.
      const needed = [...dag.steps, ...(dag.handlerOn.exit ? [dag.handlerOn.exit] : [])];
      if (ctx.expandAhead) ahead.start(imageNeeds(needed, ctx.expandAhead), ctx.signal, ctx.emit);
      return;
    }
    try {
      await (early ?? shared.setup(ctx));
    } catch (err) {
      await shared.discard();
      throw err;
    }
  };
  return {
    // A DAG of local steps has nothing to set up (and no set-up row to show).
    ...(needsEngine ? { setup } : {}),
    // With a DAG-level container every step runs in it, docker steps included: their own config
    // is ignored, as examples/seed-001 says (docs/dagu-behavior.md §4.8). Swarm steps never run
    // in it: the loader refuses them beside a DAG-level container.
    executorFor: (step) => (step.executor.type === 'swarm' ? swarm : (inContainer ?? (step.executor.type === 'docker' ? docker : localExecutor))),
    runOnHost: runProcess,
    async close() {
      await early?.catch(() => shared?.discard());
      await shared?.teardown();
      await ahead.close();
      await docker.close();
      await swarm.close();
      await reaping;
      await engine?.close();
    },
  };
}

/** Executor events from work begun before setup(): held, then handed to the run's emit in order. */
class HeldEvents {
  #held: ExecutorEvent[] | undefined = [];
  #emit: ((event: ExecutorEvent) => void) | undefined;

  readonly emit = (event: ExecutorEvent): void => {
    if (this.#emit) this.#emit(event);
    else this.#held?.push(event);
  };

  release(emit: (event: ExecutorEvent) => void): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    this.#emit = emit;
    for (const event of held) emit(event);
  }
}

function allSteps(dag: Dag) {
  return [...dag.steps, ...Object.values(dag.handlerOn).filter((s) => s !== undefined)];
}

async function reap(engine: Engine, services: boolean, emit: (event: ExecutorEvent) => void): Promise<void> {
  try {
    const signal = AbortSignal.timeout(30_000);
    // Services first: removing one removes its tasks' containers.
    const gone = services ? await reapServices(engine, { signal }) : [];
    const reaped = await reapOrphans(engine, { signal });
    const names = [...gone, ...reaped.containers, ...reaped.networks].map((o) => o.name);
    if (names.length) emit({ type: 'info', message: `removed ${names.length} object(s) left by skiff runs that died: ${names.join(', ')}` });
  } catch (err) {
    emit({ type: 'warning', message: `could not look for leftovers of earlier runs: ${(err as Error).message}` });
  }
}

/** The documented priority (docs/dagu-behavior.md §5): DAG registryAuths, then DOCKER_AUTH_CONFIG, then the docker config file. */
export function credentialChain(auths: RegistryAuths | undefined, env: NodeJS.ProcessEnv): CredentialSource {
  const sources: CredentialSource[] = [];
  if (auths?.form === 'json') sources.push(fromConfigDocument(auths.document, 'registryAuths'));
  if (auths?.form === 'map') sources.push(fromMap(auths.entries));
  if (env.DOCKER_AUTH_CONFIG) sources.push(fromConfigDocument(env.DOCKER_AUTH_CONFIG, 'DOCKER_AUTH_CONFIG'));
  sources.push(fromDockerConfigFile(env));
  return firstOf(...sources);
}

