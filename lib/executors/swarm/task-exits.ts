// The task containers of a run on the node skiff talks to, from one event stream per run (GET
// /events: `create`, `start` and `die` of containers labelled with the run's id). A create or a
// start tells which container runs a task here, so its output can be read from the container
// itself (node-logs.ts): attached to between its create and its start, or from its log once it
// has started. A daemon tells of a container's
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

/** A task container of the run made (`create`) or started (`start`) on this node. */
export interface TaskContainer {
  task: string;
  container: string;
  action: 'create' | 'start';
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
  /** Creates and starts by service ID, until the service is done with them (forgetService). */
  readonly #seen = new Map<string, TaskContainer[]>();
  readonly #listeners = new Map<string, (event: TaskContainer) => void>();

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
        { filters: { type: ['container'], event: ['create', 'start', 'die'], label: [`${LABEL_RUN}=${this.#runId}`] }, since: Date.now() / 1000 - SINCE_MARGIN_SEC },
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
   * Tells `listener` of each task container of `service` made and started on this node, those
   * seen already first (each create and start once); until `forgetService`.
   */
  onContainer(service: string, listener: (event: TaskContainer) => void): void {
    this.#listeners.set(service, listener);
    for (const event of this.#seen.get(service) ?? []) listener(event);
  }

  forgetService(service: string): void {
    this.#listeners.delete(service);
    this.#seen.delete(service);
  }

  close(): void {
    this.#stop.abort();
  }

  #told(service: string | undefined, event: TaskContainer): void {
    if (!service || !event.container) return;
    const seen = this.#seen.get(service) ?? [];
    if (seen.some((s) => s.task === event.task && s.action === event.action)) return;
    seen.push(event);
    this.#seen.set(service, seen);
    this.#listeners.get(service)?.(event);
  }

  async #follow(events: AsyncIterable<{ Action: string; Actor: { ID: string; Attributes?: Record<string, string> | null } }>): Promise<void> {
    try {
      for await (const event of events) {
        const task = event.Actor.Attributes?.['com.docker.swarm.task.id'];
        if (!task) continue;
        if (event.Action === 'create' || event.Action === 'start') {
          this.#told(event.Actor.Attributes?.['com.docker.swarm.service.id'], { task, container: event.Actor.ID, action: event.Action });
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
