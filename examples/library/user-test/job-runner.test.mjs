// Testing runJob (job-runner.mjs) with no Docker daemon: its engine traffic was recorded once
// against a real engine (RECORD=1 node --test job-runner.test.mjs) and is replayed here. The
// values runJob makes up afresh on every run (its job id, as a label value and inside strings;
// its temp directory) are declared as match rules: the replay learns the new run's values from
// its first request and holds it to them. Anything else that changes fails the request, naming
// the difference.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isSkiffError, openDispatcher, openEngine, RecordingDispatcher, ReplayDispatcher } from 'skiff';
import { JOB_LABEL, runJob } from './job-runner.mjs';

const RECORDING = fileURLToPath(new URL('../../../fixtures/library/job-runner', import.meta.url));
const RULES = {
  volatileLabels: [JOB_LABEL],
  volatileValues: { 'job id': /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/ },
  tempRoots: [tmpdir()],
};
const JOB = { script: 'echo "job $JOB_ID"; tr a-z A-Z < /work/input; exit 4', input: 'hello\n' };

/** A recording engine under RECORD=1, else a replaying one that never touches DOCKER_HOST. */
function engineForTest() {
  if (process.env.RECORD === '1') {
    const recorder = RecordingDispatcher.forDir(RECORDING, openDispatcher());
    return { engine: openEngine({ dispatcher: recorder, reachesDaemon: true }), done: () => recorder.close() };
  }
  const replay = ReplayDispatcher.fromDir(RECORDING, { match: RULES });
  return { engine: openEngine({ dispatcher: replay, env: { DOCKER_HOST: 'unix:///nowhere' } }), done: async () => replay.assertAllUsed() };
}

test('runJob runs the script on its input and reports the exit code', async () => {
  const { engine, done } = engineForTest();
  const result = await runJob(engine, JOB);
  await done();
  assert.equal(result.exitCode, 4);
  // The job id in the output is this run's, though the recording holds another one.
  assert.equal(result.output, `job ${result.jobId}\nHELLO\n`);
  assert.equal(result.labelled, true);
});

test('a changed request fails, naming the difference', { skip: process.env.RECORD === '1' }, async () => {
  const { engine } = engineForTest();
  await assert.rejects(runJob(engine, { ...JOB, script: JOB.script.replace('exit 4', 'exit 5') }), (err) => {
    assert.ok(isSkiffError(err, 'replay'), String(err));
    assert.match(err.message, /differs at body\.Cmd\[2\]: made ".*exit 5", recorded ".*exit 4"/);
    return true;
  });
});
