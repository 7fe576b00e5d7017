// Image endpoints (docs/engine-api.md §4): inspect, pull as a stream of progress events, import.
import type { Readable } from 'node:stream';
import { isSkiffError } from './errors.js';
import { readJsonLines, type ProgressEvent } from './json-lines.js';
import { parseReference, pullQuery } from './reference.js';
import type { Transport } from './request.js';
import type { Signalled } from './containers.js';
import type { ImagesApi } from './facets.js';

export interface ImageInfo {
  Id: string;
  RepoTags?: string[] | null;
  Os: string;
  Architecture: string;
  Variant?: string;
  Config?: { Cmd?: string[] | null; Entrypoint?: string[] | null; Env?: string[] | null; Healthcheck?: { Test?: string[] } | null; WorkingDir?: string; User?: string } | null;
}

export class Images implements ImagesApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  async find(name: string, options: Signalled = {}): Promise<ImageInfo | undefined> {
    try {
      return await this.#t.json<ImageInfo>({ method: 'GET', path: `/images/${encodeURIComponent(name)}/json`, signal: options.signal, what: `inspect image ${name}` });
    } catch (err) {
      if (isSkiffError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /**
   * GET /distribution/{name}/json: the digest the registry gives the reference now (what
   * `docker service create` pins a service's image to), asked by the daemon with these credentials.
   */
  async distribution(name: string, options: Signalled & { registryAuth?: string } = {}): Promise<{ Descriptor: { digest: string } }> {
    return this.#t.json({
      method: 'GET',
      path: `/distribution/${name.split('/').map(encodeURIComponent).join('/')}/json`,
      headers: options.registryAuth ? { 'X-Registry-Auth': options.registryAuth } : undefined,
      signal: options.signal,
      what: `look up ${name} in its registry`,
    });
  }

  /**
   * Pulls and yields progress as it arrives. The pull is done only when the iteration ends; an
   * `errorDetail` line inside the 200 throws (docs/engine-api.md rule 6). Breaking out of the loop or
   * aborting `signal` closes the connection, which cancels the pull on the daemon.
   */
  async *pull(image: string, options: Signalled & { platform?: string; registryAuth?: string } = {}): AsyncGenerator<ProgressEvent> {
    const ref = parseReference(image);
    const res = await this.#t.call({
      method: 'POST',
      path: '/images/create',
      query: { ...pullQuery(ref), platform: options.platform },
      headers: options.registryAuth ? { 'x-registry-auth': options.registryAuth } : undefined,
      long: true,
      signal: options.signal,
      what: `pull ${image}`,
    });
    try {
      yield* readJsonLines<ProgressEvent>(res.body);
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
  }

  /** Imports a root filesystem tar; resolves to the new image id. */
  async import(tar: Readable, options: Signalled & { repo: string; tag?: string; changes?: string[]; platform?: string }): Promise<string> {
    const res = await this.#t.call({
      method: 'POST',
      path: '/images/create',
      query: { fromSrc: '-', repo: options.repo, tag: options.tag, changes: options.changes, platform: options.platform },
      body: tar,
      contentType: 'application/x-tar',
      long: true,
      signal: options.signal,
      what: `import image ${options.repo}`,
    });
    let id = '';
    for await (const ev of readJsonLines<ProgressEvent>(res.body)) {
      if (ev.status?.startsWith('sha256:')) id = ev.status;
    }
    return id;
  }

  async remove(name: string, options: Signalled & { force?: boolean } = {}): Promise<void> {
    try {
      await this.#t.empty({ method: 'DELETE', path: `/images/${encodeURIComponent(name)}`, query: { force: options.force || undefined }, signal: options.signal, what: `remove image ${name}` });
    } catch (err) {
      if (!isSkiffError(err, 'not-found')) throw err;
    }
  }

  /** Tags an image, e.g. before a push into a local registry. */
  async tag(name: string, repo: string, tag: string, options: Signalled = {}): Promise<void> {
    await this.#t.empty({ method: 'POST', path: `/images/${encodeURIComponent(name)}/tag`, query: { repo, tag }, signal: options.signal, what: `tag image ${name}` });
  }

  async *push(name: string, options: Signalled & { tag?: string; registryAuth?: string } = {}): AsyncGenerator<ProgressEvent> {
    const res = await this.#t.call({
      method: 'POST',
      path: `/images/${encodeURIComponent(name)}/push`,
      query: { tag: options.tag },
      // The daemon insists on the header for a push, even an anonymous one.
      headers: { 'x-registry-auth': options.registryAuth ?? 'e30=' },
      long: true,
      signal: options.signal,
      what: `push ${name}`,
    });
    yield* readJsonLines<ProgressEvent>(res.body);
  }
}
