// `skiff load`: check a pack and load the images the engine lacks, nothing else. Kept apart from
// index.ts so that loading a pack does not load the DAG reader (yaml, the DAG schemas) as well.
import { resolve } from 'node:path';
import { openEngine, type Engine, type EngineSelection } from '../engine/index.js';
import { openPack, type VerifiedPack } from './read.js';
import { loadPackImages, type LoadResult, type UnpackEvent } from './unpack.js';

export type PackStage = { type: 'verify-start'; pack: string } | { type: 'verified'; pack: string; images: number; files: number } | { type: 'unpacked'; dir: string; dagFile: string };

/**
 * `skiff load`: open the pack (its layout, head, sums and DAG files checked), then load the images
 * the engine lacks, every image part checked as it is read; no DAG files are written.
 */
export async function loadPack(pack: string, options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; engine?: Engine; selection?: EngineSelection; onEvent?(event: PackStage | UnpackEvent): void } = {}): Promise<LoadResult & { pack: VerifiedPack }> {
  const path = resolve(pack);
  options.onEvent?.({ type: 'verify-start', pack: path });
  const verified = await openPack(path, options.signal);
  options.onEvent?.({ type: 'verified', pack: path, images: verified.head.images.length, files: verified.head.files.length });
  const result = await withEngine(options.engine, options.env ?? process.env, options.selection, (engine) => loadPackImages(engine, verified, { signal: options.signal, onEvent: options.onEvent }));
  return { ...result, pack: verified };
}

/** `given`, or an engine opened (and closed) on `selection` (-H/-c) over `env`, as a run opens it. */
export async function withEngine<T>(given: Engine | undefined, env: NodeJS.ProcessEnv, selection: EngineSelection | undefined, use: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = given ?? openEngine({ env, ...selection });
  try {
    return await use(engine);
  } finally {
    if (!given) await engine.close();
  }
}

