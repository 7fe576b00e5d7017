// Hand-written recordings (fixtures/engine/) for what the engine on this machine cannot show:
// other API versions, a pull failing mid-stream, a wait that ends in an error, attach output
// split at every byte, and 304/404 answers that are success. Each is replayed through the real
// client code (openEngine, runContainer, execIn, images.pull) with no daemon behind it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openEngine, type Engine } from '../../lib/engine/index.js';
import { isSkiffError } from '../../lib/engine/errors.js';
import type { ProgressEvent } from '../../lib/engine/json-lines.js';
import { ReplayDispatcher } from '../../lib/engine/replay/index.js';
import { skiffMatchRules } from '../../lib/replay-rules.js';
import { runContainer } from '../../lib/executors/docker/run.js';
import { execIn } from '../../lib/executors/docker/exec.js';
import { Collect, repoRoot } from '../support/live.js';

const fixture = (name: string) => join(repoRoot, 'fixtures', 'engine', name);

function replayOf(name: string): { replay: ReplayDispatcher; engine: Engine } {
  const replay = ReplayDispatcher.fromFile(fixture(name), { match: skiffMatchRules });
  return { replay, engine: openEngine({ dispatcher: replay, env: { DOCKER_HOST: 'unix:///nonexistent' } }) };
}

async function echo(engine: Engine, cmd: string[]) {
  const stdout = new Collect();
  const stderr = new Collect();
  const r = await runContainer(engine, { body: { Image: 'skiff-busybox:latest', Cmd: cmd }, autoRemove: true, stdout, stderr });
  return { ...r, stdout, stderr };
}

/** Every path but the ping carries the version prefix. */
function assertPrefixed(replay: ReplayDispatcher, version: string): void {
  assert.equal(replay.made[0], 'HEAD /_ping');
  for (const request of replay.made.slice(1)) assert.match(request, new RegExp(`^[A-Z]+ /v${version.replace('.', '\\.')}/`), request);
}

test('API 1.30 in the ping: skiff speaks 1.30 and prefixes every path with /v1.30', async () => {
  const { replay, engine } = replayOf('api-1.30.jsonl');
  assert.equal(await engine.version(), '1.30');
  const r = await echo(engine, ['echo', 'hi from 1.30']);
  assert.equal(r.stdout.text(), 'hi from 1.30\n');
  assert.equal(r.exitCode, 0);
  assertPrefixed(replay, '1.30');
  // ping, create, attach, wait (on removed), start: the daemon removes the container itself.
  assert.equal(replay.made.length, 5);
  replay.assertAllUsed();
});

test('API 1.44 in the ping: skiff speaks 1.44 (below its 1.47 maximum) for an exec', async () => {
  const { replay, engine } = replayOf('api-1.44.jsonl');
  assert.equal(await engine.version(), '1.44');
  const stdout = new Collect();
  const stderr = new Collect();
  const r = await execIn(engine, '144c'.repeat(16), { body: { Cmd: ['sh', '-c', 'echo from 1.44; echo warn >&2'] }, stdout, stderr });
  assert.deepEqual([r.exitCode, stdout.text(), stderr.text()], [0, 'from 1.44\n', 'warn\n']);
  assertPrefixed(replay, '1.44');
  assert.deepEqual(replay.made.slice(1).map((m) => m.replace(/[0-9a-f]{64}/, '<id>')), [
    'POST /v1.44/containers/<id>/exec',
    'POST /v1.44/exec/<id>/start',
    'GET /v1.44/exec/<id>/json',
  ]);
  replay.assertAllUsed();
});

test('a daemon error in the middle of a pull stream: progress first, then SkiffError engine with the text', async () => {
  const { replay, engine } = replayOf('pull-error-midstream.jsonl');
  const seen: ProgressEvent[] = [];
  await assert.rejects(
    (async () => {
      for await (const ev of engine.images.pull('127.0.0.1:5000/broken')) seen.push(ev);
    })(),
    (err: unknown) => {
      assert.ok(isSkiffError(err, 'engine'), `expected an engine error, got ${String(err)}`);
      assert.equal(err.message, 'failed to register layer: write /usr/lib/x: no space left on device');
      return true;
    },
  );
  assert.deepEqual(
    seen.map((e) => e.status),
    ['Pulling from broken', 'Pulling fs layer', 'Downloading', 'Downloading'],
  );
  assert.equal(seen[3]?.progressDetail?.current, 1048576);
  replay.assertAllUsed();
});

test('a wait that ends with {"Error":{"Message":…},"StatusCode":-1}: runContainer rejects with that text', async () => {
  const { replay, engine } = replayOf('wait-error.jsonl');
  await assert.rejects(echo(engine, ['sleep', '1']), (err: unknown) => {
    assert.ok(isSkiffError(err, 'engine'), `expected an engine error, got ${String(err)}`);
    assert.match(err.message, /failed to wait: context canceled while the daemon shut down/);
    return true;
  });
  // The container is still removed on the failure path.
  assert.match(replay.made.at(-1) ?? '', /^DELETE \/v1\.41\/containers\/[0-9a-f]{64}\?force=1$/);
  replay.assertAllUsed();
});

test('attach frames split at every byte: output byte-exact, multi-byte characters intact', async () => {
  const { replay, engine } = replayOf('attach-split-bytes.jsonl');
  const r = await echo(engine, ['sh', '-c', 'echo "hello, wörld"; echo "oops ✗" >&2; echo bye']);
  assert.equal(r.exitCode, 0);
  assert.ok(r.stdout.buffer().equals(Buffer.from('hello, wörld\nbye\n', 'utf8')));
  assert.ok(r.stderr.buffer().equals(Buffer.from('oops ✗\n', 'utf8')));
  // It really arrived a byte at a time: one write per payload byte.
  assert.equal(r.stdout.parts.length, Buffer.byteLength('hello, wörld\nbye\n'));
  assert.ok(r.stdout.parts.every((p) => p.length === 1));
  replay.assertAllUsed();
});

test('304 on start (already running) and 404 on remove (already gone) are both success', async () => {
  const { replay, engine } = replayOf('start-304-remove-404.jsonl');
  const id = '3040'.repeat(16);
  await engine.containers.start(id);
  await engine.containers.remove(id, { force: true });
  assert.deepEqual(replay.misses, []);
  replay.assertAllUsed();
});

test('the recorded echo run with autoRemove (fixtures/engine/run-echo-autoremove-1.41.jsonl) replays as recorded', async () => {
  const { replay, engine } = replayOf('run-echo-autoremove-1.41.jsonl');
  const stdout = new Collect();
  const r = await runContainer(engine, {
    body: { Image: 'skiff-busybox:latest', Cmd: ['echo', 'hi'], Labels: { 'dev.skiff.owner': 'skiff', 'dev.skiff.run': 'test-other-run' } },
    autoRemove: true,
    stdout,
    stderr: new Collect(),
  });
  assert.deepEqual([r.exitCode, stdout.text(), r.id], [0, 'hi\n', '5f324e111b5cc62dd3b01c1355d2bb1ac3ba4bb4fc91d41c69945a07d22fb399']);
  replay.assertAllUsed();
});

test('the recorded order holds across exchanges: the wait answers only after start was asked for', async () => {
  const { replay, engine } = replayOf('run-echo-1.41.jsonl');
  const id = '06bbed6de20c3a506adc8b576292784b3510699413f5e93200e9689a5a9a5d71';
  await engine.containers.create({ Image: 'skiff-busybox:latest', Cmd: ['echo', 'hi'], Labels: { 'dev.skiff.owner': 'skiff', 'dev.skiff.run': 'test-order' }, AttachStdout: true, AttachStderr: true });
  const [{ socket }, wait] = await Promise.all([engine.containers.attach(id, {}), engine.containers.registerWait(id, 'next-exit')]);
  let exited = false;
  void wait.result.then(() => (exited = true));
  const output: Buffer[] = [];
  socket.on('data', (c: Buffer) => output.push(c));
  await new Promise((r) => setTimeout(r, 100));
  // Recorded after the start request: neither the exit code nor the output may come before it.
  assert.equal(exited, false);
  assert.equal(output.length, 0);
  await engine.containers.start(id);
  socket.end();
  assert.deepEqual(await wait.result, { Error: null, StatusCode: 0 });
  await new Promise((r) => socket.once('close', r));
  assert.equal(Buffer.concat(output).subarray(8).toString(), 'hi\n');
  await engine.containers.remove(id, { force: true });
  replay.assertAllUsed();
});
