// `skiff pack`: pull what the DAG needs and is missing, then write the pack in one streamed pass:
// the engine's `docker save` archive goes into the file as it arrives, cut into parts and hashed
// on the way (PartWriter; never a whole image in memory).
// The pack is written under a temporary name beside OUT and renamed at the end: a failure (disk
// full, an image the engine cannot save, Ctrl-C) removes it and never leaves half a pack as OUT.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Engine } from '../engine/index.js';
import { SkiffError, formatPlace, isSkiffError } from '../common/errors.js';
import type { Dag } from '../common/model.js';
import { credentialChain } from '../executors/index.js';
import { encodeRegistryAuth } from '../engine/auth.js';
import { registryOf } from '../engine/credentials.js';
import { matchesPlatform, pullImage } from '../executors/docker/pull.js';
import type { ExecutorEvent } from '../executors/contract.js';
import { HEAD_MEMBER, IMAGE_PREFIX, PACK_FORMAT, PART_BYTES, SUMS_MEMBER, formatSums, type PackHead, type PackImage } from './format.js';
import type { NeededImage, PackNeeds } from './needs.js';
import { TarFileWriter } from './tar-file.js';

export type PackEvent =
  | Extract<ExecutorEvent, { type: 'pull-start' | 'pull-progress' | 'pull-done' | 'warning' }>
  | { type: 'save-progress'; image: string; bytes: number }
  | { type: 'save-done'; image: string; bytes: number };

export interface WritePackOptions {
  /** Where the pack goes; an existing regular file is replaced only once the new pack is whole. */
  out: string;
  /** Recorded in the head, so a reader can say which skiff made a pack it cannot read. */
  skiffVersion: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?(event: PackEvent): void;
}

export interface WrittenPack {
  out: string;
  bytes: number;
  images: PackImage[];
  files: string[];
}

const PROGRESS_EVERY_MS = 100;

export async function writePack(engine: Engine, dag: Dag, needs: PackNeeds, options: WritePackOptions): Promise<WrittenPack> {
  const emit = options.onEvent ?? (() => {});
  const images = await ensureImages(engine, dag, needs.images, options, emit);
  const head: PackHead = {
    format: PACK_FORMAT,
    skiff: options.skiffVersion,
    created: new Date().toISOString(),
    dag: needs.files[0]!.member,
    files: needs.files.map((f) => f.member),
    images,
  };

  // A device or a pipe (`-o /dev/stdout`) is written in place: there is nothing to rename or remove.
  const inPlace = statSync(options.out, { throwIfNoEntry: false })?.isFile() === false;
  const temp = inPlace ? options.out : join(dirname(options.out), `.${basename(options.out)}.${process.pid}.partial`);
  let fd: number | undefined;
  const sums: Array<[string, string]> = [];
  try {
    fd = openSync(temp, inPlace ? 'w' : 'wx');
    const tar = new TarFileWriter(fd);
    const add = (name: string, data: Buffer): void => {
      sums.push([name, createHash('sha256').update(data).digest('hex')]);
      tar.add({ name }, data);
    };
    add(HEAD_MEMBER, Buffer.from(`${JSON.stringify(head, null, 2)}\n`));
    for (const file of needs.files) sums.push([file.member, addFile(tar, file.path, file.member)]);
    await saveImages(engine, images, tar, { seekable: !inPlace, sums, signal: options.signal, emit });
    add(SUMS_MEMBER, Buffer.from(formatSums(sums)));
    tar.finish();
    closeSync(fd);
    fd = undefined;
    if (!inPlace) await rename(temp, options.out);
    return { out: options.out, bytes: tar.bytes, images, files: head.files };
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    if (!inPlace) await rm(temp, { force: true });
    throw writeError(err, options.out);
  }
}

/**
 * Each image's `docker save` archive into the pack, one after another. The engine writes a whole
 * export before it sends its first byte, so the next image's save is asked for as soon as the
 * last one's is (its answer left unread on the socket until its turn): the engine exports one
 * image while the one before is written. Its export is work the engine does for the images of
 * one `docker save` too, before that archive's first byte.
 */
async function saveImages(engine: Engine, images: readonly PackImage[], tar: TarFileWriter, options: { seekable: boolean; sums: Array<[string, string]>; signal?: AbortSignal; emit(event: PackEvent): void }): Promise<void> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const save = (image: PackImage, ready: Promise<void>): Promise<void> => {
    const parts = new PartWriter(tar, image.prefix, options.seekable, options.sums, (bytes) => options.emit({ type: 'save-progress', image: image.ref, bytes }));
    return engine.images.saveInto([image.ref], (chunk) => parts.write(chunk), { signal, ready }).then(() => options.emit({ type: 'save-done', image: image.ref, bytes: parts.end() }));
  };
  let next: Promise<void> | undefined = images.length > 0 ? save(images[0]!, Promise.resolve()) : undefined;
  try {
    for (let i = 0; next; i++) {
      const current: Promise<void> = next;
      next = i + 1 < images.length ? save(images[i + 1]!, current) : undefined;
      next?.catch(() => {});
      await current;
    }
  } finally {
    // A failure stops the save asked for ahead; it is over (its socket closed) before the caller removes the file.
    stop.abort();
    await next?.catch(() => {});
  }
}

/**
 * The image, on the platform the run will want, for every need: pulled when the engine lacks it
 * (with the credentials a run would use). Returns what the head records of each.
 */
async function ensureImages(engine: Engine, dag: Dag, needs: NeededImage[], options: WritePackOptions, emit: (event: PackEvent) => void): Promise<PackImage[]> {
  const env = { ...(options.env ?? process.env), ...Object.fromEntries(dag.env) };
  const credentials = credentialChain(dag.registryAuths, env);
  let enginePlatform: string | undefined;
  const out: PackImage[] = [];
  for (const [i, need] of needs.entries()) {
    enginePlatform ??= need.platform === undefined ? await engine.serverVersion(options.signal).then((v) => `${v.Os}/${v.Arch}`) : undefined;
    const platform = need.platform ?? enginePlatform!;
    let info = await engine.images.find(need.ref, { signal: options.signal });
    if (!info || !matchesPlatform(info, platform)) {
      try {
        await pullImage(engine, need.ref, {
          platform,
          step: 'pack',
          signal: options.signal,
          emit: (ev) => {
            if (ev.type === 'pull-start' || ev.type === 'pull-progress' || ev.type === 'pull-done' || ev.type === 'warning') emit(ev);
          },
          registryAuth: async () => {
            const registry = registryOf(need.ref);
            return encodeRegistryAuth(await credentials(registry, (message) => emit({ type: 'warning', message })), registry);
          },
        });
      } catch (err) {
        if (isSkiffError(err, 'aborted')) throw err;
        const place = need.places[0];
        throw new SkiffError(isSkiffError(err) ? err.kind : 'engine', `cannot pull ${need.ref}${place ? ` (needed at ${formatPlace(place)})` : ''}: ${(err as Error).message}`, {
          cause: err,
          place,
          hint: 'the machine that packs must be able to pull every image the DAG uses; check the name, the registry and its credentials',
        });
      }
      info = await engine.images.find(need.ref, { signal: options.signal });
      if (!info) throw new SkiffError('engine', `pulled ${need.ref}, but the engine does not list it`);
    }
    out.push({ ref: need.ref, id: info.Id, platform: [info.Os, info.Architecture, info.Variant].filter(Boolean).join('/'), prefix: `${IMAGE_PREFIX}${i + 1}/` });
  }
  return out;
}

/**
 * An image archive into parts of PART_BYTES. Into a file, each byte is written as it arrives and a
 * part's header is written over its placeholder once the part is full, so the engine's socket is
 * never left unread for a whole part; into a pipe or a device a part is gathered first.
 */
class PartWriter {
  readonly #tar: TarFileWriter;
  readonly #prefix: string;
  readonly #seekable: boolean;
  readonly #sums: Array<[string, string]>;
  readonly #progress: (bytes: number) => void;
  #open: { at: number; size: number; hash: Hash } | undefined;
  readonly #gathered: Buffer | undefined;
  #count = 0;
  #bytes = 0;
  #shown = 0;

  constructor(tar: TarFileWriter, prefix: string, seekable: boolean, sums: Array<[string, string]>, progress: (bytes: number) => void) {
    this.#tar = tar;
    this.#prefix = prefix;
    this.#seekable = seekable;
    this.#sums = sums;
    this.#progress = progress;
    this.#gathered = seekable ? undefined : Buffer.allocUnsafe(PART_BYTES);
  }

  write(chunk: Buffer): void {
    for (let at = 0; at < chunk.length; ) {
      const open = (this.#open ??= { at: this.#seekable ? this.#tar.beginOpen() : 0, size: 0, hash: createHash('sha256') });
      const piece = chunk.subarray(at, at + Math.min(PART_BYTES - open.size, chunk.length - at));
      open.hash.update(piece);
      if (this.#gathered) piece.copy(this.#gathered, open.size);
      else this.#tar.data(piece);
      open.size += piece.length;
      at += piece.length;
      if (open.size === PART_BYTES) this.#close();
    }
  }

  /** Closes the last part (an empty archive still gets one); returns the archive's size. */
  end(): number {
    if (this.#open || this.#count === 0) {
      this.#open ??= { at: this.#seekable ? this.#tar.beginOpen() : 0, size: 0, hash: createHash('sha256') };
      this.#close();
    }
    return this.#bytes;
  }

  #close(): void {
    const { at, size, hash } = this.#open!;
    this.#open = undefined;
    const name = `${this.#prefix}part-${String(++this.#count).padStart(4, '0')}`;
    if (this.#gathered) this.#tar.add({ name }, this.#gathered.subarray(0, size));
    else this.#tar.endOpen(at, { name }, size);
    this.#sums.push([name, hash.digest('hex')]);
    this.#bytes += size;
    if (Date.now() - this.#shown >= PROGRESS_EVERY_MS) {
      this.#shown = Date.now();
      this.#progress(this.#bytes);
    }
  }
}

/** Copies a file into the pack in pieces; the size is taken first, and a file that changes meanwhile fails. */
function addFile(tar: TarFileWriter, path: string, member: string): string {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(st.size, 1024 * 1024) || 1);
    tar.begin({ name: member, mode: st.mode & 0o777, mtime: st.mtime }, st.size);
    let done = 0;
    while (done < st.size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, st.size - done), done);
      if (n === 0) throw new SkiffError('conflict', `${path} changed while it was packed`);
      const piece = buf.subarray(0, n);
      hash.update(piece);
      tar.data(piece);
      done += n;
    }
    tar.end(st.size);
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

function writeError(err: unknown, out: string): unknown {
  if (isSkiffError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new SkiffError('engine', `cannot write the pack ${out}: the disk is full (nothing was left behind)`, { cause: err, hint: 'free some space, or write the pack elsewhere with -o' });
  }
  if (code === 'EACCES' || code === 'EROFS' || code === 'ENOENT' || code === 'EEXIST') {
    return new SkiffError('usage', `cannot write the pack ${out}: ${(err as Error).message}`, { cause: err });
  }
  return new SkiffError('engine', `cannot write the pack ${out}: ${(err as Error).message}`, { cause: err });
}
