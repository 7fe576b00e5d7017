// The other side of the gap: a checked pack's DAG files go into a directory of their own, and its
// images into the engine, each image only when the engine lacks its id. The directory is the
// pack's alone: one that holds anything else is an error, never overwritten; the same pack
// unpacked there before (its marker says which) is used again as it is.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Engine } from '../engine/index.js';
import { SkiffError, isSkiffError } from '../common/errors.js';
import { DAG_PREFIX, type PackImage } from './format.js';
import { checkedParts, partBuffers, type VerifiedPack } from './read.js';
import { readSmall } from './tar-file.js';
import { parseReference } from '../engine/reference.js';

/** Written last into an unpack directory: the identity of the pack it holds. */
export const MARKER = '.skiff-pack';

export type UnpackEvent =
  | { type: 'image-present'; image: string; id: string }
  | { type: 'image-tagged'; image: string; id: string }
  | { type: 'load-start'; image: string; bytes: number }
  | { type: 'load-progress'; image: string; bytes: number; total: number }
  | { type: 'image-loaded'; image: string; id: string };

export interface LoadResult {
  loaded: PackImage[];
  present: PackImage[];
}

/** `build.pack.tar` → `build.pack/` beside it. */
export function defaultUnpackDir(pack: string): string {
  const name = basename(pack);
  const stem = name.endsWith('.tar') ? name.slice(0, -4) : `${name}.d`;
  return join(dirname(pack), stem);
}

/**
 * Writes the pack's DAG files into `dir`; returns the DAG file's path there, and `undo` (removes
 * what this call wrote: nothing when the directory held this pack already).
 */
export async function unpackFiles(pack: VerifiedPack, dir: string, signal?: AbortSignal): Promise<{ dagFile: string; undo(): Promise<void> }> {
  const marker = join(dir, MARKER);
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    if (err.code === 'ENOTDIR') throw new SkiffError('usage', `cannot unpack into ${dir}: it is a file`);
    throw err;
  });
  const dagPath = join(dir, pack.head.dag.slice(DAG_PREFIX.length));
  if (entries !== undefined && entries.length > 0) {
    const previous = await readFile(marker, 'utf8').catch(() => undefined);
    if (previous?.trim() !== pack.identity) {
      throw new SkiffError('usage', `cannot unpack into ${dir}: it already holds ${previous === undefined ? 'other files' : 'another pack'} (e.g. ${entries.sort()[0]}), and skiff never overwrites them`, {
        hint: 'give an empty or new directory with --dir, or remove that one',
      });
    }
    // This pack, unpacked before: each of its files must still be what the pack holds.
    for (const member of pack.head.files) {
      const path = join(dir, member.slice(DAG_PREFIX.length));
      const hex = await readFile(path).then((b) => createHash('sha256').update(b).digest('hex'), () => undefined);
      if (hex !== pack.sums.get(member)) {
        throw new SkiffError('usage', `cannot use ${dir}: ${path} is ${hex === undefined ? 'missing' : 'not the file the pack holds'} (it was changed after the pack was unpacked there), and skiff never overwrites it`, {
          hint: 'give a new directory with --dir, or remove that one',
        });
      }
    }
    return { dagFile: dagPath, undo: async () => {} };
  }
  const undo = async (): Promise<void> => {
    if (entries === undefined) await rm(dir, { recursive: true, force: true });
    else for (const name of await readdir(dir).catch(() => [])) await rm(join(dir, name), { recursive: true, force: true });
  };
  try {
    await mkdir(dir, { recursive: true });
    for (const member of pack.head.files) {
      const path = join(dir, member.slice(DAG_PREFIX.length));
      await mkdir(dirname(path), { recursive: true });
      const entry = pack.entries.get(member)!;
      await writeFile(path, readSmall(pack.path, entry), { flag: 'wx', signal, mode: entry.mode });
    }
    await writeFile(marker, `${pack.identity}\n`, { flag: 'wx' });
  } catch (err) {
    // Half an unpack would be "other content" to the next try: nothing is left behind.
    await undo();
    throw err;
  }
  return { dagFile: dagPath, undo };
}

/**
 * Loads the images the engine lacks (by id) from the pack, and tags an image the engine has
 * under its id but not under the name the DAG uses. Every part of every image is checked against
 * its sum: those of the images the engine has first, read for that alone; those of the others as
 * they are sent (checkedParts: the engine is never sent a byte that did not match, and a load
 * whose part does not match is cut off, so the engine loads nothing of it). One image is sent
 * at a time, the next as soon as the last one's archive has gone: the engine takes in one while
 * it registers the layers of the one before, as it does with all of a `docker load` at once.
 */
export async function loadPackImages(engine: Engine, pack: VerifiedPack, options: { signal?: AbortSignal; onEvent?(event: UnpackEvent): void } = {}): Promise<LoadResult> {
  const emit = options.onEvent ?? (() => {});
  const wanted: PackImage[] = [];
  const present: PackImage[] = [];
  const untagged = new Set<PackImage>();
  for (const image of pack.head.images) {
    if ((await engine.images.find(image.ref, { signal: options.signal }))?.Id === image.id) {
      present.push(image);
    } else if (await engine.images.find(image.id, { signal: options.signal })) {
      present.push(image);
      untagged.add(image);
    } else {
      wanted.push(image);
    }
  }
  // One image's parts are read at a time (the next image's once the last one's have gone): one pair of buffers serves all.
  const buffers = partBuffers();
  // What is not loaded is checked all the same, before anything is loaded: a changed pack fails whole.
  for (const image of present) for await (const _ of checkedParts(pack, pack.parts.get(image.prefix)!, buffers, options.signal));
  for (const image of present) {
    if (untagged.has(image)) await tagAs(engine, image, options.signal);
    emit({ type: untagged.has(image) ? 'image-tagged' : 'image-present', image: image.ref, id: image.id });
  }
  if (wanted.length === 0) return { loaded: [], present };

  const loads: Array<Promise<PackImage>> = [];
  const sending: AbortController[] = [];
  let failed = false;
  for (const image of wanted) {
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const { done, sent } = loadImage(engine, pack, image, buffers, signal, emit);
    sending.push(stop);
    const load = done.catch((err: unknown) => {
      // The loads still sending stop (they can never complete); those whose archive went are let finish, then removed.
      if (!failed) for (const other of sending) other.abort();
      failed = true;
      throw err;
    });
    // Met by allSettled below; until then it must not count as unhandled.
    load.catch(() => {});
    loads.push(load);
    await Promise.race([sent, done]).catch(() => {});
    sending.splice(sending.indexOf(stop), 1);
    if (failed) break;
  }
  const results = await Promise.allSettled(loads);
  const loaded = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    // The images this call loaded came from a pack that failed halfway: they go too (by id: the
    // engine lacked each of them before), so a failed load leaves nothing behind.
    for (const image of loaded) await engine.images.remove(image.id, { force: true }).catch(() => {});
    throw failure.reason;
  }
  return { loaded, present };
}

/** One image's load: `sent` once its whole archive has gone to the engine, `done` once the engine has it under its name. */
function loadImage(engine: Engine, pack: VerifiedPack, image: PackImage, buffers: readonly Buffer[], signal: AbortSignal, emit: (event: UnpackEvent) => void): { done: Promise<PackImage>; sent: Promise<void> } {
  const parts = pack.parts.get(image.prefix)!;
  const total = parts.reduce((n, p) => n + p.size, 0);
  let markSent!: () => void;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  let fault: unknown;
  const chunks = (async function* () {
    let bytes = 0;
    let shown = 0;
    try {
      for await (const part of checkedParts(pack, parts, buffers, signal)) {
        yield part;
        bytes += part.length;
        if (Date.now() - shown >= PROGRESS_EVERY_MS) {
          shown = Date.now();
          emit({ type: 'load-progress', image: image.ref, bytes, total });
        }
      }
    } catch (err) {
      fault = err;
      throw err;
    }
    markSent();
  })();
  const done = (async () => {
    emit({ type: 'load-start', image: image.ref, bytes: total });
    try {
      await engine.images.loadArchive({ length: total, chunks }, { signal });
    } catch (err) {
      // A part that did not match (or a pack cut short) is the pack's fault, said as such.
      if (fault !== undefined) throw fault;
      if (isSkiffError(err, 'aborted')) throw err;
      throw new SkiffError('engine', `the engine refused image ${image.ref} from the pack: ${(err as Error).message}`, { cause: err });
    }
    const after = await engine.images.find(image.ref, { signal });
    if (after?.Id !== image.id) {
      if (!(await engine.images.find(image.id, { signal }))) throw new SkiffError('engine', `the engine loaded ${image.ref} from the pack, but does not list its id ${image.id}`);
      await tagAs(engine, image, signal);
    }
    emit({ type: 'image-loaded', image: image.ref, id: image.id });
    return image;
  })();
  return { done, sent };
}

const PROGRESS_EVERY_MS = 100;

/** Names the image as the DAG does; a reference by digest cannot be a tag, and is said so. */
async function tagAs(engine: Engine, image: PackImage, signal?: AbortSignal): Promise<void> {
  const ref = parseReference(image.ref);
  if (ref.digest) throw new SkiffError('engine', `image ${image.ref} is in the engine (${image.id}) but not under that digest, and a digest cannot be given by a tag`, { hint: 'name the image by tag in the DAG' });
  const at = image.ref.lastIndexOf(':');
  const repo = ref.tag === undefined ? image.ref : image.ref.slice(0, at);
  await engine.images.tag(image.id, repo, ref.tag ?? 'latest', { signal });
}
