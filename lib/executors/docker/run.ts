// One container from create to exit, owned here on every path (docs/engine-api.md §6.8): attach and
// the wait are registered before start, so no output and no exit code can be lost; on abort the
// container is signalled, given a grace period, killed, and removed if it is ours to remove.
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import type { ContainersApi } from '../../engine/facets.js';
import type { CreateBody, WaitResult } from '../../engine/containers.js';
import { outputSink, pumpOutput } from '../../engine/framing.js';
import { feedStdin } from '../../engine/hijack.js';
import { SkiffError } from '../../common/errors.js';
import { forceSignalOf } from '../contract.js';

export interface RunContainerOptions {
  body: CreateBody;
  name?: string;
  platform?: string;
  /** Remove the container when it ends, on every path (success, failure, failed start, abort). */
  autoRemove: boolean;
  stdin?: Readable | Buffer | string;
  stdout: Writable;
  stderr: Writable;
  /**
   * `stdout` and `stderr` are done with a chunk once its write has been called back (they copy
   * what they keep, as a file, hash or log writer does; a PassThrough does not). Output is then
   * read into one reused buffer instead of a new one per read: no garbage per 64 KiB, so memory
   * stays flat on a large output (engine/borrowed.ts). Only where the engine can be reached on
   * a connection of skiff's own; elsewhere output is read as usual.
   */
  targetsCopy?: boolean;
  signal?: AbortSignal;
  /** Signal sent first when aborted; SIGKILL follows after `graceSec`. */
  stopSignal?: string;
  graceSec?: number;
  /** Called as soon as the container exists (for reaping and reporting). */
  onCreated?(id: string, warnings: string[]): void;
  /**
   * With it, when the daemon removes the container, the run ends at the container's exit and the
   * removal (tens of ms of network and file-system teardown) is handed over: the promise settles,
   * never rejects, once the container is gone, within CLEANUP_MS of the exit. The caller owns it
   * and must await it before it says the run is over. Without it, the run ends at the removal.
   */
  onRemoval?(removed: Promise<void>): void;
}

export interface RunContainerResult {
  id: string;
  exitCode: number;
  /** True when the run was stopped because `signal` was aborted. */
  stopped: boolean;
}

// Cleanup after an abort must not be cancelled by the aborted signal itself.
const CLEANUP_MS = 30_000;

/** The container calls a run makes. */
export interface RunEngine {
  readonly containers: Pick<ContainersApi, 'create' | 'start' | 'attach' | 'attachBorrowed' | 'registerWait' | 'kill' | 'remove'>;
}

export async function runContainer(engine: RunEngine, options: RunContainerOptions): Promise<RunContainerResult> {
  const ready = await createContainer(engine, { ...options, handOver: options.onRemoval !== undefined });
  if (options.signal?.aborted) {
    await ready.discard();
    throw new SkiffError('aborted', 'container run cancelled before it started');
  }
  return ready.run(options);
}

export interface CreateContainerOptions extends Pick<RunContainerOptions, 'body' | 'name' | 'platform' | 'autoRemove' | 'targetsCopy' | 'onCreated'> {
  /** Whether the stream will be fed stdin (the container is created to take it). */
  stdin?: unknown;
  /** run() will be given onRemoval: the daemon's removal is waited for on a connection of its own. */
  handOver: boolean;
}

/**
 * Creates the container and sets up what must exist before it starts (attach, the waits), so it
 * can be started later: a step's container created while the step before it runs. The caller
 * owns it: run() it, or discard() it.
 */
export async function createContainer(engine: RunEngine, options: CreateContainerOptions): Promise<ReadyContainer> {
  const tty = options.body.Tty === true;
  const withStdin = options.stdin !== undefined;
  // The daemon removes the container itself, as `docker run --rm` has it do, and the wait on
  // `removed` returns once it is gone: one round trip less than our own DELETE, and nothing left
  // even if skiff dies. Docker refuses AutoRemove beside a restart policy; then we remove it.
  const hostConfig = options.body.HostConfig;
  const daemonRemoves = options.autoRemove && !hasRestartPolicy(hostConfig ?? {});
  const body: CreateBody = {
    ...options.body,
    HostConfig: daemonRemoves ? { ...hostConfig, AutoRemove: true } : hostConfig,
    AttachStdout: true,
    AttachStderr: true,
    ...(withStdin && { AttachStdin: true, OpenStdin: true, StdinOnce: true }),
  };
  // Not cut short by a signal: an aborted create may still make the container, with an id we
  // would never learn. An abort is honoured right after, with the id in hand.
  const created = await engine.containers.create(body, { name: options.name, platform: options.platform });
  options.onCreated?.(created.Id, created.Warnings);
  const ready = new ReadyContainer(engine, created.Id, { tty, withStdin, autoRemove: options.autoRemove, daemonRemoves, handOver: daemonRemoves && options.handOver });
  try {
    await ready.connect(options.targetsCopy === true);
  } catch (err) {
    await ready.discard();
    throw err;
  }
  return ready;
}

type Attached = Awaited<ReturnType<ContainersApi['attach']>> | NonNullable<Awaited<ReturnType<ContainersApi['attachBorrowed']>>>;
type Registered = Awaited<ReturnType<ContainersApi['registerWait']>>;

interface Shape {
  tty: boolean;
  withStdin: boolean;
  autoRemove: boolean;
  daemonRemoves: boolean;
  handOver: boolean;
}

/** A created container, attached and waited on, not yet started; run() once, or discard(). */
export class ReadyContainer {
  readonly id: string;
  readonly #engine: RunEngine;
  readonly #o: Shape;
  // Attach and the waits answer to `local`, not to the caller's signal: after an abort we still
  // read to the container's exit. Cut on every failure path.
  readonly #local = new AbortController();
  // After a clean exit the hand-over's wait for the removal is cut by its own deadline.
  readonly #removal = new AbortController();
  #socket: Attached['socket'] | undefined;
  #attached: Attached | undefined;
  #wait: Registered | undefined;
  #removed: Registered | undefined;
  #used = false;

  constructor(engine: RunEngine, id: string, o: Shape) {
    this.#engine = engine;
    this.id = id;
    this.#o = o;
  }

  /** Attach and wait both hold a connection of their own; set up side by side. */
  async connect(targetsCopy: boolean): Promise<void> {
    const engine = this.#engine;
    const { id } = this;
    const local = this.#local.signal;
    const streams = { stdin: this.#o.withStdin, stdout: true, stderr: true };
    const attach = async () => {
      const borrowed = targetsCopy ? await engine.containers.attachBorrowed(id, streams, { signal: local }) : undefined;
      const stream = borrowed ?? (await engine.containers.attach(id, streams, { signal: local }));
      this.#socket = stream.socket;
      // The wait may have failed first and the run already be over: then nobody else closes it.
      if (local.aborted) stream.socket.destroy();
      return stream;
    };
    const { daemonRemoves, handOver } = this.#o;
    const [attached, wait, removed] = await Promise.all([
      attach(),
      engine.containers.registerWait(id, daemonRemoves && !handOver ? 'removed' : 'next-exit', { signal: local }),
      handOver ? engine.containers.registerWait(id, 'removed', { signal: AbortSignal.any([local, this.#removal.signal]) }) : undefined,
    ]);
    wait.result.catch(() => undefined);
    removed?.result.catch(() => undefined);
    this.#attached = attached;
    this.#wait = wait;
    this.#removed = removed;
  }

  /** Starts the container and reads it to its exit; removes it (or hands the removal over). */
  async run(options: Pick<RunContainerOptions, 'stdin' | 'stdout' | 'stderr' | 'signal' | 'stopSignal' | 'graceSec' | 'onRemoval'>): Promise<RunContainerResult> {
    if (this.#used) throw new Error(`container ${this.id.slice(0, 12)} was already run or discarded`);
    this.#used = true;
    const engine = this.#engine;
    const { id } = this;
    const { signal } = options;
    const attached = this.#attached!;
    const wait = this.#wait!;
    const removed = this.#removed;
    const { tty, autoRemove, daemonRemoves } = this.#o;
    let started = false;
    let exitedCleanly = false;
    try {
      const output = 'read' in attached ? pumpOutput(attached, tty, options.stdout, options.stderr) : pipeline(attached.socket, outputSink(tty, options.stdout, options.stderr));
      output.catch(() => undefined); // awaited below; a rejection before then must not be unhandled

      // Not cancelled by `signal`: a start cut off halfway leaves the container's state unknown;
      // an abort that arrives meanwhile is handled right after, by stopOnAbort.
      await engine.containers.start(id);
      started = true;
      feedStdin(attached.socket, options.stdin);

      const stopped = signal ? stopOnAbort(engine, id, signal, options, wait.result) : undefined;
      let result: WaitResult;
      try {
        result = await wait.result;
        await output;
      } finally {
        stopped?.dispose();
      }
      if (result.Error?.Message) throw new SkiffError('engine', `wait for container: ${result.Error.Message}`);
      exitedCleanly = true;
      if (removed && options.onRemoval) options.onRemoval(awaitRemoval(engine, id, removed.result, this.#removal));
      else this.#removal.abort();
      return { id, exitCode: result.StatusCode, stopped: signal?.aborted ?? false };
    } catch (err) {
      this.#local.abort(err);
      this.#socket?.destroy();
      if (signal?.aborted && started) {
        // The abort path already stopped the container; what is left is removal below.
        throw new SkiffError('aborted', 'container run cancelled', { cause: err });
      }
      throw err;
    } finally {
      // After a clean exit the daemon has already removed it (the wait said `removed`), or will
      // (the removal handed over).
      if ((autoRemove && !(daemonRemoves && exitedCleanly)) || !started) {
        // A container whose start failed is ours and useless: never leave it behind (Dagu does).
        await engine.containers.remove(id, { force: true, signal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => undefined);
      }
    }
  }

  /** Removes a container that will not be started after all (and closes its streams); never throws. */
  async discard(): Promise<void> {
    if (this.#used) return;
    this.#used = true;
    this.#local.abort();
    this.#socket?.destroy();
    await this.#engine.containers.remove(this.id, { force: true, signal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => undefined);
  }
}

/** The daemon's removal, or ours if it has not happened within CLEANUP_MS of the exit. */
async function awaitRemoval(engine: RunEngine, id: string, removed: Promise<WaitResult>, removal: AbortController): Promise<void> {
  const deadline = setTimeout(() => removal.abort(), CLEANUP_MS);
  try {
    await removed;
  } catch {
    await engine.containers.remove(id, { force: true, signal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => undefined);
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * On abort: the stop signal, then SIGKILL after the grace period (at once if the abort reason
 * carries an aborted `force` signal: the second Ctrl-C), then the caller waits for the exit.
 */
function stopOnAbort(engine: RunEngine, id: string, signal: AbortSignal, options: Pick<RunContainerOptions, 'stopSignal' | 'graceSec'>, exited: Promise<unknown>): { dispose(): void } {
  let timer: NodeJS.Timeout | undefined;
  let force: AbortSignal | undefined;
  const cleanup = () => AbortSignal.timeout(CLEANUP_MS);
  const kill = () => void engine.containers.kill(id, 'SIGKILL', { signal: cleanup() }).catch(() => undefined);
  const onAbort = () => {
    void engine.containers.kill(id, options.stopSignal ?? 'SIGTERM', { signal: cleanup() }).catch(() => undefined);
    timer = setTimeout(kill, (options.graceSec ?? 5) * 1000);
    force = forceSignalOf(signal);
    if (force) {
      if (force.aborted) kill();
      else force.addEventListener('abort', kill, { once: true });
    }
    void exited.finally(() => clearTimeout(timer)).catch(() => undefined);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    dispose() {
      signal.removeEventListener('abort', onAbort);
      force?.removeEventListener('abort', kill);
      clearTimeout(timer);
    },
  };
}

function hasRestartPolicy(hostConfig: Record<string, unknown>): boolean {
  const name = (hostConfig.RestartPolicy as { Name?: unknown } | undefined)?.Name;
  return typeof name === 'string' && name !== '' && name !== 'no';
}
