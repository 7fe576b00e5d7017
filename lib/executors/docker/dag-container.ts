// The DAG-level container (docs/dagu-behavior.md §4): created and made ready before the first step,
// every container step exec'd into it, stopped and removed after the handlers. Owned here on every
// path: a failed readiness check, a failed step, a timeout or Ctrl-C never leave it behind (Dagu
// does). `keepContainer` keeps it running (the docs' promise, docs/dagu-behavior.md §10; Dagu stops it), and a later run of
// the same DAG with the same `name` reuses it.
import type { EngineApi } from '../../engine/facets.js';
import type { CreateBody } from '../../engine/containers.js';
import { SkiffError } from '../../common/errors.js';
import type { Dag, DagContainer } from '../../common/model.js';
import type { Executor, ExecutorEvent, StepContext, StepResult } from '../contract.js';
import { ensureImage } from './pull.js';
import { execIn } from './exec.js';
import { argvOf } from './step.js';
import { LABEL_DAG, isSkiffOwned, skiffLabels } from './labels.js';
import { waitReady } from './readiness.js';
import { stopExecProcess } from './stop-exec.js';

// Keepalive (§4.3): Docker's init is PID 1 and forwards the stop signal; the trap makes the loop
// end at once instead of after the current sleep.
const KEEPALIVE = ['sh', '-c', "trap 'exit 0' TERM INT; while true; do sleep 86400 & wait $!; done"];
const STOP_GRACE_SEC = 5;
const FIRST_CHECK_MS = 500;
const CLEANUP_MS = 30_000;

export interface DagContainerDeps {
  engine(): EngineApi;
  platform(signal?: AbortSignal): Promise<string>;
  registryAuthFor(image: string, warn?: (message: string) => void): Promise<string | undefined>;
}

export class DagContainerRun {
  readonly #deps: DagContainerDeps;
  readonly #spec: DagContainer;
  #id: string | undefined;
  #created = false;

  constructor(spec: DagContainer, deps: DagContainerDeps) {
    this.#spec = spec;
    this.#deps = deps;
  }

  get id(): string | undefined {
    return this.#id;
  }

  async setup(ctx: { dag: Dag; runId: string; signal: AbortSignal; emit(event: ExecutorEvent): void }): Promise<void> {
    const spec = this.#spec;
    const engine = this.#deps.engine();
    if (spec.name && (await this.#adopt(engine, ctx))) return;
    await ensureImage(engine, spec.image, {
      policy: spec.pullPolicy,
      platform: spec.platform ?? this.#deps.platform(ctx.signal),
      registryAuth: () => this.#deps.registryAuthFor(spec.image, (message) => ctx.emit({ type: 'warning', message })),
      signal: ctx.signal,
      step: 'container',
      emit: ctx.emit,
    });
    // Not cut short by Ctrl-C: the daemon may create the container anyway, and without its id
    // discard() could not remove it. The cancel is honoured right after.
    const created = await engine.containers.create(this.#createBody(ctx), { name: spec.name, platform: spec.platform });
    this.#id = created.Id;
    this.#created = true;
    ctx.signal.throwIfAborted();
    for (const warning of created.Warnings) ctx.emit({ type: 'warning', message: `container: ${warning}` });
    await engine.containers.start(created.Id, { signal: ctx.signal });
    await waitReady(engine, created.Id, {
      waitFor: spec.waitFor,
      logPattern: spec.logPattern,
      tty: false,
      signal: ctx.signal,
      firstCheckAfterMs: spec.startup === 'keepalive' ? 0 : FIRST_CHECK_MS,
      warn: (message) => ctx.emit({ type: 'warning', message }),
    });
  }

  /**
   * A container of that name exists. One that skiff kept for this same DAG (keepContainer) and
   * that still runs is reused; one skiff made and that stopped is replaced; anyone else's is an
   * error with Dagu's text.
   */
  async #adopt(engine: EngineApi, ctx: { dag: Dag; signal: AbortSignal; emit(event: ExecutorEvent): void }): Promise<boolean> {
    const name = this.#spec.name!;
    const existing = await engine.containers.find(name, { signal: ctx.signal });
    if (!existing || existing.Name !== `/${name}`) return false;
    const ours = isSkiffOwned(existing.Config.Labels) && existing.Config.Labels?.[LABEL_DAG] === ctx.dag.name;
    if (!ours) throw new SkiffError('conflict', `container already exists. id=${existing.Id}`);
    if (existing.State.Running && this.#spec.keepContainer) {
      this.#id = existing.Id;
      ctx.emit({ type: 'info', message: `reusing container ${name} kept by an earlier run` });
      return true;
    }
    await engine.containers.remove(existing.Id, { force: true, signal: ctx.signal });
    return false;
  }

  #createBody(ctx: { dag: Dag; runId: string }): CreateBody {
    const spec = this.#spec;
    const exposed = Object.fromEntries(Object.keys(spec.ports).map((port) => [port, {}]));
    const bindings = Object.fromEntries(Object.entries(spec.ports).filter(([, b]) => b.length > 0).map(([port, b]) => [port, b.map((x) => ({ HostIp: x.hostIp, HostPort: x.hostPort }))]));
    const builtin = spec.network === undefined || ['bridge', 'host', 'none'].includes(spec.network) || spec.network.startsWith('container:');
    const body: CreateBody = {
      Image: spec.image,
      Env: spec.env,
      WorkingDir: spec.workingDir,
      User: spec.user,
      ExposedPorts: exposed,
      Labels: skiffLabels({ runId: ctx.runId, dag: ctx.dag.name, step: 'container', keep: spec.keepContainer }),
      HostConfig: {
        Init: true,
        Binds: spec.binds,
        Mounts: spec.volumes.map((v) => ({ Type: 'volume', Source: v.name, Target: v.target, ReadOnly: v.readOnly })),
        PortBindings: bindings,
        ...(spec.network && { NetworkMode: spec.network }),
        ...(spec.restartPolicy && { RestartPolicy: { Name: spec.restartPolicy } }),
      },
      ...(!builtin && { NetworkingConfig: { EndpointsConfig: { [spec.network!]: {} } } }),
    };
    if (spec.startup === 'keepalive') Object.assign(body, { Entrypoint: [], Cmd: KEEPALIVE });
    if (spec.startup === 'command') Object.assign(body, { Entrypoint: [], Cmd: spec.command });
    return body;
  }

  /** Stops and removes what setup created, unless it is to be kept; never throws. */
  async teardown(): Promise<void> {
    const id = this.#id;
    if (!id) return;
    const engine = this.#deps.engine();
    const signal = AbortSignal.timeout(CLEANUP_MS);
    if (this.#spec.keepContainer) return;
    if (!this.#created) return;
    // Only the image's own program (startup entrypoint/command) deserves a graceful stop; the
    // keepalive loop holds nothing, and a forced removal saves the stop's round trip.
    if (this.#spec.startup !== 'keepalive') await engine.containers.stop(id, { t: STOP_GRACE_SEC, signal }).catch(() => undefined);
    await engine.containers.remove(id, { force: true, signal }).catch(() => undefined);
  }

  /** Removes the container after a failed setup, even with keepContainer (it never became usable). */
  async discard(): Promise<void> {
    if (!this.#id || !this.#created) return;
    await this.#deps.engine().containers.remove(this.#id, { force: true, signal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => undefined);
    this.#id = undefined;
  }
}

/** Runs a step's command in the DAG-level container; it inherits the container's user, dir, env. */
export class DagContainerExecutor implements Executor {
  readonly #run: DagContainerRun;
  readonly #engine: () => EngineApi;

  constructor(run: DagContainerRun, engine: () => EngineApi) {
    this.#run = run;
    this.#engine = engine;
  }

  async run(ctx: StepContext): Promise<StepResult> {
    const id = this.#run.id;
    if (!id) throw new SkiffError('engine', 'the DAG-level container is not running');
    const cmd = argvOf(ctx.command);
    if (!cmd) throw new SkiffError('config', `step "${ctx.step.name}" has no command to run in the DAG-level container`);
    const engine = this.#engine();
    const result = await execIn(engine, id, {
      body: { Cmd: cmd },
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      targetsCopy: true,
      signal: ctx.signal,
      stop: (execId) => stopExecProcess(engine, execId, { stopSignal: ctx.step.signalOnStop, graceSec: ctx.dag.maxCleanUpTimeSec, signal: ctx.signal }),
    });
    if (result.exitCode === 0) return { exitCode: 0 };
    return { exitCode: result.exitCode, error: `exec failed with exit code: ${result.exitCode}` };
  }
}
