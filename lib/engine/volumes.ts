// Volume endpoints (docs/engine-api.md §10): creating an existing name returns it unchanged.
import { isSkiffError } from './errors.js';
import type { Transport } from './request.js';
import type { Signalled } from './containers.js';
import type { VolumesApi } from './facets.js';

export interface VolumeInfo {
  Name: string;
  Mountpoint: string;
  Labels?: Record<string, string> | null;
}

export class Volumes implements VolumesApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  create(name: string, options: Signalled & { labels?: Record<string, string> } = {}): Promise<VolumeInfo> {
    return this.#t.json<VolumeInfo>({ method: 'POST', path: '/volumes/create', json: { Name: name, Labels: options.labels ?? {} }, signal: options.signal, what: `create volume ${name}` });
  }

  async remove(name: string, options: Signalled & { force?: boolean } = {}): Promise<void> {
    try {
      await this.#t.empty({ method: 'DELETE', path: `/volumes/${encodeURIComponent(name)}`, query: { force: options.force || undefined }, signal: options.signal, what: `remove volume ${name}` });
    } catch (err) {
      if (!isSkiffError(err, 'not-found')) throw err;
    }
  }

  async list(filters: Record<string, string[]>, options: Signalled = {}): Promise<VolumeInfo[]> {
    const res = await this.#t.json<{ Volumes: VolumeInfo[] | null }>({ method: 'GET', path: '/volumes', query: { filters: JSON.stringify(filters) }, signal: options.signal, what: 'list volumes' });
    return res.Volumes ?? [];
  }
}
