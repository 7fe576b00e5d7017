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
import type { VerifiedPack } from './read.js';
import { readRanges, readSmall } from './tar-file.js';
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
 * under its id but not under the name the DAG uses. The pack must have been verified.
 */
export async function loadPackImages(engine: Engine, pack: VerifiedPack, options: { signal?: AbortSignal; onEvent?(event: UnpackEvent): void } = {}): Promise<LoadResult> {
  const emit = options.onEvent ?? (() => {});
  const wanted = new Map<string, PackImage>();
  const present: PackImage[] = [];
  for (const image of pack.head.images) {
    const byName = await engine.images.find(image.ref, { signal: options.signal });
    if (byName?.Id === image.id) {
      present.push(image);
      emit({ type: 'image-present', image: image.ref, id: image.id });
    } else if (await engine.images.find(image.id, { signal: options.signal })) {
      await tagAs(engine, image, options.signal);
      present.push(image);
      emit({ type: 'image-tagged', image: image.ref, id: image.id });
    } else {
      wanted.set(image.prefix, image);
    }
  }
  if (wanted.size === 0) return { loaded: [], present };

  const loaded: PackImage[] = [];
  try {
    for (const image of wanted.values()) {
      const parts = pack.parts.get(image.prefix)!;
      const total = parts.reduce((n, p) => n + p.size, 0);
      emit({ type: 'load-start', image: image.ref, bytes: total });
      let sent = 0;
      let last = 0;
      const chunks = (async function* () {
        for await (const piece of readRanges(pack.path, parts, options.signal)) {
          yield piece;
          sent += piece.length;
          if (Date.now() - last >= PROGRESS_EVERY_MS) {
            last = Date.now();
            emit({ type: 'load-progress', image: image.ref, bytes: sent, total });
          }
        }
      })();
      try {
        await engine.images.loadArchive({ length: total, chunks }, { signal: options.signal });
      } catch (err) {
        if (isSkiffError(err, 'aborted')) throw err;
        throw new SkiffError('engine', `the engine refused image ${image.ref} from the pack: ${(err as Error).message}`, { cause: err });
      }
      const after = await engine.images.find(image.ref, { signal: options.signal });
      if (after?.Id !== image.id) {
        if (!(await engine.images.find(image.id, { signal: options.signal }))) throw new SkiffError('engine', `the engine loaded ${image.ref} from the pack, but does not list its id ${image.id}`);
        await tagAs(engine, image, options.signal);
      }
      loaded.push(image);
      emit({ type: 'image-loaded', image: image.ref, id: image.id });
    }
  } catch (err) {
    // The images this call loaded came from a pack that failed halfway: they go too (by id: the
    // engine lacked each of them before), so a failed load leaves nothing behind.
    for (const image of loaded) await engine.images.remove(image.id, { force: true }).catch(() => {});
    throw err;
  }
  return { loaded, present };
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
