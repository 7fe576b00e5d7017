// A service log read twice: followed until cut (mid-message, as an abort cuts it), then read
// whole; every message reaches its target once, in order, without the swarm's context prefix.
// And a task taken over midway by its container's own log (node-logs.ts): each of its messages
// still once and in order, also when that read fails and the service log takes it back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DemuxStream } from '../../lib/engine/demux.js';
import { LogProgress, ServiceLogLines } from '../../lib/executors/swarm/log-lines.js';
import { NodeLogs } from '../../lib/executors/swarm/node-logs.js';
import { PassThrough, Readable } from 'node:stream';
import type { ContainerInfo, ContainerState } from '../../lib/engine/containers.js';
import type { Hijacked } from '../../lib/engine/hijack.js';
import { Collect } from '../support/live.js';

const ctx = (task: string) => `com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=${task}`;

function frame(stream: 1 | 2, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** A container engine whose tasks are only ever read from their logs. */
const notAttached = {
  attach: (): Promise<Hijacked> => assert.fail('attached'),
  inspect: (): Promise<ContainerInfo> => assert.fail('inspected'),
};

/** The whole log: task t1 and t2 interleaved, stdout and stderr. */
const LOG = Buffer.concat([
  frame(1, `${ctx('t1')} out a\n`),
  frame(2, `${ctx('t1')} err a\n`),
  frame(1, `${ctx('t2')} out b\n`),
  frame(1, `${ctx('t1')} out c has spaces\n`),
  frame(2, `${ctx('t2')} err d\n`),
  frame(1, `${ctx('t2')} out e\n`),
]);

async function read(bytes: Buffer, out: Collect, err: Collect, progress: LogProgress, catchUp: boolean, chunk = 7, elsewhere?: (task: string) => boolean): Promise<void> {
  const o = new ServiceLogLines(out, 'out', progress, catchUp, { elsewhere });
  const e = new ServiceLogLines(err, 'err', progress, catchUp, { elsewhere });
  const demux = new DemuxStream(o, e);
  for (let i = 0; i < bytes.length; i += chunk) await new Promise<void>((resolve) => demux.write(bytes.subarray(i, i + chunk), () => resolve()));
  if (catchUp) {
    await new Promise<void>((resolve) => demux.end(() => resolve()));
    await Promise.all([o, e].map((w) => new Promise<void>((resolve) => w.end(() => resolve()))));
  }
}

describe('service log lines', () => {
  it('one complete read: each message once, context dropped, stdout and stderr apart', async () => {
    const out = new Collect();
    const err = new Collect();
    await read(LOG, out, err, new LogProgress(), true);
    assert.equal(out.text(), 'out a\nout b\nout c has spaces\nout e\n');
    assert.equal(err.text(), 'err a\nerr d\n');
  });

  for (const cut of [0, 5, 40, 120, 200, 260, LOG.length - 3, LOG.length]) {
    it(`a followed read cut after ${cut} bytes, then a complete one: nothing lost, nothing twice`, async () => {
      const out = new Collect();
      const err = new Collect();
      const progress = new LogProgress();
      await read(LOG.subarray(0, cut), out, err, progress, false);
      await read(LOG, out, err, progress, true);
      assert.equal(out.text(), 'out a\nout b\nout c has spaces\nout e\n');
      assert.equal(err.text(), 'err a\nerr d\n');
    });
  }

  /** t1's container log: its messages, with no swarm context; `failAfter` bytes then an error. */
  const containerLog = (failAfter?: number) => {
    const bytes = Buffer.concat([frame(1, 'out a\n'), frame(2, 'err a\n'), frame(1, 'out c has spaces\n')]);
    return {
      ...notAttached,
      async logs(id: string): Promise<Readable> {
        assert.equal(id, 'c1');
        if (failAfter === undefined) return Readable.from([bytes.subarray(0, 9), bytes.subarray(9)]);
        return new Readable({
          read() {
            this.push(bytes.subarray(0, failAfter));
            this.destroy(new Error('connection reset'));
          },
        });
      },
    };
  };
  const linesOf = (text: string, task: 't1' | 't2') => text.split('\n').filter((l) => (task === 't1' ? /^(out|err) [ac]/ : /^(out|err) [bde]/).test(l));

  for (const cut of [0, 40, 120, 200, LOG.length]) {
    for (const fails of [false, true]) {
      it(`t1 taken over by its container's log after ${cut} bytes of the service log${fails ? ', whose read then fails' : ''}: each message once, in order`, async () => {
        const out = new Collect();
        const err = new Collect();
        const progress = new LogProgress();
        const here = new NodeLogs(containerLog(fails ? 20 : undefined), { stdout: out, stderr: err, progress, signal: AbortSignal.timeout(5_000) });
        // One followed read, t1 taken over after `cut` bytes of it.
        const elsewhere = (task: string) => here.taken(task);
        const followed = new DemuxStream(new ServiceLogLines(out, 'out', progress, false, { elsewhere }), new ServiceLogLines(err, 'err', progress, false, { elsewhere }));
        const feed = async (bytes: Buffer) => {
          for (let i = 0; i < bytes.length; i += 7) await new Promise<void>((resolve) => followed.write(bytes.subarray(i, i + 7), () => resolve()));
        };
        await feed(LOG.subarray(0, cut));
        here.take('t1', 'c1');
        await feed(LOG.subarray(cut));
        const whole = await here.complete(['t1', 't2']);
        assert.equal(whole, false, 't2 was never taken over: the service log is read to its end');
        await read(LOG, out, err, progress, true, 7, (task) => here.has(task));
        assert.deepEqual(linesOf(out.text(), 't1'), ['out a', 'out c has spaces']);
        assert.deepEqual(linesOf(err.text(), 't1'), ['err a']);
        assert.deepEqual(linesOf(out.text(), 't2'), ['out b', 'out e']);
        assert.deepEqual(linesOf(err.text(), 't2'), ['err d']);
        assert.equal(here.has('t1'), !fails);
      });
    }
  }

  it('every task read whole from its container: no need to read the service log to its end', async () => {
    const progress = new LogProgress();
    const out = new Collect();
    const here = new NodeLogs(containerLog(), { stdout: out, stderr: new Collect(), progress, signal: AbortSignal.timeout(5_000) });
    here.take('t1', 'c1');
    here.take('t1', 'c1');
    assert.equal(await here.complete(['t1']), true);
    assert.equal(out.text(), 'out a\nout c has spaces\n', 'taken once');
  });

  it('a followed container log that ends without its last messages (Engine 20.10): the unfollowed read after it writes them, each once', async () => {
    const progress = new LogProgress();
    const out = new Collect();
    const err = new Collect();
    const whole = Buffer.concat([frame(1, 'out a\n'), frame(2, 'err a\n'), frame(1, 'out c has spaces\n'), frame(2, 'err z\n')]);
    const reads: boolean[] = [];
    const shortFollow = {
      ...notAttached,
      async logs(id: string, options: { follow?: boolean }): Promise<Readable> {
        assert.equal(id, 'c1');
        reads.push(options.follow === true);
        // The followed read ends after the first two messages; the unfollowed one has them all.
        return Readable.from([options.follow ? whole.subarray(0, 28) : whole]);
      },
    };
    const here = new NodeLogs(shortFollow, { stdout: out, stderr: err, progress, signal: AbortSignal.timeout(5_000) });
    here.take('t1', 'c1');
    assert.equal(await here.complete(['t1']), true);
    assert.deepEqual(reads, [true, false], 'followed, then read whole');
    assert.equal(out.text(), 'out a\nout c has spaces\n');
    assert.equal(err.text(), 'err a\nerr z\n');
  });

  it('a container log that does not end once the tasks have: cut, and the task read from the service log, once', async () => {
    const progress = new LogProgress();
    const out = new Collect();
    const err = new Collect();
    // t1's first message, then nothing more and no end.
    const body = new Readable({ read() {} });
    body.push(frame(1, 'out a\n'));
    const stuck = { ...notAttached, logs: async () => body };
    const here = new NodeLogs(stuck, { stdout: out, stderr: err, progress, signal: AbortSignal.timeout(5_000), endWaitMs: 50 });
    here.take('t1', 'c1');
    const t0 = performance.now();
    assert.equal(await here.complete(['t1']), false, 'not read whole here');
    assert.ok(performance.now() - t0 < 2_000, 'cut after the wait, not left hanging');
    await read(LOG, out, err, progress, true, 7, (task) => here.has(task));
    assert.deepEqual(linesOf(out.text(), 't1'), ['out a', 'out c has spaces']);
    assert.deepEqual(linesOf(err.text(), 't1'), ['err a']);
  });
});

describe('task output read by attaching to its container before it starts', () => {
  /** t1's output, its last message without a newline. */
  const OUTPUT = Buffer.concat([frame(1, 'out a\n'), frame(2, 'err a\n'), frame(1, 'out c has spaces\n'), frame(2, 'err z')]);

  /** An engine whose container c1 is in `state` when inspected; its attach carries OUTPUT unless told otherwise. */
  function engine(state: Partial<ContainerState>, attach: 'output' | 'refused' | 'silent' = 'output') {
    const calls: string[] = [];
    const sockets: PassThrough[] = [];
    const api = {
      async attach(id: string): Promise<Hijacked> {
        calls.push(`attach ${id}`);
        if (attach === 'refused') throw new Error('attach refused');
        const socket = new PassThrough();
        sockets.push(socket);
        if (attach === 'output') setImmediate(() => socket.end(OUTPUT));
        return { socket, headers: {} };
      },
      async inspect(id: string): Promise<ContainerInfo> {
        calls.push(`inspect ${id}`);
        return { Id: id, Name: '/task', State: { Status: 'created', Running: false, ExitCode: 0, ...state }, Config: {}, HostConfig: {} };
      },
      async logs(id: string, query: { follow?: boolean }): Promise<Readable> {
        calls.push(`logs ${id} ${query.follow ? 'followed' : 'whole'}`);
        return Readable.from([OUTPUT]);
      },
    };
    return { api, calls, sockets };
  }

  it('attached while the container is still created: all its output from the attach, its log never read', async () => {
    const { api, calls, sockets } = engine({});
    const out = new Collect();
    const err = new Collect();
    const here = new NodeLogs(api, { stdout: out, stderr: err, progress: new LogProgress(), signal: AbortSignal.timeout(5_000) });
    here.attach('t1', 'c1');
    // Its start, seen next, changes nothing.
    here.take('t1', 'c1');
    assert.equal(await here.complete(['t1']), true);
    assert.deepEqual(calls, ['attach c1', 'inspect c1']);
    assert.equal(out.text(), 'out a\nout c has spaces\n');
    assert.equal(err.text(), 'err a\nerr z');
    assert.equal(sockets[0]!.destroyed, true, 'the attach is closed');
  });

  for (const [how, state] of [
    ['running', { Status: 'running', Running: true }],
    ['exited', { Status: 'exited', ExitCode: 3 }],
    ['failed to start', { Error: 'exec: "nope": executable file not found in $PATH', ExitCode: 128 }],
  ] as const) {
    it(`attached when the container had ${how === 'failed to start' ? how : `started (${how})`}: the attach dropped, its log read instead, each message once`, async () => {
      const { api, calls, sockets } = engine(state);
      const out = new Collect();
      const err = new Collect();
      const here = new NodeLogs(api, { stdout: out, stderr: err, progress: new LogProgress(), signal: AbortSignal.timeout(5_000) });
      here.attach('t1', 'c1');
      assert.equal(await here.complete(['t1']), true);
      assert.deepEqual(calls, ['attach c1', 'inspect c1', 'logs c1 followed', 'logs c1 whole']);
      assert.equal(out.text(), 'out a\nout c has spaces\n');
      assert.equal(err.text(), 'err a\nerr z');
      assert.equal(sockets[0]!.destroyed, true);
    });
  }

  for (const attach of ['refused', 'silent'] as const) {
    it(`an attach ${attach === 'refused' ? 'refused' : 'that never ends'}: the task goes back to the service log, each message once`, async () => {
      const { api, calls, sockets } = engine({}, attach);
      const out = new Collect();
      const err = new Collect();
      const progress = new LogProgress();
      const here = new NodeLogs(api, { stdout: out, stderr: err, progress, signal: AbortSignal.timeout(5_000), endWaitMs: 50 });
      here.attach('t1', 'c1');
      here.take('t1', 'c1');
      assert.equal(await here.complete(['t1']), false);
      assert.equal(here.taken('t1'), true, 'a followed service log still passes it by');
      assert.deepEqual(calls, attach === 'refused' ? ['attach c1'] : ['attach c1', 'inspect c1'], 'its log is not read in its place');
      if (attach === 'silent') assert.equal(sockets[0]!.destroyed, true, 'the attach is closed once cut');
      await read(LOG, out, err, progress, true, 7, (task) => here.has(task));
      assert.deepEqual(out.text().split('\n').filter((l) => /^out [ac]/.test(l)), ['out a', 'out c has spaces']);
      assert.deepEqual(err.text().split('\n').filter((l) => /^err a/.test(l)), ['err a']);
    });
  }
});
