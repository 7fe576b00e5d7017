// A daemon's event stream (GET /events) fed by a test: `start` and `die` events pushed one at a time, an end,
// or a refusal to answer.
import type { EngineEvent, EventsQuery } from '../../lib/engine/events.js';
import type { Signalled } from '../../lib/engine/containers.js';

/** The node's event stream, fed by the test. */
export class ScriptedEvents {
  readonly queries: EventsQuery[] = [];
  refuse = false;
  #queue: EngineEvent[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  async stream(query: EventsQuery, options: Signalled = {}): Promise<AsyncIterable<EngineEvent>> {
    if (this.refuse) throw new Error('events: not here');
    this.queries.push(query);
    const signal = options.signal;
    const next = (): Promise<void> =>
      new Promise((resolve, reject) => {
        this.#wake = resolve;
        signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    const queue = this.#queue;
    const ended = () => this.#ended;
    return (async function* () {
      for (;;) {
        while (queue.length) yield queue.shift()!;
        if (ended()) return;
        await next();
      }
    })();
  }

  /** A container's death, with whatever other attributes it carries. */
  die(containerId: string, exitCode: number, attributes: Record<string, string> = {}): void {
    this.#queue.push({ Type: 'container', Action: 'die', Actor: { ID: containerId, Attributes: { ...attributes, exitCode: String(exitCode) } } });
    this.#wake?.();
  }

  /** A swarm task's container starting. */
  startOfTask(taskId: string, serviceId: string, containerId: string): void {
    this.#ofTask('start', taskId, serviceId, containerId);
  }

  /** A swarm task's container made. */
  createOfTask(taskId: string, serviceId: string, containerId: string): void {
    this.#ofTask('create', taskId, serviceId, containerId);
  }

  #ofTask(action: string, taskId: string, serviceId: string, containerId: string): void {
    this.#queue.push({ Type: 'container', Action: action, Actor: { ID: containerId, Attributes: { 'com.docker.swarm.task.id': taskId, 'com.docker.swarm.service.id': serviceId } } });
    this.#wake?.();
  }

  /** The death of a swarm task's container (container c1). */
  dieOfTask(taskId: string, exitCode: number): void {
    this.die('c1', exitCode, { 'com.docker.swarm.task.id': taskId });
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }
}

