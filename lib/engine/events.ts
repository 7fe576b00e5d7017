// The daemon's event stream (GET /events): one JSON object a line for as long as the caller keeps
// it open. A daemon reports what happens on its own node: in a swarm, a task's container events
// come only from the node that runs it (docs/engine-api.md §13.4).
import type { Transport } from './request.js';
import type { Signalled } from './containers.js';
import type { EventsApi } from './facets.js';
import { readJsonLines } from './json-lines.js';

/** One event as the daemon sends it (`events.Message`). */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> | null };
  timeNano?: number;
}

export interface EventsQuery {
  filters: Record<string, string[]>;
  /**
   * Also the matching events since this time (Unix seconds), from the daemon's short buffer of
   * recent events: the daemon answers before it subscribes, so an event of that moment is
   * otherwise missed.
   */
  since?: number;
}

export class Events implements EventsApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Resolves once the daemon has answered; the events end only when `signal` aborts or the connection fails. */
  async stream(query: EventsQuery, options: Signalled = {}): Promise<AsyncIterable<EngineEvent>> {
    const res = await this.#t.call({
      method: 'GET',
      path: '/events',
      query: { filters: JSON.stringify(query.filters), since: query.since?.toFixed(3) },
      long: true,
      signal: options.signal,
      what: 'follow engine events',
    });
    return readJsonLines<EngineEvent>(res.body);
  }
}
