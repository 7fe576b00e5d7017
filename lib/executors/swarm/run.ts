// One service of run-once tasks (spec.ts) from create to removal, owned here on every path: its output read
// from the service log as it comes (log-lines.ts), or from a task container itself when it
// runs on the node skiff talks to (node-logs.ts), its tasks watched until every replica has
// ended (task-wait.ts), and the service removed when the job ends, fails, or is stopped (no
// service left, ever).
import type { Writable } from 'node:stream';
import type { ContainersApi, ServicesApi, TasksApi } from '../../engine/facets.js';
import { SkiffError } from '../../common/errors.js';
import type { ServiceSpec, TaskInfo } from '../../engine/services.js';
import { LogProgress, ServiceLogLines, readLines } from './log-lines.js';
import { NodeLogs } from './node-logs.js';
import { forceSignalOf } from '../contract.js';
import { waitForTasks, type EndedTask } from './task-wait.js';
import type { TaskExits } from './task-exits.js';

export interface RunServiceOptions {
  spec: ServiceSpec;
  registryAuth?: string;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
  /** The run's view of task containers dying on the node skiff talks to. */
  exits: TaskExits;
  /** The tasks' stop grace period (what a stop waits for at most, plus a margin). */
  graceSec: number;
  /** Called once the service exists. */
  onCreated?(id: string, warnings: string[]): void;
  /**
   * With it, the removal of a service whose tasks have all ended is handed over: `remove` (never
   * rejecting) removes it, and the caller must call it and await it before it says the run is
   * over. Without it, or after a stop, the run ends at the removal.
   */
  onRemoval?(remove: () => Promise<void>): void;
  /** Told once when a task waits for a node (no node fits its constraints, resources, platform). */
  onPending?(message: string): void;
  /** Told once per node a task is placed on, as soon as it is known. */
  onNode?(nodeId: string): void;
  /** Told once when every task has started (or ended, or the service is done): cleanup may go on. */
  onStarted?(): void;
}

export interface RunServiceResult {
  id: string;
  /** The first non-zero exit code among the tasks, else 0. */
  exitCode: number;
  /** The swarm's error for that task (`task: non-zero exit (3)`). */
  error?: string;
  /** Node IDs the tasks ran on. */
  nodes: string[];
}

export interface SwarmEngine {
  readonly services: Pick<ServicesApi, 'create' | 'remove' | 'logs'>;
  readonly tasks: Pick<TasksApi, 'list'>;
  readonly containers: Pick<ContainersApi, 'list' | 'kill' | 'logs' | 'attach' | 'inspect'>;
}

const CLEANUP_MS = 30_000;

export async function runService(engine: SwarmEngine, options: RunServiceOptions): Promise<RunServiceResult> {
  const { signal } = options;
  // Not cut short by `signal`: an aborted create may still make the service, with an id we would
  // never learn. The abort is honoured right after, with the id in hand.
  const created = await engine.services.create(options.spec, { registryAuth: options.registryAuth });
  const id = created.ID;
  const { exits } = options;
  let toldStarted = false;
  const started = () => {
    if (toldStarted) return;
    toldStarted = true;
    options.onStarted?.();
  };
  try {
    options.onCreated?.(id, created.Warnings ?? []);
    if (signal.aborted) throw new SkiffError('aborted', 'swarm step cancelled before its service started');
    const total = Number((options.spec.Mode.Replicated as { Replicas?: number } | undefined)?.Replicas ?? 1);
    const progress = new LogProgress();
    const here = new NodeLogs(engine.containers, { stdout: options.stdout, stderr: options.stderr, progress, signal });
    let startsHere = 0;
    exits.onContainer(id, (event) => {
      if (event.action === 'create') return here.attach(event.task, event.container);
      here.take(event.task, event.container);
      if (++startsHere >= total) started();
    });
    // The service log is followed for tasks that are not seen starting here: from the first one
    // placed on another node, or from the start without the event stream.
    const follow = new AbortController();
    let followed: Promise<void> | undefined;
    const followLog = () => {
      followed ??= readLogs(engine, id, options, progress, { follow: true, elsewhere: (task) => here.taken(task) }, AbortSignal.any([follow.signal, signal]));
      followed.catch(() => undefined);
    };
    if (!exits.live) followLog();
    let ended: EndedTask[];
    try {
      const onNode = (node: string) => {
        options.onNode?.(node);
        void exits.self().then((self) => {
          if (node !== self && !follow.signal.aborted) followLog();
        });
      };
      ended = await waitForTasks(engine.tasks, id, { total, signal, exits, onPending: options.onPending, onNode, onStarted: started });
    } finally {
      follow.abort();
    }
    await followed?.catch(() => undefined);
    // What the followed read had not delivered yet, from a complete read of the same log, unless
    // every task's whole output came from its container here. After an exit seen from its die
    // event, this read waits until the node's daemon has torn the container down
    // (docs/engine-api.md §13.4): only then is the output known to be complete.
    if (!(await here.complete(ended.map((e) => e.task.ID)))) await readLogs(engine, id, options, progress, { follow: false, elsewhere: (task) => here.has(task) }, signal);
    const failed = ended.find((e) => !e.complete)?.task;
    const nodes = [...new Set(ended.map((e) => e.task.NodeID).filter((n): n is string => !!n))];
    if (!failed) return { id, exitCode: 0, nodes };
    const exitCode = failed.Status.ContainerStatus?.ExitCode;
    if (exitCode === undefined || exitCode === 0 || startFailed(failed)) {
      // No process ran (its container did not start: the daemon's 126–128 is no exit of the
      // command), or it was stopped from outside: the swarm's own words say why, as a docker
      // step's failed start has the daemon's.
      throw new SkiffError('engine', `swarm task ${failed.ID} ${failed.Status.State}: ${failed.Status.Err || failed.Status.Message || 'no reason given'}`);
    }
    return { id, exitCode, error: failed.Status.Err, nodes };
  } catch (err) {
    if (signal.aborted) throw new SkiffError('aborted', 'swarm step cancelled', { cause: err });
    throw err;
  } finally {
    exits.forgetService(id);
    started();
    // Removing the service stops its tasks (StopSignal, then SIGKILL after StopGracePeriod).
    const remove = () => engine.services.remove(id, { signal: AbortSignal.timeout(CLEANUP_MS) }).then(
      () => undefined,
      () => undefined,
    );
    if (signal.aborted) {
      await remove();
      await stoppedHere(engine, id, options.graceSec, forceSignalOf(signal));
    } else if (options.onRemoval) options.onRemoval(remove);
    else await remove();
  }
}

/**
 * After a stop, waits (within the grace period and a margin) until the node skiff talks to runs
 * none of the service's containers any more, as a stopped docker step is waited for; once the
 * stop is forced (a second Ctrl-C), it kills them instead of waiting out the grace period.
 * Containers on other nodes are their daemons' to stop: the manager does not show them.
 */
async function stoppedHere(engine: SwarmEngine, id: string, graceSec: number, force: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + graceSec * 1000 + CLEANUP_MS;
  const filters = { label: [`com.docker.swarm.service.id=${id}`] };
  while (Date.now() < deadline) {
    const left = await engine.containers.list(filters, { signal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => []);
    if (left.length === 0) return;
    if (force?.aborted) await Promise.all(left.map((c) => engine.containers.kill(c.Id, 'SIGKILL', { signal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => undefined)));
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        force?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, 200);
      force?.addEventListener('abort', done, { once: true });
    });
  }
}

/** The node could not start the task's container (the swarm agent's words, docs/engine-api.md §13.4). */
function startFailed(task: TaskInfo): boolean {
  return task.Status.Err?.startsWith('starting container failed') ?? false;
}

async function readLogs(engine: SwarmEngine, id: string, options: RunServiceOptions, progress: LogProgress, read: { follow: boolean; elsewhere: (task: string) => boolean }, signal: AbortSignal): Promise<void> {
  const { follow, elsewhere } = read;
  const body = await engine.services.logs(id, { follow, details: true }, { signal });
  await readLines(body, new ServiceLogLines(options.stdout, 'out', progress, !follow, { elsewhere }), new ServiceLogLines(options.stderr, 'err', progress, !follow, { elsewhere }), signal);
}
