// The pull decision and the pull itself (docs/dagu-behavior.md §3.7): `missing` means no local image
// for the wanted platform; progress is aggregated and handed to the caller as events, never printed.
import type { ImagesApi } from '../../engine/facets.js';
import type { ImageInfo } from '../../engine/images.js';
import { PullProgress } from '../../engine/pull-progress.js';
import type { PullPolicy } from '../../common/model.js';
import type { ExecutorEvent } from '../contract.js';

export interface EnsureImageOptions {
  policy: PullPolicy;
  /** `os/arch[/variant]` the container must run as (a promise: the local image is looked up meanwhile). */
  platform: string | Promise<string>;
  /** The X-Registry-Auth value for this image's registry, or undefined for anonymous. */
  registryAuth?: () => Promise<string | undefined>;
  signal?: AbortSignal;
  step: string;
  emit(event: ExecutorEvent): void;
}

// Progress events are throttled: a pull of many layers sends hundreds of lines a second.
const PROGRESS_EVERY_MS = 100;

export async function ensureImage(engine: { readonly images: Pick<ImagesApi, 'find' | 'pull'> }, image: string, options: EnsureImageOptions): Promise<void> {
  if (options.policy === 'never') return;
  if (options.policy === 'missing') {
    const [local, platform] = await Promise.all([engine.images.find(image, { signal: options.signal }), options.platform]);
    if (local && matchesPlatform(local, platform)) return;
  }
  await pullImage(engine, image, { ...options, platform: await options.platform });
}

export async function pullImage(engine: { readonly images: Pick<ImagesApi, 'pull'> }, image: string, options: Omit<EnsureImageOptions, 'policy' | 'platform'> & { platform: string }): Promise<void> {
  const { step, emit } = options;
  emit({ type: 'pull-start', step, image });
  const progress = new PullProgress();
  let last = 0;
  const registryAuth = await options.registryAuth?.();
  const retrying = new Set<string>();
  for await (const event of engine.images.pull(image, { platform: options.platform, registryAuth, signal: options.signal })) {
    progress.update(event);
    // A failed layer download (registry gone, connection cut) is retried by the daemon for up to a
    // minute and more before the pull fails: tell the user now, once per retry, not only then.
    if (event.id !== undefined && event.status?.startsWith('Retrying in ')) {
      if (!retrying.has(event.id)) emit({ type: 'warning', step, message: `pull ${image}: the download of layer ${event.id} failed; the engine tries again (${event.status.toLowerCase()})` });
      retrying.add(event.id);
    } else if (event.id !== undefined) {
      retrying.delete(event.id);
    }
    const now = Date.now();
    if (now - last >= PROGRESS_EVERY_MS) {
      last = now;
      const s = progress.snapshot();
      emit({ type: 'pull-progress', step, image, fraction: s.fraction, layersDone: s.layersDone, layersKnown: s.layersKnown, bytesCurrent: s.bytesCurrent, bytesTotal: s.bytesTotal });
    }
  }
  emit({ type: 'pull-done', step, image, pulled: progress.snapshot().pulled });
}

/** Same OS, architecture and (when asked for) variant; a lone OS accepts any architecture. */
export function matchesPlatform(image: ImageInfo, platform: string): boolean {
  const [os, arch, variant] = platform.split('/');
  if (image.Os !== os) return false;
  if (arch === undefined) return true;
  if (image.Architecture !== arch) return false;
  return variant === undefined || (image.Variant ?? '') === variant;
}
