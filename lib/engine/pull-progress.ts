// Overall progress of a pull, from its JSON progress lines (docs/engine-api.md §4.3). The daemon
// coalesces messages, so any status may be skipped: each status implies the earlier ones, and
// nothing here waits for a particular message to appear.

import type { ProgressEvent } from './json-lines.js';

export interface LayerProgress {
  id: string;
  status: string;
  current: number;
  total: number | undefined; // unknown until the layer starts downloading
}

export interface PullSnapshot {
  layers: LayerProgress[];
  layersDone: number;
  layersKnown: number;
  bytesCurrent: number;
  bytesTotal: number;
  /** 0..1: 80 % download bytes, 20 % layers complete; 1 once the daemon reports the final status. */
  fraction: number;
  lastStatus?: string;
  /** True when the daemon downloaded something, false when the image was already up to date. */
  pulled: boolean;
}

interface Layer extends LayerProgress {
  downloaded: boolean;
  done: boolean;
}

// Statuses that come after the last byte of the download (Verifying Checksum included).
const DOWNLOAD_DONE = new Set(['Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']);

export class PullProgress {
  readonly #layers = new Map<string, Layer>();
  #lastStatus: string | undefined;
  #pulled = false;
  #finished = false;

  update(ev: ProgressEvent): void {
    const status = ev.status;
    if (status === undefined) return;
    if (ev.id === undefined) {
      this.#lastStatus = status;
      // The `Status:` line is the daemon's last word on a successful pull.
      if (status.startsWith('Status: ')) this.#finished = true;
      if (status.startsWith('Status: Downloaded newer image')) this.#pulled = true;
      return;
    }
    // Its id is the tag being pulled, not a layer.
    if (status.startsWith('Pulling from ')) return;

    let layer = this.#layers.get(ev.id);
    if (layer === undefined) {
      layer = { id: ev.id, status, current: 0, total: undefined, downloaded: false, done: false };
      this.#layers.set(ev.id, layer);
    }
    layer.status = status;
    if (status === 'Downloading') {
      layer.current = ev.progressDetail?.current ?? layer.current;
      layer.total = ev.progressDetail?.total ?? layer.total;
    } else if (status === 'Already exists') {
      // Nothing is transferred, so it must not dilute or inflate the byte totals.
      layer.current = 0;
      layer.total = 0;
      layer.downloaded = layer.done = true;
    } else if (DOWNLOAD_DONE.has(status)) {
      // Extracting's own numbers are not download bytes (seconds on the containerd store).
      layer.downloaded = true;
      if (layer.total !== undefined) layer.current = layer.total;
      if (status === 'Pull complete') layer.done = true;
    }
  }

  snapshot(): PullSnapshot {
    const layers = [...this.#layers.values()];
    let layersDone = 0;
    let bytesCurrent = 0;
    let bytesTotal = 0;
    for (const layer of layers) {
      if (layer.done) layersDone++;
      if (layer.total !== undefined) {
        bytesCurrent += layer.current;
        bytesTotal += layer.total;
      }
    }
    const layersKnown = layers.length;
    // With no sized layer (all cached, or sizes coalesced away) bytes say nothing; use completion.
    const allDownloaded = layersKnown > 0 && layers.every((layer) => layer.downloaded);
    const byteFraction = bytesTotal > 0 ? bytesCurrent / bytesTotal : allDownloaded ? 1 : 0;
    const layerFraction = layersKnown > 0 ? layersDone / layersKnown : 0;
    const fraction = this.#finished ? 1 : 0.8 * byteFraction + 0.2 * layerFraction;
    return {
      layers: layers.map(({ id, status, current, total }) => ({ id, status, current, total })),
      layersDone,
      layersKnown,
      bytesCurrent,
      bytesTotal,
      fraction,
      lastStatus: this.#lastStatus,
      pulled: this.#pulled,
    };
  }
}
