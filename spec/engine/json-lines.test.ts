import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readJsonLines, type ProgressEvent } from '../../lib/engine/json-lines.js';
import { isSkiffError } from '../../lib/engine/errors.js';

// The fresh pull observed in docs/engine-api.md §4.3 (the elided `progress` of Extracting filled in).
const pullLines = [
  '{"status":"Pulling from probe","id":"1"}',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"7d86170d2cda"}',
  '{"status":"Downloading","progressDetail":{"current":98304,"total":9068101},"progress":"[>   …]   98.3kB/9.068MB","id":"7d86170d2cda"}',
  '{"status":"Verifying Checksum","progressDetail":{},"id":"7d86170d2cda"}',
  '{"status":"Download complete","progressDetail":{},"id":"7d86170d2cda"}',
  '{"status":"Extracting","progressDetail":{"current":8454144,"total":9068101},"progress":"[=====>  ]  8.454MB/9.068MB","id":"7d86170d2cda"}',
  '{"status":"Pull complete","progressDetail":{},"id":"7d86170d2cda"}',
  '{"status":"Digest: sha256:05fe7b64…"}',
  '{"status":"Status: Downloaded newer image for 127.0.0.1:5055/probe:1"}',
];
const pullEvents = pullLines.map((line) => JSON.parse(line) as ProgressEvent);

async function* chunks(...pieces: Array<Buffer | string>): AsyncGenerator<Buffer | string> {
  yield* pieces;
}

async function readAll(source: AsyncIterable<Buffer | string>, maxLineBytes?: number): Promise<ProgressEvent[]> {
  const out: ProgressEvent[] = [];
  for await (const ev of readJsonLines<ProgressEvent>(source, maxLineBytes === undefined ? {} : { maxLineBytes })) {
    out.push(ev);
  }
  return out;
}

/** The events yielded before the stream failed, and the failure. */
async function readUntilError(source: AsyncIterable<Buffer | string>, maxLineBytes?: number) {
  const seen: ProgressEvent[] = [];
  try {
    for await (const ev of readJsonLines<ProgressEvent>(source, maxLineBytes === undefined ? {} : { maxLineBytes })) {
      seen.push(ev);
    }
  } catch (error) {
    return { seen, error };
  }
  return assert.fail(`expected an error after ${seen.length} events`);
}

test('a real pull with \\r\\n endings split at every byte yields every event intact', async () => {
  const body = Buffer.from(pullLines.map((line) => `${line}\r\n`).join(''));
  for (let i = 0; i <= body.length; i++) {
    const got = await readAll(chunks(body.subarray(0, i), body.subarray(i)));
    assert.deepEqual(got, pullEvents, `split at ${i}`);
  }
});

test('a real pull fed byte by byte yields every event, multi-byte characters intact', async () => {
  const body = Buffer.from(pullLines.map((line) => `${line}\r\n`).join(''));
  const bytes = Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1));
  const got = await readAll(chunks(...bytes));
  assert.deepEqual(got, pullEvents);
  assert.equal(got[2]?.progress, '[>   …]   98.3kB/9.068MB');
});

test('\\n endings, string chunks and blank lines', async () => {
  const body = `\n${pullLines[0]}\n\r\n   \n${pullLines[1]}\n\n`;
  const got = await readAll(chunks(body.slice(0, 10), body.slice(10)));
  assert.deepEqual(got, pullEvents.slice(0, 2));
});

test('an errorDetail line after progress fails with its message, after the earlier events', async () => {
  const failure =
    '{"errorDetail":{"message":"unauthorized: authentication required"},"error":"deprecated mirror"}';
  const body = [...pullLines.slice(0, 3), failure, pullLines[6]].join('\r\n') + '\r\n';
  const { seen, error } = await readUntilError(chunks(body));
  assert.deepEqual(seen, pullEvents.slice(0, 3));
  assert.ok(isSkiffError(error, 'engine'));
  assert.equal(error.message, 'unauthorized: authentication required');
});

test('an error line with only `error` fails with that text', async () => {
  const { seen, error } = await readUntilError(chunks(`${pullLines[0]}\n{"error":"manifest unknown"}\n`));
  assert.equal(seen.length, 1);
  assert.ok(isSkiffError(error, 'engine'));
  assert.equal(error.message, 'manifest unknown');
});

test('a line that is not JSON is a protocol error naming its first 200 characters', async () => {
  const garbage = `<html>${'x'.repeat(300)}`;
  const { seen, error } = await readUntilError(chunks(`${pullLines[0]}\r\n${garbage}\r\n${pullLines[1]}\r\n`));
  assert.equal(seen.length, 1);
  assert.ok(isSkiffError(error, 'protocol'));
  assert.ok(error.message.includes(garbage.slice(0, 200)), error.message);
  assert.ok(!error.message.includes(garbage.slice(0, 201)), 'only the first 200 characters are shown');
});

test('a final line cut off mid-JSON is a protocol "stream truncated" error', async () => {
  const { seen, error } = await readUntilError(chunks(`${pullLines[0]}\r\n`, '{"status":"Down'));
  assert.equal(seen.length, 1);
  assert.ok(isSkiffError(error, 'protocol'));
  assert.match(error.message, /^stream truncated/);
});

test('a final line without a newline but complete JSON is yielded', async () => {
  const got = await readAll(chunks(`${pullLines[0]}\r\n`, pullLines[8]!.slice(0, 20), pullLines[8]!.slice(20)));
  assert.deepEqual(got, [pullEvents[0], pullEvents[8]]);
});

test('a complete final line without a newline can still carry the error', async () => {
  const { error } = await readUntilError(chunks('{"errorDetail":{"message":"boom"}}'));
  assert.ok(isSkiffError(error, 'engine'));
  assert.equal(error.message, 'boom');
});

test('a terminated line longer than maxLineBytes is a protocol error', async () => {
  const long = JSON.stringify({ status: 'x'.repeat(100) });
  const { seen, error } = await readUntilError(chunks(`${pullLines[0]}\n${long}\n`), 100);
  assert.equal(seen.length, 1);
  assert.ok(isSkiffError(error, 'protocol'));
  assert.match(error.message, /longer than 100 bytes/);
});

test('maxLineBytes counts bytes, not the line terminator', async () => {
  const line = JSON.stringify({ status: 'é'.repeat(10) }); // 33 bytes, 23 characters
  assert.equal((await readAll(chunks(`${line}\r\n`), 33)).length, 1);
  const { error } = await readUntilError(chunks(`${line}\r\n`), 32);
  assert.ok(isSkiffError(error, 'protocol'));
});

test('a line that never ends fails once it exceeds maxLineBytes, without reading the rest', async () => {
  let pulled = 0;
  async function* endless(): AsyncGenerator<Buffer> {
    for (; pulled < 1000; pulled++) yield Buffer.alloc(100, 0x61);
  }
  const { error } = await readUntilError(endless(), 1000);
  assert.ok(isSkiffError(error, 'protocol'));
  assert.ok(pulled <= 11, `read ${pulled} chunks before failing`);
});
