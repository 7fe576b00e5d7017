#!/usr/bin/env node
// Ctrl-C soak: --runs runs (default 50), taking three DAGs in turn:
//   A) a new-container docker step and, in parallel, a step that execs into a container this script
//      created (dev.skiff.owner=skiff, removed at the end);
//   B) a DAG-level `container:` DAG (its container made while start-up goes on);
//   C) a chain of two docker steps: the second's container is created while the first runs, and
//      must be gone after the interrupt like everything else;
// each interrupted with SIGINT at a seeded random moment after the run started (about a third of
// them twice, the second Ctrl-C kills at once). Afterwards, per run: exit 130, report written with
// status aborted, log dir present, every output line --follow showed present in the step's log,
// 0 containers / networks labelled with its run id, and no exec process left in the exec target.
//   node scripts/reliability/ctrl-c-soak.mjs [--runs 50] [--seed N] [--max-delay-ms 3000]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, rng } from './fuzz-lib.mjs';
import { engineEnv, median, openEngine, readReport, sandbox, skiffObjects, startSkiff, summary } from './common.mjs';

const args = parseArgs(process.argv.slice(2), { runs: 50, seed: Math.floor(Math.random() * 2 ** 31), maxDelayMs: 3000 });
console.error(`ctrl-c-soak: seed ${args.seed} (reproduce with --seed ${args.seed})`);
const r = rng(args.seed);
const IMAGE = engineEnv.SKIFF_TEST_IMAGE;
const TARGET = `skiff-soak-target-${process.pid}`;
const MARK = '4242';
const box = sandbox('skiff-soak-');
const docker = (...a) => execFileSync('docker', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

writeFileSync(box.path('a.yaml'), `name: soak-a
steps:
  - name: new-container
    executor:
      type: docker
      config:
        image: ${IMAGE}
        autoRemove: true
    command: echo started-new; sleep ${MARK}
  - name: exec-step
    executor:
      type: docker
      config:
        containerName: ${TARGET}
    command: echo started-exec; sleep ${MARK}
`);
writeFileSync(box.path('b.yaml'), `name: soak-b
container:
  image: ${IMAGE}
steps:
  - name: first
    command: echo started-first; sleep 1
  - name: second
    command: sleep ${MARK}
    depends: [first]
`);

writeFileSync(box.path('c.yaml'), `name: soak-c
steps:
  - name: first
    executor:
      type: docker
      config:
        image: ${IMAGE}
        autoRemove: true
    command: echo started-first; sleep ${MARK}
  - name: made-ahead
    executor:
      type: docker
      config:
        image: ${IMAGE}
        autoRemove: true
    command: echo never
`);

const problems = [];
const exitCodes = new Map();
const stopMs = [];
let doubles = 0;
let leftoverExecs = 0;
let leftoverObjects = 0;
let linesChecked = 0;
const engine = await openEngine();
try {
  docker('run', '-d', '--name', TARGET, '--label', 'dev.skiff.owner=skiff', '--label', 'dev.skiff.keep=true', '--label', `dev.skiff.run=soak-${process.pid}`, IMAGE, 'sleep', '100000');
  for (let i = 0; i < args.runs; i++) {
    const kind = ['a', 'b', 'c'][i % 3];
    const report = box.path(`report-${i}.json`);
    const cli = startSkiff(['run', '--follow', '--report', report, box.path(`${kind}.yaml`)], box.env);
    let runId;
    try {
      await cli.waitFor(/run \S+ of soak-\w started/, 30_000);
      runId = /run (\S+) of soak-\w started/.exec(cli.out())[1];
      await new Promise((res) => setTimeout(res, r.int(args.maxDelayMs)));
    } catch (err) {
      problems.push(`run ${i}: ${err.message.split('\n')[0]}`);
    }
    const t0 = Date.now();
    cli.child.kill('SIGINT');
    if (r.next() < 0.33) {
      doubles++;
      await new Promise((res) => setTimeout(res, r.int(500)));
      cli.child.kill('SIGINT');
    }
    const hard = setTimeout(() => { problems.push(`run ${i}: still running 60 s after SIGINT; killed`); cli.child.kill('SIGKILL'); }, 60_000);
    const res = await cli.done;
    clearTimeout(hard);
    stopMs.push(Date.now() - t0);
    exitCodes.set(res.code, (exitCodes.get(res.code) ?? 0) + 1);
    const rep = readReport(report);
    if (res.code !== 130) problems.push(`run ${i} (${kind}): exit ${res.code} (signal ${res.signal}), expected 130: ${res.stderr.slice(-300)}`);
    if (rep?.status !== 'aborted') problems.push(`run ${i} (${kind}): report status ${rep?.status ?? '(no report)'}`);
    if (/\n\s+at /.test(res.stderr)) problems.push(`run ${i}: a stack trace on stderr`);
    const logDir = /logs(?: in|:) (\S+)/.exec(res.stdout + res.stderr)?.[1];
    if (!logDir || !existsSync(logDir)) problems.push(`run ${i}: log dir ${logDir} missing`);
    for (const s of rep?.steps ?? []) {
      for (const f of [s.stdoutFile, s.stderrFile]) if (f && !existsSync(f)) problems.push(`run ${i}: step ${s.name} log ${f} missing`);
      // Logs complete up to the interrupt: every line --follow showed is in the step's log file.
      const shown = [...(res.stdout).matchAll(new RegExp(`^${s.name} \\| (.*)$`, 'gm'))].map((m) => m[1]);
      const logged = s.stdoutFile && existsSync(s.stdoutFile) ? readFileSync(s.stdoutFile, 'utf8').split('\n') : [];
      for (const l of shown) if (!logged.includes(l)) problems.push(`run ${i}: step ${s.name} showed "${l}" but its log lacks it`);
      linesChecked += shown.length;
    }
    if (runId) {
      const left = await skiffObjects(engine, runId);
      if (left.containers.length + left.networks.length > 0) {
        leftoverObjects += left.containers.length + left.networks.length;
        problems.push(`run ${i} (${kind}): left ${left.containers.length} containers, ${left.networks.length} networks`);
        for (const c of left.containers) await engine.containers.remove(c.Id, { force: true }).catch(() => {});
        for (const n of left.networks) await engine.networks.remove(n.Id).catch(() => {});
      }
    }
    if (kind === 'a') {
      const ps = docker('exec', TARGET, 'ps', '-o', 'pid,args').split('\n').filter((l) => l.includes(`sleep ${MARK}`));
      if (ps.length > 0) {
        leftoverExecs += ps.length;
        problems.push(`run ${i}: ${ps.length} exec processes left in ${TARGET}: ${ps.join(' | ').trim()}`);
        for (const l of ps) { try { docker('exec', TARGET, 'kill', '-9', l.trim().split(/\s+/)[0]); } catch { /* gone */ } }
      }
    }
  }
} catch (err) {
  problems.push(`crashed: ${err?.stack ?? err}`);
} finally {
  try { docker('rm', '-f', TARGET); } catch { /* gone */ }
  await engine.close();
  box.cleanup();
}
for (const p of problems.slice(0, 30)) console.error(`ctrl-c-soak: ${p}`);
process.exit(summary('ctrl-c-soak', problems.length === 0, {
  seed: args.seed, runs: args.runs, doubleSigint: doubles, exits: [...exitCodes].map(([c, n]) => `${c}×${n}`).join(','),
  stopMsMedian: median(stopMs), stopMsMax: Math.max(...stopMs), followedLinesInLogs: linesChecked, leftoverObjects, leftoverExecs, problems: problems.length,
}));
