// lib/pack's public surface: carry a DAG and every image it needs across an air gap in one file
// (docs/pack-format.md). Connected side: packNeeds → writePack. Other side: preparePackRun
// (check, unpack, load what the engine lacks, adjust pull policies) → a Dag to run as usual.
import { resolve } from 'node:path';
import type { Engine, EngineSelection } from '../engine/index.js';
import { withEngine } from './load.js';
import { loadDag, type LoadOptions } from '../dag/index.js';
import type { Dag } from '../common/model.js';
import { pullMissingForPacked } from './pull-policy.js';
import { openPack } from './read.js';
import { defaultUnpackDir, loadPackImages, unpackFiles, type UnpackEvent, type LoadResult } from './unpack.js';
import type { PackStage } from './load.js';


export interface PreparePackOptions extends LoadOptions {
  /** Where the DAG files go; default beside the pack (`build.pack.tar` → `build.pack/`). */
  dir?: string;
  signal?: AbortSignal;
  onEvent?(event: PackStage | UnpackEvent): void;
  /** An engine to load into; by default one is opened on the DAG's DOCKER_HOST (or `selection`) and closed. */
  engine?: Engine;
  /** `-H` / `-c`: the engine the run will use. */
  selection?: EngineSelection;
}

export interface PreparedRun extends LoadResult {
  dag: Dag;
  dir: string;
  /** Steps (or `container`) whose pull policy `always` became `missing` for a packed image. */
  pullChanged: string[];
  /** Swarm steps of a packed image, run as `pull: never` (the engine's own copy, pinned by ID). */
  swarmPinned: string[];
}

/**
 * Everything before a run from a pack: the DAG files checked and unpacked, the DAG loaded from
 * there (so relative paths resolve as they did where it was packed), the images the engine lacks
 * loaded, every image part checked as it is read. Throws before any container exists when the
 * pack is wrong, and leaves nothing of it behind.
 */
export async function preparePackRun(pack: string, options: PreparePackOptions = {}): Promise<PreparedRun> {
  const path = resolve(pack);
  options.onEvent?.({ type: 'verify-start', pack: path });
  const verified = await openPack(path, options.signal);
  options.onEvent?.({ type: 'verified', pack: path, images: verified.head.images.length, files: verified.head.files.length });
  const dir = resolve(options.dir ?? defaultUnpackDir(path));
  const { dagFile, undo } = await unpackFiles(verified, dir, options.signal);
  let dag: Dag;
  let result: LoadResult;
  try {
    options.onEvent?.({ type: 'unpacked', dir, dagFile });
    dag = loadDag(dagFile, options);
    result = await withEngine(options.engine, { ...(options.env ?? process.env), ...Object.fromEntries(dag.env) }, options.selection, (engine) =>
      loadPackImages(engine, verified, { signal: options.signal, onEvent: options.onEvent }),
    );
  } catch (err) {
    // Nothing of a run that never started stays: what this call unpacked goes (loaded images too, in loadPackImages).
    await undo();
    throw err;
  }
  const policy = pullMissingForPacked(dag, new Set(verified.head.images.map((i) => i.ref)), options.env);
  return { ...result, dag: policy.dag, dir, pullChanged: policy.changed, swarmPinned: policy.pinned };
}

export { packNeeds, type PackNeeds, type NeededImage, type CarriedFile, type NeedsOptions } from './needs.js';
export { writePack, type PackEvent, type WritePackOptions, type WrittenPack } from './write.js';
export { openPack, verifyPack, isPackFile, type VerifiedPack } from './read.js';
export { loadPack, type PackStage } from './load.js';
export { defaultUnpackDir, type UnpackEvent, type LoadResult } from './unpack.js';
export { pullMissingForPacked } from './pull-policy.js';
export { PACK_FORMAT, type PackHead, type PackImage } from './format.js';
