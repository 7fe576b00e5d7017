// Tampered copies of a real recording (fixtures/engine/run-echo-1.41.jsonl, an `echo hi` run
// recorded on this machine's engine): a changed response changes what the client sees, and a
// missing or different request fails with one clear SkiffError('replay') that names the request
// made and the one the recording expected. No daemon is involved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openEngine, type Engine } from '../../lib/engine/index.js';
import { isSkiffError, type SkiffError } from '../../lib/engine/errors.js';
import { ReplayDispatcher, type ReplayOptions } from '../../lib/engine/replay/index.js';
import { skiffMatchRules } from '../../lib/replay-rules.js';
import { encodeData, decodeData, parseRecording, type RecordedEvent, type Recording } from '../../lib/engine/recording-format.js';
import { runContainer } from '../../lib/executors/docker/run.js';
import { Collect, repoRoot } from '../support/live.js';

const FILE = join(repoRoot, 'fixtures', 'engine', 'run-echo-1.41.jsonl');
const ID = '06bbed6de20c3a506adc8b576292784b3510699413f5e93200e9689a5a9a5d71';
const LABELS = { 'dev.skiff.owner': 'skiff', 'dev.skiff.run': 'test-replay-errors' };

/** A fresh copy of the recording, changed by `tamper`. */
function tampered(tamper: (events: RecordedEvent[]) => RecordedEvent[], options?: ReplayOptions): { replay: ReplayDispatcher; engine: Engine } {
  const original = parseRecording(readFileSync(FILE, 'utf8'), FILE);
  const recording: Recording = { ...original, events: tamper(structuredClone(original.events)), source: 'tampered run-echo-1.41.jsonl' };
  const replay = new ReplayDispatcher(recording, { match: skiffMatchRules, ...options });
  return { replay, engine: openEngine({ dispatcher: replay, env: { DOCKER_HOST: 'unix:///nonexistent' } }) };
}

function find<E extends RecordedEvent['ev']>(events: RecordedEvent[], n: number, ev: E): Extract<RecordedEvent, { ev: E }> {
  const found = events.find((e) => e.n === n && e.ev === ev);
  assert.ok(found, `the fixture has no ${ev} event in exchange ${n}`);
  return found as Extract<RecordedEvent, { ev: E }>;
}

async function echo(engine: Engine, options: { cmd?: string[]; stdin?: string } = {}) {
  const stdout = new Collect();
  const stderr = new Collect();
  // Removed by the client, not the daemon: the recording ends with a DELETE, which the runs
  // that fail before start also make.
  const r = await runContainer(engine, { body: { Image: 'skiff-busybox:latest', Cmd: options.cmd ?? ['echo', 'hi'], Labels: LABELS }, autoRemove: false, stdin: options.stdin, stdout, stderr });
  await engine.containers.remove(r.id, { force: true });
  return { exitCode: r.exitCode, stdout: stdout.text(), stderr: stderr.text() };
}

function replayError(check: (err: SkiffError) => void) {
  return (err: unknown) => {
    assert.ok(isSkiffError(err, 'replay'), `expected a replay error, got ${String(err)}`);
    check(err);
    return true;
  };
}

test('the untouched recording replays: hi, exit 0', async () => {
  const { replay, engine } = tampered((events) => events);
  assert.deepEqual(await echo(engine), { exitCode: 0, stdout: 'hi\n', stderr: '' });
  replay.assertAllUsed();
});

test('a changed response shows: exit code 7 from the wait, "ho" in the attach frame', async () => {
  const { replay, engine } = tampered((events) => {
    find(events, 4, 'data').data = '{"Error":null,"StatusCode":7}\n';
    const frame = find(events, 3, 'server');
    const bytes = decodeData(frame.data);
    bytes.write('ho\n', 8);
    frame.data = encodeData(bytes);
    return events;
  });
  assert.deepEqual(await echo(engine), { exitCode: 7, stdout: 'ho\n', stderr: '' });
  replay.assertAllUsed();
});

test('a changed response shows: a 409 on create fails the run with the daemon text', async () => {
  const { replay, engine } = tampered((events) => {
    find(events, 2, 'response').status = 409;
    find(events, 2, 'data').data = '{"message":"Conflict. The container name \\"/x\\" is already in use"}\n';
    return events;
  });
  await assert.rejects(echo(engine), (err: unknown) => isSkiffError(err, 'conflict') && /already in use/.test(err.message));
  // The run stopped at create: the rest of the recording was never asked for, and says so.
  assert.equal(replay.unused().length, 4);
  assert.throws(() => replay.assertAllUsed(), (err: unknown) => isSkiffError(err, 'replay') && /4 recorded exchanges were not used/.test(err.message) && err.message.includes(`#3 POST /v1.41/containers/${ID}/attach?stream=1&stdout=1&stderr=1 [upgrade]`));
});

test('a request missing from the recording: one replay error naming the request made and the next recorded', async () => {
  const { replay, engine } = tampered((events) => events.filter((e) => e.n !== 5)); // exchange 5 is the start
  await assert.rejects(
    echo(engine),
    replayError((err) => {
      assert.equal(
        err.message,
        `replay: no recorded exchange for POST /v1.41/containers/${ID}/start; next recorded: #6 DELETE /v1.41/containers/${ID}?force=1 (differs at method: made POST, recorded DELETE) (tampered run-echo-1.41.jsonl)`,
      );
    }),
  );
  assert.equal(replay.misses.length, 1);
  // runContainer still removed the container it created, with the recorded DELETE.
  assert.equal(replay.made.at(-1), `DELETE /v1.41/containers/${ID}?force=1`);
  replay.assertAllUsed();
});

test('a request that differs (another command): the error shows both bodies and where they differ', async () => {
  const { replay, engine } = tampered((events) => events);
  await assert.rejects(
    echo(engine, { cmd: ['echo', 'bye'] }),
    replayError((err) => {
      assert.match(err.message, /^replay: no recorded exchange for POST \/v1\.41\/containers\/create \{"Image":"skiff-busybox:latest","Cmd":\["echo","bye"\],/);
      assert.match(err.message, /; next recorded: #2 POST \/v1\.41\/containers\/create \{"Image":"skiff-busybox:latest","Cmd":\["echo","hi"\],/);
      assert.match(err.message, /\(differs at body\.Cmd\[1\]: made "bye", recorded "hi"\)/);
    }),
  );
  assert.equal(replay.unused().length, 5);
});

test('a later request naming another id than the one the recording handed out is a miss', async () => {
  // The run skips attach, wait and start: the DELETE's answer, recorded after them, waits
  // orderTimeoutMs for them before it goes out.
  const { replay, engine } = tampered((events) => events, { orderTimeoutMs: 200 });
  const { Id } = await engine.containers.create({ Image: 'skiff-busybox:latest', Cmd: ['echo', 'hi'], Labels: LABELS, AttachStdout: true, AttachStderr: true });
  assert.equal(Id, ID);
  const other = 'f'.repeat(64);
  await assert.rejects(
    engine.containers.remove(other, { force: true }),
    replayError((err) => {
      assert.ok(err.message.startsWith(`replay: no recorded exchange for DELETE /v1.41/containers/${other}?force=1; next recorded: #6 DELETE /v1.41/containers/${ID}?force=1`), err.message);
      assert.match(err.message, /differs at path: made id "f{64}", recorded "06bbed6d[0-9a-f]+" \(the recording handed it out as is\)/);
    }),
  );
  const started = process.hrtime.bigint();
  await engine.containers.remove(Id, { force: true });
  const waited = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(waited >= 150 && waited < 2000, `the DELETE answer came after ${waited} ms`);
  assert.equal(replay.misses.length, 1);
  assert.equal(replay.unused().length, 3);
});

test('labels the client makes up are learned once: the same run must keep its run id', async () => {
  // A recording with the create twice, both under the recorded run id.
  const { replay, engine } = tampered((events) => [...events, ...events.filter((e) => e.n === 2).map((e) => ({ ...e, n: 99 }))], { orderTimeoutMs: 50 });
  const create = (run: string) => engine.containers.create({ Image: 'skiff-busybox:latest', Cmd: ['echo', 'hi'], Labels: { ...LABELS, 'dev.skiff.run': run }, AttachStdout: true, AttachStderr: true });
  // The first request with the label teaches the replay this run's id (another than recorded)…
  assert.equal((await create('test-run-a')).Id, ID);
  // …which a later request cannot change: a create under another run id finds nothing.
  await assert.rejects(
    create('test-run-b'),
    replayError((err) => assert.match(err.message, /next recorded: #99 POST .*differs at body\.Labels\.dev\.skiff\.run: made label value "test-run-b", recorded "test-fixture-run-echo" \(this replay already stands "test-run-a" for it\)/)),
  );
  assert.equal((await create('test-run-a')).Id, ID);
  assert.equal(replay.misses.length, 1);
});

test('stdin written into a hijacked session must be the recorded bytes', async () => {
  const { engine } = tampered((events) => {
    const create = find(events, 2, 'request');
    Object.assign(create.json as object, { AttachStdin: true, OpenStdin: true, StdinOnce: true });
    find(events, 3, 'request').path = `/v1.41/containers/${ID}/attach?stream=1&stdin=1&stdout=1&stderr=1`;
    const end = events.findIndex((e) => e.n === 3 && e.ev === 'client-end');
    events.splice(end, 0, { n: 3, ev: 'client', data: 'abc' });
    return events;
  });
  await assert.rejects(
    echo(engine, { stdin: 'abd' }),
    replayError((err) => assert.equal(err.message, `replay: the input written to POST /v1.41/containers/${ID}/attach?stream=1&stdin=1&stdout=1&stderr=1 [upgrade] differs from the recording (#3) at byte 2`)),
  );
});

test('a recording cut short fails the run with a replay error instead of hanging', async () => {
  const { engine } = tampered((events) => events.slice(0, events.findIndex((e) => e.ev === 'server')));
  await assert.rejects(echo(engine), (err: unknown) => isSkiffError(err) && /the recording ends (inside the hijacked session|in the middle) of #?\d*/.test(err.message));
});

test('ask for nothing: assertAllUsed lists every exchange the run never made', async () => {
  const { replay, engine } = tampered((events) => events);
  assert.equal(await engine.version(), '1.41');
  assert.throws(
    () => replay.assertAllUsed(),
    replayError((err) => {
      assert.match(err.message, /^replay: 5 recorded exchanges were not used \(tampered run-echo-1\.41\.jsonl\): #2 POST \/v1\.41\/containers\/create \{"Image"/);
      assert.ok(err.message.includes(`#6 DELETE /v1.41/containers/${ID}?force=1`));
    }),
  );
});

test('a damaged recording file is refused with the line that is wrong', () => {
  const lines = readFileSync(FILE, 'utf8').split('\n');
  lines[4] = '{"n":2,"ev":"request",';
  assert.throws(() => new ReplayDispatcher(parseRecording(lines.join('\n'), 'damaged.jsonl')), (err: unknown) => isSkiffError(err, 'protocol') && /^damaged\.jsonl:5: not a JSON line/.test(err.message));
  assert.throws(() => parseRecording('{"format":"skiff-engine-recording","version":2}\n', 'v2.jsonl'), (err: unknown) => isSkiffError(err, 'protocol') && /version 2; this skiff reads version 1/.test(err.message));
  assert.throws(() => ReplayDispatcher.fromDir('/nonexistent-recording-dir'), (err: unknown) => isSkiffError(err, 'usage') && /\/nonexistent-recording-dir\/engine\.jsonl/.test(err.message));
});
