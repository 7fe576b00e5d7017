// Signals at the edges of a run (SIGHUP and SIGTERM during one: cancel.test.ts): a signal while
// skiff still loads, or one that lands while it winds down, never kills it outright.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { isAlive, waitForFile } from '../support/processes.js';
import { ROOT, fixture, readJson, sandbox, startCli, type Sandbox } from './run-cli.js';

const T = { timeout: 120_000 };

/** The pid a step wrote to `file`, once it has (the step's process exists from then on). */
async function waitForPid(file: string): Promise<number> {
  return Number(await waitForFile(file));
}

describe('signals other than Ctrl-C, and at the edges of a run', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('a SIGINT while skiff is still loading cancels the run before any step: report written, exit 130', T, async () => {
    const pidFile = box.path('early.pid');
    const reportFile = box.path('early.json');
    const hook = join(ROOT, 'fixtures', 'hooks', 'sigint-while-loading.mjs');
    const cli = startCli(['run', '--report', reportFile, fixture('sleep.yaml')], { ...box.env, SKIFF_TEST_PID_FILE: pidFile }, ['--import', hook]);
    const res = await cli.done;

    assert.equal(res.signal, null, `killed by ${res.signal}`);
    assert.equal(res.code, 130, res.stderr);
    assert.equal(existsSync(pidFile), false, 'the step started');
    const report = readJson<RunReport>(reportFile);
    assert.equal(report.status, 'aborted');
    assert.deepEqual(
      report.steps.map((s) => s.status),
      ['aborted', 'aborted'],
    );
  });

  it('a second SIGINT after the run ended (summary shown) does not kill skiff: exit 130, report written', T, async () => {
    const pidFile = box.path('late.pid');
    const reportFile = box.path('late.json');
    const cli = startCli(['run', '--report', reportFile, fixture('sleep.yaml')], { ...box.env, SKIFF_TEST_PID_FILE: pidFile });
    await waitForPid(pidFile);
    cli.child.kill('SIGINT');
    await cli.waitFor('run aborted');
    cli.child.kill('SIGINT');
    const res = await cli.done;

    assert.equal(res.signal, null, `killed by ${res.signal}`);
    assert.equal(res.code, 130, res.stderr);
    assert.equal(readJson<RunReport>(reportFile).status, 'aborted');
  });
});
