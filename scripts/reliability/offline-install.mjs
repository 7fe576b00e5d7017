#!/usr/bin/env node
// Air-gapped install, checked end to end without the network:
//  1. `npm run bundle`; dist/skiff.cjs copied ALONE into an empty temp dir runs the seed examples
//     (examples/seed-000, seed-001) and the CLI tests' fixtures exactly like `node bin/skiff.js`
//     (same exit code, report status and step statuses), and the suite's CLI tests (dist/spec/cli)
//     pass with SKIFF_TEST_BIN pointing at it in place of bin/skiff.js;
//  2. `npm pack` (runtime deps are bundleDependencies) installs into an empty project with
//     `npm install --offline --cache <empty dir>`, and the installed `skiff` answers --version and runs a DAG;
//     as a library, an ES module importing `skiff` runs a container and a TypeScript file using
//     the same imports type-checks against the installed types (library-install.mjs);
//  3. figures: bundle and tarball size, `--version` cold start (median of --n, default 20) for the
//     bundle, bin/skiff.js and the installed bin, against `node -e 0`;
//  4. a DAG whose step image and DAG-level container image exist only on this machine is packed
//     (`skiff pack`), the images are removed, and the lone bundle beside the pack runs it
//     (`node skiff.cjs run PACK`): loaded from the pack, succeeded, nothing pulled.
//   node scripts/reliability/offline-install.mjs [--n 20] [--skip-examples 1] [--skip-cli-tests 1]
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from './fuzz-lib.mjs';
import { pathToFileURL } from 'node:url';
import { engineEnv, median, openEngine, readReport, root, sandbox, summary } from './common.mjs';
import { checkLibrary, installOffline, pack } from './library-install.mjs';

const args = parseArgs(process.argv.slice(2), { n: 20, skipExamples: '', skipCliTests: '' });
const problems = [];
const fields = {};
const work = mkdtempSync(join(tmpdir(), 'skiff-offline-'));
const box = sandbox('skiff-offline-state-');
const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

const run = (cmd, argv, opts = {}) => spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000, ...opts });
const timeIt = (cmd, argv, opts) => {
  const xs = [];
  for (let i = 0; i < args.n; i++) {
    const t0 = process.hrtime.bigint();
    const r = run(cmd, argv, opts);
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) problems.push(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return Math.round(median(xs));
};

try {
  // 1. the bundle, alone
  execFileSync('npm', ['run', '--silent', 'bundle'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: npmEnv });
  const alone = join(work, 'alone');
  execFileSync('mkdir', ['-p', alone]);
  copyFileSync(join(root, 'dist', 'skiff.cjs'), join(alone, 'skiff.cjs'));
  fields.bundleKiB = Math.round(statSync(join(alone, 'skiff.cjs')).size / 1024);
  const v = run(process.execPath, [join(alone, 'skiff.cjs'), '--version'], { cwd: alone });
  if (v.stdout.trim() !== JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) problems.push(`bundle --version: ${v.stdout}${v.stderr}`);

  if (!args.skipExamples) {
    const dags = [];
    for (const d of ['examples/seed-000', 'examples/seed-001']) for (const f of readdirSync(join(root, d)).sort()) if (f.endsWith('.yaml')) dags.push(join(root, d, f));
    for (const f of readdirSync(join(root, 'fixtures/dags/cli')).sort()) if (/^(ok|fail|broken-.*)\.yaml$/.test(f)) dags.push(join(root, 'fixtures/dags/cli', f));
    let same = 0;
    let succeeded = 0;
    const engine = await openEngine();
    // Each run gets a scratch copy of its example directory (the examples write next to
    // themselves), and what it kept on purpose (keepContainer, ports) is removed after it.
    const outcome = async (bin, dag, i, cwd) => {
      const report = box.path(`r-${i}-${bin === 'bundle' ? 'b' : 'd'}.json`);
      const scratch = mkdtempSync(join(work, 'example-'));
      cpSync(dirname(dag), scratch, { recursive: true });
      const r = run(process.execPath, [bin === 'bundle' ? join(alone, 'skiff.cjs') : join(root, 'bin', 'skiff.js'), 'run', '--quiet', '--report', report, join(scratch, basename(dag))],
        { cwd, env: { ...box.env, NODE_PATH: '' }, timeout: 90_000 });
      for (const c of await engine.containers.list({ label: ['dev.skiff.owner=skiff', `dev.skiff.pid=${r.pid}`] })) await engine.containers.remove(c.Id, { force: true });
      rmSync(scratch, { recursive: true, force: true });
      const rep = readReport(report);
      return { code: r.status, status: rep?.status, steps: (rep?.steps ?? []).map((s) => `${s.name}:${s.status}`).join(','), stack: /\n {4}at /.test(r.stderr), err: r.stderr.slice(-300) };
    };
    for (const [i, dag] of dags.entries()) {
      const b = await outcome('bundle', dag, i, alone);
      const d = await outcome('dist', dag, i, root);
      if (b.stack) problems.push(`${dag}: stack trace from the bundle`);
      if (b.code === 70) problems.push(`${dag}: the bundle exited 70 (internal error): ${b.err}`);
      if (b.code === d.code && b.status === d.status && b.steps === d.steps) same++;
      else problems.push(`${dag}: bundle ${b.code}/${b.status}/${b.steps} vs bin/skiff.js ${d.code}/${d.status}/${d.steps}: ${b.err}`);
      if (b.code === 0) succeeded++;
    }
    await engine.close();
    fields.dags = dags.length;
    fields.sameOutcome = same;
    fields.succeeded = succeeded;
    const seed = readReport(box.path(`r-${dags.findIndex((d) => d.endsWith('seed-000/execute-in-a-new-container.yaml'))}-b.json`));
    if (seed?.status !== 'succeeded') problems.push(`seed-000/execute-in-a-new-container.yaml did not succeed from the lone bundle: ${seed?.status}`);
  }

  // 1b. the test suite's CLI tests with the lone bundle in place of bin/skiff.js
  if (!args.skipCliTests) {
    const t = run(process.execPath, ['--test', '--test-reporter=tap', join(root, 'dist', 'spec', 'cli')],
      { cwd: root, env: { ...process.env, SKIFF_TEST_BIN: join(alone, 'skiff.cjs') }, timeout: 600_000 });
    const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(t.stdout)?.[1] ?? NaN);
    fields.cliTests = `${count('pass')}/${count('tests')}`;
    if (t.status !== 0 || !(count('tests') > 0) || count('fail') !== 0) {
      problems.push(`CLI tests through the lone bundle: exit ${t.status}, ${count('fail')} failed:\n${t.stdout.split('\n').filter((l) => /^\s*not ok/.test(l)).join('\n')}`);
    }
  }

  // 2. npm pack → offline install into an empty project
  const { tgz, packed } = pack(root, join(work, 'pack'));
  fields.tarballKiB = Math.round(statSync(tgz).size / 1024);
  fields.tarballFiles = packed.entryCount;
  const bundled = packed.bundled ?? [];
  if (!['clipanion', 'tar-stream', 'typebox', 'undici', 'yaml'].every((d) => bundled.includes(d))) problems.push(`tarball bundles ${bundled.join(',') || 'nothing'}`);
  const proj = join(work, 'project');
  const installProblem = installOffline(tgz, proj);
  if (installProblem) problems.push(installProblem);
  // 2b. …and as a library: an ES module runs a container, a TypeScript file type-checks.
  problems.push(...checkLibrary({ dir: proj, image: engineEnv.SKIFF_TEST_IMAGE, tscBin: join(root, 'node_modules', 'typescript', 'bin', 'tsc'), typesRoot: join(root, 'node_modules', '@types'), fields }));
  const npx = run('npx', ['--no-install', 'skiff', '--version'], { cwd: proj, env: { ...npmEnv, npm_config_offline: 'true' } });
  fields.npxVersion = npx.stdout.trim() || `exit ${npx.status}`;
  if (npx.status !== 0) problems.push(`npx skiff --version: ${npx.stderr}`);
  const installedBin = join(proj, 'node_modules', '.bin', 'skiff');
  const hello = run(installedBin, ['run', '--report', box.path('installed.json'), join(root, 'examples', 'seed-000', 'execute-in-a-new-container.yaml')], { cwd: proj, env: box.env });
  fields.installedRun = readReport(box.path('installed.json'))?.status;
  if (hello.status !== 0) problems.push(`installed skiff run: exit ${hello.status}: ${hello.stderr.slice(-500)}`);
  const local = run(installedBin, ['run', '--report', box.path('installed-local.json'), join(root, 'fixtures', 'dags', 'cli', 'ok.yaml')], { cwd: proj, env: box.env });
  if (local.status !== 0) problems.push(`installed skiff run ok.yaml: exit ${local.status}: ${local.stderr.slice(-500)}`);

  // 3. cold start
  fields.nodeMs = timeIt(process.execPath, ['-e', '0']);
  fields.bundleVersionMs = timeIt(process.execPath, [join(alone, 'skiff.cjs'), '--version']);
  fields.binVersionMs = timeIt(process.execPath, [join(root, 'bin', 'skiff.js'), '--version']);
  fields.installedVersionMs = timeIt(process.execPath, [join(proj, 'node_modules', 'skiff', 'bin', 'skiff.js'), '--version']);
  fields.bundleValidateMs = timeIt(process.execPath, [join(alone, 'skiff.cjs'), 'validate', join(root, 'fixtures', 'dags', 'cli', 'ok.yaml')]);
  fields.installedValidateMs = timeIt(process.execPath, [join(proj, 'node_modules', 'skiff', 'bin', 'skiff.js'), 'validate', join(root, 'fixtures', 'dags', 'cli', 'ok.yaml')]);
  // bin/skiff.js runs an installed package from its bundle, which leaves a code cache beside it.
  if (!existsSync(join(proj, 'node_modules', 'skiff', 'dist', 'skiff.cjs.validate.cache'))) problems.push('the installed package did not run from its bundle (no code cache in its dist/)');

  // 4. a packed DAG run by the lone bundle on an engine that lacks its images
  const { buildMarkedImage } = await import(pathToFileURL(join(root, 'dist', 'spec', 'support', 'pack-assets.js')).href);
  const engine = await openEngine();
  const images = [`skiff-offline-pack-${process.pid}-step:1`, `skiff-offline-pack-${process.pid}-container:1`];
  try {
    const ids = [];
    for (const image of images) ids.push(await buildMarkedImage(engine, image, image));
    const connected = join(work, 'connected');
    execFileSync('mkdir', ['-p', connected]);
    const stepDag = join(connected, 'steps.yaml');
    writeFileSync(stepDag, `steps:\n  - name: marker\n    executor:\n      type: docker\n      config:\n        image: ${images[0]}\n        autoRemove: true\n    command: cat /marker\n    output: MARKER\n`);
    const containerDag = join(connected, 'container.yaml');
    writeFileSync(containerDag, `container:\n  image: ${images[1]}\n  pullPolicy: always\nsteps:\n  - cat /marker\n`);
    const gap = join(work, 'airgapped');
    execFileSync('mkdir', ['-p', gap]);
    copyFileSync(join(alone, 'skiff.cjs'), join(gap, 'skiff.cjs'));
    for (const dag of [stepDag, containerDag]) {
      const pack = join(gap, `${basename(dag, '.yaml')}.pack.tar`);
      const p = run(process.execPath, [join(root, 'bin', 'skiff.js'), 'pack', dag, '-o', pack], { cwd: connected, env: box.env });
      if (p.status !== 0) problems.push(`skiff pack ${basename(dag)}: exit ${p.status}: ${p.stderr.slice(-500)}`);
    }
    for (const id of ids) await engine.images.remove(id, { force: true });
    let ran = 0;
    for (const name of ['steps', 'container']) {
      const report = box.path(`pack-${name}.json`);
      const r = run(process.execPath, [join(gap, 'skiff.cjs'), 'run', '--report', report, join(gap, `${name}.pack.tar`)], { cwd: gap, env: { ...box.env, NODE_PATH: '' } });
      const rep = readReport(report);
      if (r.status !== 0 || rep?.status !== 'succeeded') problems.push(`lone bundle, run ${name}.pack.tar: exit ${r.status}, ${rep?.status}: ${r.stderr.slice(-500)}`);
      else if (!/^loaded skiff-offline-pack-/m.test(r.stderr)) problems.push(`lone bundle, run ${name}.pack.tar: nothing was loaded from the pack: ${r.stderr.slice(-300)}`);
      else ran++;
      for (const c of await engine.containers.list({ label: ['dev.skiff.owner=skiff', `dev.skiff.pid=${r.pid}`] })) await engine.containers.remove(c.Id, { force: true });
    }
    fields.packedRuns = `${ran}/2`;
  } finally {
    for (const image of images) await engine.images.remove(image, { force: true }).catch(() => {});
    await engine.close();
  }
} catch (err) {
  problems.push(`crashed: ${err?.stack ?? err}`);
} finally {
  rmSync(work, { recursive: true, force: true });
  box.cleanup();
}
for (const p of problems) console.error(`offline-install: ${p}`);
process.exit(summary('offline-install', problems.length === 0, { ...fields, problems: problems.length }));
