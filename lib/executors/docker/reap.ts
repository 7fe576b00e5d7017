// Start-up reaping: containers and networks labelled by a skiff run whose process has died
// (kill -9, a crash, a lost machine session) are removed by the next run or by `skiff cleanup`.
// Only skiff-labelled objects from this host whose owning process is gone, and never what the
// user asked to keep.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineApi } from '../../engine/facets.js';
import { LABEL_HOST, LABEL_KEEP, LABEL_PID, LABEL_RUN, ownedFilter } from './labels.js';

export interface Reaped {
  containers: Array<{ id: string; name: string; run: string }>;
  networks: Array<{ id: string; name: string; run: string }>;
}

export interface ReapOptions {
  signal?: AbortSignal;
  /** Is a process of this host still alive? (tests replace it) */
  alive?(pid: number): boolean;
}

export async function reapOrphans(engine: EngineApi, options: ReapOptions = {}): Promise<Reaped> {
  const orphaned = orphanTest(options);
  const reaped: Reaped = { containers: [], networks: [] };
  for (const c of await engine.containers.list(ownedFilter(), { signal: options.signal })) {
    if (!orphaned(c.Labels)) continue;
    await engine.containers.remove(c.Id, { force: true, volumes: true, signal: options.signal });
    reaped.containers.push({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), run: c.Labels[LABEL_RUN] ?? '' });
  }
  // A force removal that met the daemon's own (AutoRemove) answers "already in progress": the
  // container lingers a moment. Reaping is done when it is gone, and its networks can go then.
  await untilGone(engine, reaped.containers.map((c) => c.id), options.signal);
  for (const n of await engine.networks.list(ownedFilter(), { signal: options.signal })) {
    if (!orphaned(n.Labels)) continue;
    await engine.networks.remove(n.Id, { signal: options.signal });
    reaped.networks.push({ id: n.Id, name: n.Name, run: n.Labels?.[LABEL_RUN] ?? '' });
  }
  return reaped;
}

const GONE_WITHIN_MS = 10_000;

async function untilGone(engine: EngineApi, ids: string[], signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + GONE_WITHIN_MS;
  while (ids.length > 0 && Date.now() < deadline) {
    const left = await engine.containers.list({ id: ids }, { all: true, ...(signal ? { signal } : {}) });
    if (left.length === 0) return;
    await sleep(50, undefined, signal ? { signal } : {});
  }
}

/** Is an object with these labels a leftover of a dead skiff process of this host (and not kept)? */
export function orphanTest(options: Pick<ReapOptions, 'alive'>): (labels: Record<string, string> | null | undefined) => boolean {
  const alive = options.alive ?? processAlive;
  const here = hostname();
  return (labels) => {
    if (!labels || labels[LABEL_KEEP] === 'true' || labels[LABEL_HOST] !== here) return false;
    const pid = Number(labels[LABEL_PID]);
    return Number.isInteger(pid) && pid > 0 && !alive(pid);
  };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** A killed skiff whose parent has not waited for it yet still answers kill(pid, 0). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    // No /proc (not Linux), or the process is gone since kill(): nothing more to learn.
    return false;
  }
}
