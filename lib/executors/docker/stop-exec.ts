// Stopping an exec'd process. The Engine API has no call for it (Dagu just leaves it running);
// exec inspect gives the process's host PID, which a local engine lets us signal directly.
// Over TCP the PID is on another machine, so the process is left to finish and we say so.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineApi, ExecApi } from '../../engine/facets.js';
import { SkiffError } from '../../common/errors.js';
import { forceSignalOf } from '../contract.js';

export interface StopExecOptions {
  stopSignal?: string;
  graceSec: number;
  /** The aborted step signal; its reason may carry a `force` signal (second Ctrl-C). */
  signal: AbortSignal;
}

const CLEANUP_MS = 10_000;
const POLL_MS = 50;
const PID_WAIT_MS = 5_000;

/** What stopping an exec'd process asks of the engine. */
export interface ExecInspector {
  readonly local: EngineApi['local'];
  readonly exec: Pick<ExecApi, 'inspect'>;
}

export async function stopExecProcess(engine: ExecInspector, execId: string, options: StopExecOptions): Promise<void> {
  if (!engine.local) {
    throw new SkiffError('engine', 'cannot stop a process exec\'d through a remote engine; it keeps running in the container');
  }
  const pid = await hostPid(engine, execId);
  if (pid === undefined) return;
  const signalName = (options.stopSignal ?? 'SIGTERM').toUpperCase().replace(/^(?!SIG)/, 'SIG') as NodeJS.Signals;
  if (!send(pid, signalName)) return;
  const force = forceSignalOf(options.signal);
  const deadline = Date.now() + options.graceSec * 1000;
  while (alive(pid)) {
    if (Date.now() >= deadline || force?.aborted === true) {
      send(pid, 'SIGKILL');
      return;
    }
    await sleep(POLL_MS);
  }
}

/**
 * The exec'd process's host PID, or undefined once it has ended. The daemon records the PID only
 * when runc's exec returns, and the process may have printed (and a Ctrl-C arrived) before that:
 * a running exec with no PID yet is asked again until it has one.
 */
async function hostPid(engine: ExecInspector, execId: string): Promise<number | undefined> {
  const deadline = Date.now() + PID_WAIT_MS;
  for (;;) {
    const info = await engine.exec.inspect(execId, { signal: AbortSignal.timeout(CLEANUP_MS) });
    if (!info.Running) return undefined;
    if (info.Pid > 0) return info.Pid;
    if (Date.now() >= deadline) return undefined;
    await sleep(POLL_MS);
  }
}

function send(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
