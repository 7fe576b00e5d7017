// TailWriter: keeps the last bytes for the step error, passes everything on, and is called back
// only when its target is done with a chunk (targetsCopy), never with the target's own failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { TailWriter } from '../../lib/executors/tail.js';

function write(w: Writable, text: string): Promise<Error | null | undefined> {
  return new Promise((resolve) => w.write(Buffer.from(text), resolve));
}

test('a write is called back when the target has processed it, and the tail keeps the last lines', async () => {
  const events: string[] = [];
  const target = new Writable({
    write(chunk: Buffer, _enc, cb) {
      events.push(`target got ${chunk.toString().trim()}`);
      setTimeout(() => {
        events.push('target done');
        cb();
      }, 20);
    },
  });
  const tail = new TailWriter(target, 64);
  await write(tail, 'one\n');
  events.push('tail called back');
  assert.deepEqual(events, ['target got one', 'target done', 'tail called back']);
  await write(tail, 'two\nthree\n');
  assert.deepEqual(tail.lines(2), ['two', 'three']);
});

test('a target that has ended takes nothing more, and the tail neither fails nor lets it fail', async () => {
  const target = new Writable({ write: (_c, _e, cb) => cb() });
  const errors: unknown[] = [];
  target.on('error', (err) => errors.push(err));
  const tail = new TailWriter(target);
  tail.on('error', (err) => errors.push(err));
  await new Promise<void>((resolve) => target.end(resolve));
  assert.equal((await write(tail, 'late output\n')) ?? null, null);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, []);
  assert.deepEqual(tail.lines(), ['late output']);
});
