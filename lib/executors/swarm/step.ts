// The swarm step executor: a step as a service of run-once tasks on the swarm DOCKER_HOST points at
// (a manager). Its registry credentials go with the service so every node can pull; its output,
// exit code and error come back as a docker step's do (`exit status N` and a stderr tail).
import { SkiffError } from '../../common/errors.js';
import { expandLeaves } from '../../common/expand.js';
import { registryOf } from '../../engine/credentials.js';
import type { EngineApi } from '../../engine/facets.js';
import type { Executor, StepContext, StepResult } from '../contract.js';
import { skiffLabels } from '../docker/labels.js';
import { argvOf, explainStartFailure, type DockerRuntime } from '../docker/step.js';
import { TailWriter } from '../tail.js';
import { normalizeSwarmStepConfig, type NormalizedSwarmConfig } from './config.js';
import { runService } from './run.js';
import { TaskExits } from './task-exits.js';
import { Removals } from './removals.js';
import { serviceSpec } from './spec.js';

export class SwarmStepExecutor implements Executor {
  readonly #runtime: DockerRuntime;
  /** Removals of the services of finished steps, held while others start. */
  readonly #removals = new Removals();
  /** Node ID → its name for the step log. */
  readonly #nodes = new Map<string, Promise<string>>();
  /** Services made so far per step, for their names. */
  readonly #made = new Map<string, number>();
  /** Image reference → the same pinned to its digest, for this run (pull: missing). */
  readonly #pinned = new Map<string, Promise<string>>();
  /** Task containers dying on the node skiff talks to, followed from the first step on. */
  #exits: TaskExits | undefined;
  /** Registry → the credentials sent with its services, looked up once per run (a helper is a process). */
  readonly #auths = new Map<string, Promise<string | undefined>>();

  constructor(runtime: DockerRuntime) {
    this.#runtime = runtime;
  }

  /** Waits until every service whose removal was handed over is gone (never rejects). */
  async close(): Promise<void> {
    this.#exits?.close();
    await this.#removals.close();
  }

  async run(ctx: StepContext): Promise<StepResult> {
    const { step, dag } = ctx;
    if (step.executor.type !== 'swarm') throw new SkiffError('config', `step "${step.name}" is not a swarm step`);
    const config = normalizeSwarmStepConfig(expandLeaves(step.executor.config ?? {}, ctx.lookup), { dir: dag.dir });
    const engine = this.#runtime.engine();
    const exits = this.#exitsOf(engine, ctx.runId);
    const warn = (message: string) => ctx.emit({ type: 'warning', step: step.name, message });
    const registryAuth = config.pull === 'never' ? undefined : await this.#authFor(config.image, warn);
    const image = await this.#imageFor(engine, config, registryAuth, ctx);
    // Following before the first service exists, so no task's exit is missed.
    await exits.open();
    const stderr = new TailWriter(ctx.stderr);
    // At most maxConcurrent replicas at once: in waves of that many, each a service of its own.
    let result = { exitCode: 0, nodes: [] as string[] };
    for (let done = 0; done < config.replicas && result.exitCode === 0; done += config.maxConcurrent) {
      const started = this.#removals.starting();
      try {
        result = await runService(engine, {
          spec: serviceSpec({
            config,
            image,
            step: step.name,
            runId: ctx.runId,
            serial: this.#serial(step.name),
            args: argvOf(ctx.command),
            labels: skiffLabels({ runId: ctx.runId, dag: dag.name, step: step.name }),
            stopSignal: step.signalOnStop,
            graceSec: dag.maxCleanUpTimeSec,
            replicas: Math.min(config.maxConcurrent, config.replicas - done),
          }),
          registryAuth,
          exits,
          stdout: ctx.stdout,
          stderr,
          signal: ctx.signal,
          graceSec: dag.maxCleanUpTimeSec,
          onCreated: (_id, warnings) => warnings.forEach(warn),
          onPending: warn,
          // Asked while the task runs, so the step's end does not wait for it.
          onNode: (node) => void this.#nodeName(engine, node, ctx.signal),
          onStarted: started,
          // The next step starts while the swarm removes this service; the run waits for it at close.
          onRemoval: (remove) => this.#removals.add(remove),
        });
      } catch (err) {
        throw explainStartFailure(err, config.image, ctx.command);
      } finally {
        started();
      }
      for (const node of result.nodes) ctx.emit({ type: 'info', step: step.name, message: `ran on swarm node ${await this.#nodeName(engine, node, ctx.signal)}` });
    }
    if (result.exitCode === 0) return { exitCode: 0 };
    return { exitCode: result.exitCode, error: stderr.failure(result.exitCode) };
  }

  /** `hostname (id)` of a node, asked once per run. */
  #nodeName(engine: EngineApi, id: string, signal: AbortSignal): Promise<string> {
    let name = this.#nodes.get(id);
    if (!name) {
      name = engine.tasks.node(id, { signal }).then(
        (node) => (node.Description?.Hostname ? `${node.Description.Hostname} (${id})` : id),
        () => id,
      );
      this.#nodes.set(id, name);
    }
    return name;
  }

  #exitsOf(engine: EngineApi, runId: string): TaskExits {
    if (!this.#exits) {
      this.#exits = new TaskExits(engine, runId);
      void this.#exits.open();
      void this.#exits.self();
    }
    return this.#exits;
  }

  #authFor(image: string, warn: (message: string) => void): Promise<string | undefined> {
    const registry = registryOf(image);
    let auth = this.#auths.get(registry);
    if (!auth) {
      auth = this.#runtime.registryAuthFor(image, warn);
      this.#auths.set(registry, auth);
      auth.catch(() => this.#auths.delete(registry));
    }
    return auth;
  }

  #serial(step: string): number {
    const n = this.#made.get(step) ?? 0;
    this.#made.set(step, n + 1);
    return n;
  }

  /**
   * What the service runs, as `docker service create` has it: the tag pinned to the digest its
   * registry gives now, so every replica runs the same image and a node that holds it pulls
   * nothing (docs/engine-api.md §13.4). With `missing` (the default) the digest is looked up once
   * per run and image, with `always` for every step. A reference the registry does not know
   * (an image only built locally) goes as written, with a warning, as the CLI does: the nodes
   * then pull the tag or use their own copy. `pull: never` pins the manager's local image by ID:
   * no node pulls it, and one that lacks it fails the task.
   */
  async #imageFor(engine: EngineApi, config: NormalizedSwarmConfig, registryAuth: string | undefined, ctx: StepContext): Promise<string> {
    if (config.pull === 'never') {
      const local = await engine.images.find(config.image, { signal: ctx.signal });
      if (!local) throw new SkiffError('config', `image ${config.image} is not on the swarm manager, and pull is never`);
      return local.Id;
    }
    if (config.image.includes('@')) return config.image;
    let pinned = config.pull === 'missing' ? this.#pinned.get(config.image) : undefined;
    if (!pinned) {
      pinned = engine.images.distribution(config.image, { registryAuth, signal: ctx.signal }).then(
        (d) => `${config.image}@${d.Descriptor.digest}`,
        (err: Error) => {
          if (ctx.signal.aborted) throw err;
          ctx.emit({ type: 'warning', step: ctx.step.name, message: `image ${config.image} could not be looked up in its registry to pin its digest (${err.message}); each node uses the tag as it finds it` });
          return config.image;
        },
      );
      this.#pinned.set(config.image, pinned);
      pinned.catch(() => this.#pinned.delete(config.image));
    }
    return pinned;
  }
}

