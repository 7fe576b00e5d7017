// Watching processes and files from tests that start local steps.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** kill -0, counting a zombie (killed, not yet reaped by an init that may never reap) as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The trimmed content of `path` once it exists and is not empty (polled for up to ~10 s). */
export async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    if (existsSync(path)) {
      const text = (await readFile(path, 'utf8')).trim();
      if (text !== '') return text;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${path} never appeared`);
}

/** Live `ssh` processes whose command line holds `arg` (a config file path marks a test's own). */
export function sshProcessesWith(arg: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0] === 'ssh' && argv.includes(arg) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
