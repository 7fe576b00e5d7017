// Ctrl-C: the first SIGINT cancels (steps stopped, report written, exit 130), a second one
// forces; SIGHUP and SIGTERM cancel the same way (exit 129, 143). The step processes are gone when skiff exits. No timing assertions: each signal is
// sent once skiff has shown it is ready for it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { fixture, readJson, sandbox, startCli, type Sandbox } from './run-cli.js';

const T = { timeout: 120_000 };

/** Resolves once the step has written its pid (the step's process exists from then on). */
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

describe('Ctrl-C', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  // SIGHUP (terminal or ssh session closed) and SIGTERM (a supervisor) stop a run as Ctrl-C does,
  // and skiff exits 128 + the signal's number, as a shell reports a process the signal killed.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGHUP', 129],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} cancels the run: step cancelled, report aborted, process gone, exit ${code}`, T, async () => {
      const pidFile = box.path(`${signal}.pid`);
      const reportFile = box.path(`${signal}.json`);
      const cli = startCli(['run', '--report', reportFile, fixture('sleep.yaml')], { ...box.env, SKIFF_TEST_PID_FILE: pidFile });
      const pid = await waitForPid(pidFile, cli);
      assert.ok(isAlive(pid));
      cli.child.kill(signal);
      const res = await cli.done;

      assert.equal(res.signal, null, `killed by ${res.signal}`);
      assert.equal(res.code, code, res.stderr);
      assert.match(res.stderr, /cancelling… \(press Ctrl-C again to force\)/);
      assert.doesNotMatch(res.stderr, /^\s+at /m);
      assert.equal(isAlive(pid), false, `pid ${pid} still exists`);
      assert.throws(() => process.kill(pid, 0));

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

  it('a second SIGINT forces: a step that ignores SIGTERM is killed, exit 130', T, async () => {
    const pidFile = box.path('stubborn.pid');
    const reportFile = box.path('force.json');
    const cli = startCli(['run', '--report', reportFile, fixture('stubborn.yaml')], { ...box.env, SKIFF_TEST_PID_FILE: pidFile });
    const pid = await waitForPid(pidFile, cli);
    cli.child.kill('SIGINT');
    await cli.waitFor('cancelling…');
    // The step ignores SIGTERM and has 300 s of grace: only the force can end this run soon.
    cli.child.kill('SIGINT');
    const res = await cli.done;

    assert.equal(res.code, 130, res.stderr);
    assert.equal(isAlive(pid), false, `pid ${pid} still exists`);
    const report = readJson<RunReport>(reportFile);
    assert.equal(report.status, 'aborted');
    assert.equal(report.steps[0]!.status, 'cancelled');
  });
});
