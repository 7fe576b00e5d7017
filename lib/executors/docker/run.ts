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
  const { signal } = options;
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
  // Not cut short by `signal`: an aborted create may still make the container, with an id we
  // would never learn. The abort is honoured right after, with the id in hand.
  const created = await engine.containers.create(body, { name: options.name, platform: options.platform });
  const id = created.Id;
  options.onCreated?.(id, created.Warnings);
  if (signal?.aborted) {
    await engine.containers.remove(id, { force: true, signal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => undefined);
    throw new SkiffError('aborted', 'container run cancelled before it started');
  }

  // Attach and wait both hold a connection of their own; set them up side by side. They answer
  // to `local`, not to the caller's signal: after an abort we still read to the container's exit.
  const local = new AbortController();
  const handOver = daemonRemoves && options.onRemoval !== undefined;
  // Cut by `local` on every failure path; after a clean exit, by its own deadline.
  const removal = new AbortController();
  let socket: Awaited<ReturnType<ContainersApi['attach']>>['socket'] | undefined;
  let started = false;
  let exitedCleanly = false;
  try {
    const streams = { stdin: withStdin, stdout: true, stderr: true };
    const attach = async () => {
      const borrowed = options.targetsCopy ? await engine.containers.attachBorrowed(id, streams, { signal: local.signal }) : undefined;
      const stream = borrowed ?? (await engine.containers.attach(id, streams, { signal: local.signal }));
      socket = stream.socket;
      // The wait may have failed first and the run already be over: then nobody else closes it.
      if (local.signal.aborted) socket.destroy();
      return stream;
    };
    const [attached, wait, removed] = await Promise.all([
      attach(),
      engine.containers.registerWait(id, daemonRemoves && !handOver ? 'removed' : 'next-exit', { signal: local.signal }),
      handOver ? engine.containers.registerWait(id, 'removed', { signal: AbortSignal.any([local.signal, removal.signal]) }) : undefined,
    ]);
    const output = 'read' in attached ? pumpOutput(attached, tty, options.stdout, options.stderr) : pipeline(attached.socket, outputSink(tty, options.stdout, options.stderr));
    output.catch(() => undefined); // awaited below; a rejection before then must not be unhandled
    wait.result.catch(() => undefined);
    removed?.result.catch(() => undefined);

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
    if (removed) options.onRemoval!(awaitRemoval(engine, id, removed.result, removal));
    return { id, exitCode: result.StatusCode, stopped: signal?.aborted ?? false };
  } catch (err) {
    local.abort(err);
    socket?.destroy();
    if (signal?.aborted && started) {
      // The abort path already stopped the container; what is left is removal below.
      throw new SkiffError('aborted', 'container run cancelled', { cause: err });
    }
    throw err;
  } finally {
    // After a clean exit the daemon has already removed it (the wait said `removed`).
    if ((options.autoRemove && !(daemonRemoves && exitedCleanly)) || !started) {
      // A container whose start failed is ours and useless: never leave it behind (Dagu does).
      await engine.containers.remove(id, { force: true, signal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => undefined);
    }
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
function stopOnAbort(engine: RunEngine, id: string, signal: AbortSignal, options: RunContainerOptions, exited: Promise<unknown>): { dispose(): void } {
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
