// When a swarm service's tasks have ended, against a scripted swarm: its task states, poll by
// poll, and the die events of the node skiff talks to. An exit 0 seen there ends a task the swarm
// still shows running; every other end, and a failure's exit code and error, come from the
// task's state; tasks elsewhere, or a run without the event stream, are polled to their end.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ScriptedEvents } from '../support/scripted-events.js';
import type { TaskInfo, TaskState } from '../../lib/engine/services.js';
import { TaskExits } from '../../lib/executors/swarm/task-exits.js';
import { waitForTasks } from '../../lib/executors/swarm/task-wait.js';

const SELF = 'node-here';

function task(state: TaskState, options: { node?: string; desired?: TaskState; exitCode?: number; err?: string } = {}): TaskInfo {
  return {
    ID: 'task-1',
    ServiceID: 'svc',
    Slot: 1,
    NodeID: state === 'pending' ? undefined : (options.node ?? SELF),
    DesiredState: options.desired ?? 'running',
    CreatedAt: '2026-01-01T00:00:00Z',
    Status: {
      State: state,
      ...(options.err !== undefined && { Err: options.err }),
      ...(options.exitCode !== undefined && { ContainerStatus: { ContainerID: 'c1', ExitCode: options.exitCode } }),
    },
  };
}

/** Task states by poll: `states[i]` answers the i-th poll (the last one again after the end); `after(i)` runs once it is answered. */
function scriptedTasks(states: TaskInfo[], after: (poll: number) => void = () => undefined) {
  const polls: TaskState[] = [];
  return {
    polls,
    api: {
      async list(): Promise<TaskInfo[]> {
        const t = states[Math.min(polls.length, states.length - 1)]!;
        polls.push(t.Status.State);
        queueMicrotask(() => after(polls.length - 1));
        return [t];
      },
      async selfNode(): Promise<string> {
        return SELF;
      },
    },
  };
}

const open: TaskExits[] = [];
async function exitsOn(events: ScriptedEvents, tasks: ReturnType<typeof scriptedTasks>): Promise<TaskExits> {
  const exits = new TaskExits({ events, tasks: tasks.api }, 'run-1');
  open.push(exits);
  await exits.open();
  return exits;
}

afterEach(() => {
  for (const e of open.splice(0)) e.close();
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('swarm task wait', () => {
  it('follows only create, start and die events of the run, and ends a task whose container exits 0 here while the swarm still shows it running', async () => {
    const events = new ScriptedEvents();
    const tasks = scriptedTasks([task('pending'), task('starting'), task('running')], (poll) => {
      if (poll === 2) events.dieOfTask('task-1', 0);
    });
    const exits = await exitsOn(events, tasks);
    const ended = await waitForTasks(tasks.api, 'svc', { total: 1, signal: AbortSignal.timeout(20_000), exits });
    assert.deepEqual(events.queries[0]!.filters, { type: ['container'], event: ['create', 'start', 'die'], label: ['dev.skiff.run=run-1'] });
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.complete, true);
    assert.equal(ended[0]!.task.Status.State, 'running');
    // The die wakes one more poll, which is the last.
    assert.deepEqual(tasks.polls, ['pending', 'starting', 'running', 'running']);
    // The stream is the run's: closing it ends it.
    assert.equal(exits.live, true);
    exits.close();
    await wait(10);
    assert.equal(exits.live, false);
  });

  it('a non-zero exit seen here waits for the swarm to fail the task, with its exit code and error', async () => {
    const events = new ScriptedEvents();
    const failed = task('failed', { exitCode: 3, err: 'task: non-zero exit (3)' });
    const tasks = scriptedTasks([task('running'), task('running'), task('running'), failed], (poll) => {
      if (poll === 0) events.dieOfTask('task-1', 3);
    });
    const exits = await exitsOn(events, tasks);
    const [end] = await waitForTasks(tasks.api, 'svc', { total: 1, signal: AbortSignal.timeout(20_000), exits });
    assert.equal(end!.complete, false);
    assert.equal(end!.task.Status.State, 'failed');
    assert.equal(end!.task.Status.ContainerStatus?.ExitCode, 3);
    assert.equal(end!.task.Status.Err, 'task: non-zero exit (3)');
  });

  it('an exit 0 of a task the swarm is shutting down is not taken as its end', async () => {
    const events = new ScriptedEvents();
    const stopping = task('running', { desired: 'shutdown' });
    const tasks = scriptedTasks([task('running'), stopping, stopping, task('shutdown', { desired: 'shutdown' })], (poll) => {
      if (poll === 0) events.dieOfTask('task-1', 0);
    });
    const exits = await exitsOn(events, tasks);
    const [end] = await waitForTasks(tasks.api, 'svc', { total: 1, signal: AbortSignal.timeout(20_000), exits });
    assert.equal(end!.complete, false);
    assert.equal(end!.task.Status.State, 'shutdown');
  });

  it('a task running on this node is not polled again until its container dies', async () => {
    const events = new ScriptedEvents();
    const tasks = scriptedTasks([task('running')]);
    const exits = await exitsOn(events, tasks);
    const ended = waitForTasks(tasks.api, 'svc', { total: 1, signal: AbortSignal.timeout(20_000), exits });
    // Several of the longest poll intervals.
    await wait(1_000);
    assert.equal(tasks.polls.length, 1);
    events.dieOfTask('task-1', 0);
    const [end] = await ended;
    assert.equal(end!.complete, true);
    assert.equal(tasks.polls.length, 2);
  });

  it('a task on another node is polled until the swarm says it ended', async () => {
    const events = new ScriptedEvents();
    const elsewhere = task('running', { node: 'node-there' });
    const tasks = scriptedTasks([elsewhere, elsewhere, elsewhere, task('complete', { node: 'node-there', exitCode: 0 })]);
    const exits = await exitsOn(events, tasks);
    const [end] = await waitForTasks(tasks.api, 'svc', { total: 1, signal: AbortSignal.timeout(20_000), exits });
    assert.equal(end!.complete, true);
    assert.equal(end!.task.Status.State, 'complete');
    assert.deepEqual(tasks.polls, ['running', 'running', 'running', 'complete']);
  });

  it('without the event stream, or once it ends, tasks are polled to their end', async () => {
    for (const how of ['refused', 'ended'] as const) {
      const events = new ScriptedEvents();
      events.refuse = how === 'refused';
      const tasks = scriptedTasks([task('running'), task('running'), task('complete', { exitCode: 0 })], (poll) => {
        if (poll === 0 && how === 'ended') events.end();
      });
      const exits = await exitsOn(events, tasks);
      const [end] = await waitForTasks(tasks.api, 'svc', { total: 1, signal: AbortSignal.timeout(20_000), exits });
      assert.equal(exits.live, false, how);
      assert.equal(end!.task.Status.State, 'complete', how);
      assert.equal(tasks.polls.length, 3, how);
    }
  });

  it('a stop ends the wait at once, while nothing is polled', async () => {
    const events = new ScriptedEvents();
    const tasks = scriptedTasks([task('running')]);
    const exits = await exitsOn(events, tasks);
    const stop = new AbortController();
    const ended = waitForTasks(tasks.api, 'svc', { total: 1, signal: stop.signal, exits });
    await wait(100);
    stop.abort(new Error('stopped'));
    await assert.rejects(ended, /stopped/);
  });

  it('tells each service of its task containers made and started here, those seen before it asked first, until it is done', async () => {
    const events = new ScriptedEvents();
    const tasks = scriptedTasks([task('running')]);
    const exits = await exitsOn(events, tasks);
    events.createOfTask('t1', 'svc-a', 'c-a1');
    events.startOfTask('t1', 'svc-a', 'c-a1');
    events.startOfTask('t9', 'svc-b', 'c-b9');
    await wait(10);
    const seen: string[] = [];
    exits.onContainer('svc-a', (s) => seen.push(`${s.action} ${s.task}@${s.container}`));
    events.createOfTask('t2', 'svc-a', 'c-a2');
    events.createOfTask('t2', 'svc-a', 'c-a2');
    events.startOfTask('t2', 'svc-a', 'c-a2');
    events.startOfTask('t2', 'svc-a', 'c-a2');
    await wait(10);
    const told = ['create t1@c-a1', 'start t1@c-a1', 'create t2@c-a2', 'start t2@c-a2'];
    assert.deepEqual(seen, told, 'earlier ones first, later ones as they come, each create and start of a task once, none of another service');
    exits.forgetService('svc-a');
    events.createOfTask('t3', 'svc-a', 'c-a3');
    events.startOfTask('t3', 'svc-a', 'c-a3');
    await wait(10);
    assert.deepEqual(seen, told, 'nothing after the service is done');
  });

  it('tells when a poll shows every task running or ended', async () => {
    const events = new ScriptedEvents();
    const elsewhere = { node: 'node-there' };
    const tasks = scriptedTasks([task('pending'), task('starting', elsewhere), task('running', elsewhere), task('complete', elsewhere)]);
    const exits = await exitsOn(events, tasks);
    const toldAt: number[] = [];
    await waitForTasks(tasks.api, 'svc', { total: 1, signal: AbortSignal.timeout(20_000), exits, onStarted: () => toldAt.push(tasks.polls.length) });
    assert.equal(toldAt[0], 3, 'first told after the poll that showed it running');
  });
});
