// Runs the real `skiff` executable (bin/skiff.js) as a child process, the way a user does, with
// its own state directory, and hands back the exit code, the output, the report and the run ids.
// Also: a lock shared by the test files that pull the private registry's image, and helpers to
// watch a run from the engine's side while it goes on.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { SKIFF_BIN, cliEnv, startSkiff } from './cli-process.js';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../../lib/engine/index.js';
import type { ContainerSummary } from '../../lib/engine/containers.js';
import type { RunReport } from '../../lib/dag/report.js';
import { liveEngine, repoRoot } from './live.js';
import { NO_ENGINE, UNUSED_WARNING, logsOf, stableReport } from './replay-check.js';

export { SKIFF_BIN };

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The report written with --report (undefined for `validate`, or if none was written). */
  report: RunReport | undefined;
  reportText: string;
  stateDir: string;
  /** Run ids found under the state directory (one per `skiff run`). */
  runIds: string[];
}

export interface CliOptions {
  /** Added to (and overriding) the inherited environment; a value undefined removes the variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Default: a fresh temp directory. */
  stateDir?: string;
  /** Kill the child (SIGKILL) after this long; the test then fails. Default 90 s. */
  timeoutMs?: number;
  /** Called once the child is spawned (to signal it, watch it…). */
  started?(child: ChildProcess): void;
}

/** Variables the tests' environment must not leak into a run (credentials, engine choice). */
const SCRUBBED = ['DOCKER_AUTH_CONFIG', 'DOCKER_CONFIG', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'SKIFF_SSH_OPTS', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION', 'FORCE_COLOR', 'SKIFF_DEBUG'];

const madeDirs: string[] = [];

/** A fresh directory under the system temp dir, removed by removeTempDirs(). */
export async function tempDir(prefix: string): Promise<string> {
  const made = await mkdtemp(join(tmpdir(), `skiff-${prefix}-`));
  madeDirs.push(made);
  return made;
}

/** Removes every directory tempDir() made in this process (call it in after()). */
export async function removeTempDirs(): Promise<void> {
  for (const made of madeDirs.splice(0)) await rm(made, { recursive: true, force: true });
}

/**
 * `node bin/skiff.js ARGS…`. For `run`, `--report <stateDir>/report.json` is added in front.
 * DOCKER_CONFIG points at an empty directory unless the caller sets it, so the machine's own
 * docker credentials never take part.
 */
export async function skiff(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const stateDir = options.stateDir ?? (await tempDir('state'));
  const reportFile = join(stateDir, 'report.json');
  const env = cliEnv({ SKIFF_STATE_DIR: stateDir, DOCKER_CONFIG: join(stateDir, 'empty-docker-config'), ...options.env }, SCRUBBED);
  const argv = args[0] === 'run' ? ['run', '--report', reportFile, ...args.slice(1)] : args;
  const timeoutMs = options.timeoutMs ?? 90_000;
  const running = startSkiff(argv, { env, cwd: options.cwd ?? repoRoot, timeoutMs });
  options.started?.(running.child);
  const { code, stdout, stderr, timedOut } = await running.done;
  if (timedOut) throw new Error(`skiff ${argv.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  let reportText = '';
  let report: RunReport | undefined;
  if (args[0] === 'run' && existsSync(reportFile)) {
    reportText = await readFile(reportFile, 'utf8');
    report = JSON.parse(reportText) as RunReport;
  }
  return { code, stdout, stderr, report, reportText, stateDir, runIds: await runIdsIn(stateDir) };
}

/**
 * `skiff ARGS…` through the CLI's own entry point (dist/cli/main.js, what bin/skiff.js calls) in
 * this process: for commands that start no run and touch no engine (`validate`), where a new
 * node process per case would only cost time.
 */
export async function skiffInProcess(args: string[], env: Record<string, string | undefined> = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = (await import(join(repoRoot, 'dist', 'cli', 'main.js'))) as { main(argv: string[], context: object): Promise<number> };
  const { Collect } = await import('./live.js');
  const stdout = new Collect();
  const stderr = new Collect();
  const code = await main(args, { stdout, stderr, env: { ...env, NO_COLOR: '1' } });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

async function runIdsIn(stateDir: string): Promise<string[]> {
  const runs = join(stateDir, 'runs');
  if (!existsSync(runs)) return [];
  const ids: string[] = [];
  for (const dag of await readdir(runs)) ids.push(...(await readdir(join(runs, dag))));
  return ids;
}

/** Writes a DAG file into `dir` and returns its path. */
export async function writeDag(dir: string, file: string, yaml: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, file);
  await writeFile(path, yaml);
  return path;
}

/** Everything the engine still holds for one run id (containers in any state). */
export async function leftovers(engine: Engine, runId: string): Promise<ContainerSummary[]> {
  return engine.containers.list({ label: [`dev.skiff.owner=skiff`, `dev.skiff.run=${runId}`] }, { all: true });
}

/** The containers skiff made for a DAG (by its name label), in any state. */
export async function containersOfDag(engine: Engine, dag: string): Promise<ContainerSummary[]> {
  return engine.containers.list({ label: [`dev.skiff.owner=skiff`, `dev.skiff.dag=${dag}`] }, { all: true });
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${ms} ms`);
    await sleep(100);
  }
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Every file under `dir`, recursively, as text (logs, run.log, the report). */
export async function allText(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const parent = (entry as unknown as { parentPath?: string; path?: string }).parentPath ?? (entry as unknown as { path: string }).path;
    text += await readFile(join(parent, entry.name), 'utf8');
  }
  return text;
}

/**
 * The lock for the registries' busybox images. One lock for both: engine-up pushes the same image
 * to the plain and the auth registry, and a pull whose image config is already on the engine
 * (under the other registry's name) downloads nothing and streams no layer events.
 */
export const REGISTRY_IMAGE_LOCK = 'registry-busybox';

/**
 * A lock shared by processes (test files run in parallel): held around "remove the private
 * registry's image locally, pull it, look at it", so no other test file pulls or removes it
 * meanwhile. A lock left by a dead process is broken.
 */
export async function withImageLock<T>(name: string, body: () => Promise<T>): Promise<T> {
  const release = await takeLock(name, 120_000);
  try {
    return await body();
  } finally {
    await release();
  }
}

/**
 * The seed examples use fixed container, network and image names and host port 5432: the test
 * files that run them (docker-seeds, dag-container-seeds, seeds-migrate) each hold this lock from
 * their before() to their after(), so they take turns instead of tripping over each other.
 */
export const SEED_EXAMPLES_LOCK = 'seed-examples';

/** A seed test file's before(): its turn (SEED_EXAMPLES_LOCK), then the engine; `release` ends the turn. */
export async function seedFileTurn(): Promise<{ engine: Engine; release: () => Promise<void> }> {
  const release = await takeLock(SEED_EXAMPLES_LOCK, 30 * 60_000);
  try {
    return { engine: await liveEngine(), release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Takes a lock shared by processes (broken when its holder died); resolves to its release. */
export async function takeLock(name: string, waitMs: number): Promise<() => Promise<void>> {
  const dir = join(tmpdir(), `skiff-test-lock-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'pid'), String(process.pid));
      return () => rm(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => ''));
      if (owner > 0 && !alive(owner)) await rm(dir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`lock ${dir} held for too long by pid ${owner}`);
      else await sleep(50);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
}

/** The engine's events between `since` and now (unix seconds) for objects with these labels. */
export async function engineEvents(engine: Engine, since: number, labels: string[]): Promise<EngineEvent[]> {
  const until = Math.ceil(Date.now() / 1000) + 1;
  const res = await engine.transport.call({
    method: 'GET',
    path: '/events',
    query: { since: String(since), until: String(until), filters: JSON.stringify({ label: labels }) },
    long: true,
    what: 'read events',
  });
  const text = await res.body.text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EngineEvent);
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A live run recorded with `--record`, and the same DAG replayed from that recording. */
export interface RecordedCliResult extends CliResult {
  replayed: CliResult;
  recordDir: string;
  liveMs: number;
  replayMs: number;
}

/**
 * `skiff run --record DIR FILE` against the engine, then `skiff run --replay DIR FILE` with the
 * same environment but DOCKER_HOST pointing nowhere, compared: exit code, the report apart from
 * its volatile values (replay-check.ts), every step's logs, no recorded request left unmade.
 * Returns the live run with the replayed one; `onLive` sees the live run before the comparison.
 */
export async function recordAndReplay(file: string, options: CliOptions = {}, onLive?: (live: CliResult) => void): Promise<RecordedCliResult> {
  const recordDir = await tempDir('recording');
  let t = performance.now();
  const live = await skiff(['run', '--record', recordDir, file], options);
  const liveMs = performance.now() - t;
  // Before any comparison can throw: the caller learns the live run's ids (to clean up after it).
  onLive?.(live);
  t = performance.now();
  const replayed = await skiff(['run', '--replay', recordDir, file], { ...options, stateDir: undefined, env: { ...options.env, DOCKER_HOST: NO_ENGINE } });
  const replayMs = performance.now() - t;
  const context = () => `\n--- live: exit ${live.code}\n${live.reportText}${live.stdout}${live.stderr}\n--- replayed: exit ${replayed.code}\n${replayed.reportText}${replayed.stdout}${replayed.stderr}`;
  assert.ok(live.report && replayed.report, `both runs wrote a report${context()}`);
  assert.equal(replayed.code, live.code, `the replay exits as the live run did${context()}`);
  assert.deepEqual(stableReport(replayed.report), stableReport(live.report), `the replay's report is the live one${context()}`);
  assert.deepEqual(logsOf(replayed.report), logsOf(live.report), `the replay's step logs are the live ones${context()}`);
  assert.doesNotMatch(replayed.stderr, UNUSED_WARNING, `the replay made every recorded request${context()}`);
  return { ...live, replayed, recordDir, liveMs, replayMs };
}
