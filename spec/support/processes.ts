// Watching processes and files from tests that start local steps.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
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

/** Established TCP connections to 127.0.0.1:`port` that the processes `pids` hold open. */
export function tcpConnectionsTo(pids: number[], port: number): number {
  const inodes = new Set<string>();
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m) inodes.add(m[1]!);
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // gone meanwhile
    }
  }
  // /proc/net/tcp: local and remote addresses in hex (127.0.0.1 is 0100007F), state 01 is ESTABLISHED.
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[2] === remote && f[3] === '01' && inodes.has(f[9] ?? '')) n++;
  }
  return n;
}
