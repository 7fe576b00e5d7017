// Image pulls as the user sees them: an inline bar on the live view, one summary line per image
// in plain output. Fed by the executors' pull-start / pull-progress / pull-done events.
import type { ExecutorEvent } from '../../lib/executors/contract.js';

export interface PullView {
  image: string;
  fraction: number;
  layersDone: number;
  layersKnown: number;
}

/** `[=====>    ]`: `fraction` in 0..1 (clamped), `width` cells between the brackets. */
export function progressBar(fraction: number, width = 20): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.floor(f * width);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  return `[${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}]`;
}

/** `pulling alpine:3.20 [====>     ] 3/7` for the live view. */
export function describePull(pull: PullView, barWidth = 20): string {
  const layers = pull.layersKnown > 0 ? ` ${pull.layersDone}/${pull.layersKnown}` : '';
  return `pulling ${pull.image} ${progressBar(pull.fraction, barWidth)}${layers}`;
}

/** `pulled IMAGE` or `IMAGE is up to date`: the one line plain output gives each image. */
export function pullSummary(event: Extract<ExecutorEvent, { type: 'pull-done' }>): string {
  return event.pulled ? `pulled ${event.image}` : `${event.image} is up to date`;
}

/** Remembers which images were already summarised, so a shared image gets one line per run. */
export class PullSummaries {
  readonly #seen = new Set<string>();

  /** The summary line for this event, or undefined if the image was summarised before. */
  lineFor(event: Extract<ExecutorEvent, { type: 'pull-done' }>): string | undefined {
    if (this.#seen.has(event.image)) return undefined;
    this.#seen.add(event.image);
    return pullSummary(event);
  }
}
