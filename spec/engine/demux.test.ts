import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { Demuxer, DemuxStream } from '../../lib/engine/demux.js';
import { SkiffError, isSkiffError } from '../../lib/engine/errors.js';

function frame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

// Buffer.alloc never hands out the shared pool, so `buffer` identity proves no copy was made.
function unpooled(bytes: Buffer): Buffer {
  const out = Buffer.alloc(bytes.length);
  bytes.copy(out);
  return out;
}

interface Collected {
  stdout: Buffer;
  stderr: Buffer;
  systemErrors: string[];
}

function collect(chunks: Buffer[]): Collected {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const systemErrors: string[] = [];
  const demuxer = new Demuxer({
    onStdout: (buf) => void stdout.push(Buffer.from(buf)),
    onStderr: (buf) => void stderr.push(Buffer.from(buf)),
    onSystemError: (message) => void systemErrors.push(message),
  });
  for (const chunk of chunks) demuxer.write(chunk);
  demuxer.end();
  return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), systemErrors };
}

function splitAt(input: Buffer, points: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(input.subarray(start, point));
    start = point;
  }
  chunks.push(input.subarray(start));
  return chunks;
}

const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const sequence = Buffer.concat([
  frame(1, 'out\n'),
  frame(2, 'err\n'),
  frame(1, ''),
  frame(1, binary),
  frame(0, 'typed\n'),
  frame(2, 'more err'),
]);
const expectedStdout = Buffer.concat([Buffer.from('out\n'), binary, Buffer.from('typed\n')]);
const expectedStderr = Buffer.from('err\nmore err');

test('observed bytes from docs/engine-api.md §8.1 demux to out/err', () => {
  const input = Buffer.from('0100000000000004' + '6f75740a' + '0200000000000004' + '6572720a', 'hex');
  const got = collect([input]);
  assert.equal(got.stdout.toString(), 'out\n');
  assert.equal(got.stderr.toString(), 'err\n');
});

test('a sequence split at every single point gives the same bytes', () => {
  for (let i = 0; i <= sequence.length; i++) {
    const got = collect(splitAt(sequence, [i]));
    assert.deepEqual(got.stdout, expectedStdout, `split at ${i}`);
    assert.deepEqual(got.stderr, expectedStderr, `split at ${i}`);
  }
});

test('a short sequence split at every pair of points gives the same bytes', () => {
  const short = Buffer.concat([frame(1, 'ab'), frame(2, ''), frame(2, 'c'), frame(0, Buffer.from([0, 255, 10]))]);
  const wantOut = Buffer.from([0x61, 0x62, 0, 255, 10]);
  for (let i = 0; i <= short.length; i++) {
    for (let j = i; j <= short.length; j++) {
      const got = collect(splitAt(short, [i, j]));
      assert.deepEqual(got.stdout, wantOut, `split at ${i},${j}`);
      assert.equal(got.stderr.toString(), 'c', `split at ${i},${j}`);
    }
  }
});

test('a sequence fed byte by byte gives the same bytes', () => {
  const chunks = Array.from({ length: sequence.length }, (_, i) => sequence.subarray(i, i + 1));
  const got = collect(chunks);
  assert.deepEqual(got.stdout, expectedStdout);
  assert.deepEqual(got.stderr, expectedStderr);
});

test('several frames packed in one chunk: payloads are slices of the input, not copies', () => {
  const input = unpooled(sequence);
  const seen: Array<{ stream: string; buf: Buffer }> = [];
  const demuxer = new Demuxer({
    onStdout: (buf) => void seen.push({ stream: 'out', buf }),
    onStderr: (buf) => void seen.push({ stream: 'err', buf }),
    onSystemError: () => assert.fail('no system error expected'),
  });
  demuxer.write(input);
  demuxer.end();
  // Zero-length frame delivers nothing; the five others arrive in order.
  assert.deepEqual(
    seen.map(({ stream, buf }) => [stream, buf.length]),
    [['out', 4], ['err', 4], ['out', 256], ['out', 6], ['err', 8]],
  );
  const offsets = [8, 20, 40, 304, 318];
  seen.forEach(({ buf }, k) => {
    assert.equal(buf.buffer, input.buffer, `payload ${k} shares memory with the input`);
    assert.equal(buf.byteOffset, input.byteOffset + offsets[k]!, `payload ${k} offset`);
  });
});

test('write returns false when a sink asks to slow down', () => {
  const demuxer = new Demuxer({ onStdout: () => false, onStderr: () => true, onSystemError: () => {} });
  assert.equal(demuxer.write(frame(2, 'e')), true);
  assert.equal(demuxer.write(frame(1, 'o')), false);
});

test('type 3 mid-stream reports the full text and nothing after it is delivered', () => {
  const input = Buffer.concat([
    frame(1, 'before'),
    frame(3, 'Error grabbing logs: boom\n'),
    frame(1, 'after'),
    frame(2, 'after'),
  ]);
  for (let i = 0; i <= input.length; i++) {
    const got = collect(splitAt(input, [i]));
    assert.equal(got.stdout.toString(), 'before', `split at ${i}`);
    assert.equal(got.stderr.length, 0, `split at ${i}`);
    assert.deepEqual(got.systemErrors, ['Error grabbing logs: boom\n'], `split at ${i}`);
  }
});

test('DemuxStream: type 3 becomes an engine error with the trimmed daemon text', async () => {
  const out: Buffer[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => void (out.push(chunk), cb()) });
  const input = Buffer.concat([frame(1, 'x'), frame(3, 'Error grabbing logs: boom\r\n'), frame(1, 'y')]);
  await assert.rejects(pipeline(Readable.from([input]), new DemuxStream(sink, sink)), (err: unknown) => {
    assert.ok(isSkiffError(err, 'engine'));
    assert.equal(err.message, 'Error grabbing logs: boom');
    return true;
  });
  assert.equal(Buffer.concat(out).toString(), 'x');
});

function protocolError(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(isSkiffError(err, 'protocol'), `expected a protocol SkiffError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

test('a TTY stream fed to the demuxer fails on its first byte, naming it in hex', () => {
  const demuxer = new Demuxer({
    onStdout: () => assert.fail('nothing should be delivered'),
    onStderr: () => assert.fail('nothing should be delivered'),
    onSystemError: () => assert.fail('not a system error'),
  });
  assert.throws(() => demuxer.write(Buffer.from('hello\r\n')), protocolError(/not framed.*0x68.*TTY/));
});

test('a nonzero padding byte in the header is a protocol error', () => {
  for (const index of [1, 2, 3]) {
    const bad = frame(1, 'ok');
    bad[index] = 0x05;
    const pattern = new RegExp(`not framed: byte ${index} of a frame header is 0x05`);
    assert.throws(() => collect([frame(2, 'first'), bad]), protocolError(pattern));
  }
});

test('EOF inside a header is reported at end as truncation', () => {
  const input = Buffer.concat([frame(1, 'ok'), frame(1, 'next').subarray(0, 5)]);
  assert.throws(() => collect([input]), protocolError(/^stream truncated: 3 bytes of a frame header missing$/));
});

test('EOF inside a payload is reported at end as truncation', () => {
  const input = frame(2, 'hello').subarray(0, 11);
  assert.throws(() => collect([input]), protocolError(/^stream truncated: 2 bytes of a frame missing$/));
});

test('DemuxStream: truncation at the end of input becomes a protocol stream error', async () => {
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  await assert.rejects(
    pipeline(Readable.from([frame(1, 'hello').subarray(0, 10)]), new DemuxStream(sink, sink)),
    protocolError(/stream truncated: 3 bytes/),
  );
});

test('DemuxStream: a slow stdout gets every byte in order and is never flooded', async () => {
  const received: Buffer[] = [];
  let maxPending = 0;
  const slow = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) {
      maxPending = Math.max(maxPending, this.writableLength);
      received.push(chunk);
      setTimeout(cb, 1);
    },
  });
  const stderr: Buffer[] = [];
  const fast = new Writable({ write: (chunk: Buffer, _enc, cb) => void (stderr.push(chunk), cb()) });
  const payloads = Array.from({ length: 40 }, (_, i) => Buffer.alloc(100, i));
  const chunks = payloads.map((payload, i) => Buffer.concat([frame(1, payload), frame(2, String(i % 10))]));
  await pipeline(Readable.from(chunks), new DemuxStream(slow, fast));
  assert.deepEqual(Buffer.concat(received), Buffer.concat(payloads));
  assert.equal(Buffer.concat(stderr).toString(), '0123456789'.repeat(4));
  // Ignoring backpressure would let the whole input pile up in the slow sink's buffer.
  assert.ok(maxPending <= 100, `slow sink held ${maxPending} bytes at once`);
});

test('DemuxStream: a target closed while full fails the stream instead of hanging', async () => {
  const stuck = new Writable({ highWaterMark: 1, write: () => {} });
  const demux = new DemuxStream(stuck, stuck);
  const done = pipeline(Readable.from([frame(1, 'a'), frame(1, 'b')]), demux);
  await delay(10);
  stuck.destroy();
  await assert.rejects(done, (err: unknown) => err instanceof SkiffError && err.kind === 'aborted');
});

test('DemuxStream: 64 MiB of 32 KiB frames arrives complete', async () => {
  const payloadBytes = 32 * 1024;
  const frames = 2048;
  const oneFrame = frame(1, Buffer.alloc(payloadBytes, 0x5a));
  // Chunk boundaries never line up with frames, as on a real socket.
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < frames; i++) {
      yield oneFrame.subarray(0, 5000);
      yield oneFrame.subarray(5000);
    }
  }
  const expected = oneFrame.subarray(8);
  let total = 0;
  let wrongBytes = 0;
  const counter = new Writable({
    write(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (!chunk.equals(expected.subarray(0, chunk.length))) wrongBytes++;
      cb();
    },
  });
  const stderr = new Writable({ write: () => assert.fail('no stderr expected') });
  await pipeline(Readable.from(source()), new DemuxStream(counter, stderr));
  assert.equal(total, 64 * 1024 * 1024);
  assert.equal(wrongBytes, 0);
});
