// When a service's run-once tasks have all ended, and how. A swarm has no wait call for tasks, so
// their states are polled: often at first (a short step ends within a second), then less often.
// The run's event stream (task-exits.ts) tells at once of a task container that dies on the node
// skiff talks to: that wakes the poll, and an exit 0 there ends its task for skiff (the swarm
// makes such a task `complete`) while the swarm's own state still says `running`. Any other end,
// and the exit code and error of a failure, come from the task's state. While every task is
// placed on this node, so its death will be seen, it is polled seldom: for an end with no death
// (a start that fails), and in case the stream misses one.
//
// Each decision rests on a poll's answer and on the exits known when that poll was sent, never on
// when an event happened to arrive: a replayed run makes the same requests as the recorded one
// (an event is replayed once the requests recorded before it have been made).
import type { TasksApi } from '../../engine/facets.js';
import { TERMINAL_TASK_STATES, type TaskInfo } from '../../engine/services.js';
import type { TaskExits } from './task-exits.js';

export interface TaskWaitOptions {
  /** Tasks the service runs in all (its replica count). */
  total: number;
  signal: AbortSignal;
  exits: TaskExits;
  /** Told once when a task waits for a node (no node fits its constraints, resources, platform). */
  onPending?(message: string): void;
  /** Told once per node a task is placed on, as soon as it is known. */
  onNode?(nodeId: string): void;
  /** Told when a poll shows every task running or ended (maybe more than once). */
  onStarted?(): void;
}

export interface EndedTask {
  /** The task as last polled: still `running` when its container's exit 0 was seen first. */
  task: TaskInfo;
  complete: boolean;
}

const POLL_FIRST_MS = 50;
const POLL_MAX_MS = 250;
/** While the swarm catches up with an exit already seen on the node. */
const POLL_CATCH_UP_MS = 50;
/** While every task is placed on this node, so its death will be seen: for an end with no death (a failed start). */
const POLL_HERE_MS = 1_000;
/** While every task is running on this node: only in case the stream misses a death. */
const POLL_CHECK_MS = 5_000;

/** Polls the service's tasks until every replica has ended; resolves with the last task of each slot. */
export async function waitForTasks(tasks: Pick<TasksApi, 'list'>, id: string, options: TaskWaitOptions): Promise<EndedTask[]> {
  const { signal, exits } = options;
  const seen = new Set<string>();
  const nodes = new Set<string>();
  let delay = POLL_FIRST_MS;
  let toldPending = false;
  try {
    for (;;) {
      // The exits known as this poll is sent: what its answer is read with.
      const exited = new Map<string, number>();
      for (const t of seen) {
        const code = exits.exitOf(t);
        if (code !== undefined) exited.set(t, code);
      }
      const last = lastPerSlot(await tasks.list({ service: [id] }, { signal }));
      const ended = last.map((t) => endOf(t, exited.get(t.ID)));
      const open = last.filter((_, i) => ended[i] === undefined);
      // A failed task is not replaced (restart condition none): the service is done once nothing runs.
      if (open.length === 0 && (last.length >= options.total || ended.some((e) => !e!.complete))) return ended as EndedTask[];
      for (const t of last) {
        seen.add(t.ID);
        if (t.NodeID && !nodes.has(t.NodeID)) {
          nodes.add(t.NodeID);
          options.onNode?.(t.NodeID);
        }
      }
      if (last.length >= options.total && last.every((t) => t.Status.State === 'running' || TERMINAL_TASK_STATES.has(t.Status.State))) options.onStarted?.();
      const pending = last.find((t) => t.Status.State === 'pending' && t.Status.Err);
      if (pending && !toldPending) {
        toldPending = true;
        options.onPending?.(`task waits for a node: ${pending.Status.Err}`);
      }
      const openIds = open.map((t) => t.ID);
      if (open.some((t) => exited.has(t.ID))) {
        // No death to wait for: the swarm has yet to show how that one ended.
        await exits.died([], POLL_CATCH_UP_MS, signal);
      } else if (last.length >= options.total && (await allHere(open, exits)) && exits.live) {
        // `live` read last, with no wait before the waiter is in: a stream that ends later wakes it.
        await exits.died(openIds, open.every((t) => t.Status.State === 'running') ? POLL_CHECK_MS : POLL_HERE_MS, signal);
        delay = POLL_FIRST_MS;
      } else {
        await exits.died(openIds, delay, signal);
        delay = Math.min(POLL_MAX_MS, Math.round(delay * 1.25));
      }
    }
  } finally {
    exits.forget(seen);
  }
}

/**
 * How a task has ended, if it has. An exit 0 seen on the node counts once the swarm shows the
 * task running: the unfollowed log read that comes next takes only tasks shown running or later.
 */
function endOf(t: TaskInfo, exit: number | undefined): EndedTask | undefined {
  if (TERMINAL_TASK_STATES.has(t.Status.State)) return { task: t, complete: t.Status.State === 'complete' };
  if (exit === 0 && t.Status.State === 'running' && t.DesiredState === 'running') return { task: t, complete: true };
  return undefined;
}

/** Every one of `open` is placed on the node skiff talks to, so its container's death will be seen. */
async function allHere(open: TaskInfo[], exits: TaskExits): Promise<boolean> {
  if (!open.every((t) => t.NodeID)) return false;
  const self = await exits.self();
  return self !== undefined && open.every((t) => t.NodeID === self);
}

/** The latest task of each slot (a task replaced by the swarm keeps its slot). */
function lastPerSlot(tasks: TaskInfo[]): TaskInfo[] {
  const bySlot = new Map<string, TaskInfo>();
  for (const t of tasks) {
    const key = t.Slot !== undefined ? String(t.Slot) : t.ID;
    const seen = bySlot.get(key);
    if (!seen || (seen.CreatedAt ?? '') < (t.CreatedAt ?? '')) bySlot.set(key, t);
  }
  return [...bySlot.values()];
}
