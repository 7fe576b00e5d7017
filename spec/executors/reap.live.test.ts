// Start-up reaping: what a skiff run left behind when its process died is found
// by label and removed by the next run or `skiff cleanup`; what skiff did not create, and what a
// user asked to keep, is never touched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Engine } from '../../lib/engine/index.js';
import { isSkiffError } from '../../lib/common/errors.js';
import { processAlive, reapOrphans } from '../../lib/executors/docker/reap.js';
import { LABEL_DAG, LABEL_KEEP, LABEL_PID, ownedFilter, skiffLabels } from '../../lib/executors/docker/labels.js';
import { TEST_IMAGE, liveEngine, reap, testLabels } from '../support/live.js';
import { runCli, sandbox, startCli } from '../cli/run-cli.js';

let engine: Engine;
const Labels = testLabels('reap');

before(async () => {
  engine = await liveEngine();
});
after(async () => {
  await reap(engine, Labels);
  await engine.close();
});

/** The pid of a process that has already exited: what a kill -9'd skiff leaves in its labels. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

async function create(labels: Record<string, string>): Promise<string> {
  const { Id } = await engine.containers.create({ Image: TEST_IMAGE, Cmd: ['sleep', '60'], Labels: labels });
  try {
    await engine.containers.start(Id);
  } catch (err) {
    // An orphan may be reaped before it starts, by a skiff run of another test file: the very
    // behaviour under test, checked below by its absence.
    const orphan = labels[LABEL_PID] !== undefined && labels[LABEL_PID] !== String(process.pid) && labels[LABEL_KEEP] === undefined;
    if (!(orphan && isSkiffError(err, 'not-found'))) throw err;
  }
  return Id;
}

test('reaps containers of dead skiff runs, never kept ones, live ones or foreign ones', async () => {
  const dead = String(deadPid());
  const orphan = await create({ ...Labels, [LABEL_PID]: dead });
  const kept = await create({ ...Labels, [LABEL_PID]: dead, [LABEL_KEEP]: 'true' });
  const live = await create({ ...Labels, [LABEL_PID]: String(process.pid) });
  const foreign = await create({ 'dev.skiff.test-foreign': Labels['dev.skiff.run']! });
  try {
    const reaped = await reapOrphans(engine);
    const ids = reaped.containers.map((c) => c.id);
    // Any skiff run starting meanwhile (another test file) may have reaped it first: gone is what
    // counts, or going (its removal in progress, which answers our DELETE with a 409 taken as done).
    const still = await engine.containers.find(orphan);
    assert.ok(still === undefined || still.State.Status === 'removing', `the orphan is still there (${still?.State.Status})`);
    for (const [id, what] of [[kept, 'kept'], [live, 'live'], [foreign, 'foreign']] as const) {
      assert.ok(!ids.includes(id), `the ${what} container was reaped`);
      assert.ok(await engine.containers.find(id), `the ${what} container is gone`);
    }
  } finally {
    for (const id of [kept, live, foreign]) await engine.containers.remove(id, { force: true });
  }
});

test('a skiff run killed with SIGKILL leaves a container that `skiff cleanup` removes', async () => {
  const box = sandbox();
  const dagName = `reap-${process.pid}`;
  const dag = box.path(`${dagName}.yaml`);
  writeFileSync(
    dag,
    `steps:\n  - name: long\n    executor:\n      type: docker\n      config:\n        image: ${TEST_IMAGE}\n        autoRemove: true\n    command: echo started; sleep 60\n`,
  );
  try {
    const run = startCli(['run', '--follow', dag], box.env);
    await run.waitFor('long | started');
    run.child.kill('SIGKILL');
    await run.done;
    const left = await engine.containers.list({ label: [...ownedFilter().label!, `${LABEL_DAG}=${dagName}`] });
    assert.equal(left.length, 1, 'the killed run should have left its container');
    const name = left[0]!.Names[0]!.replace(/^\//, '');
    const cleanup = await runCli(['cleanup'], box.env);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.equal((await engine.containers.list({ label: [`${LABEL_DAG}=${dagName}`] }, { all: true })).length, 0, 'the killed run\'s container is gone');
    // A skiff run of another test file starting meanwhile reaps it first (the same feature at its
    // start-up); otherwise cleanup removed it and names it.
    if (cleanup.stdout.includes(name)) assert.match(cleanup.stdout, /removed container/);
    else assert.match(cleanup.stdout, /^cleanup: 0 container/m, `cleanup neither removed ${name} nor found nothing:\n${cleanup.stdout}`);
  } finally {
    for (const c of await engine.containers.list({ label: [`${LABEL_DAG}=${dagName}`] })) await engine.containers.remove(c.Id, { force: true });
    box.cleanup();
  }
});

test('a killed skiff that its parent has not waited for yet (a zombie) counts as dead', async () => {
  // The backgrounded sleep outlives the shell's own turn (a `sleep 0` could end, and be reaped by
  // the shell, before its exec); `exec sleep` never waits for it, so it stays a zombie.
  const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const [chunk] = (await once(parent.stdout, 'data')) as [Buffer];
    const zombie = Number(chunk.toString().trim());
    let state = '';
    for (let i = 0; i < 50 && state !== 'Z'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      state = /\) (\S)/.exec(readFileSync(`/proc/${zombie}/stat`, 'latin1'))?.[1] ?? '';
    }
    assert.equal(state, 'Z', 'the child should be a zombie by now');
    assert.equal(processAlive(zombie), false);
    assert.equal(processAlive(parent.pid!), true);
  } finally {
    parent.kill('SIGKILL');
  }
});

test('labels name the run, the DAG, the step and the owning process', () => {
  const labels = skiffLabels({ runId: 'r1', dag: 'd', step: 's', keep: true });
  assert.equal(labels['dev.skiff.owner'], 'skiff');
  assert.equal(labels['dev.skiff.run'], 'r1');
  assert.equal(labels[LABEL_DAG], 'd');
  assert.equal(labels['dev.skiff.step'], 's');
  assert.equal(labels[LABEL_PID], String(process.pid));
  assert.equal(labels[LABEL_KEEP], 'true');
  assert.equal(skiffLabels({ runId: 'r1', dag: 'd' })[LABEL_KEEP], undefined);
});
