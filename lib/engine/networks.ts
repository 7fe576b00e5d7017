// Network endpoints (docs/engine-api.md §10). Inspect by exact name: the list filter matches substrings.
import { isSkiffError } from './errors.js';
import type { Transport } from './request.js';
import type { Signalled } from './containers.js';
import type { NetworksApi } from './facets.js';

export interface NetworkInfo {
  Id: string;
  Name: string;
  Labels?: Record<string, string> | null;
  Containers?: Record<string, unknown> | null;
}

export class Networks implements NetworksApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  async find(name: string, options: Signalled = {}): Promise<NetworkInfo | undefined> {
    try {
      return await this.#t.json<NetworkInfo>({ method: 'GET', path: `/networks/${encodeURIComponent(name)}`, signal: options.signal, what: `inspect network ${name}` });
    } catch (err) {
      if (isSkiffError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  async create(name: string, options: Signalled & { labels?: Record<string, string>; driver?: string } = {}): Promise<string> {
    const res = await this.#t.json<{ Id: string }>({
      method: 'POST',
      path: '/networks/create',
      json: { Name: name, Driver: options.driver ?? 'bridge', CheckDuplicate: true, Labels: options.labels ?? {} },
      signal: options.signal,
      what: `create network ${name}`,
    });
    return res.Id;
  }

  async remove(name: string, options: Signalled = {}): Promise<void> {
    try {
      await this.#t.empty({ method: 'DELETE', path: `/networks/${encodeURIComponent(name)}`, signal: options.signal, what: `remove network ${name}` });
    } catch (err) {
      if (!isSkiffError(err, 'not-found')) throw err;
    }
  }

  list(filters: Record<string, string[]>, options: Signalled = {}): Promise<NetworkInfo[]> {
    return this.#t.json<NetworkInfo[]>({ method: 'GET', path: '/networks', query: { filters: JSON.stringify(filters) }, signal: options.signal, what: 'list networks' });
  }
}
