// What `skiff pack`, `skiff load` and `skiff run PACK.tar` show while images move: on a terminal
// one status line redrawn in place (a bar for pulls and loads, bytes for saves); elsewhere one
// line per image when it is done. Everything goes to stderr: stdout stays the command's own.
import type { Writable } from 'node:stream';
import type { UnpackEvent, PackEvent, PackStage } from '../../lib/pack/index.js';
import { isTTY, terminalSize, truncate } from './format.js';
import { describePull, progressBar, pullSummary } from './pull-progress.js';

export type PackProgressEvent = PackEvent | UnpackEvent | PackStage;

export interface PackProgress {
  onEvent(event: PackProgressEvent): void;
  /** A line of the command's own, printed above the status line. */
  line(text: string): void;
  /** Clears the status line; call on every path before the final output. */
  done(): void;
}

/** `512 B`, `3.4 MB`, `1.2 GB` (powers of 1000, as docker prints image sizes). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

/** The lasting line for an event, or undefined when it only moves the status line. */
export function packEventLine(event: PackProgressEvent): string | undefined {
  switch (event.type) {
    case 'pull-done':
      return pullSummary(event);
    case 'warning':
      return `warning: ${event.message}`;
    case 'save-done':
      return `saved ${event.image} (${formatBytes(event.bytes)})`;
    case 'image-present':
      return `${event.image} is already in the engine (${event.id.slice(7, 19)})`;
    case 'image-tagged':
      return `${event.image} is already in the engine (${event.id.slice(7, 19)}); tagged it`;
    case 'image-loaded':
      return `loaded ${event.image} (${event.id.slice(7, 19)})`;
    case 'verified':
      return `opened ${event.pack}: ${event.files} file(s), every sha256 matches; ${event.images} image(s), each part checked as it is read`;
    case 'unpacked':
      return `unpacked the DAG into ${event.dir}`;
    default:
      return undefined;
  }
}

/** The status line for an event still in progress. */
export function packStatusLine(event: PackProgressEvent): string | undefined {
  switch (event.type) {
    case 'pull-start':
      return `pulling ${event.image}`;
    case 'pull-progress':
      return describePull(event);
    case 'save-progress':
      return `saving ${event.image} ${formatBytes(event.bytes)}`;
    case 'verify-start':
      return `checking ${event.pack}`;
    case 'load-start':
      return `loading ${event.image} ${progressBar(0)} 0 B of ${formatBytes(event.bytes)}`;
    case 'load-progress':
      return `loading ${event.image} ${progressBar(event.total > 0 ? event.bytes / event.total : 0)} ${formatBytes(event.bytes)} of ${formatBytes(event.total)}`;
    default:
      return undefined;
  }
}

export function createPackProgress(stderr: Writable, options: { quiet?: boolean } = {}): PackProgress {
  const live = isTTY(stderr);
  let shown = false;
  const clear = (): void => {
    if (shown) stderr.write('\r\x1b[K');
    shown = false;
  };
  return {
    onEvent(event) {
      const lasting = packEventLine(event);
      if (lasting !== undefined) {
        if (options.quiet && event.type !== 'warning') return;
        clear();
        stderr.write(`${lasting}\n`);
        return;
      }
      const status = packStatusLine(event);
      if (status === undefined || !live || options.quiet) return;
      stderr.write(`\r\x1b[K${truncate(status, terminalSize(stderr).columns - 1)}`);
      shown = true;
    },
    line(text) {
      clear();
      stderr.write(`${text}\n`);
    },
    done: clear,
  };
}
