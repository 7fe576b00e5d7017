// Images ahead: at run start every image the DAG's docker steps will need, where its reference is
// already known, is resolved against the step's pull policy and pulled, a few at a time, while
// the first steps run. A step then waits only for its own image. The decision and the pull are
// ensureImage's (pull.ts), so `never` and `missing` mean what they mean for a step that pulls
// itself; a pull that fails is handed to the step that needs it, which reports it as its own.
import type { EngineApi } from '../../engine/facets.js';
import type { PullPolicy, Step } from '../../common/model.js';
import { normalizeDockerStepConfig } from './config.js';
import type { ExpandAhead, ExecutorEvent } from '../contract.js';
import { ensureImage } from './pull.js';

/** One image a step will need: the reference and policy as the step will resolve them. */
export interface ImageNeed {
  image: string;
  policy: PullPolicy;
  /** The step's own `platform`, if it sets one; otherwise the daemon's. */
  platform: string | undefined;
  /** The first step that needs it: its pull's progress is shown there. */
  step: string;
}

export interface ImagesAheadDeps {
  engine(): EngineApi;
  platform(signal?: AbortSignal): Promise<string>;
  registryAuthFor(image: string, warn?: (message: string) => void): Promise<string | undefined>;
}

// The keys that decide which image a step pulls, and how (a containerName step may exec into a
// running container and pull nothing: it is left to pull for itself).
const DECIDING_KEYS = new Set(['image', 'pull', 'platform', 'containername']);

/**
 * The images of these docker steps whose reference, pull policy and platform are already known
 * (no `${…}` that waits on an output), in step order; steps whose config says otherwise, or is
 * wrong (the step reports that itself when it runs), are left out.
 */
export function imageNeeds(steps: readonly Step[], expandAhead: ExpandAhead): ImageNeed[] {
  const needs: ImageNeed[] = [];
  for (const step of steps) {
    if (step.executor.type !== 'docker') continue;
    const raw = step.executor.config ?? {};
    const deciding = Object.fromEntries(Object.entries(raw).filter(([key]) => DECIDING_KEYS.has(key.toLowerCase())));
    const known = expandAhead(step, deciding);
    if (known === undefined) continue;
    try {
      const config = normalizeDockerStepConfig(known, { dir: step.dir });
      if (config.image && !config.containerName) needs.push({ image: config.image, policy: config.pull, platform: config.platform, step: step.name });
    } catch {
      continue;
    }
  }
  return needs;
}

// The daemon downloads three layers at a time per pull; a few pulls side by side keep the
// registry connection busy without one DAG's dozens of images all contending at once.
const CONCURRENT_PULLS = 3;

interface Entry {
  done: Promise<void>;
  /** `always` is a pull per step: the one made ahead serves the first step only. */
  shared: boolean;
}

export class ImagesAhead {
  readonly #deps: ImagesAheadDeps;
  readonly #entries = new Map<string, Entry>();
  /** Every pull begun, taken or not: close() waits for them all. */
  readonly #all: Array<Promise<void>> = [];
  readonly #stop = new AbortController();

  constructor(deps: ImagesAheadDeps) {
    this.#deps = deps;
  }

  /** Begins the pulls (never `never`); returns at once. Events go to `emit` under each need's step. */
  start(needs: readonly ImageNeed[], signal: AbortSignal, emit: (event: ExecutorEvent) => void): void {
    const wanted = new Map<string, ImageNeed>();
    for (const need of needs) {
      if (need.policy === 'never') continue;
      const key = keyOf(need.image, need.platform, need.policy);
      if (!wanted.has(key)) wanted.set(key, need);
    }
    if (wanted.size === 0) return;
    const stop = AbortSignal.any([signal, this.#stop.signal]);
    const slots = new Slots(CONCURRENT_PULLS);
    for (const [key, need] of wanted) {
      const done = slots.run(async () => {
        stop.throwIfAborted();
        await ensureImage(this.#deps.engine(), need.image, {
          policy: need.policy,
          platform: need.platform ?? this.#deps.platform(stop),
          registryAuth: () => this.#deps.registryAuthFor(need.image, (message) => emit({ type: 'warning', step: need.step, message })),
          signal: stop,
          step: need.step,
          emit,
        });
      });
      // Whoever needs it awaits it; one nobody takes (its step never ran) must not be unhandled.
      done.catch(() => undefined);
      this.#all.push(done);
      this.#entries.set(key, { done, shared: need.policy === 'missing' });
    }
  }

  /**
   * The pull begun ahead for exactly this image, platform and policy, if any: the step awaits it
   * instead of deciding and pulling itself. A failed one is taken by the first step that asks,
   * so a retry of that step pulls anew.
   */
  take(image: string, platform: string | undefined, policy: PullPolicy): Promise<void> | undefined {
    const key = keyOf(image, platform, policy);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (!entry.shared) this.#entries.delete(key);
    return entry.done.catch((err: unknown) => {
      this.#entries.delete(key);
      throw err;
    });
  }

  /** As take(), without using it up: for a container created ahead of its step. */
  peek(image: string, platform: string | undefined, policy: PullPolicy): Promise<void> | undefined {
    return this.#entries.get(keyOf(image, platform, policy))?.done;
  }

  /** Cancels the pulls still running (a run that ends early) and waits for them; never throws. */
  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#all.map((done) => done.catch(() => undefined)));
  }
}

function keyOf(image: string, platform: string | undefined, policy: PullPolicy): string {
  return `${policy} ${platform ?? ''} ${image}`;
}

/** At most `limit` tasks at once, in the order they were given. */
class Slots {
  #free: number;
  readonly #queue: Array<() => void> = [];

  constructor(limit: number) {
    this.#free = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
