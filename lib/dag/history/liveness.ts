// Is the process that runs an attempt still there? The pid file holds its pid and, on Linux, its
// start time in clock ticks since boot (/proc/<pid>/stat, field 22): a pid reused by another
// process after a crash has another start time, so it is not taken for the run's.
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

export interface PidInfo {
  pid: number;
  /** Field 22 of /proc/<pid>/stat; null where /proc is not there. */
  startTicks: string | null;
}

export function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

export function currentPidInfo(): PidInfo {
  return { pid: process.pid, startTicks: processStartTicks(process.pid) };
}

export async function writePidFile(path: string, info: PidInfo = currentPidInfo()): Promise<void> {
  await writeFile(path, `${JSON.stringify(info)}\n`);
}

export async function readPidFile(path: string): Promise<PidInfo | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<PidInfo>;
    if (typeof value.pid !== 'number') return undefined;
    return { pid: value.pid, startTicks: typeof value.startTicks === 'string' ? value.startTicks : null };
  } catch {
    return undefined;
  }
}

export function isAlive(info: PidInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (info.startTicks === null) return true;
  const now = processStartTicks(info.pid);
  return now === null || now === info.startTicks;
}
