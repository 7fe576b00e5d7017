// The reliability fuzzers (scripts/reliability/fuzz-*.mjs) with fewer cases and two fixed seeds:
// reproducible. The full runs (scripts/reliability/run): 10 000 cases each, any seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../support/live.js';

interface Counts { cases: number; failures: number; hangs: number }
interface Result { counts: Counts; failures: Array<{ reason: string }> }

const script = (name: string): string => pathToFileURL(join(repoRoot, 'scripts', 'reliability', name)).href;
const seeds = [1, 20261123];

for (const seed of seeds) {
  test(`mutated DAG files load or fail with a placed error (seed ${seed})`, async () => {
    const { fuzzDags } = (await import(script('fuzz-dag.mjs'))) as { fuzzDags: (o: object) => Promise<Result> };
    const res = await fuzzDags({ cases: 500, seed, caseMs: 5000, budgetS: 60 });
    assert.equal(res.counts.cases, 500);
    assert.deepEqual(res.failures.map((f) => f.reason), [], `seed ${seed}`);
  });

  test(`split, truncated and garbled engine streams give SkiffErrors, never hang (seed ${seed})`, async () => {
    const { fuzzStreams } = (await import(script('fuzz-streams.mjs'))) as { fuzzStreams: (o: object) => Promise<Result> };
    const res = await fuzzStreams({ cases: 600, seed, caseMs: 5000 });
    assert.deepEqual(res.failures.map((f) => f.reason), [], `seed ${seed}`);
  });
}
