#!/usr/bin/env node
// Data integrity through docker steps, against the engine of scripts/engine-up:
//  1. --bytes (default 1 GiB) of seeded random binary written to a bind-mounted file, `cat` as the
//     step command: the step's stdout log must have the same size and sha256;
//  2. stdout and stderr interleaved at a high rate (--lines per stream, two ways): every line,
//     in order, on both streams;
//  3. two runs of the same DAG at once: different run ids, log dirs and labels, both succeed.
//   node scripts/reliability/data-integrity.mjs [--bytes 1073741824] [--lines 200000] [--seed N]
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { parseArgs } from './fuzz-lib.mjs';
import { dockerStep, openEngine, readReport, runIdOf, runSkiff, sandbox, skiffObjects, startSkiff, summary } from './common.mjs';

const args = parseArgs(process.argv.slice(2), { bytes: 1024 ** 3, lines: 200000, seed: 20261123 });
const box = sandbox('skiff-integrity-');
const problems = [];
const fields = {};

async function sha256File(file) {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c);
  return h.digest('hex');
}

/** Seeded random bytes: AES-128-CTR of zeros under a key derived from the seed. */
async function writeRandom(file, bytes, seed) {
  const key = createHash('sha256').update(`skiff-${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const h = createHash('sha256');
  const out = createWriteStream(file);
  const zeros = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; left -= zeros.length) {
    const chunk = cipher.update(zeros.subarray(0, Math.min(left, zeros.length)));
    h.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return h.digest('hex');
}


try {
  // 1. big binary output
  {
    const dataDir = box.path('data');
    await import('node:fs').then((fs) => fs.mkdirSync(dataDir));
    const t0 = Date.now();
    const want = await writeRandom(`${dataDir}/blob`, args.bytes, args.seed);
    fields.genMs = Date.now() - t0;
    writeFileSync(box.path('big.yaml'), `name: integrity-big\nsteps:\n${dockerStep('cat', 'cat /data/blob', `        host:\n          binds:\n            - ${dataDir}:/data:ro\n`)}`);
    const report = box.path('big.json');
    const res = await runSkiff(['run', '--quiet', '--report', report, box.path('big.yaml')], box.env);
    const rep = readReport(report);
    const log = rep?.steps?.[0]?.stdoutFile;
    if (res.code !== 0 || !log) problems.push(`big run: exit ${res.code}: ${res.stderr.slice(-500)}`);
    else {
      const size = statSync(log).size;
      const got = await sha256File(log);
      fields.bytes = size;
      fields.sha256Match = got === want;
      fields.bigRunS = (res.ms / 1000).toFixed(1);
      fields.MiBps = (args.bytes / 1024 / 1024 / (res.ms / 1000)).toFixed(0);
      if (size !== args.bytes || got !== want) problems.push(`big run: log is ${size} bytes, sha256 ${got}, expected ${args.bytes} bytes, ${want}`);
    }
  }

  // 2. interleaved stdout/stderr
  {
    const n = args.lines;
    const loop = `i=0; while [ $i -lt ${Math.min(n, 100000)} ]; do echo "o $i"; echo "e $i" >&2; i=$((i+1)); done`;
    const seqs = `seq 1 ${n} & seq 1 ${n} >&2; wait`;
    writeFileSync(box.path('mix.yaml'), `name: integrity-mix\nsteps:\n${dockerStep('loop', loop)}${dockerStep('seq', seqs)}`);
    const report = box.path('mix.json');
    const res = await runSkiff(['run', '--quiet', '--report', report, box.path('mix.yaml')], box.env);
    const rep = readReport(report);
    if (res.code !== 0) problems.push(`interleave run: exit ${res.code}: ${res.stderr.slice(-500)}`);
    const lines = (f) => readFileSync(f, 'utf8').split('\n').slice(0, -1);
    const expectLoop = (p) => Array.from({ length: Math.min(n, 100000) }, (_, i) => `${p} ${i}`);
    const expectSeq = Array.from({ length: n }, (_, i) => String(i + 1));
    const [loopStep, seqStep] = rep?.steps ?? [];
    const check = (what, file, expected) => {
      const got = file ? lines(file) : [];
      if (got.length !== expected.length || got.some((l, i) => l !== expected[i])) problems.push(`${what}: ${got.length} lines, expected ${expected.length} in order`);
      return got.length;
    };
    fields.loopLines = `${check('loop stdout', loopStep?.stdoutFile, expectLoop('o'))}+${check('loop stderr', loopStep?.stderrFile, expectLoop('e'))}`;
    fields.seqLines = `${check('seq stdout', seqStep?.stdoutFile, expectSeq)}+${check('seq stderr', seqStep?.stderrFile, expectSeq)}`;
  }

  // 3. two runs of the same DAG at once
  {
    writeFileSync(box.path('twin.yaml'), `name: integrity-twin\nsteps:\n${dockerStep('a', 'echo start; sleep 3; echo "$HOSTNAME"')}`);
    const engine = await openEngine(box.env);
    const runs = [0, 1].map((i) => startSkiff(['run', '--quiet', '--report', box.path(`twin${i}.json`), box.path('twin.yaml')], box.env));
    // While both run, each container must carry its own run label.
    let seenRuns = new Set();
    for (let k = 0; k < 40 && seenRuns.size < 2; k++) {
      await new Promise((r) => setTimeout(r, 100));
      const { containers } = await skiffObjects(engine);
      seenRuns = new Set(containers.filter((c) => c.Labels['dev.skiff.dag'] === 'integrity-twin').map((c) => c.Labels['dev.skiff.run']));
    }
    const results = await Promise.all(runs.map((r) => r.done));
    const reps = [0, 1].map((i) => readReport(box.path(`twin${i}.json`)));
    const ids = reps.map((r) => runIdOf(r?.steps?.[0]?.stdoutFile));
    const dirs = reps.map((r) => r?.steps?.[0]?.stdoutFile && dirname(r.steps[0].stdoutFile));
    const hosts = reps.map((r) => r?.steps?.[0]?.stdoutFile && readFileSync(r.steps[0].stdoutFile, 'utf8').trim().split('\n').pop());
    fields.twins = `${results.map((r) => r.code).join(',')}`;
    fields.twinLabels = seenRuns.size;
    if (results.some((r) => r.code !== 0)) problems.push(`twin runs exited ${results.map((r) => r.code)}: ${results.map((r) => r.stderr).join('\n')}`);
    if (!ids[0] || ids[0] === ids[1]) problems.push(`twin run ids collide: ${ids}`);
    if (!dirs[0] || dirs[0] === dirs[1]) problems.push(`twin log dirs collide: ${dirs}`);
    if (hosts[0] === hosts[1]) problems.push(`twin containers are the same: ${hosts}`);
    if (seenRuns.size !== 2) problems.push(`saw ${seenRuns.size} distinct run labels on the twins' containers while running`);
    const left = await skiffObjects(engine);
    const mine = left.containers.filter((c) => /^integrity-/.test(c.Labels['dev.skiff.dag'] ?? ''));
    if (mine.length) problems.push(`${mine.length} containers left behind`);
    await engine.close();
  }
} catch (err) {
  problems.push(`crashed: ${err?.stack ?? err}`);
} finally {
  box.cleanup();
}
for (const p of problems) console.error(`data-integrity: ${p}`);
process.exit(summary('data-integrity', problems.length === 0, { ...fields, problems: problems.length }));
