// The committed recordings (fixtures/recordings/<example>/, made by `bash scripts/record-fixtures`
// from the real engine) replayed through the real CLI with no daemon at all: DOCKER_HOST points
// at a socket that does not exist, and nothing here opens an engine. Each replay runs its
// example DAG from a fresh temp copy of the example's directory, as it was recorded, and must
// give the committed report (log paths aside: spec/support/replay-check.ts), the committed step
// logs and exit code, and make every recorded request. Secrets are not needed: the recording
// holds "<redacted>" where they were, and the run gets another value. (Tampered recordings are
// spec/engine/replay-errors.test.ts's business.)
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RunReport } from '../../lib/dag/report.js';
import { repoRoot } from '../support/live.js';
import { NO_ENGINE, UNUSED_WARNING, logsOf, stableReport, type StepLogs } from '../support/replay-check.js';
import { removeTempDirs, skiff, tempDir } from '../support/skiff-cli.js';

const FIXTURES = join(repoRoot, 'fixtures', 'recordings');
const RERECORD = 'after a deliberate change, re-record with `bash scripts/record-fixtures NAME`';

interface Fixture {
  example: string;
  env: Record<string, string>;
  exitCode: number;
}

const names = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
const timings: number[] = [];

after(async () => {
  await removeTempDirs();
  const total = timings.reduce((a, b) => a + b, 0);
  console.log(`committed-recordings: ${timings.length} recordings replayed in ${(total / 1000).toFixed(2)} s (${timings.map((t) => Math.round(t)).join(', ')} ms each)`);
});

test('there are committed recordings to replay', () => {
  assert.ok(names.length >= 8, `fixtures/recordings holds ${names.length} recordings`);
});

describe('committed recordings replay with no daemon', () => {
  for (const name of names) {
    test(name, async () => {
      const dir = join(FIXTURES, name);
      const read = (file: string) => readFileSync(join(dir, file), 'utf8');
      for (const file of ['engine.jsonl', 'report.json', 'logs.json', 'dag.yaml', 'fixture.json']) assert.ok(existsSync(join(dir, file)), `${name}/${file} exists`);
      const fixture = JSON.parse(read('fixture.json')) as Fixture;
      const example = join(repoRoot, fixture.example);
      assert.equal(readFileSync(example, 'utf8'), read('dag.yaml'), `${fixture.example} changed since ${name} was recorded; ${RERECORD}`);

      // The example's directory copied, as scripts/record-fixtures recorded it.
      const copy = join(await tempDir(`replay-${name}`), basename(dirname(example)));
      cpSync(dirname(example), copy, { recursive: true });
      const env: Record<string, string> = { DOCKER_HOST: NO_ENGINE };
      for (const [k, v] of Object.entries(fixture.env)) env[k] = v === '<redacted>' ? 'not-the-recorded-secret' : v;

      const started = performance.now();
      const result = await skiff(['run', '--replay', dir, join(copy, basename(example))], { env });
      timings.push(performance.now() - started);
      const context = `\nexit ${result.code}\n${result.reportText}${result.stdout}${result.stderr}`;
      assert.ok(result.report, `a report was written${context}`);
      assert.equal(result.code, fixture.exitCode, `exit code${context}`);
      assert.deepEqual(stableReport(result.report), JSON.parse(read('report.json')) as RunReport, `the committed report; ${RERECORD}${context}`);
      assert.deepEqual(logsOf(result.report), JSON.parse(read('logs.json')) as Record<string, StepLogs>, `the committed step logs${context}`);
      assert.doesNotMatch(result.stderr, UNUSED_WARNING, `every recorded request was made; ${RERECORD}${context}`);
    });
  }
});
