// The replay's match rules (lib/engine/replay/rules.ts): what the caller names volatile is cut
// out of strings as slots of its class; the Engine API's own volatile values (64-hex ids, RFC
// 3339 times) always are; nothing else is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompiledRules, className } from '../../lib/engine/replay/rules.js';

const ID = 'a'.repeat(64);

test('with no rules only ids and timestamps are slots; a run id, a label value or a temp path is fixed text', () => {
  const rules = new CompiledRules();
  const t = rules.tokenize(`/containers/${ID}/logs since 2026-11-23T08:55:01.5Z /tmp/job-x1 job.id=42 20261123T085501Z-1a2b3c4d`);
  assert.deepEqual(t.slots, [{ cls: 'id', value: ID }, { cls: 'time', value: '2026-11-23T08:55:01.5Z' }]);
  assert.equal(t.fixed.at(-1), ' /tmp/job-x1 job.id=42 20261123T085501Z-1a2b3c4d');
  assert.equal(rules.isVolatileLabel('job.id'), false);
  assert.equal(rules.ignoresQuery('since'), true);
});

test("the caller's labels, values and temp roots become slots of their own class", () => {
  const rules = new CompiledRules({ volatileLabels: ['job.id'], volatileValues: { 'run id': /\brun-\d+\b/ }, tempRoots: ['/scratch/'], ignoreQuery: ['at'] });
  const t = rules.tokenize('{"label":["job.id=42"]} name=run-7 bind /scratch/abc:/work /tmp/abc');
  assert.deepEqual(t.slots, [
    { cls: 'label:job.id', value: '42' },
    { cls: 'value:run id', value: 'run-7' },
    { cls: 'tmp', value: '/scratch/abc' },
  ]);
  assert.deepEqual(t.fixed, ['{"label":["job.id=', '"]} name=', ' bind ', ':/work /tmp/abc']);
  assert.equal(rules.isVolatileLabel('job.id'), true);
  assert.equal(rules.ignoresQuery('since'), false);
  assert.equal(rules.ignoresQuery('at'), true);
  assert.deepEqual(['label:job.id', 'value:run id', 'tmp', 'id'].map(className), ['label value', 'run id', 'temp path', 'id']);
});

test('mapBack gives responses the live values for the recorded ones, and leaves ids and times alone', () => {
  const rules = new CompiledRules({ volatileLabels: ['job.id'], volatileValues: { 'run id': /\brun-\d+\b/ }, tempRoots: ['/scratch'] });
  const live: Record<string, string> = { 'label:job.id 42': '99', 'value:run id run-7': 'run-8', 'tmp /scratch/abc': '/scratch/xyz' };
  const text = `{"Id":"${ID}","Labels":{"job.id":"42"},"Name":"/run-7","Binds":["/scratch/abc:/work"],"Created":"2026-11-23T08:55:01Z","Other":"run-6"}`;
  const out = rules.mapBack(text, (cls, recorded) => live[`${cls} ${recorded}`]);
  assert.equal(out, `{"Id":"${ID}","Labels":{"job.id":"99"},"Name":"/run-8","Binds":["/scratch/xyz:/work"],"Created":"2026-11-23T08:55:01Z","Other":"run-6"}`);
});

test("skiff's own rules: its run ids, its per-run labels, its temp roots", async () => {
  const { skiffMatchRules } = await import('../../lib/replay-rules.js');
  const { newRunId } = await import('../../lib/dag/run-dir.js');
  const rules = new CompiledRules(skiffMatchRules);
  const runId = newRunId();
  assert.deepEqual(rules.tokenize(`run ${runId} ok`).slots, [{ cls: 'value:run id', value: runId }]);
  for (const label of ['dev.skiff.run', 'dev.skiff.pid', 'dev.skiff.host']) assert.equal(rules.isVolatileLabel(label), true, label);
  assert.equal(rules.isVolatileLabel('dev.skiff.dag'), false, 'the DAG name is chosen by the user, not made up');
  assert.deepEqual(rules.tokenize('/tmp/skiff-x1:/data').slots, [{ cls: 'tmp', value: '/tmp/skiff-x1' }]);
});
