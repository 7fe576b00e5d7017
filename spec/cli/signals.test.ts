// SIGHUP (terminal closed) and SIGTERM stop a run as Ctrl-C does: steps stopped, report
// written, exit 128 + the signal's number. A signal while skiff still loads, or one that lands
// while it winds down, never kills it outright.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { ROOT, fixture, readJson, sandbox, startCli, type Sandbox } from './run-cli.js';

const T = { timeout: 120_000 };

async function waitForPid(file: string, running: { done: Promise<unknown> }): Promise<number> {
  let ended = false;
  void running.done.then(() => (ended = true));
  while (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') {
    if (ended) throw new Error('skiff ended before the step wrote its pid');
    await new Promise((r) => setTimeout(r, 20));
  }
  return Number(readFileSync(file, 'utf8').trim());
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('signals other than Ctrl-C, and at the edges of a run', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  for (const [signal, code] of [
    ['SIGHUP', 129],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} stops the run like Ctrl-C: step process gone, report aborted, exit ${code}`, T, async () => {
      const pidFile = box.path(`${signal}.pid`);
      const reportFile = box.path(`${signal}.json`);
      const cli = startCli(['run', '--report', reportFile, fixture('sleep.yaml')], { ...box.env, SKIFF_TEST_PID_FILE: pidFile });
      const pid = await waitForPid(pidFile, cli);
      cli.child.kill(signal);
      const res = await cli.done;

      assert.equal(res.signal, null, `killed by ${res.signal}`);
      assert.equal(res.code, code, res.stderr);
      assert.equal(isAlive(pid), false, `step pid ${pid} still exists`);
      const report = readJson<RunReport>(reportFile);
      assert.equal(report.status, 'aborted');
      assert.deepEqual(
        report.steps.map((s) => [s.name, s.status]),
        [
          ['sleeper', 'cancelled'],
          ['after', 'aborted'],
        ],
      );
    });
  }

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
    await waitForPid(pidFile, cli);
    cli.child.kill('SIGINT');
    await cli.waitFor('run aborted');
    cli.child.kill('SIGINT');
    const res = await cli.done;

    assert.equal(res.signal, null, `killed by ${res.signal}`);
    assert.equal(res.code, 130, res.stderr);
    assert.equal(readJson<RunReport>(reportFile).status, 'aborted');
  });
});
