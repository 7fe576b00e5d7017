// The run history's pure parts: which steps a retry runs again, reading a record file's last
// line without reading it whole, the history filters, and the repair of a dead run's record.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseLast, parseStatuses, matchesFilter } from '../../lib/dag/history/query.js';
import { repaired, type RunRecord, type StepRecord } from '../../lib/dag/history/record.js';
import { planRetry } from '../../lib/dag/history/retry-plan.js';
import { lastLine, tailLines } from '../../lib/dag/history/store.js';
import { currentPidInfo, isAlive } from '../../lib/dag/history/liveness.js';

function step(name: string, status: StepRecord['status']): StepRecord {
  return { name, status, startedAt: null, finishedAt: null, exitCode: null, error: null, stdoutFile: null, stderrFile: null, outputs: {}, command: null, retries: 0, attempt: 1 };
}

function record(steps: StepRecord[], extra: Partial<RunRecord> = {}): RunRecord {
  return { dag: 'd', runId: 'r', attempt: 1, trigger: 'start', status: 'failed', phase: 'step', error: null, pid: 1, file: '/d.yaml', params: [], startedAt: '2026-12-01T10:00:00.000Z', finishedAt: null, steps, handlers: [], ...extra };
}

// a → b → d, a → c → d, e alone
const GRAPH = [
  { name: 'a', depends: [] },
  { name: 'b', depends: ['a'] },
  { name: 'c', depends: ['a'] },
  { name: 'd', depends: ['b', 'c'] },
  { name: 'e', depends: [] },
];

describe('planRetry', () => {
  it('re-runs every step that did not end well and all its descendants; keeps the rest', () => {
    const rec = record([step('a', 'succeeded'), step('b', 'failed'), step('c', 'succeeded'), step('d', 'aborted'), step('e', 'skipped')]);
    const { rerun, kept } = planRetry(GRAPH, rec);
    assert.deepEqual([...rerun].sort(), ['b', 'd']);
    assert.deepEqual([...kept.keys()], ['a', 'c', 'e']);
  });

  it('a cancelled or never-started step is re-run too, with what follows it', () => {
    const rec = record([step('a', 'cancelled'), step('b', 'not_started'), step('c', 'not_started'), step('d', 'not_started'), step('e', 'succeeded')]);
    assert.deepEqual([...planRetry(GRAPH, rec).rerun].sort(), ['a', 'b', 'c', 'd']);
  });

  it('--step re-runs that step alone, --downstream adds its descendants only', () => {
    const rec = record(GRAPH.map((s) => step(s.name, 'succeeded')));
    assert.deepEqual([...planRetry(GRAPH, rec, { step: 'b' }).rerun], ['b']);
    assert.deepEqual([...planRetry(GRAPH, rec, { step: 'b', downstream: true }).rerun].sort(), ['b', 'd']);
    assert.throws(() => planRetry(GRAPH, rec, { step: 'x' }), /has no step named "x" \(steps: a, b, c, d, e\)/);
  });
});

describe('record files', () => {
  it('lastLine reads the last record, across chunk boundaries and trailing newlines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-history-'));
    try {
      const file = join(dir, 'status.jsonl');
      const long = 'x'.repeat(200_000);
      writeFileSync(file, `first\n${long}\n\n`);
      assert.equal(await lastLine(file), long);
      writeFileSync(file, 'only');
      assert.equal(await lastLine(file), 'only');
      writeFileSync(file, '\n\n');
      assert.equal(await lastLine(file), undefined);
      assert.equal(await lastLine(join(dir, 'missing')), undefined);
      writeFileSync(file, Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + '\n');
      assert.deepEqual(await tailLines(file, 3), ['line 27', 'line 28', 'line 29']);
      assert.deepEqual(await tailLines(join(dir, 'missing'), 3), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('liveness: this process is alive; the same pid with another start time is not (a reused pid)', () => {
    const me = currentPidInfo();
    assert.equal(isAlive(me), true);
    assert.notEqual(me.startTicks, null, '/proc gives the start time on Linux');
    assert.equal(isAlive({ pid: me.pid, startTicks: `${me.startTicks}1` }), false);
    assert.equal(isAlive({ pid: 2 ** 22 + 12345, startTicks: null }), false);
  });

  it('a dead run is repaired: running work becomes failed, the rest stays', () => {
    const fixed = repaired(record([step('a', 'succeeded'), step('b', 'running'), step('c', 'not_started')], { status: 'running', pid: 4242 }), new Date('2026-12-01T10:05:00Z'));
    assert.equal(fixed.status, 'failed');
    assert.equal(fixed.error, 'the skiff process (pid 4242) ended before the run finished');
    assert.deepEqual(fixed.steps.map((s) => s.status), ['succeeded', 'failed', 'not_started']);
    assert.equal(fixed.finishedAt, '2026-12-01T10:05:00.000Z');
  });
});

describe('history filters', () => {
  it('--last takes m, h, d, w; --status takes Dagu aliases', () => {
    assert.equal(parseLast('30m'), 1_800_000);
    assert.equal(parseLast('2w'), 14 * 86_400_000);
    assert.throws(() => parseLast('7'), /--last: expected a number and a unit/);
    assert.throws(() => parseLast('0d'), /--last/);
    assert.deepEqual([...parseStatuses('success, Failure,canceled,partially-succeeded')], ['succeeded', 'failed', 'aborted', 'partially_succeeded']);
    assert.throws(() => parseStatuses('done'), /unknown status "done"/);
  });

  it('matchesFilter applies time, status and run id together', () => {
    const rec = record([], { runId: '20261201T100000Z-abcd', status: 'failed' });
    assert.equal(matchesFilter(rec, { since: Date.parse('2026-12-01T09:00:00Z'), statuses: new Set(['failed']), runId: 'abcd' }), true);
    assert.equal(matchesFilter(rec, { since: Date.parse('2026-12-01T11:00:00Z') }), false);
    assert.equal(matchesFilter(rec, { statuses: new Set(['succeeded']) }), false);
    assert.equal(matchesFilter(rec, { runId: 'zzz' }), false);
  });
});
