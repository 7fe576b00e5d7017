// Small text helpers shared by the renderers: durations, colours, terminal width.
import type { Writable } from 'node:stream';

/** `12ms`, `1.2s`, `2m05s`, `1h02m`: short enough for a status line, precise where it matters. */
export function formatDuration(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 1000) return `${Math.round(safe)}ms`;
  if (safe < 60_000) return `${(safe / 1000).toFixed(1)}s`;
  const totalSec = Math.floor(safe / 1000);
  if (totalSec < 3600) return `${Math.floor(totalSec / 60)}m${String(totalSec % 60).padStart(2, '0')}s`;
  return `${Math.floor(totalSec / 3600)}h${String(Math.floor((totalSec % 3600) / 60)).padStart(2, '0')}m`;
}

export type Colour = 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'dim' | 'bold';

const CODES: Record<Colour, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

export type Paint = (colour: Colour, text: string) => string;

export function painter(enabled: boolean): Paint {
  if (!enabled) return (_colour, text) => text;
  return (colour, text) => `\x1b[${CODES[colour][0]}m${text}\x1b[${CODES[colour][1]}m`;
}

/** no-color.org: `NO_COLOR` present and not empty disables colour, whatever else is set. */
export function noColorRequested(env: Record<string, string | undefined>): boolean {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '';
}

export function isTTY(stream: Writable): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** Colours only on a terminal that shows them (not TERM=dumb), and never when NO_COLOR asks for none. */
export function colourEnabled(stream: Writable, env: Record<string, string | undefined>): boolean {
  return isTTY(stream) && !noColorRequested(env) && env.TERM !== 'dumb';
}

export function terminalSize(stream: Writable): { columns: number; rows: number } {
  const s = stream as { columns?: number; rows?: number };
  return { columns: s.columns && s.columns > 0 ? s.columns : 80, rows: s.rows && s.rows > 0 ? s.rows : 24 };
}

/** Cuts plain (uncoloured) text to `width` columns, marking the cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}
