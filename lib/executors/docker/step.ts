// The step-level Docker executor (docs/dagu-behavior.md §3, with the docs' promises kept, §10):
// decides between a new container and an exec into an existing one, then hands over to
// run.ts or exec.ts. A container skiff did not create is never stopped or removed.
import type { EngineApi } from '../../engine/facets.js';
import type { ContainerInfo } from '../../engine/containers.js';
import { SkiffError, isSkiffError } from '../../common/errors.js';
import type { Command, Step } from '../../common/model.js';
import { expandLeaves } from '../../common/expand.js';
import { normalizeDockerStepConfig, type NormalizedDockerConfig } from './config.js';
import type { Executor, PrepareContext, StepContext, StepResult } from '../contract.js';
import { ensureImage } from './pull.js';
import type { ImagesAhead } from './images-ahead.js';
import { createContainer, type CreateContainerOptions, type ReadyContainer } from './run.js';
import { execIn } from './exec.js';
import { isSkiffOwned, skiffLabels } from './labels.js';
import { TailWriter } from '../tail.js';
import { stopExecProcess } from './stop-exec.js';

/** A container created ahead of its step, with the plan it was made from. */
interface Prepared {
  plan: { key: string };
  container: ReadyContainer;
}

/** What the executor needs from the run: the engine (opened on first use) and auth. */
export interface DockerRuntime {
  engine(): EngineApi;
  /** The daemon's own `os/arch`, asked once. */
  platform(signal?: AbortSignal): Promise<string>;
  /** X-Registry-Auth for an image, or undefined for an anonymous pull. */
  registryAuthFor(image: string, warn?: (message: string) => void): Promise<string | undefined>;
}

export class DockerStepExecutor implements Executor {
  readonly #docker: DockerRuntime;
  /** Containers of finished steps that the daemon is still removing. */
  readonly #removals = new Set<Promise<void>>();
  readonly #ahead: ImagesAhead | undefined;
  /** Containers created ahead, by step, until the step runs or will not. */
  readonly #prepared = new Map<Step, Promise<Prepared | undefined>>();

  constructor(docker: DockerRuntime, ahead?: ImagesAhead) {
    this.#docker = docker;
    this.#ahead = ahead;
  }

  /** Removes what was made ahead and not run; waits until every handed-over removal is done (never rejects). */
  async close(): Promise<void> {
    await Promise.all([...this.#prepared.keys()].map((step) => this.unprepare(step)));
    await Promise.all(this.#removals);
  }

  async run(ctx: StepContext): Promise<StepResult> {
    const { step } = ctx;
    if (step.executor.type !== 'docker') throw new SkiffError('config', `step "${step.name}" is not a docker step`);
    const raw = step.executor.config ?? {};
    const config = normalizeDockerStepConfig(expandLeaves(raw, ctx.lookup), { dir: ctx.dag.dir });
    const engine = this.#docker.engine();

    if (config.containerName) {
      const existing = await findByName(engine, config.containerName, ctx.signal);
      if (existing?.State.Running) return this.#exec(engine, existing, config, ctx);
      if (!config.image) throw new SkiffError('config', `container "${config.containerName}" is not running`);
      if (existing) {
        // The docs' promise: a stopped container of that name is recreated from the image.
        if (!isSkiffOwned(existing.Config.Labels)) {
          ctx.emit({ type: 'warning', step: step.name, message: `removing stopped container "${config.containerName}" (${existing.State.Status}) to recreate it from ${config.image}` });
        }
        await engine.containers.remove(existing.Id, { force: true, signal: ctx.signal });
      }
    }
    return this.#create(engine, config, ctx);
  }

  /**
   * Creation ahead: the step's container made while the steps before it run, when its config and
   * command are already known (the scheduler says which). Best effort: anything that goes wrong
   * here is left for run() to meet, and report, the usual way.
   */
  prepare(ctx: PrepareContext): void {
    const { step } = ctx;
    if (step.executor.type !== 'docker' || this.#prepared.has(step)) return;
    const expanded = ctx.expandAhead(step, step.executor.config ?? {});
    if (expanded === undefined) return;
    let config: NormalizedDockerConfig;
    try {
      config = normalizeDockerStepConfig(expanded, { dir: ctx.dag.dir });
    } catch {
      return;
    }
    // A name could clash with a container an earlier step makes or removes; exec mode has none.
    if (!config.image || config.containerName !== undefined) return;
    const plan = this.#plan(config, ctx);
    const engine = this.#docker.engine();
    const ready = (async () => {
      // The image first, as run() would have it; a pull that fails is the step's to report.
      const pulled = this.#ahead?.peek(plan.image, config.platform, config.pull);
      if (pulled) await pulled;
      else if (config.pull !== 'never') return undefined;
      return { plan, container: await createContainer(engine, plan.create) };
    })().catch(() => undefined);
    this.#prepared.set(step, ready);
  }

  /** The step will not start after all (upstream failed, a precondition said no, a stop). */
  async unprepare(step: Step): Promise<void> {
    const ready = this.#prepared.get(step);
    if (!ready) return;
    this.#prepared.delete(step);
    await this.#discard(ready);
  }

  /** Tracked like a removal handed over: close() waits for it, so the run ends with it gone. */
  async #discard(ready: Promise<Prepared | undefined>): Promise<void> {
    const discarded = ready.then((made) => made?.container.discard());
    this.#removals.add(discarded);
    await discarded;
    this.#removals.delete(discarded);
  }

  /** What run() and prepare() both create from a step's config: the same body, the same options. */
  #plan(config: NormalizedDockerConfig, ctx: Pick<StepContext, 'dag' | 'step' | 'runId' | 'command' | 'emit'>) {
    const { step, dag } = ctx;
    const image = config.image!;
    const cmd = argvOf(ctx.command) ?? (config.container.Cmd as string[] | undefined);
    const userLabels = (config.container.Labels as Record<string, string> | undefined) ?? {};
    const create: CreateContainerOptions = {
      body: {
        ...config.container,
        Image: image,
        ...(cmd !== undefined && { Cmd: cmd }),
        Labels: { ...userLabels, ...skiffLabels({ runId: ctx.runId, dag: dag.name, step: step.name, keep: !config.autoRemove }) },
        // A container skiff removes anyway needs no json-file copy of its output: skiff has the
        // output from attach, and the double write halves throughput. Unless the user set one.
        HostConfig: config.autoRemove && config.host.LogConfig === undefined ? { ...config.host, LogConfig: { Type: 'none' } } : config.host,
        NetworkingConfig: config.network,
      },
      name: config.containerName,
      platform: config.platform,
      autoRemove: config.autoRemove,
      targetsCopy: true,
      // Docker's create warnings (a limit the kernel cannot enforce, a deprecated option) are
      // the user's to see, as Dagu logs them (docs/dagu-behavior.md §3.5).
      onCreated: (_id, warnings) => {
        for (const message of warnings) ctx.emit({ type: 'warning', step: step.name, message });
      },
      // The next step starts while the daemon removes this container; the run waits for it at
      // close. Not for a named one: a later step may create that name again at once.
      handOver: config.containerName === undefined,
    };
    const { onCreated: _, ...comparable } = create;
    return { image, create, key: JSON.stringify(comparable) };
  }

  /** The container made ahead for this step, if it is exactly the one the step now wants. */
  async #takePrepared(step: Step, key: string, signal: AbortSignal): Promise<ReadyContainer | undefined> {
    const ready = this.#prepared.get(step);
    if (!ready) return undefined;
    this.#prepared.delete(step);
    let made: Prepared | undefined;
    try {
      // Its image may still be coming: a stop or a timeout does not wait for it.
      made = await untilAborted(ready, signal);
    } catch (err) {
      void this.#discard(ready);
      throw err;
    }
    if (made?.plan.key === key) return made.container;
    await made?.container.discard();
    return undefined;
  }

  async #create(engine: EngineApi, config: NormalizedDockerConfig, ctx: StepContext): Promise<StepResult> {
    const { step, dag } = ctx;
    const plan = this.#plan(config, ctx);
    const { image } = plan;
    let container = await this.#takePrepared(step, plan.key, ctx.signal);
    // Its image was pulled (or found) before it was created: that pull was this step's.
    if (container) this.#ahead?.take(image, config.platform, config.pull)?.catch(() => undefined);
    else {
      const pulledAhead = this.#ahead?.take(image, config.platform, config.pull);
      if (pulledAhead) await untilAborted(pulledAhead, ctx.signal);
      else {
        await ensureImage(engine, image, {
          policy: config.pull,
          platform: config.platform ?? this.#docker.platform(ctx.signal),
          registryAuth: () => this.#docker.registryAuthFor(image, (message) => ctx.emit({ type: 'warning', step: step.name, message })),
          signal: ctx.signal,
          step: step.name,
          emit: ctx.emit,
        });
      }
    }
    const stderr = new TailWriter(ctx.stderr);
    const runOptions = {
      stdout: ctx.stdout,
      stderr,
      signal: ctx.signal,
      stopSignal: step.signalOnStop,
      graceSec: dag.maxCleanUpTimeSec,
      ...(plan.create.handOver && {
        onRemoval: (removed: Promise<void>) => {
          this.#removals.add(removed);
          void removed.then(() => this.#removals.delete(removed));
        },
      }),
    };
    const madeAhead = container !== undefined;
    let result;
    try {
      container ??= await createContainer(engine, plan.create);
      if (ctx.signal.aborted) {
        await container.discard();
        throw new SkiffError('aborted', 'container run cancelled before it started');
      }
      try {
        result = await container.run(runOptions);
      } catch (err) {
        // A container made ahead can be gone by the time its step starts (a daemon restart removes
        // auto-removed containers that never ran): the start's 404 means nothing ran, so it is
        // made again, as it would have been without creation ahead.
        if (!madeAhead || !isSkiffError(err) || err.kind !== 'not-found' || ctx.signal.aborted) throw err;
        result = await (await createContainer(engine, plan.create)).run(runOptions);
      }
    } catch (err) {
      throw explainStartFailure(err, image, ctx.command);
    }
    if (result.exitCode === 0) return { exitCode: 0 };
    return { exitCode: result.exitCode, error: stderr.failure(result.exitCode) };
  }

  async #exec(engine: EngineApi, container: ContainerInfo, config: NormalizedDockerConfig, ctx: StepContext): Promise<StepResult> {
    const { step, dag } = ctx;
    const cmd = argvOf(ctx.command);
    if (!cmd) throw new SkiffError('config', `step "${step.name}" has no command to run in container "${config.containerName}"`);
    const exec = config.exec ?? {};
    // The engine reports an exec whose process could not start (no /bin/sh, no such binary,
    // bad working directory) only as text in the exec's own output stream, exit 126/127.
    const stdout = new TailWriter(ctx.stdout, 1024);
    const stderr = new TailWriter(ctx.stderr, 1024);
    const result = await execIn(engine, container.Id, {
      body: { Cmd: cmd, User: exec.User, WorkingDir: exec.WorkingDir, Env: exec.Env, Privileged: exec.Privileged, Tty: exec.Tty },
      stdout,
      stderr,
      targetsCopy: true,
      signal: ctx.signal,
      stop: (execId) => stopExecProcess(engine, execId, { stopSignal: step.signalOnStop, graceSec: dag.maxCleanUpTimeSec, signal: ctx.signal }),
    });
    if (result.exitCode === 0) return { exitCode: 0 };
    const error = `exec failed with exit code: ${result.exitCode}`;
    const startFailure = result.exitCode === 126 || result.exitCode === 127 ? [...stdout.lines(), ...stderr.lines()].find((l) => /OCI runtime exec failed/.test(l)) : undefined;
    if (!startFailure) return { exitCode: result.exitCode, error };
    if (ctx.command?.form === 'shell' && isMissingShell(startFailure)) {
      return { exitCode: result.exitCode, error: `${error}\n${noShellAdvice(`container "${config.containerName}"`)}` };
    }
    return { exitCode: result.exitCode, error: `${error}\n${startFailure}` };
  }
}

/** Waits for `work`, but no longer than `signal` allows (the work itself goes on for others). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new SkiffError('aborted', 'step cancelled while its image was pulled'));
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new SkiffError('aborted', 'step cancelled while its image was pulled'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** The Dockerfile rule: a string is shell form, a list is exec form. */
export function argvOf(command: Command | undefined): string[] | undefined {
  if (!command) return undefined;
  return command.form === 'shell' ? ['/bin/sh', '-c', command.script] : command.argv;
}

/**
 * Inspect by name, but only accept the container whose name is exactly that: the daemon also
 * resolves ID prefixes, so a short hex-looking name could otherwise match another container
 * (docs/engine-api.md §1.3).
 */
async function findByName(engine: EngineApi, name: string, signal: AbortSignal): Promise<ContainerInfo | undefined> {
  const info = await engine.containers.find(name, { signal });
  if (!info) return undefined;
  return info.Name === `/${name}` || info.Id === name ? info : undefined;
}

/** A start that failed for want of `/bin/sh`, told as what to write instead (swarm steps too). */
export function explainStartFailure(err: unknown, image: string, command: Command | undefined): unknown {
  if (!isSkiffError(err) || command?.form !== 'shell') return err;
  if (isMissingShell(err.message)) return new SkiffError('config', noShellAdvice(`image ${image}`), { cause: err });
  return err;
}

/** runc's words for a `/bin/sh` that is not there (create/start, or exec). */
function isMissingShell(message: string): boolean {
  return /"\/bin\/sh"/.test(message) && /no such file|not found/i.test(message);
}

function noShellAdvice(what: string): string {
  return `${what} has no /bin/sh, so a string command cannot run in a shell: write the command as a list (exec form), e.g. command: ["/app", "--flag"]`;
}

export type { Step };
