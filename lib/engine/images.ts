// Image endpoints (docs/engine-api.md §4): inspect, pull as a stream of progress events, import,
// and save/load of `docker save` archives as streams (never held in memory: they run to gigabytes).
import { Readable } from 'node:stream';
import { bulkExchange } from './bulk.js';
import { canBorrow } from './borrowed.js';
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

/** A line of `POST /images/load`: layer progress, or `loaded` set to a reference or `sha256:` id. */
export interface LoadEvent extends ProgressEvent {
  stream?: string;
  loaded?: string;
}

// The daemon's wording for each image it has loaded: by tag, or by id for an untagged one.
const LOADED = /^Loaded image(?: ID)?: (.+)$/;

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

  /**
   * `GET /images/get`: the `docker save` archive of `names` (references or ids), as the response
   * stream. The caller consumes or destroys it; a slow reader slows the daemon (backpressure).
   */
  async save(names: readonly string[], options: Signalled = {}): Promise<Readable> {
    const res = await this.#t.call({
      method: 'GET',
      path: '/images/get',
      query: { names },
      long: true,
      signal: options.signal,
      what: `save ${names.join(', ')}`,
    });
    return res.body;
  }

  /**
   * `POST /images/load`: sends a `docker save` archive from `tar` and yields the daemon's progress
   * (`Loading layer` events, then `{stream: 'Loaded image: …'}` lines) as they come. The load is
   * done when the iteration ends; a refused archive throws (in-band `errorDetail` or an HTTP
   * error). Breaking out or aborting `signal` closes the connection.
   */
  async *load(tar: Readable, options: Signalled = {}): AsyncGenerator<LoadEvent> {
    const res = await this.#t.call({
      method: 'POST',
      path: '/images/load',
      query: { quiet: false },
      body: tar,
      contentType: 'application/x-tar',
      long: true,
      signal: options.signal,
      what: 'load images',
    });
    try {
      for await (const event of readJsonLines<LoadEvent>(res.body)) {
        const loaded = LOADED.exec(event.stream?.trim() ?? '');
        yield loaded ? { ...event, loaded: loaded[1]!.trim() } : event;
      }
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
  }

  /**
   * `GET /images/get` into `onChunk`, for archives too large to stream through undici cheaply:
   * on the live engine (Unix socket, plain TCP) the chunks are views of one reused buffer, valid
   * only during the call (bulk.ts); elsewhere they come from save(). Resolves at the archive's end.
   * With `ready`, the archive is not read before it resolves, while the engine (which writes a
   * whole export before its first byte) gets it ready: one save is prepared as another is read.
   */
  async saveInto(names: readonly string[], onChunk: (chunk: Buffer) => void, options: Signalled & { ready?: Promise<void> } = {}): Promise<void> {
    const what = `save ${names.join(', ')}`;
    if (this.#t.ownsPool && canBorrow(this.#t.target)) {
      const path = await this.#t.fullPath({ path: '/images/get', query: { names }, signal: options.signal });
      return bulkExchange(this.#t.target, { method: 'GET', path, onBody: onChunk, signal: options.signal, ready: options.ready, what });
    }
    await options.ready;
    for await (const chunk of await this.save(names, options)) onChunk(chunk as Buffer);
  }

  /**
   * `POST /images/load` of an archive of known length, sent from `chunks` (each buffer may be
   * reused once the next is asked for: the socket is done with it). Resolves to what the daemon
   * says it loaded (references, or ids for untagged images); a refused archive throws.
   */
  async loadArchive(archive: { length: number; chunks: AsyncIterable<Buffer> }, options: Signalled = {}): Promise<string[]> {
    const what = 'load images';
    let lines: AsyncIterable<Buffer>;
    if (this.#t.ownsPool && canBorrow(this.#t.target)) {
      const path = await this.#t.fullPath({ path: '/images/load', query: { quiet: true }, signal: options.signal });
      const answer: Buffer[] = [];
      await bulkExchange(this.#t.target, { method: 'POST', path, contentType: 'application/x-tar', body: archive, onBody: (c) => answer.push(Buffer.from(c)), signal: options.signal, what });
      lines = Readable.from(answer);
    } else {
      // undici may still hold a chunk it has sent: each is copied before the caller reuses it.
      const copies = (async function* () {
        for await (const chunk of archive.chunks) yield Buffer.from(chunk);
      })();
      const res = await this.#t.call({ method: 'POST', path: '/images/load', query: { quiet: true }, body: Readable.from(copies), contentType: 'application/x-tar', long: true, signal: options.signal, what });
      lines = res.body;
    }
    const loaded: string[] = [];
    for await (const event of readJsonLines<LoadEvent>(lines)) {
      const m = LOADED.exec(event.stream?.trim() ?? '');
      if (m) loaded.push(m[1]!.trim());
    }
    return loaded;
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
