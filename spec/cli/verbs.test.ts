// The verbs over run history, through the CLI as a user types them: `status`, `history`, `logs`
// and `graph`, after real `skiff run`s of local steps (no engine needed).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, fixture, runCli, sandbox, startCli, type Sandbox } from './run-cli.js';

const T = { timeout: 120_000 };

async function waitForFile(file: string, running: { done: Promise<unknown> }): Promise<string> {
  let ended = false;
  void running.done.then(() => (ended = true));
  while (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') {
    if (ended) throw new Error(`skiff ended before ${file} was written`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return readFileSync(file, 'utf8').trim();
}

describe('status, history, logs', () => {
  let box: Sandbox;
  let failedRun: string;
  before(async () => {
    box = sandbox();
    const res = await runCli(['run', fixture('fail.yaml')], box.env);
    assert.equal(res.code, 1, res.stderr);
    failedRun = readdirSync(join(box.dir, 'state', 'runs', 'cli-fail'))[0]!;
  });
  after(() => box.cleanup());

  it('status shows the latest run as a tree: statuses, commands, output tails, errors; exit 0 for a failed run', T, async () => {
    const res = await runCli(['status', fixture('fail.yaml')], box.env);
    assert.equal(res.code, 0, res.stderr);
    const out = res.stdout;
    assert.match(out, /^Failed - \d{4}-\d\d-\d\dT/);
    assert.match(out, new RegExp(`dag: cli-fail \\(\\d+ms\\)  run ${failedRun}, attempt 1 \\(start\\)`));
    assert.match(out, /├─first \(\d+ms\) \[succeeded\]\n│ ├─\$ echo first\n│ └─stdout:\n│     first\n/);
    assert.match(out, /├─broken \(\d+ms\) \[failed\]\n│ ├─\$ echo "about to fail" >&2\n│ │   exit 3\n│ ├─stderr:\n│ │   about to fail\n│ └─error: exit status 3\n/);
    assert.match(out, /└─after \[aborted\]\n  ├─\$ echo never\n  └─error: upstream failed\n/);
    assert.match(out, /Result: Failed\n$/);
  });

  it('status takes a DAG name or --run-id, and exits 1 when there is no such run', T, async () => {
    const byName = await runCli(['status', 'cli-fail', '--run-id', failedRun], box.env);
    assert.equal(byName.code, 0, byName.stderr);
    assert.match(byName.stdout, /Result: Failed/);
    const none = await runCli(['status', fixture('ok.yaml')], box.env);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /^skiff: no run of DAG "cli-ok" found\n$/);
    const badId = await runCli(['status', fixture('fail.yaml'), '--run-id', 'nope'], box.env);
    assert.equal(badId.code, 1);
    assert.match(badId.stderr, /no run nope of DAG "cli-fail" found/);
  });

  it('history lists runs newest first as a table, CSV or JSON, filtered by status, time and count', T, async () => {
    const ok = await runCli(['run', fixture('ok.yaml')], box.env);
    assert.equal(ok.code, 0, ok.stderr);
    const table = await runCli(['history'], box.env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^DAG NAME +RUN ID +STATUS +STARTED \(UTC\) +DURATION +ATTEMPTS +PARAMS$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, /^cli-ok +\S+ +Succeeded +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /);
    assert.match(lines[2]!, new RegExp(`^cli-fail +${failedRun} +Failed +`));

    const json = await runCli(['history', fixture('fail.yaml'), '--format', 'json'], box.env);
    const items = JSON.parse(json.stdout) as Array<{ name: string; runId: string; status: string; attempt: number; error?: string }>;
    assert.deepEqual(items.map((i) => [i.name, i.runId, i.status, i.attempt]), [['cli-fail', failedRun, 'failed', 1]]);
    assert.equal(items[0]!.error, 'step "broken": exit status 3\nrecent stderr (tail):\nabout to fail');

    const csv = await runCli(['history', '--format', 'csv', '--status', 'success'], box.env);
    const rows = csv.stdout.split('\r\n').filter((l) => l !== '');
    assert.equal(rows[0], 'DAG NAME,RUN ID,STATUS,STARTED (UTC),DURATION,ATTEMPTS,PARAMS');
    assert.deepEqual(rows.slice(1).map((r) => r.split(',')[0]), ['cli-ok']);

    const limited = await runCli(['history', '--limit', '1', '--format', 'json'], box.env);
    assert.deepEqual((JSON.parse(limited.stdout) as Array<{ name: string }>).map((i) => i.name), ['cli-ok']);

    const none = await runCli(['history', '--status', 'aborted', '--last', '1h'], box.env);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /No runs found matching the filters/);

    const bad = await runCli(['history', '--last', 'soon'], box.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--last: expected a number and a unit/);
    const badFormat = await runCli(['history', '--format', 'yaml'], box.env);
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /--format: expected table, json or csv, got "yaml"/);
  });

  it("logs prints every step's stdout under headers, one step's with --step, stderr with --stderr", T, async () => {
    const all = await runCli(['logs', fixture('fail.yaml')], box.env);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, '==> first <==\nfirst\n');
    const err = await runCli(['logs', fixture('fail.yaml'), '--step', 'broken', '--stderr'], box.env);
    assert.equal(err.stdout, 'about to fail\n');
    const unknown = await runCli(['logs', fixture('fail.yaml'), '--step', 'nope'], box.env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /has no step named "nope" \(steps: first, broken, after\)/);
  });

  it('logs -f follows a running run until it ends; status shows it running meanwhile', T, async () => {
    const pidFile = box.path('follow.pid');
    const env = { ...box.env, SKIFF_TEST_PID_FILE: pidFile };
    const run = startCli(['run', fixture('sleep.yaml')], env);
    await waitForFile(pidFile, run);
    const follow = startCli(['logs', fixture('sleep.yaml'), '-f'], env);
    const status = await runCli(['status', fixture('sleep.yaml')], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Running - /);
    assert.match(status.stdout, /├─sleeper \(\d+(ms|\.\ds)\) \[running\]/);
    assert.match(status.stdout, /Status: Running\n$/);
    // The follower is still going: it ends when the run does.
    let followEnded = false;
    void follow.done.then(() => (followEnded = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(followEnded, false, 'logs -f waits for the run');
    run.child.kill('SIGINT');
    assert.equal((await run.done).code, 130);
    const res = await follow.done;
    assert.equal(res.code, 0, res.stderr);
  });

  it('a run whose skiff process died is repaired when read: failed, with why', T, async () => {
    const pidFile = box.path('killed.pid');
    const env = { ...box.env, SKIFF_TEST_PID_FILE: pidFile };
    const run = startCli(['run', fixture('sleep.yaml')], env);
    const stepPid = Number(await waitForFile(pidFile, run));
    // Killed once its record says the step runs (a record still being appended dies with it).
    for (let live = ''; !/\[running\]/.test(live); ) live = (await runCli(['status', fixture('sleep.yaml')], env)).stdout;
    run.child.kill('SIGKILL');
    await run.done;
    process.kill(stepPid, 'SIGKILL');
    const status = await runCli(['status', fixture('sleep.yaml')], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Failed - /);
    assert.match(status.stdout, new RegExp(`error: the skiff process \\(pid ${run.child.pid}\\) ended before the run finished`));
    assert.match(status.stdout, /├─sleeper \(.+\) \[failed\]/);
    const history = await runCli(['history', fixture('sleep.yaml'), '--format', 'json', '--limit', '1'], env);
    assert.equal((JSON.parse(history.stdout) as Array<{ status: string }>)[0]!.status, 'failed');
  });
});

describe('graph', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  for (const format of ['ascii', 'mermaid', 'dot'] as const) {
    it(`graph --format ${format} of the sample DAG is the committed fixtures/graph/graph-sample.${format}.txt`, T, async () => {
      const res = await runCli(['graph', fixture('graph-sample.yaml'), ...(format === 'ascii' ? [] : ['--format', format])], box.env);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, readFileSync(join(ROOT, 'fixtures', 'graph', `graph-sample.${format}.txt`), 'utf8'));
    });
  }

  it("graph --run-id marks each step with that run's status (no colour without a terminal)", T, async () => {
    await runCli(['run', fixture('fail.yaml')], box.env);
    const runId = readdirSync(join(box.dir, 'state', 'runs', 'cli-fail'))[0]!;
    const res = await runCli(['graph', fixture('fail.yaml'), '--run-id', runId], box.env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, '● first [succeeded]\n│\n● broken [failed]\n│\n● after [aborted]\n');
    assert.doesNotMatch(res.stdout, /\x1b\[/);
  });

  it('statuses are coloured when the painter colours (a terminal without NO_COLOR)', async () => {
    const { renderGraph } = await import('../../cli/render/graph.js');
    const { painter } = await import('../../cli/render/format.js');
    const nodes = [{ name: 'a', depends: [] }, { name: 'b', depends: ['a'] }];
    const statuses = new Map([['a', 'succeeded'], ['b', 'failed']]);
    const text = renderGraph({ name: 'd', nodes, statuses, paint: painter(true) }, 'ascii');
    assert.equal(text, '● \x1b[32ma\x1b[39m \x1b[32m[succeeded]\x1b[39m\n│\n● \x1b[31mb\x1b[39m \x1b[31m[failed]\x1b[39m\n');
  });

  it('graph of an invalid file lists its problems (exit 2); an unknown format is a usage error', T, async () => {
    const broken = await runCli(['graph', fixture('broken-cycle.yaml')], box.env);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /broken-cycle\.yaml:\d+:\d+: .*cycle/);
    const bad = await runCli(['graph', fixture('ok.yaml'), '--format', 'png'], box.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format: expected ascii, mermaid or dot, got "png"/);
  });
});

describe('verbs --help', () => {
  for (const [verb, words] of [
    ['status', /show a run's steps/i],
    ['history', /list past runs/i],
    ['logs', /print a run's step output/i],
    ['graph', /draw a DAG's steps and dependencies/i],
    ['dry', /show what a run would do/i],
    ['retry', /run the failed steps of a run again/i],
    ['stop', /stop a running run/i],
    ['restart', /stop a running run and start it again/i],
  ] as const) {
    it(`${verb} --help describes the verb, with examples`, T, async () => {
      const res = await runCli([verb, '--help'], { ...process.env, NO_COLOR: '1' });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, words);
      assert.match(res.stdout, new RegExp(`\\$ skiff ${verb} `));
    });
  }
});
