// Small text helpers the replay's matching and messages share.
import { REDACTED } from '../recording-format.js';

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** True when the bytes are UTF-8 text (they survive a round trip through a string). */
export function isTextual(buf: Buffer): boolean {
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

/** A value in an error message: JSON, cut at 80 characters. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** Fixed text equal, except that a recorded `<redacted>` stands for any non-empty text. */
export function sameFixed(live: string, recorded: string): boolean {
  if (live === recorded) return true;
  if (!recorded.includes(REDACTED)) return false;
  const re = new RegExp(`^${recorded.split(REDACTED).map(escapeRegExp).join('[\\s\\S]+?')}$`);
  return re.test(live);
}
