// The starts and exits of a run's task containers on the node skiff talks to, from one event
// stream per run (GET /events: `start` and `die` of containers labelled with the run's id). A
// start tells which container runs a task here, so its output can be read from the container's
// own log (node-logs.ts). A daemon tells of a container's
// death a few hundred milliseconds before a wait on it returns and the node's swarm agent reports
// the task ended (it tears down the container's network and mounts in between), and the manager
// takes that report in later still (docs/engine-api.md §13.4). Tasks on other nodes are not seen
// here: their ends come from polling alone. The stream is the executor's, closed with it.
import type { EventsApi, TasksApi } from '../../engine/facets.js';
import { LABEL_RUN } from '../docker/labels.js';

export interface TaskExitsEngine {
  readonly events: EventsApi;
  readonly tasks: Pick<TasksApi, 'selfNode'>;
}

/** A task container of the run that started on this node. */
export interface TaskStart {
  task: string;
  container: string;
}

interface Waiter {
  tasks: ReadonlySet<string>;
  wake(): void;
}

/** How far back the daemon's buffer of recent events is asked for (clocks of remote hosts differ). */
const SINCE_MARGIN_SEC = 60;
/** How long the first step waits for the daemon to answer before it goes on without the stream. */
const OPEN_WAIT_MS = 2_000;

export class TaskExits {
  readonly #engine: TaskExitsEngine;
  readonly #runId: string;
  readonly #stop = new AbortController();
  /** Exit codes by task ID, until the task's service is done with them. */
  readonly #exits = new Map<string, number>();
  readonly #waiters = new Set<Waiter>();
  #opened: Promise<void> | undefined;
  #self: Promise<string | undefined> | undefined;
  #live = false;
  /** Starts by service ID, until the service is done with them (forgetService). */
  readonly #starts = new Map<string, TaskStart[]>();
  readonly #startListeners = new Map<string, (start: TaskStart) => void>();

  constructor(engine: TaskExitsEngine, runId: string) {
    this.#engine = engine;
    this.#runId = runId;
  }

  /**
   * Starts following (once); settles when the daemon has answered, or after a moment without an
   * answer (a late answer still counts: `since` brings the deaths it would have missed). Never
   * rejects.
   */
  open(): Promise<void> {
    this.#opened ??= this.#open();
    return this.#opened;
  }

  #open(): Promise<void> {
    const answered = this.#engine.events
      .stream(
        { filters: { type: ['container'], event: ['start', 'die'], label: [`${LABEL_RUN}=${this.#runId}`] }, since: Date.now() / 1000 - SINCE_MARGIN_SEC },
        { signal: this.#stop.signal },
      )
      .then(
        (events) => {
          this.#live = true;
          void this.#follow(events);
        },
        // Without the stream every task's end comes from polling.
        () => undefined,
      );
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, OPEN_WAIT_MS);
      void answered.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The stream is open: a task container of the run that dies on this node will be seen. */
  get live(): boolean {
    return this.#live;
  }

  /** This node's swarm ID, asked once per run; undefined when it cannot be had. */
  self(): Promise<string | undefined> {
    this.#self ??= this.#engine.tasks.selfNode({ signal: this.#stop.signal }).catch(() => undefined);
    return this.#self;
  }

  exitOf(task: string): number | undefined {
    return this.#exits.get(task);
  }

  /**
   * Resolves after `ms`, or sooner when one of `tasks` has died here (at once if one has) or the
   * stream ends; rejects when `signal` aborts.
   */
  died(tasks: readonly string[], ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      if (tasks.some((t) => this.#exits.has(t))) return resolve();
      const finish = (then: () => void) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#waiters.delete(waiter);
        then();
      };
      const waiter: Waiter = { tasks: new Set(tasks), wake: () => finish(resolve) };
      const onAbort = () => finish(() => reject(signal.reason));
      const timer = setTimeout(() => finish(resolve), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** The service of these tasks is done: their exits are no longer needed. */
  forget(tasks: Iterable<string>): void {
    for (const t of tasks) this.#exits.delete(t);
  }

  /**
   * Tells `listener` of each task container of `service` that starts on this node, those seen
   * already first; until `forgetService`.
   */
  onStart(service: string, listener: (start: TaskStart) => void): void {
    this.#startListeners.set(service, listener);
    for (const start of this.#starts.get(service) ?? []) listener(start);
  }

  forgetService(service: string): void {
    this.#startListeners.delete(service);
    this.#starts.delete(service);
  }

  close(): void {
    this.#stop.abort();
  }

  #started(service: string | undefined, start: TaskStart): void {
    if (!service || !start.container) return;
    const seen = this.#starts.get(service) ?? [];
    if (seen.some((s) => s.task === start.task)) return;
    seen.push(start);
    this.#starts.set(service, seen);
    this.#startListeners.get(service)?.(start);
  }

  async #follow(events: AsyncIterable<{ Action: string; Actor: { ID: string; Attributes?: Record<string, string> | null } }>): Promise<void> {
    try {
      for await (const event of events) {
        const task = event.Actor.Attributes?.['com.docker.swarm.task.id'];
        if (!task) continue;
        if (event.Action === 'start') {
          this.#started(event.Actor.Attributes?.['com.docker.swarm.service.id'], { task, container: event.Actor.ID });
          continue;
        }
        const code = Number(event.Actor.Attributes?.exitCode);
        if (event.Action !== 'die' || !Number.isInteger(code)) continue;
        this.#exits.set(task, code);
        for (const w of [...this.#waiters]) if (w.tasks.has(task)) w.wake();
      }
    } catch {
      // Closed, or the connection failed: polling goes on alone.
    } finally {
      this.#live = false;
      for (const w of [...this.#waiters]) w.wake();
    }
  }
}
