// The output of a service's tasks that run on the node skiff talks to, read from each task
// container itself, so it comes as the task runs. As a `docker run` does, a container seen made
// (its `create` event) is attached to before it starts: the attach then carries all its output
// and ends as the process does, before the daemon tears the container down. Whether the attach
// came in time is told by inspecting the container once attached: a container still `created`
// then has written nothing yet (docs/engine-api.md §13.4). One attached too late, or seen only
// as it starts, is read from its log (GET /containers/{id}/logs, followed); Engine 20.10's
// followed read can end without the last messages of a task that writes up to its exit (§13.4),
// so once it has ended the same log is read again unfollowed, which gives all of it (after the
// teardown), and only the messages the followed read had not written are written. The messages
// are those of the service log, counted the same way (log-lines.ts): a task taken over here
// after the service log wrote some of its messages skips those, and one whose read fails goes
// back to the service log, which skips what was written here.
import type { Readable, Writable } from 'node:stream';
import type { ContainersApi } from '../../engine/facets.js';
import { LogProgress, ServiceLogLines, readLines } from './log-lines.js';

export interface NodeLogsOptions {
  stdout: Writable;
  stderr: Writable;
  progress: LogProgress;
  signal: AbortSignal;
  /** How long the reads may go on once the tasks have ended (END_WAIT_MS). */
  endWaitMs?: number;
}

/**
 * How long the reads may go on once every task has ended. A container's log and an attach end
 * with the container's process; should one not (a daemon that never closes it, or a task ended
 * by the swarm before its container was started), the read is cut and the task's output taken
 * from the service log instead, rather than the step waiting on it for ever.
 */
const END_WAIT_MS = 5_000;

export class NodeLogs {
  readonly #containers: Pick<ContainersApi, 'logs' | 'attach' | 'inspect'>;
  readonly #options: NodeLogsOptions;
  /** Reads by task ID, each settled (never rejecting) once it has ended or failed. */
  readonly #reads = new Map<string, Promise<void>>();
  /** Tasks read here, until a read fails. */
  readonly #here = new Set<string>();
  /** Cuts the reads still going on END_WAIT_MS after the tasks ended. */
  readonly #cut = new AbortController();

  constructor(containers: Pick<ContainersApi, 'logs' | 'attach' | 'inspect'>, options: NodeLogsOptions) {
    this.#containers = containers;
    this.#options = options;
  }

  /** Takes over a task's output by attaching to its container, just made (once per task). */
  attach(task: string, container: string): void {
    this.#begin(task, () => this.#readAttached(task, container));
  }

  /** Takes over a task's output from its container's log, as it starts (once per task). */
  take(task: string, container: string): void {
    this.#begin(task, () => this.#readLog(task, container));
  }

  #begin(task: string, read: () => Promise<void>): void {
    if (this.#reads.has(task) || this.#options.signal.aborted) return;
    this.#here.add(task);
    this.#reads.set(
      task,
      read().catch(() => {
        this.#here.delete(task);
      }),
    );
  }

  /**
   * The task was taken over here: a followed service log passes its messages by from now on,
   * even if the read here fails (it is then read from the service log to its end, which skips
   * by count: a followed read, midway, cannot).
   */
  taken(task: string): boolean {
    return this.#reads.has(task);
  }

  /** The task's output is read here, or being read: a complete service log read passes it by. */
  has(task: string): boolean {
    return this.#here.has(task);
  }

  /**
   * Waits for every read taken over; true when each of `tasks` was read to its end here, so the
   * service log has nothing more to give for them.
   */
  async complete(tasks: readonly string[]): Promise<boolean> {
    const timer = setTimeout(() => this.#cut.abort(), this.#options.endWaitMs ?? END_WAIT_MS);
    try {
      await Promise.all(this.#reads.values());
    } finally {
      clearTimeout(timer);
    }
    return tasks.every((t) => this.#here.has(t));
  }

  get #signal(): AbortSignal {
    return AbortSignal.any([this.#options.signal, this.#cut.signal]);
  }

  async #readAttached(task: string, container: string): Promise<void> {
    const signal = this.#signal;
    // Should the attach fail, the task goes back to the service log: the container's own log
    // cannot stand in before it starts (a log read of a container not running ends at once).
    const { socket } = await this.#containers.attach(container, { stdout: true, stderr: true }, { signal });
    try {
      const { State } = await this.#containers.inspect(container, { signal });
      // Started (or failed to start) before the inspect: the attach may have come after some output.
      if (State.Status !== 'created' || State.Error) {
        socket.destroy();
        return await this.#readLog(task, container);
      }
      await this.#lines(task, socket, signal);
    } finally {
      socket.destroy();
    }
  }

  async #readLog(task: string, container: string): Promise<void> {
    const signal = this.#signal;
    const readFrom = async (follow: boolean) => this.#lines(task, await this.#containers.logs(container, { follow, stdout: true, stderr: true }, { signal }), signal);
    await readFrom(true);
    // What the followed read may have missed at the end.
    await readFrom(false);
  }

  /**
   * One read of the task's output to its end. Each read skips the task's messages written before
   * it starts: those the service log wrote (which passes them by from now on), or those an
   * earlier read here wrote.
   */
  async #lines(task: string, body: Readable, signal: AbortSignal): Promise<void> {
    const { stdout, stderr, progress } = this.#options;
    await readLines(body, new ServiceLogLines(stdout, 'out', progress, true, { task }), new ServiceLogLines(stderr, 'err', progress, true, { task }), signal);
  }
}
