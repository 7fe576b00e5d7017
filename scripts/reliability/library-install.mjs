// The installed package as a library: `npm pack` of this checkout, `npm install --offline` of the
// tarball into an empty project (empty npm cache, a registry that does not answer), then in that
// project an ES module importing `skiff` runs a container on the local engine, and a TypeScript
// file with the same imports type-checks with `tsc --noEmit` against the installed package's own
// types. Used by offline-install.mjs (the reliability check) and spec/package/install.live.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const run = (cmd, argv, opts = {}) => spawnSync(cmd, argv, { encoding: 'utf8', timeout: 180_000, ...opts });

/** `npm pack` of `root` into `dir`: the tarball's path and npm's description of it. */
export function pack(root, dir) {
  mkdirSync(dir, { recursive: true });
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', env: npmEnv, stdio: ['ignore', 'pipe', 'ignore'] }))[0];
  return { tgz: join(dir, packed.filename), packed };
}

/** A new project in `dir` with the tarball installed offline; a problem string, or undefined. */
export function installOffline(tgz, dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'airgapped', version: '1.0.0', private: true, type: 'module' }));
  const cache = mkdtempSync(join(tmpdir(), 'skiff-empty-cache-'));
  try {
    const r = run('npm', ['install', '--offline', '--cache', cache, '--no-audit', '--no-fund', tgz], { cwd: dir, env: { ...npmEnv, npm_config_registry: 'http://127.0.0.1:9/' } });
    return r.status === 0 ? undefined : `npm install --offline failed: ${r.stderr.slice(-800)}`;
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

const IMPORTS = `import { openEngine, RecordingDispatcher, ReplayDispatcher, SkiffError } from 'skiff';`;

// Runs a container on the engine at DOCKER_HOST and prints what it said; the other imports must
// be the package's classes.
const MODULE = `${IMPORTS}
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DemuxStream } from 'skiff/engine';
for (const [name, value] of Object.entries({ RecordingDispatcher, ReplayDispatcher, SkiffError })) {
  if (typeof value !== 'function') throw new Error(name + ' is not exported');
}
const engine = openEngine();
const { Id } = await engine.containers.create({ Image: process.argv[2], Cmd: ['echo', 'installed skiff ran me'] });
try {
  const { socket } = await engine.containers.attach(Id, { stdout: true, stderr: true });
  const { result } = await engine.containers.registerWait(Id, 'next-exit');
  const out = [];
  const demux = new DemuxStream(new PassThrough().on('data', (c) => out.push(c)), new PassThrough());
  socket.pipe(demux);
  await engine.containers.start(Id);
  const { StatusCode } = await result;
  await finished(demux);
  process.stdout.write(JSON.stringify({ exitCode: StatusCode, stdout: Buffer.concat(out).toString() }));
} finally {
  await engine.containers.remove(Id, { force: true });
  await engine.close();
}
`;

// Type-checked only: every import used with its real types, so a wrong or missing declaration fails.
const TYPESCRIPT = `${IMPORTS}
import type { ContainerInfo, CreateBody, ExecBody, ExecInfo, ImageInfo, MatchRules, ProgressEvent, PullSnapshot } from 'skiff';
import { ReplayDispatcher as FromSubpath } from 'skiff/replay';
import { openEngine as openFromSubpath, type Engine } from 'skiff/engine';

const body: CreateBody = { Image: 'busybox', Cmd: ['true'], Labels: { a: 'b' } };
const exec: ExecBody = { Cmd: ['true'], AttachStdin: true };
const rules: MatchRules = { volatileLabels: ['com.example.job'], tempRoots: ['/tmp'] };

export async function check(dir: string): Promise<string> {
  const recorder = RecordingDispatcher.forDir(dir + '/again', ReplayDispatcher.fromDir(dir));
  const engine: Engine = openEngine({ dispatcher: recorder, reachesDaemon: false });
  const info: ContainerInfo = await engine.containers.inspect((await engine.containers.create(body)).Id);
  const image: ImageInfo | undefined = await engine.images.find('busybox');
  const execInfo: ExecInfo = await engine.exec.inspect(await engine.exec.create(info.Id, exec));
  for await (const ev of engine.images.pull('busybox') as AsyncIterable<ProgressEvent>) void ev.status;
  const snapshot: PullSnapshot | undefined = undefined;
  const replay = ReplayDispatcher.fromDir(dir, { match: rules });
  const same: typeof ReplayDispatcher = FromSubpath;
  void [openFromSubpath, snapshot, same, replay.unused()];
  try {
    throw new SkiffError('replay', 'x');
  } catch (err) {
    if (err instanceof SkiffError) return err.kind + info.State.Status + (image?.Os ?? '') + String(execInfo.ExitCode);
  }
  return '';
}
`;

/**
 * In the project `dir` (skiff installed): the module above runs a container of `image`, and the
 * TypeScript file type-checks with the `tsc` at `tscBin` (types for node from `typesRoot`).
 * Problems as strings; `fields` gets what was measured.
 */
export function checkLibrary({ dir, image, tscBin, typesRoot, env = process.env, fields = {} }) {
  const problems = [];
  writeFileSync(join(dir, 'use-skiff.mjs'), MODULE);
  const r = run(process.execPath, ['use-skiff.mjs', image], { cwd: dir, env, timeout: 60_000 });
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = undefined;
  }
  fields.libraryRun = out ? `exit ${out.exitCode}: ${JSON.stringify(out.stdout)}` : `failed`;
  if (r.status !== 0 || out?.exitCode !== 0 || out?.stdout !== 'installed skiff ran me\n') problems.push(`the installed library did not run a container: exit ${r.status}: ${r.stdout} ${r.stderr.slice(-800)}`);

  writeFileSync(join(dir, 'use-skiff.ts'), TYPESCRIPT);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: ['node'], typeRoots: [typesRoot] },
    files: ['use-skiff.ts'],
  }));
  const t = run(process.execPath, [tscBin, '-p', 'tsconfig.json'], { cwd: dir, env, timeout: 120_000 });
  fields.typeCheck = t.status === 0 ? 'ok' : 'failed';
  if (t.status !== 0) problems.push(`tsc --noEmit against the installed package's types failed:\n${t.stdout}${t.stderr}`);
  return problems;
}
