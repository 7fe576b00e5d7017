#!/usr/bin/env node
// Start-up reaping: --kills skiff runs (default 6; new-container steps and DAG-level containers)
// are SIGKILLed while their containers run, one after the other: each new run must reap what the
// one before it left. What the last of the first half left is reaped by the next
// `skiff run`, the rest by `skiff cleanup`. Alongside sit a container skiff did not create and a
// skiff container marked to keep, both with a dead owner pid: they must survive both.
//   node scripts/reliability/reap.mjs [--kills 6]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from './fuzz-lib.mjs';
import { engineEnv, openEngine, runSkiff, sandbox, startSkiff, summary } from './common.mjs';

const args = parseArgs(process.argv.slice(2), { kills: 6 });
const IMAGE = engineEnv.SKIFF_TEST_IMAGE;
const tag = `rel-reap-${process.pid}`;
const box = sandbox('skiff-reap-');
const problems = [];
const fields = {};

writeFileSync(box.path('step.yaml'), `name: ${tag}-step
steps:
  - name: long
    executor:
      type: docker
      config:
        image: ${IMAGE}
        autoRemove: true
    command: echo started; sleep 120
`);
writeFileSync(box.path('dagc.yaml'), `name: ${tag}-dagc
container:
  image: ${IMAGE}
steps:
  - name: long
    command: echo started; sleep 120
`);
writeFileSync(box.path('next.yaml'), `name: ${tag}-next
steps:
  - name: hi
    executor:
      type: docker
      config:
        image: ${IMAGE}
        autoRemove: true
    command: echo hi
`);

const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
const engine = await openEngine();
const byDag = async (suffix) => {
  const filters = { label: [`dev.skiff.dag=${tag}-${suffix}`] };
  return [...await engine.containers.list(filters, { all: true }), ...await engine.networks.list(filters)];
};
const left = async () => (await byDag('step')).length + (await byDag('dagc')).length;
const ids = [];
try {
  const { Id: foreign } = await engine.containers.create({ Image: IMAGE, Cmd: ['sleep', '300'], Labels: { 'dev.skiff.rel-foreign': tag, 'dev.skiff.pid': String(deadPid) } });
  const { Id: kept } = await engine.containers.create({ Image: IMAGE, Cmd: ['sleep', '300'],
    Labels: { 'dev.skiff.owner': 'skiff', 'dev.skiff.keep': 'true', 'dev.skiff.run': tag, 'dev.skiff.dag': `${tag}-kept`, 'dev.skiff.pid': String(deadPid), 'dev.skiff.host': (await import('node:os')).hostname() } });
  ids.push(foreign, kept);
  for (const id of ids) await engine.containers.start(id);

  const killBatch = async (n, offset) => {
    for (let i = 0; i < n; i++) {
      const cli = startSkiff(['run', '--follow', box.path((offset + i) % 2 === 0 ? 'step.yaml' : 'dagc.yaml')], box.env);
      await cli.waitFor(/long \| started/, 60_000);
      cli.child.kill('SIGKILL');
      await cli.done;
      // Each new run reaps what the one before it left, so count each run's leftovers at once.
      const n = await left();
      fields.leftByKilledRuns = (fields.leftByKilledRuns ?? 0) + n;
      if (n === 0) problems.push(`killed run ${offset + i} left nothing behind to reap`);
    }
  };
  const first = Math.ceil(args.kills / 2);
  await killBatch(first, 0);
  const next = await runSkiff(['run', box.path('next.yaml')], box.env);
  if (next.code !== 0) problems.push(`the next run exited ${next.code}: ${next.stderr.slice(-400)}`);
  fields.reapedByNextRun = Number(/removed (\d+) object/.exec(next.stdout + next.stderr)?.[1] ?? 0);
  fields.leftAfterNextRun = await left();

  await killBatch(args.kills - first, first);
  const cleanup = await runSkiff(['cleanup'], box.env);
  if (cleanup.code !== 0) problems.push(`skiff cleanup exited ${cleanup.code}: ${cleanup.stderr.slice(-400)}`);
  fields.reapedByCleanup = (cleanup.stdout.match(/^removed /gm) ?? []).length;
  fields.leftAfterCleanup = await left();

  if (fields.leftAfterNextRun !== 0) problems.push(`${fields.leftAfterNextRun} objects of killed runs survived the next run`);
  if (fields.leftAfterCleanup !== 0) problems.push(`${fields.leftAfterCleanup} objects of killed runs survived skiff cleanup`);
  fields.foreignKept = !!(await engine.containers.find(foreign)) && !!(await engine.containers.find(kept));
  if (!fields.foreignKept) problems.push('a container skiff did not create, or one marked to keep, was removed');
} catch (err) {
  problems.push(`crashed: ${err?.stack ?? err}`);
} finally {
  for (const id of ids) await engine.containers.remove(id, { force: true }).catch(() => {});
  for (const s of ['step', 'dagc', 'next']) {
    for (const o of await byDag(s).catch(() => [])) {
      if (o.Names) await engine.containers.remove(o.Id, { force: true }).catch(() => {});
      else await engine.networks.remove(o.Id).catch(() => {});
    }
  }
  await engine.close();
  box.cleanup();
}
for (const p of problems) console.error(`reap: ${p}`);
process.exit(summary('reap', problems.length === 0, { kills: args.kills, ...fields, problems: problems.length }));
