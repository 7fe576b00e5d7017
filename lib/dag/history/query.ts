// What `skiff history` and the other verbs accept as filters and names, parsed into values the
// store can apply. Pure; errors are `usage` SkiffErrors that name the bad value.
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { parse } from 'yaml';
import { SkiffError } from '../../common/errors.js';
import type { RecordedRunStatus, RunRecord } from './record.js';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30m`, `24h`, `7d`, `2w` → milliseconds. */
export function parseLast(text: string): number {
  const m = /^(\d+)([mhdw])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new SkiffError('usage', `--last: expected a number and a unit (m, h, d or w), like 7d or 24h; got "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

const STATUS_NAMES: Record<string, RecordedRunStatus> = {
  running: 'running',
  succeeded: 'succeeded',
  success: 'succeeded',
  failed: 'failed',
  failure: 'failed',
  aborted: 'aborted',
  cancelled: 'aborted',
  canceled: 'aborted',
  cancel: 'aborted',
  partially_succeeded: 'partially_succeeded',
  partiallysucceeded: 'partially_succeeded',
};

/** `failed,success` → the statuses they name (Dagu's aliases accepted). */
export function parseStatuses(text: string): Set<RecordedRunStatus> {
  const out = new Set<RecordedRunStatus>();
  for (const word of text.split(',').map((w) => w.trim().toLowerCase().replace(/-/g, '_')).filter((w) => w !== '')) {
    const status = STATUS_NAMES[word];
    if (!status) throw new SkiffError('usage', `--status: unknown status "${word}"; expected one of running, succeeded, failed, aborted, partially_succeeded`);
    out.add(status);
  }
  return out;
}

export interface HistoryFilter {
  /** Runs started at or after this time (ms since the epoch). */
  since?: number;
  statuses?: ReadonlySet<RecordedRunStatus>;
  /** A substring of the run id. */
  runId?: string;
}

export function matchesFilter(record: RunRecord, filter: HistoryFilter): boolean {
  if (filter.since !== undefined && Date.parse(record.startedAt) < filter.since) return false;
  if (filter.statuses && filter.statuses.size > 0 && !filter.statuses.has(record.status)) return false;
  if (filter.runId !== undefined && !record.runId.includes(filter.runId)) return false;
  return true;
}

/**
 * The DAG a verb's argument names: a `.yaml`/`.yml` path is read for its `name:` (else its file
 * name without extension, as the loader names it); anything else is a DAG name as it is. The file
 * need not be valid, or exist any more: its history is found by name.
 */
export function dagNameOf(arg: string): string {
  if (!/\.ya?ml$/i.test(arg)) return arg;
  const file = resolve(arg);
  if (existsSync(file)) {
    try {
      const value = parse(readFileSync(file, 'utf8')) as { name?: unknown } | null;
      if (value && typeof value.name === 'string' && value.name.trim() !== '') return value.name.trim();
    } catch {
      // An unreadable file still has a file name.
    }
  }
  return basename(file, extname(file));
}
