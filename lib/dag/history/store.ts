// The reading side of run history: find a DAG's runs, the latest one, one by id, and each run's
// current record. A record still marked running whose process is gone (killed, machine rebooted)
// is repaired as it is read (docs/run-history.md §1): it becomes failed, and the repaired record is appended so every
// later reader agrees.
import { appendFile, open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DEFINITION_FILE, PID_FILE, STATUS_FILE, attemptDir, dagRunsDir, runsRoot, type Definition } from './layout.js';
import { isAlive, readPidFile, type PidInfo } from './liveness.js';
import { repaired, type RunRecord } from './record.js';

export interface StoredRun {
  runId: string;
  dir: string;
  /** The latest attempt that wrote a record. */
  attempt: number;
  attemptDir: string;
  record: RunRecord;
  /** Running, and its process is alive. */
  live: boolean;
  pid: PidInfo | undefined;
}

export interface ListOptions {
  /** Keep only the runs this accepts. */
  accept?(run: StoredRun): boolean;
  /** Stop reading once this many are kept. */
  limit?: number;
}

/** The runs of one DAG (by name), or of every DAG, newest first. */
export async function listRuns(env: NodeJS.ProcessEnv, dagName?: string, options: ListOptions = {}): Promise<StoredRun[]> {
  const dagDirs = dagName !== undefined ? [dagRunsDir(dagName, env)] : (await entries(runsRoot(env))).map((d) => join(runsRoot(env), d));
  const runDirs: string[] = [];
  for (const dagDir of dagDirs) for (const id of await entries(dagDir)) runDirs.push(join(dagDir, id));
  const runs: StoredRun[] = [];
  for (const dir of await newestFirst(runDirs)) {
    if (options.limit !== undefined && runs.length >= options.limit) break;
    const run = await readRun(dir);
    if (run && (options.accept?.(run) ?? true)) runs.push(run);
  }
  return runs;
}

/** The run with this id, or the DAG's latest run. */
export async function findRun(env: NodeJS.ProcessEnv, dagName: string, runId?: string): Promise<StoredRun | undefined> {
  const dagDir = dagRunsDir(dagName, env);
  if (runId !== undefined) return readRun(join(dagDir, runId));
  for (const dir of await newestFirst((await entries(dagDir)).map((id) => join(dagDir, id)))) {
    const run = await readRun(dir);
    if (run) return run;
  }
  return undefined;
}

/**
 * Run directories by creation, newest first. A run id starts with its UTC start to the second,
 * so ids order runs of different seconds; runs started within one second are ordered by the
 * creation time (to the millisecond) in their definitions.
 */
async function newestFirst(dirs: readonly string[]): Promise<string[]> {
  const second = (dir: string): string => basename(dir).split('-')[0]!;
  const created = new Map<string, string>();
  const ties = new Set<string>();
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    const other = seen.get(second(dir));
    if (other !== undefined) ties.add(other).add(dir);
    seen.set(second(dir), dir);
  }
  for (const dir of ties) created.set(dir, await readDefinition(dir).then((d) => d.createdAt, () => ''));
  return [...dirs].sort((a, b) => {
    const bySecond = second(b).localeCompare(second(a));
    if (bySecond !== 0) return bySecond;
    return (created.get(b) ?? '').localeCompare(created.get(a) ?? '') || basename(b).localeCompare(basename(a));
  });
}

/** A run directory's current state; undefined when it holds no attempt with a record (an older layout, a crash at start). */
export async function readRun(dir: string): Promise<StoredRun | undefined> {
  const attempts = (await entries(join(dir, 'attempts'))).map(Number).filter((n) => Number.isInteger(n) && n > 0).sort((a, b) => b - a);
  for (const attempt of attempts) {
    const aDir = attemptDir(dir, attempt);
    const line = await lastLine(join(aDir, STATUS_FILE));
    if (line === undefined) continue;
    let record: RunRecord;
    try {
      record = JSON.parse(line) as RunRecord;
    } catch {
      continue;
    }
    const pid = await readPidFile(join(aDir, PID_FILE));
    let live = false;
    if (record.status === 'running') {
      live = pid !== undefined && isAlive(pid);
      if (!live) record = await repair(aDir, record);
    }
    return { runId: record.runId, dir, attempt, attemptDir: aDir, record, live, pid };
  }
  return undefined;
}

export async function readDefinition(runDir: string): Promise<Definition> {
  return JSON.parse(await readFile(join(runDir, DEFINITION_FILE), 'utf8')) as Definition;
}

async function repair(aDir: string, record: RunRecord): Promise<RunRecord> {
  const file = join(aDir, STATUS_FILE);
  const when = await stat(file).then((s) => s.mtime, () => new Date());
  const fixed = repaired(record, when);
  // Best effort: a reader without write access still shows the repaired state.
  await appendFile(file, `${JSON.stringify(fixed)}\n`).catch(() => {});
  return fixed;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

const CHUNK = 64 * 1024;

/** The file's last non-empty line, read backwards in chunks (a long run's records are never read whole). */
export async function lastLine(file: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = (await handle.stat()).size;
    let end = size;
    const parts: Buffer[] = [];
    let pos = size;
    while (pos > 0) {
      const start = Math.max(0, pos - CHUNK);
      const buf = Buffer.alloc(pos - start);
      await handle.read(buf, 0, buf.length, start);
      pos = start;
      // Trailing newlines belong to no line.
      let upto = buf.length;
      if (parts.length === 0) {
        while (upto > 0 && buf[upto - 1] === 0x0a) upto--;
        end = start + upto;
        if (upto === 0) continue;
      }
      const nl = buf.lastIndexOf(0x0a, upto - 1);
      if (nl >= 0) {
        parts.unshift(buf.subarray(nl + 1, upto));
        break;
      }
      parts.unshift(buf.subarray(0, upto));
    }
    if (end === 0) return undefined;
    const text = Buffer.concat(parts).toString('utf8');
    return text === '' ? undefined : text;
  } finally {
    await handle.close();
  }
}

/** The last `lines` lines of a file (its tail only is read); [] when it does not exist. */
export async function tailLines(file: string, lines: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(0, size - CHUNK);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    const all = buf.toString('utf8').replace(/\n$/, '').split('\n');
    // A partial first line (the read started mid-file) is dropped.
    if (start > 0) all.shift();
    if (all.length === 1 && all[0] === '') return [];
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}
