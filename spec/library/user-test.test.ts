// Replay for other people's tests: examples/library/user-test/job-runner.test.mjs, a user's
// node:test file, passes with no daemon at all from its committed recording; the match rules it
// passes are what make that work (without them the same replay refuses the first request).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSkiffError } from '../../lib/common/errors.js';
import { openEngine, type Engine } from '../../lib/engine/index.js';
import { ReplayDispatcher } from '../../lib/engine/replay/index.js';
import { repoRoot } from '../support/live.js';

const DIR = join(repoRoot, 'examples', 'library', 'user-test');

test("a user's test, recorded once, passes replayed with DOCKER_HOST=unix:///nowhere (and a changed request fails naming the difference)", () => {
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', join(DIR, 'job-runner.test.mjs')], {
    cwd: repoRoot,
    encoding: 'utf8',
    // NODE_TEST_CONTEXT would make the child report to this runner instead of printing TAP.
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, DOCKER_HOST: 'unix:///nowhere', RECORD: '' },
    timeout: 60_000,
  });
  const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(r.stdout)?.[1] ?? NaN);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(count('pass'), 2, r.stdout);
  assert.equal(count('fail'), 0, r.stdout);
  assert.equal(count('skipped'), 0, r.stdout);
});

test('without match rules the same replay fails on the first made-up value, and says which', async () => {
  const { runJob } = (await import(join(DIR, 'job-runner.mjs'))) as { runJob: (e: Engine, job: { script: string; input: string }) => Promise<unknown> };
  const replay = ReplayDispatcher.fromDir(join(repoRoot, 'fixtures', 'library', 'job-runner'));
  const engine = openEngine({ dispatcher: replay, env: { DOCKER_HOST: 'unix:///nowhere' } });
  await assert.rejects(runJob(engine, { script: 'echo "job $JOB_ID"; tr a-z A-Z < /work/input; exit 4', input: 'hello\n' }), (err: unknown) => {
    assert.ok(isSkiffError(err, 'replay'), String(err));
    assert.match(err.message, /no recorded exchange for POST \/v1\.41\/containers\/create\?name=job-[0-9a-f-]{36} .*differs at query name: made "job-[0-9a-f-]{36}", recorded "job-[0-9a-f-]{36}"/);
    return true;
  });
});
