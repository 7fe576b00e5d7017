// `skiff stop` and `skiff restart` from a second process, as a user in another terminal types
// them: the run ends as on Ctrl-C (cancel and exit handlers run, report written, exit 130), and
// nothing it started is left: no step process, no container.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import type { Engine } from '../../lib/engine/index.js';
import { liveEngine } from '../support/live.js';
import { isAlive } from '../support/processes.js';
import { eventually, leftovers } from '../support/skiff-cli.js';
import { fixture, readJson, runCli, sandbox, startCli, type Sandbox } from './run-cli.js';

const T = { timeout: 180_000 };

describe('skiff stop, skiff restart', () => {
  let box: Sandbox;
  let engine: Engine;
  const runIds: string[] = [];
  before(async () => {
    box = sandbox();
    engine = await liveEngine();
  });
  after(async () => {
    // Whatever a failed test left behind.
    for (const runId of runIds) for (const c of await leftovers(engine, runId)) await engine.containers.remove(c.Id, { force: true });
    await engine.close();
    box.cleanup();
  });

  /** Starts the stoppable DAG and resolves once both its step process and its container run. */
  async function startStoppable(name: string): Promise<{ cli: ReturnType<typeof startCli>; stepPid: number; runId: string; report: string; marks: string; env: NodeJS.ProcessEnv }> {
    const pidFile = box.path(`${name}.pid`);
    const marks = box.path(`${name}.marks`);
    const report = box.path(`${name}.json`);
    const env = { ...box.env, SKIFF_TEST_PID_FILE: pidFile, SKIFF_TEST_MARKS: marks };
    const cli = startCli(['run', '--report', report, fixture('stoppable.yaml')], env);
    let ended = false;
    void cli.done.then(() => (ended = true));
    const stepPid = await eventually('the step pid', () => {
      if (ended) throw new Error('skiff ended early');
      return existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '' ? Number(readFileSync(pidFile, 'utf8')) : undefined;
    });
    const runsDir = join(box.dir, 'state', 'runs', 'cli-stoppable');
    const runId = await eventually('the run id', () => readdirSync(runsDir).find((id) => !runIds.includes(id)));
    runIds.push(runId);
    await eventually('the running container', async () => ((await leftovers(engine, runId)).some((c) => c.State === 'running') ? true : undefined));
    return { cli, stepPid, runId, report, marks, env };
  }

  it('stop from a second process ends a running DAG like Ctrl-C: handlers run, report written, nothing left', T, async () => {
    const { cli, stepPid, runId, report, marks, env } = await startStoppable('stop');
    const stop = await runCli(['stop', fixture('stoppable.yaml')], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`stopping run ${runId} of cli-stoppable \\(pid ${cli.child.pid}\\)…\\nrun ${runId} of cli-stoppable aborted\\n`));

    const res = await cli.done;
    assert.equal(res.code, 130, res.stderr);
    assert.match(res.stderr, /stop requested \(skiff stop\): cancelling…/);
    const rep = readJson<RunReport>(report);
    assert.equal(rep.status, 'aborted');
    assert.deepEqual(rep.steps.map((s) => [s.name, s.status]), [['sleeper', 'cancelled'], ['boxed', 'cancelled'], ['after', 'aborted']]);
    assert.deepEqual(readFileSync(marks, 'utf8').split('\n').filter(Boolean), ['cancel', 'exit']);
    assert.equal(isAlive(stepPid), false, 'the step process is gone');
    assert.deepEqual(await leftovers(engine, runId), [], 'no container left');

    const status = await runCli(['status', fixture('stoppable.yaml')], env);
    assert.match(status.stdout, /^Aborted - /);
    assert.match(status.stdout, /├─handler onCancel \(\d+ms\) \[succeeded\]\n│ └─\$ echo cancel >> "\$SKIFF_TEST_MARKS"\n└─handler onExit \(\d+ms\) \[succeeded\]/);
  });

  it('stop with nothing running says so and exits 0; restart of a finished run is refused', T, async () => {
    const stop = await runCli(['stop', fixture('stoppable.yaml')], box.env);
    assert.equal(stop.code, 0);
    assert.match(stop.stderr, /no running run of DAG "cli-stoppable"/);
    const restart = await runCli(['restart', fixture('stoppable.yaml')], box.env);
    assert.equal(restart.code, 1);
    assert.match(restart.stderr, /DAG cli-stoppable is not running \(run \S+: aborted\)/);
  });

  it('restart stops the running run and runs its stored definition again under a new run id', T, async () => {
    const first = await startStoppable('restart');
    const restarted = startCli(['restart', fixture('stoppable.yaml')], first.env);
    const res1 = await first.cli.done;
    assert.equal(res1.code, 130, res1.stderr);
    // The new run is under way: stop it too.
    await eventually('the new run', () => readdirSync(join(box.dir, 'state', 'runs', 'cli-stoppable')).find((id) => !runIds.includes(id)));
    const second = readdirSync(join(box.dir, 'state', 'runs', 'cli-stoppable')).find((id) => !runIds.includes(id))!;
    runIds.push(second);
    await eventually('the new run is live', async () => {
      const s = await runCli(['status', fixture('stoppable.yaml'), '--run-id', second], first.env);
      return /\[running\]/.test(s.stdout) ? true : undefined;
    });
    const status = await runCli(['status', fixture('stoppable.yaml'), '--run-id', second], first.env);
    assert.match(status.stdout, new RegExp(`run ${second}, attempt 1 \\(restart\\)`));
    const stop = await runCli(['stop', fixture('stoppable.yaml'), '--run-id', second], first.env);
    assert.equal(stop.code, 0, stop.stderr);
    const res2 = await restarted.done;
    assert.equal(res2.code, 130, res2.stderr);
    assert.match(res2.stderr, new RegExp(`run ${first.runId} aborted; starting it again`));
    assert.deepEqual(await leftovers(engine, second), []);
  });
});
