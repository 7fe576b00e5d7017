#!/usr/bin/env node
// Placement on a two-node swarm (scripts/swarm-up two-node: a manager and a worker, each a dockerd
// in a network namespace of its own, joined over a veth pair). A swarm step constrained to the
// node labelled skiff.placement=worker must run there, --runs times (default 3); one constrained
// to the manager must run on the manager (so the first result is not where tasks land anyway).
// Where a task ran is read from the swarm's side (the step's report line names the node, and the
// node's own daemon is asked for its ID), its output must be whole (on the worker it comes from the
// service log, on the manager from the task container's own log), and no service of the runs may
// be left.
//   node scripts/reliability/swarm-placement.mjs [--runs 3]
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from './fuzz-lib.mjs';
import { engineEnv, openEngine, runSkiff, sandbox, summary } from './common.mjs';

const args = parseArgs(process.argv.slice(2), { runs: 3 });
const up = spawnSync('bash', ['scripts/swarm-up', 'two-node'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (up.status !== 0) {
  process.exitCode = summary('swarm-placement', false, { error: 'scripts/swarm-up two-node failed' });
  process.exit();
}
const MANAGER = `unix://${engineEnv.SKIFF_SWARM_MANAGER_SOCKET}`;
const WORKER = `unix://${engineEnv.SKIFF_SWARM_WORKER_SOCKET}`;
const nodeId = (host) => spawnSync('docker', ['-H', host, 'info', '--format', '{{.Swarm.NodeID}}'], { encoding: 'utf8' }).stdout.trim();
const ids = { worker: nodeId(WORKER), manager: nodeId(MANAGER) };
const tag = `rel-placement-${process.pid}`;
const box = sandbox('skiff-placement-', { DOCKER_HOST: MANAGER });
const problems = [];
const fields = { runs: 0, onWorker: 0, onManager: 0 };

const dag = (name, constraint) => `name: ${name}
steps:
  - name: placed
    executor:
      type: swarm
      config:
        image: ${engineEnv.SKIFF_TEST_IMAGE}
        pull: never
        placement:
          constraints: ["${constraint}"]
    command: seq 1 300; echo placed >&2
`;
const WANT_OUT = Array.from({ length: 300 }, (_, i) => `${i + 1}\n`).join('');
const outputOf = (reportFile) => {
  try {
    const step = JSON.parse(readFileSync(reportFile, 'utf8')).steps[0];
    return { out: readFileSync(step.stdoutFile, 'utf8'), err: readFileSync(step.stderrFile, 'utf8') };
  } catch (err) {
    return { out: '', err: `(no report: ${err.message})` };
  }
};
writeFileSync(box.path('worker.yaml'), dag(`${tag}-w`, 'node.labels.skiff.placement==worker'));
writeFileSync(box.path('manager.yaml'), dag(`${tag}-m`, 'node.role==manager'));

const ranOn = (text) => /ran on swarm node \S+ \(([a-z0-9]+)\)/.exec(text)?.[1];

for (let i = 0; i < args.runs; i++) {
  for (const [file, want, counter] of [['worker.yaml', ids.worker, 'onWorker'], ['manager.yaml', ids.manager, 'onManager']]) {
    const report = box.path(`report-${i}-${counter}.json`);
    const res = await runSkiff(['run', '--report', report, box.path(file)], box.env);
    fields.runs++;
    const node = ranOn(res.stdout + res.stderr);
    const output = outputOf(report);
    if (res.code !== 0) problems.push(`${file}: exit ${res.code}: ${res.stderr.slice(-400)}`);
    else if (node !== want) problems.push(`${file}: ran on ${node ?? 'an unnamed node'}, not ${want}`);
    else if (output.out !== WANT_OUT || output.err !== 'placed\n') problems.push(`${file}: output not whole: ${output.out.split('\n').length - 1} stdout lines, stderr ${JSON.stringify(output.err.slice(0, 80))}`);
    else fields[counter]++;
  }
}

const engine = await openEngine({ ...process.env, DOCKER_HOST: MANAGER });
const left = await engine.services.list({ label: ['dev.skiff.owner=skiff'] });
const ours = left.filter((s) => s.Spec.Labels?.['dev.skiff.dag']?.startsWith(tag));
if (ours.length) problems.push(`services left: ${ours.map((s) => s.Spec.Name).join(', ')}`);
await engine.close();
box.cleanup();

for (const p of problems) console.log(`  problem: ${p}`);
fields.problems = problems.length;
process.exitCode = summary('swarm-placement', problems.length === 0 && ids.worker !== '' && ids.worker !== ids.manager, fields);
