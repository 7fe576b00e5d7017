// A service log read twice: followed until cut (mid-message, as an abort cuts it), then read
// whole; every message reaches its target once, in order, without the swarm's context prefix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DemuxStream } from '../../lib/engine/demux.js';
import { LogProgress, ServiceLogLines } from '../../lib/executors/swarm/log-lines.js';
import { Collect } from '../support/live.js';

const ctx = (task: string) => `com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=${task}`;

function frame(stream: 1 | 2, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** The whole log: task t1 and t2 interleaved, stdout and stderr. */
const LOG = Buffer.concat([
  frame(1, `${ctx('t1')} out a\n`),
  frame(2, `${ctx('t1')} err a\n`),
  frame(1, `${ctx('t2')} out b\n`),
  frame(1, `${ctx('t1')} out c has spaces\n`),
  frame(2, `${ctx('t2')} err d\n`),
  frame(1, `${ctx('t2')} out e\n`),
]);

async function read(bytes: Buffer, out: Collect, err: Collect, progress: LogProgress, catchUp: boolean, chunk = 7): Promise<void> {
  const o = new ServiceLogLines(out, 'out', progress, catchUp);
  const e = new ServiceLogLines(err, 'err', progress, catchUp);
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
});
