// `skiff history` output: a table for people, CSV (RFC 4180) and JSON for scripts. Columns as
// Dagu's: DAG NAME, RUN ID, STATUS, STARTED (UTC), DURATION, PARAMS (plus the attempt count).
import type { RunRecord } from '../../lib/dag/history/record.js';
import { titleWords } from './status-tree.js';

export type HistoryFormat = 'table' | 'json' | 'csv';

const HEADER = ['DAG NAME', 'RUN ID', 'STATUS', 'STARTED (UTC)', 'DURATION', 'ATTEMPTS', 'PARAMS'];
const PARAMS_WIDTH = 40;

/** `5s`, `2m30s`, `1h5m`, `2d3h`; `< 1s`; `-` while running. */
export function shortDuration(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 1) return '< 1s';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600) ? `${Math.floor((s % 86_400) / 3600)}h` : ''}`;
}

function durationMs(r: RunRecord): number | null {
  return r.finishedAt === null ? null : Date.parse(r.finishedAt) - Date.parse(r.startedAt);
}

function row(r: RunRecord): string[] {
  const params = r.params.join(' ');
  return [
    r.dag,
    r.runId,
    titleWords(r.status),
    r.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''),
    shortDuration(durationMs(r)),
    String(r.attempt),
    params.length > PARAMS_WIDTH ? `${params.slice(0, PARAMS_WIDTH - 3)}...` : params,
  ];
}

export function renderHistory(records: readonly RunRecord[], format: HistoryFormat): string {
  if (format === 'json') {
    const items = records.map((r) => ({
      name: r.dag,
      runId: r.runId,
      status: r.status,
      attempt: r.attempt,
      startedAt: r.startedAt,
      ...(r.finishedAt !== null ? { finishedAt: r.finishedAt, durationMs: durationMs(r) } : {}),
      params: r.params,
      file: r.file,
      ...(r.error !== null ? { error: r.error } : {}),
    }));
    return `${JSON.stringify(items, null, 2)}\n`;
  }
  if (format === 'csv') return [HEADER, ...records.map(row)].map((cells) => `${cells.map(csvCell).join(',')}\r\n`).join('');
  if (records.length === 0) return '';
  const rows = [HEADER, ...records.map(row)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((cells) => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()}\n`).join('');
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
