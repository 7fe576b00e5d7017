// borrowed.ts and framing.ts's pumpOutput against a fake daemon on a Unix socket: the upgrade on
// a connection of our own, bytes that arrive with the 101, pauses while targets are behind, and
// every way it must give up (anything but 101, abort, no daemon, a cut connection).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBorrowed } from '../../lib/engine/borrowed.js';
import { pumpOutput } from '../../lib/engine/framing.js';
import { isSkiffError } from '../../lib/engine/errors.js';
import type { EngineTarget } from '../../lib/engine/host.js';
import { SlowCopy } from '../support/live.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-borrowed-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A daemon that reads the request head, then does `answer` with the socket. */
async function daemon(answer: (sock: Socket, head: string) => void): Promise<{ target: EngineTarget; server: Server }> {
  const socketPath = join(dir, `d${n++}.sock`);
  const server = createServer((sock) => {
    let head = '';
    const onData = (b: Buffer) => {
      head += b.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      answer(sock, head);
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return { target: { kind: 'unix', socketPath, url: `unix://${socketPath}` }, server };
}

const UPGRADED = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';

function frame(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

test('sends the upgrade request, hands over bytes that came with the 101 first, and reads to EOF', async () => {
  const payload = randomBytes(1024 * 1024);
  let request = '';
  const { target, server } = await daemon((sock, head) => {
    request = head;
    sock.write(Buffer.concat([Buffer.from(UPGRADED), payload.subarray(0, 100)]));
    sock.end(payload.subarray(100));
  });
  try {
    const stream = await openBorrowed(target, { path: '/v1.41/containers/abc/attach?stream=1&stdout=1', what: 'attach to container' });
    assert.ok(stream);
    assert.match(request, /^POST \/v1\.41\/containers\/abc\/attach\?stream=1&stdout=1 HTTP\/1\.1\r\n/);
    assert.match(request, /\r\nUpgrade: tcp\r\n/);
    const parts: Buffer[] = [];
    let paused = 0;
    await stream.read((chunk) => {
      parts.push(Buffer.from(chunk));
      // Pause every other read and resume later: nothing may be lost or repeated.
      if (parts.length % 2 === 0) return true;
      paused++;
      setImmediate(() => stream.resume());
      return false;
    });
    assert.ok(Buffer.concat(parts).equals(payload));
    assert.ok(paused > 1);
  } finally {
    server.close();
  }
});

test('a JSON body (exec start) goes with its type and length', async () => {
  const body = '{"Detach":false,"Tty":true}';
  let request = '';
  const { target, server } = await daemon((sock, head) => {
    // Answers once the whole body is in, whether it came with the head or after it.
    const check = (text: string) => {
      request = text;
      if (text.endsWith(body)) sock.end(UPGRADED);
    };
    check(head);
    sock.on('data', (more: Buffer) => check(request + more.toString('latin1')));
  });
  try {
    const stream = await openBorrowed(target, { path: '/v1.41/exec/e1/start', json: { Detach: false, Tty: true }, what: 'start exec', timeoutMs: 2000 });
    assert.ok(stream);
    await stream.read(() => true);
    assert.match(request, /\r\nContent-Type: application\/json\r\n/);
    assert.ok(request.includes(`\r\nContent-Length: ${body.length}\r\n`));
    assert.ok(request.endsWith(`\r\n\r\n${body}`));
  } finally {
    server.close();
  }
});

test('anything but 101 gives undefined, so the caller asks through the dispatcher', async () => {
  const { target, server } = await daemon((sock) => {
    sock.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 41\r\n\r\n{"message":"No such container: abc"}\n\n\n\n\n');
  });
  try {
    assert.equal(await openBorrowed(target, { path: '/v1.41/containers/abc/attach', what: 'attach to container' }), undefined);
  } finally {
    server.close();
  }
});

test('no daemon on the socket gives undefined too (the dispatcher words the error)', async () => {
  const socketPath = join(dir, 'nobody.sock');
  assert.equal(await openBorrowed({ kind: 'unix', socketPath, url: `unix://${socketPath}` }, { path: '/x', what: 'attach to container' }), undefined);
});

test('an abort before the answer rejects as aborted and closes the connection', async () => {
  let closed!: Promise<void>;
  const { target, server } = await daemon((sock) => {
    closed = new Promise((r) => sock.on('close', () => r()));
  });
  try {
    const ac = new AbortController();
    const pending = openBorrowed(target, { path: '/x', what: 'attach to container', signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(pending, (err: unknown) => isSkiffError(err, 'aborted'));
    await closed;
  } finally {
    server.close();
  }
});

test('a connection destroyed by its owner (abort) rejects the read as aborted', async () => {
  const { target, server } = await daemon((sock) => {
    sock.write(UPGRADED);
    sock.write(randomBytes(1000));
  });
  try {
    const stream = await openBorrowed(target, { path: '/x', what: 'attach to container' });
    assert.ok(stream);
    const reading = stream.read(() => true);
    setTimeout(() => stream.socket.destroy(), 30);
    await assert.rejects(reading, (err: unknown) => isSkiffError(err, 'aborted'));
  } finally {
    server.close();
  }
});

test('pumpOutput demultiplexes into slow copying targets byte-exact, whatever the read boundaries', async () => {
  const out = randomBytes(300_000);
  const err = randomBytes(70_000);
  const wire = Buffer.concat([frame(1, out.subarray(0, 5)), frame(2, err.subarray(0, 40_000)), frame(1, out.subarray(5)), frame(2, err.subarray(40_000))]);
  const { target, server } = await daemon((sock) => {
    sock.write(UPGRADED);
    // Odd write sizes, so frames and headers straddle reads.
    let pos = 0;
    const next = () => {
      if (pos >= wire.length) return void sock.end();
      const size = 1 + ((pos * 7919) % 9000);
      sock.write(wire.subarray(pos, pos + size), next);
      pos += size;
    };
    next();
  });
  try {
    const stream = await openBorrowed(target, { path: '/x', what: 'attach to container' });
    assert.ok(stream);
    const stdout = new SlowCopy();
    const stderr = new SlowCopy();
    await pumpOutput(stream, false, stdout, stderr);
    assert.ok(stdout.buffer().equals(out));
    assert.ok(stderr.buffer().equals(err));
  } finally {
    server.close();
  }
});

test('pumpOutput: a system-error frame is the engine error, a cut frame a protocol error', async () => {
  for (const [wire, kind, text] of [
    [Buffer.concat([frame(1, Buffer.from('hi\n')), frame(3, Buffer.from('exec failed: boom\n'))]), 'engine', /^exec failed: boom$/],
    [frame(1, Buffer.from('0123456789')).subarray(0, 12), 'protocol', /stream truncated: 6 bytes of a frame missing/],
  ] as const) {
    const { target, server } = await daemon((sock) => sock.end(Buffer.concat([Buffer.from(UPGRADED), wire])));
    try {
      const stream = await openBorrowed(target, { path: '/x', what: 'attach to container' });
      assert.ok(stream);
      await assert.rejects(pumpOutput(stream, false, new SlowCopy(), new SlowCopy()), (err: unknown) => isSkiffError(err, kind) && text.test(err.message));
    } finally {
      server.close();
    }
  }
});

test('pumpOutput with tty passes the raw bytes to stdout', async () => {
  const { target, server } = await daemon((sock) => sock.end(`${UPGRADED}out\r\nerr\r\n`));
  try {
    const stream = await openBorrowed(target, { path: '/x', what: 'attach to container' });
    assert.ok(stream);
    const stdout = new SlowCopy();
    await pumpOutput(stream, true, stdout, new SlowCopy());
    assert.equal(stdout.buffer().toString(), 'out\r\nerr\r\n');
  } finally {
    server.close();
  }
});
