// Shared by the live Docker executor tests (docker-seeds, docker-step): run `skiff run` as a user
// would (the real CLI in a child process, a state directory of its own, NO_COLOR), read the run
// report and the step logs, and reap whatever the runs created, by the run ids found under that
// state directory. Not a test file itself.
import assert from 'node:assert/strict';
import { cliEnv, startSkiff } from '../support/cli-process.js';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Engine } from '../../lib/engine/index.js';
import type { RunReport, StepReport } from '../../lib/dag/report.js';
import { ownedFilter } from '../../lib/executors/docker/labels.js';
import { repoRoot } from '../support/live.js';
import { NO_ENGINE, UNUSED_WARNING, logsOf, stableReport } from '../support/replay-check.js';

/**
 * The CLI is run from a copy of the build taken when the file starts: other people rebuild the
 * shared dist/ while tests run, and a CLI that loads half an old build and half a new one fails
 * with errors that have nothing to do with the code under test. The copy is taken when dist/
 * has been still for a moment, and taken again if it changed meanwhile.
 */
function snapshotOfBuild(): string {
  // dist/skiff.cjs is the bundle bin/skiff.js prefers when it is newer than every source in lib/
  // and cli/: the sources are copied with their timestamps (as everything is), so a stale bundle
  // stays stale in the copy.
  const parts = ['lib', 'cli', 'dist/lib', 'dist/cli', 'bin', 'package.json', ...(existsSync(join(repoRoot, 'dist', 'skiff.cjs')) ? ['dist/skiff.cjs'] : [])];
  const newest = () => {
    let max = 0;
    const walk = (path: string): void => {
      const st = statSync(path);
      max = Math.max(max, st.mtimeMs);
      if (st.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    };
    for (const part of parts) walk(join(repoRoot, part));
    return max;
  };
  const dir = mkdtempSync(join(tmpdir(), 'skiff-build-'));
  for (let attempt = 0; ; attempt++) {
    const before = newest();
    if (Date.now() - before < 2000 && attempt < 20) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      continue;
    }
    for (const part of parts) cpSync(join(repoRoot, part), join(dir, part), { recursive: true, preserveTimestamps: true });
    if (newest() === before || attempt >= 20) break;
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

let build: string | undefined;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunResult extends CliResult {
  report: RunReport;
  step(name: string): StepReport & { out: string; err: string };
}

export interface CliOptions {
  /** Added to (or, with `undefined`, removed from) the environment skiff runs in. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called with each chunk of stdout as it arrives; may return a signal to send to skiff. */
  onStdout?(text: string, all: string): NodeJS.Signals | undefined;
  /** More `skiff run` options, before FILE (`--record DIR`, `--replay DIR`). */
  args?: string[];
}

/** A live run recorded with `--record`, and the same DAG replayed from that recording. */
export interface RecordedRun extends RunResult {
  replayed: RunResult;
  recordDir: string;
  liveMs: number;
  replayMs: number;
}

/**
 * What the seed example "Basic Exec" needs inside its running container `my-app` (run as root): a user
 * appuser and an executable /app/data/maintenance.sh that reports how it was run.
 */
export const MY_APP_SETUP = [
  'echo appuser:x:1000:1000::/app:/bin/sh >> /etc/passwd',
  'echo appuser:x:1000: >> /etc/group',
  'mkdir -p /app/data',
  `printf '#!/bin/sh\\necho "maintenance: task=$TASK user=$(id -un) dir=$(pwd)"\\n' > /app/data/maintenance.sh`,
  'chmod 755 /app/data/maintenance.sh',
  'chown -R 1000:1000 /app',
].join(' && ');

/** One state directory per test file; every run of that file writes its logs there. */
export class Skiff {
  readonly stateDir: string;
  readonly #scratch: string[] = [];
  /** Wall time of every live run recorded by `recordAndReplay`, and of its replay. */
  readonly timings: Array<{ file: string; liveMs: number; replayMs: number }> = [];

  constructor(name: string) {
    this.stateDir = mkdtempSync(join(tmpdir(), `skiff-${name}-state-`));
  }

  /** A scratch directory removed in `dispose`. */
  tempDir(name: string): string {
    const dir = mkdtempSync(join(tmpdir(), `skiff-${name}-`));
    this.#scratch.push(dir);
    return dir;
  }

  cli(args: string[], options: CliOptions = {}): Promise<CliResult> {
    const env = cliEnv({ SKIFF_STATE_DIR: this.stateDir, ...options.env });
    build ??= snapshotOfBuild();
    const running = startSkiff(args, { env, cwd: options.cwd ?? repoRoot, bin: join(build, 'bin', 'skiff.js'), ...(options.onStdout ? { onStdout: options.onStdout } : {}) });
    return running.done.then(({ code, signal, stdout, stderr }) => ({ code, signal, stdout, stderr }));
  }

  /** `skiff run --report R FILE`; the report must exist whatever the outcome. */
  async run(file: string, options: CliOptions = {}): Promise<RunResult> {
    const reportFile = join(this.tempDir('report'), 'report.json');
    const result = await this.cli(['run', '--report', reportFile, ...(options.args ?? []), file], options);
    if (!existsSync(reportFile)) {
      throw new Error(`skiff run wrote no report (exit ${result.code})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    }
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport;
    return {
      ...result,
      report,
      step(name) {
        const s = report.steps.find((x) => x.name === name);
        if (!s) throw new Error(`no step ${name} in the report: ${report.steps.map((x) => x.name).join(', ')}`);
        const read = (f: string | null) => (f && existsSync(f) ? readFileSync(f, 'utf8') : '');
        return { ...s, out: read(s.stdoutFile), err: read(s.stderrFile) };
      },
    };
  }

  /**
   * `skiff run --record DIR FILE` against the engine, then `skiff run --replay DIR FILE` with
   * DOCKER_HOST pointing nowhere, and the two compared: exit code, the report apart from its
   * volatile values (spec/support/replay-check.ts), every step's stdout and stderr, and no
   * recorded request left unmade. Returns the live run (what the caller asserts on) with the
   * replayed one. The replay's run leaves no log under the live run's ids: reaping by run id
   * still finds only live runs' objects (a replay creates nothing).
   */
  async recordAndReplay(file: string, options: CliOptions = {}): Promise<RecordedRun> {
    const recordDir = this.tempDir('recording');
    let t = performance.now();
    const live = await this.run(file, { ...options, args: ['--record', recordDir] });
    const liveMs = performance.now() - t;
    t = performance.now();
    const replayed = await this.run(file, { ...options, args: ['--replay', recordDir], env: { ...options.env, DOCKER_HOST: NO_ENGINE } });
    const replayMs = performance.now() - t;
    this.timings.push({ file, liveMs, replayMs });
    const context = () => `\n--- live: ${explain(live)}\n--- replayed: ${explain(replayed)}`;
    assert.equal(replayed.code, live.code, `the replay exits as the live run did${context()}`);
    assert.deepEqual(stableReport(replayed.report), stableReport(live.report), `the replay's report is the live one${context()}`);
    assert.deepEqual(logsOf(replayed.report), logsOf(live.report), `the replay's step logs are the live ones${context()}`);
    assert.doesNotMatch(replayed.stderr, UNUSED_WARNING, `the replay made every recorded request${context()}`);
    return { ...live, replayed, recordDir, liveMs, replayMs };
  }

  /** The live and replay times of `recordAndReplay`, one line for the test output. */
  timingSummary(): string {
    const sum = (k: 'liveMs' | 'replayMs') => this.timings.reduce((a, t) => a + t[k], 0);
    return `${this.timings.length} runs recorded live in ${(sum('liveMs') / 1000).toFixed(2)} s (sum of runs), replayed with no daemon in ${(sum('replayMs') / 1000).toFixed(2)} s; each live/replay ms: ${this.timings.map((t) => `${basename(t.file, '.yaml')} ${Math.round(t.liveMs)}/${Math.round(t.replayMs)}`).join(', ')}`;
  }

  /** The run ids of every run made so far (`<state>/runs/<dag>/<run id>`). */
  runIds(): string[] {
    const runs = join(this.stateDir, 'runs');
    if (!existsSync(runs)) return [];
    return readdirSync(runs).flatMap((dag) => readdirSync(join(runs, dag)));
  }

  /** Removes every container and network that skiff labelled with one of this file's run ids. */
  async reap(engine: Engine): Promise<void> {
    for (const runId of this.runIds()) {
      for (const c of await engine.containers.list(ownedFilter(runId))) await engine.containers.remove(c.Id, { force: true });
      for (const n of await engine.networks.list(ownedFilter(runId))) await engine.networks.remove(n.Id);
    }
  }

  dispose(): void {
    for (const dir of [...this.#scratch, this.stateDir]) rmSync(dir, { recursive: true, force: true });
    if (build) rmSync(build, { recursive: true, force: true });
    build = undefined;
  }
}

/** A step report described for assertion messages. */
export function explain(r: RunResult): string {
  return `exit ${r.code}; report ${JSON.stringify(r.report, null, 1)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}
