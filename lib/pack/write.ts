// `skiff pack`: pull what the DAG needs and is missing, then write the pack in one streamed pass:
// the engine's `docker save` archive goes through a part-sized buffer into the tar and the file,
// hashed on the way, each step waiting for the next to take more (never the whole image in memory).
// The pack is written under a temporary name beside OUT and renamed at the end: a failure (disk
// full, an image the engine cannot save, Ctrl-C) removes it and never leaves half a pack as OUT.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Engine } from '../engine/index.js';
import { SkiffError, formatPlace, isSkiffError } from '../engine/errors.js';
import type { Dag } from '../dag/model.js';
import { credentialChain } from '../executors/index.js';
import { encodeRegistryAuth } from '../engine/auth.js';
import { registryOf } from '../engine/credentials.js';
import { matchesPlatform, pullImage } from '../executors/docker/pull.js';
import type { ExecutorEvent } from '../executors/types.js';
import { HEAD_MEMBER, IMAGE_PREFIX, PACK_FORMAT, PART_BYTES, SUMS_MEMBER, formatSums, type PackHead, type PackImage } from './format.js';
import type { NeededImage, PackNeeds } from './needs.js';

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
  const pack = tar.pack();
  const output = createWriteStream(temp, { flags: inPlace ? 'w' : 'wx' });
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(options.signal!.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const written = pipeline(pack, output).catch((err: unknown) => {
    stop.abort(err);
    throw err;
  });
  written.catch(() => {});
  const sums: Array<[string, string]> = [];
  const add = async (name: string, data: Buffer): Promise<void> => {
    sums.push([name, createHash('sha256').update(data).digest('hex')]);
    await new Promise<void>((done, fail) => {
      // The callback gets the entry's failure; the entry's own 'error' event must not go unheard.
      pack.entry({ name, size: data.length, mtime: new Date() }, data, (err) => (err ? fail(err) : done())).on('error', () => {});
    });
  };
  try {
    await add(HEAD_MEMBER, Buffer.from(`${JSON.stringify(head, null, 2)}\n`));
    for (const file of needs.files) sums.push([file.member, await addFile(pack, file.path, file.member, stop.signal)]);
    for (const image of images) {
      const source = await engine.images.save([image.ref], { signal: stop.signal });
      let bytes = 0;
      let last = 0;
      let n = 0;
      for await (const part of parts(source)) {
        await add(`${image.prefix}part-${String(++n).padStart(4, '0')}`, part);
        bytes += part.length;
        if (Date.now() - last >= PROGRESS_EVERY_MS) {
          last = Date.now();
          emit({ type: 'save-progress', image: image.ref, bytes });
        }
      }
      emit({ type: 'save-done', image: image.ref, bytes });
    }
    await add(SUMS_MEMBER, Buffer.from(formatSums(sums)));
    pack.finalize();
    await written;
    if (!inPlace) await rename(temp, options.out);
    return { out: options.out, bytes: output.bytesWritten, images, files: head.files };
  } catch (err) {
    const cause = stop.signal.aborted ? stop.signal.reason : err;
    pack.destroy(cause instanceof Error ? cause : new Error(String(cause)));
    await written.catch(() => {});
    if (!inPlace) await rm(temp, { force: true });
    throw writeError(cause, options.out);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
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

/** Streams a file into the pack; the size is taken first, and a file that changes meanwhile fails. */
async function addFile(pack: tar.Pack, path: string, member: string, signal: AbortSignal): Promise<string> {
  const st = statSync(path);
  const hash = createHash('sha256');
  let entry!: ReturnType<tar.Pack['entry']>;
  const done = new Promise<void>((resolve, reject) => {
    entry = pack.entry({ name: member, size: st.size, mode: st.mode & 0o777, mtime: st.mtime }, (err) => (err ? reject(err.message === 'Size mismatch' ? new Error(`${path} changed while it was packed`) : err) : resolve()));
  });
  entry.on('error', () => {});
  done.catch(() => {});
  for await (const chunk of createReadStream(path, { signal }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (!entry.write(chunk)) await once(entry as unknown as NodeJS.EventEmitter, 'drain', { signal });
  }
  entry.end();
  await done;
  return hash.digest('hex');
}

/** Re-cuts a byte stream into buffers of PART_BYTES (the last one shorter, at least one). */
async function* parts(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pieces: Buffer[] = [];
  let size = 0;
  let any = false;
  for await (let chunk of source) {
    while (size + chunk.length >= PART_BYTES) {
      const take = PART_BYTES - size;
      pieces.push(chunk.subarray(0, take));
      yield Buffer.concat(pieces, PART_BYTES);
      any = true;
      pieces = [];
      size = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      pieces.push(chunk);
      size += chunk.length;
    }
  }
  if (size > 0 || !any) yield Buffer.concat(pieces, size);
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
