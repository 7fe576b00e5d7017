// Record real runs against the engine, then replay each recording with no daemon at all
// (DOCKER_HOST points nowhere) through the same client code, and compare: output, exit codes,
// ids, pull progress. The replay phase runs with another run id, pid, host label and temp dir
// than the recording, so the normalisation is exercised on every run. Also: secrets never reach
// a recording file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import tar from 'tar-stream';
import { join } from 'node:path';
import { openEngine, type Engine } from '../../lib/engine/index.js';
import { isSkiffError } from '../../lib/engine/errors.js';
import { createDispatcher } from '../../lib/engine/dispatcher.js';
import { resolveEngineTarget } from '../../lib/engine/host.js';
import { encodeRegistryAuth } from '../../lib/engine/auth.js';
import { RECORDING_FILE, RecordingDispatcher } from '../../lib/engine/record/index.js';
import { ReplayDispatcher } from '../../lib/engine/replay/index.js';
import { skiffMatchRules } from '../../lib/replay-rules.js';
import { REDACTED, decodeData, parseRecording, type Data } from '../../lib/engine/recording-format.js';
import type { ProgressEvent } from '../../lib/engine/json-lines.js';
import { runContainer } from '../../lib/executors/docker/run.js';
import { execIn } from '../../lib/executors/docker/exec.js';
import { Collect, TEST_IMAGE, engineEnv, liveEngine, reap, testLabels } from '../support/live.js';

/** What differs between the recorded run and the replayed one, as it would between two runs. */
interface Ctx {
  labels: Record<string, string>;
  runId: string;
  tmp: string;
}

const Labels = testLabels('record-replay');
let engine: Engine;
let root: string;
let liveCtx: Ctx;
let replayCtx: Ctx;
const timings: Array<{ name: string; liveMs: number; replayMs: number }> = [];

const runIdNow = () => `${new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')}-${randomBytes(4).toString('hex')}`;

async function makeCtx(labels: Record<string, string>): Promise<Ctx> {
  const tmp = await mkdtemp(join(tmpdir(), 'skiff-rr-bind-'));
  await writeFile(join(tmp, 'greeting'), 'hello from the host\n');
  return { labels, runId: runIdNow(), tmp };
}

before(async () => {
  engine = await liveEngine();
  root = await mkdtemp(join(tmpdir(), 'skiff-rr-'));
  liveCtx = await makeCtx(Labels);
  replayCtx = await makeCtx({
    ...Labels,
    'dev.skiff.run': `test-replayed-${randomBytes(4).toString('hex')}`,
    'dev.skiff.pid': String(process.pid + 100_000),
    'dev.skiff.host': 'replay-host',
  });
});

after(async () => {
  await reap(engine, Labels);
  await engine.close();
  // SKIFF_KEEP_RECORDINGS=1 keeps the recordings to look at (the path is printed).
  if (process.env.SKIFF_KEEP_RECORDINGS) console.log(`recordings kept in ${root}`);
  else if (root) await rm(root, { recursive: true, force: true });
  for (const dir of [liveCtx?.tmp, replayCtx?.tmp]) if (dir) await rm(dir, { recursive: true, force: true });
  if (timings.length > 0) {
    const live = timings.reduce((s, t) => s + t.liveMs, 0);
    const replay = timings.reduce((s, t) => s + t.replayMs, 0);
    const rows = timings.map((t) => `  ${t.name.padEnd(22)} live ${t.liveMs.toFixed(0).padStart(6)} ms   replay ${t.replayMs.toFixed(0).padStart(5)} ms`);
    console.log(`record/replay timings:\n${rows.join('\n')}\n  ${'total'.padEnd(22)} live ${live.toFixed(0).padStart(6)} ms   replay ${replay.toFixed(0).padStart(5)} ms`);
  }
});

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * Runs `scenario` against the engine through a RecordingDispatcher, then against a
 * ReplayDispatcher of that recording with no daemon, and checks both gave the same result and
 * that the replay used every recorded exchange.
 */
async function recordAndReplay<T>(name: string, scenario: (engine: Engine, ctx: Ctx) => Promise<T>, options: { secrets?: string[]; compare?: (replayed: T, live: T) => void } = {}) {
  const dir = join(root, name);
  const recorder = RecordingDispatcher.forDir(dir, createDispatcher(resolveEngineTarget(process.env)), { secrets: options.secrets, note: name });
  const t0 = process.hrtime.bigint();
  let live: T;
  try {
    live = await scenario(openEngine({ dispatcher: recorder }), liveCtx);
  } finally {
    await recorder.close();
  }
  const liveMs = ms(t0);

  const replay = ReplayDispatcher.fromDir(dir, { match: skiffMatchRules });
  const t1 = process.hrtime.bigint();
  let replayed: T;
  try {
    replayed = await scenario(openEngine({ dispatcher: replay, env: { DOCKER_HOST: 'unix:///nonexistent' } }), replayCtx);
  } finally {
    await replay.close();
  }
  timings.push({ name, liveMs, replayMs: ms(t1) });
  if (options.compare) options.compare(replayed, live);
  else assert.deepEqual(replayed, live);
  replay.assertAllUsed();
  assert.deepEqual(replay.misses, []);
  return { live, replayed, file: join(dir, RECORDING_FILE), replay };
}

async function run(engine: Engine, ctx: Ctx, body: { Cmd: string[]; Tty?: boolean; Env?: string[]; HostConfig?: Record<string, unknown> }, stdin?: Buffer | string) {
  const stdout = new Collect();
  const stderr = new Collect();
  const r = await runContainer(engine, {
    body: { Image: TEST_IMAGE, Labels: ctx.labels, ...body },
    autoRemove: true,
    stdin,
    stdout,
    stderr,
  });
  return { id: r.id, exitCode: r.exitCode, stdout: stdout.text(), stderr: stderr.text() };
}

test('echo: the same output, exit code and container id come back from the replay', async () => {
  const { live, file } = await recordAndReplay('echo', (e, ctx) => run(e, ctx, { Cmd: ['echo', 'hi'], Env: [`DAG_RUN_ID=${ctx.runId}`] }));
  assert.equal(live.stdout, 'hi\n');
  assert.equal(live.exitCode, 0);
  assert.match(live.id, /^[0-9a-f]{64}$/);
  // The recording shows the run's sequence: ping, create (AutoRemove), attach and a wait for the
  // removal, start; the daemon removes the container, so no DELETE.
  const requests = parseRecording(await readFile(file, 'utf8')).events.filter((e) => e.ev === 'request').map((e) => `${e.method} ${e.path.replace(/[0-9a-f]{64}/, '<id>')}`);
  assert.deepEqual(requests.slice(0, 2), ['HEAD /_ping', 'POST /v1.41/containers/create']);
  assert.deepEqual(requests.slice(2).sort(), ['POST /v1.41/containers/<id>/attach?stream=1&stdout=1&stderr=1', 'POST /v1.41/containers/<id>/start', 'POST /v1.41/containers/<id>/wait?condition=removed']);
});

test('exit code 42 with stdout and stderr separated', async () => {
  const { live } = await recordAndReplay('exit-code', (e, ctx) => run(e, ctx, { Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 42'] }));
  assert.deepEqual([live.exitCode, live.stdout, live.stderr], [42, 'out\n', 'err\n']);
});

const PAYLOAD = randomBytes(512 * 1024);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('stdin through a hijacked attach: a binary payload through cat, and output after EOF', async () => {
  const { live } = await recordAndReplay('attach-stdin', async (e, ctx) => {
    const stdout = new Collect();
    const r = await runContainer(e, { body: { Image: TEST_IMAGE, Cmd: ['cat'], Labels: ctx.labels }, autoRemove: true, stdin: PAYLOAD, stdout, stderr: new Collect() });
    const after = await run(e, ctx, { Cmd: ['sh', '-c', 'cat; echo after-eof'] }, 'line one\n');
    return { exitCode: r.exitCode, bytes: stdout.buffer().length, sha: sha(stdout.buffer()), after: after.stdout };
  });
  assert.deepEqual(live, { exitCode: 0, bytes: PAYLOAD.length, sha: sha(PAYLOAD), after: 'line one\nafter-eof\n' });
});

test('exec with stdin (wc -c, cat) and an exit code, in a running container', async () => {
  const { live } = await recordAndReplay('exec', async (e, ctx) => {
    const { Id } = await e.containers.create({ Image: TEST_IMAGE, Cmd: ['sleep', '60'], Labels: ctx.labels });
    try {
      await e.containers.start(Id);
      const results = [];
      for (const [cmd, stdin] of [
        [['wc', '-c'], 'twelve bytes'],
        [['cat'], 'abc\ndef\n'],
        [['sh', '-c', 'echo in-exec; echo e >&2; exit 3'], undefined],
      ] as const) {
        const stdout = new Collect();
        const stderr = new Collect();
        const r = await execIn(e, Id, { body: { Cmd: [...cmd] }, stdin, stdout, stderr });
        results.push({ exitCode: r.exitCode, stdout: stdout.text(), stderr: stderr.text() });
      }
      return results;
    } finally {
      await e.containers.remove(Id, { force: true });
    }
  });
  assert.equal(live[0]!.stdout.trim(), '12');
  assert.equal(live[1]!.stdout, 'abc\ndef\n');
  assert.deepEqual(live[2], { exitCode: 3, stdout: 'in-exec\n', stderr: 'e\n' });
});

test('a cancelled run (SIGTERM, then SIGKILL after the grace period) replays with the same requests in order', async () => {
  const { live, replay } = await recordAndReplay('cancelled', async (e, ctx) => {
    const ac = new AbortController();
    // Cancel once the container has shown it runs; sleep as PID 1 ignores SIGTERM.
    const stdout = new Writable({
      write(_chunk, _enc, cb) {
        ac.abort();
        cb();
      },
    });
    const r = await runContainer(e, { body: { Image: TEST_IMAGE, Cmd: ['sh', '-c', 'echo started; exec sleep 60'], Labels: ctx.labels }, autoRemove: true, stdout, stderr: new Collect(), signal: ac.signal, graceSec: 1 });
    return { id: r.id, exitCode: r.exitCode, stopped: r.stopped };
  });
  assert.deepEqual([live.exitCode, live.stopped], [137, true]);
  // The exit code was recorded after both kills, so the replay asked for both before it got it.
  const kills = replay.made.filter((m) => m.includes('/kill?'));
  assert.deepEqual(kills.map((k) => k.replace(/.*signal=/, '')), ['SIGTERM', 'SIGKILL']);
});

test('TTY: the raw stream with CRLF and stderr merged', async () => {
  const { live } = await recordAndReplay('tty', (e, ctx) => run(e, ctx, { Cmd: ['sh', '-c', 'echo out; echo err >&2'], Tty: true }));
  assert.equal(live.stdout, 'out\r\nerr\r\n');
});

test('a bind-mounted temp dir and the run id: replayed from another temp dir and run, answers mapped back', async () => {
  const { live, file } = await recordAndReplay('bind', async (e, ctx) => {
    const out = await run(e, ctx, { Cmd: ['cat', '/data/greeting'], HostConfig: { Binds: [`${ctx.tmp}:/data:ro`] } });
    // What the daemon says back about client-made values is this run's, not the recorded run's.
    const { Id } = await e.containers.create({ Image: TEST_IMAGE, Cmd: ['true'], Labels: ctx.labels, Env: [`DAG_RUN_ID=${ctx.runId}`], HostConfig: { Binds: [`${ctx.tmp}:/data:ro`] } });
    try {
      const info = await e.containers.inspect(Id);
      const listed = await e.containers.list({ label: [`dev.skiff.run=${ctx.labels['dev.skiff.run']}`] });
      return {
        stdout: out.stdout,
        binds: info.HostConfig.Binds,
        env: (info.Config.Env as string[]).filter((v) => v.startsWith('DAG_RUN_ID=')),
        labels: [info.Config.Labels?.['dev.skiff.run'], info.Config.Labels?.['dev.skiff.pid'], info.Config.Labels?.['dev.skiff.host']],
        listed: listed.map((c) => [c.Id === Id, c.Labels['dev.skiff.run']]),
      };
    } finally {
      await e.containers.remove(Id, { force: true });
    }
  }, {
    compare: (replayed, live) => {
      const expect = (ctx: Ctx) => ({
        binds: [`${ctx.tmp}:/data:ro`],
        env: [`DAG_RUN_ID=${ctx.runId}`],
        labels: [ctx.labels['dev.skiff.run'], ctx.labels['dev.skiff.pid'], ctx.labels['dev.skiff.host']],
        listed: [[true, ctx.labels['dev.skiff.run']]],
      });
      assert.deepEqual({ ...live, stdout: undefined }, { ...expect(liveCtx), stdout: undefined });
      assert.deepEqual({ ...replayed, stdout: undefined }, { ...expect(replayCtx), stdout: undefined });
      assert.equal(replayed.stdout, live.stdout);
    },
  });
  assert.equal(live.stdout, 'hello from the host\n');
  assert.notEqual(liveCtx.tmp, replayCtx.tmp);
  const text = await readFile(file, 'utf8');
  assert.ok(text.includes(liveCtx.tmp) && !text.includes(replayCtx.tmp), 'the recording holds the recorded temp dir only');
});

async function pull(e: Engine, image: string, registryAuth?: string): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  for await (const ev of e.images.pull(image, { registryAuth })) events.push(ev);
  return events;
}

/**
 * The registry holds the image engine-up pushed: the same manifest check as
 * scripts/test-assets.mjs, with plain fetch (tested without a registry below, through nock).
 */
async function hasManifest(registry: string, options: { repo?: string; credentials?: { user: string; password: string } } = {}): Promise<boolean> {
  const headers: Record<string, string> = { accept: 'application/vnd.docker.distribution.manifest.v2+json' };
  const { credentials } = options;
  if (credentials) headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  const res = await fetch(`http://${registry}/v2/${options.repo ?? 'busybox'}/manifests/latest`, { method: 'HEAD', headers });
  return res.status === 200;
}

test('the manifest check sends Basic credentials and reads 200 / 401 (fetch, through nock)', async () => {
  // nock fits here because this is plain fetch to an HTTP origin. The engine client cannot be
  // tested this way: it is an undici Pool on a unix socket (nock patches http.ClientRequest and
  // the global fetch, neither of which it uses), and attach/exec hijack the connection
  // (Upgrade: tcp, both directions at once), which nock has no model for. That is what the
  // record/replay dispatchers are for.
  const { default: nock } = await import('nock');
  nock.disableNetConnect();
  try {
    const creds = { user: 'skiff', password: 'p+ss/word' };
    const basic = `Basic ${Buffer.from('skiff:p+ss/word').toString('base64')}`;
    const scope = nock('http://registry.test:5001', { reqheaders: { authorization: basic, accept: /manifest\.v2\+json/ } })
      .head('/v2/busybox/manifests/latest')
      .reply(200);
    const anonymous = nock('http://registry.test:5001', { badheaders: ['authorization'] })
      .head('/v2/busybox/manifests/latest')
      .reply(401, '', { 'www-authenticate': 'Basic realm="registry"' });
    assert.equal(await hasManifest('registry.test:5001', { credentials: creds }), true);
    assert.equal(await hasManifest('registry.test:5001'), false);
    scope.done();
    anonymous.done();
  } finally {
    nock.cleanAll();
    nock.enableNetConnect();
    nock.restore();
  }
});

// An image of our own in the plain registry, so a pull always downloads a layer: the registry's
// busybox may share its content with an image a concurrent test has just pulled, and then the
// daemon only tags it, with no progress at all. Pushed once; its content never changes.
const PROGRESS_REPO = 'skiff-rr-progress';

function progressRootfs() {
  const pack = tar.pack();
  // 1 MiB that gzip cannot shrink, so the download takes several progress lines.
  const blocks: Buffer[] = [];
  let seed = createHash('sha256').update('skiff record/replay progress layer').digest();
  for (let i = 0; i < 32768; i++) {
    seed = createHash('sha256').update(seed).digest();
    blocks.push(seed);
  }
  pack.entry({ name: 'payload.bin', mode: 0o644, mtime: new Date(0) }, Buffer.concat(blocks));
  pack.finalize();
  return pack;
}

async function ensureProgressImage(registry: string, auth?: { registryAuth: string; credentials: { user: string; password: string } }): Promise<string> {
  const repo = `${registry}/${PROGRESS_REPO}`;
  if (!(await hasManifest(registry, { repo: PROGRESS_REPO, credentials: auth?.credentials }))) {
    await engine.images.import(progressRootfs(), { repo, tag: 'latest' });
    for await (const _ of engine.images.push(repo, { tag: 'latest', registryAuth: auth?.registryAuth })) {
      // a failure inside the stream throws
    }
  }
  await engine.images.remove(`${repo}:latest`, { force: true });
  return `${repo}:latest`;
}

test('pull with progress from the plain registry (image removed first)', async () => {
  const image = await ensureProgressImage(engineEnv.SKIFF_REGISTRY!);
  try {
    const { live } = await recordAndReplay('pull', async (e) => {
      await e.images.remove(image, { force: true });
      const events = await pull(e, image);
      const found = await e.images.find(image);
      return { events, id: found?.Id };
    });
    assert.ok(live.events.some((ev) => ev.status === 'Downloading' && ev.progressDetail?.total), 'no download progress was recorded');
    assert.ok(live.events.some((ev) => ev.status === 'Pull complete'));
    assert.equal(live.events.at(-1)?.status, `Status: Downloaded newer image for ${image}`);
    assert.match(live.id ?? '', /^sha256:[0-9a-f]{64}$/);
  } finally {
    await engine.images.remove(image, { force: true });
  }
});

test('image import: the streamed tar is recorded chunk by chunk and compared byte for byte on replay', async () => {
  const repo = 'skiff-rr-import';
  const small = (marker: string) => {
    const pack = tar.pack();
    pack.entry({ name: 'hello.txt', mode: 0o644, mtime: new Date(0) }, `imported by the record/replay test ${marker}\n`);
    pack.finalize();
    return pack;
  };
  try {
    const { live, file, replay } = await recordAndReplay('import', async (e) => {
      const id = await e.images.import(small('A'), { repo, tag: 'latest' });
      await e.images.remove(`${repo}:latest`, { force: true });
      return id;
    });
    assert.match(live, /^sha256:[0-9a-f]{64}$/);
    const events = parseRecording(await readFile(file, 'utf8')).events;
    const request = events.find((ev) => ev.ev === 'request' && ev.path.includes('fromSrc'));
    assert.ok(request && request.ev === 'request' && request.stream === true, 'the import request is marked as a stream');
    const bodyEnd = events.find((ev) => ev.ev === 'body-end');
    assert.ok(bodyEnd && bodyEnd.ev === 'body-end' && bodyEnd.bytes >= 1024, 'the body ends with its size');
    assert.ok(events.filter((ev) => ev.ev === 'body').length >= 1);
    assert.equal(replay.misses.length, 0);

    // Another tar on replay: the same request line, but the body differs, and that is an error.
    const other = ReplayDispatcher.fromFile(file, { match: skiffMatchRules });
    const e = openEngine({ dispatcher: other, env: { DOCKER_HOST: 'unix:///nonexistent' } });
    await assert.rejects(e.images.import(small('B'), { repo, tag: 'latest' }), (err: unknown) => {
      assert.ok(isSkiffError(err, 'replay'), String(err));
      assert.match(err.message, /^replay: the body sent with POST \/v1\.41\/images\/create\?fromSrc=-&repo=skiff-rr-import&tag=latest \(a streamed body\) differs from the recording \(#2\) at byte \d+$/);
      return true;
    });
  } finally {
    await engine.images.remove(`${repo}:latest`, { force: true });
  }
});

const password = engineEnv.SKIFF_REGISTRY_PASSWORD!;
const user = engineEnv.SKIFF_REGISTRY_USER!;

test('pull with credentials: works on replay, and no form of the password is in the recording', async () => {
  const registry = engineEnv.SKIFF_AUTH_REGISTRY!;
  const auth = encodeRegistryAuth({ username: user, password }, registry)!;
  assert.ok(await hasManifest(registry, { credentials: { user, password } }), `busybox is missing from ${registry}: run \`bash scripts/engine-up\``);
  // Our own repository there too, so a concurrent test pulling busybox is not disturbed.
  const image = await ensureProgressImage(registry, { registryAuth: auth, credentials: { user, password } });
  try {
    const { file, live } = await recordAndReplay('auth-pull', async (e) => {
      await e.images.remove(image, { force: true });
      const events = await pull(e, image, auth);
      return { events, found: (await e.images.find(image)) !== undefined };
    });
    assert.equal(live.events.at(-1)?.status, `Status: Downloaded newer image for ${image}`);
    assert.ok(live.found);
    const text = await readFile(file, 'utf8');
    assert.match(text, /"x-registry-auth":"<redacted>"/);
    for (const form of secretFormsToGrep()) assert.ok(!text.includes(form), `the recording contains ${JSON.stringify(form)}`);
    assert.ok(!text.includes(auth), 'the recording contains the X-Registry-Auth value');
  } finally {
    await engine.images.remove(image, { force: true });
  }
});

function secretFormsToGrep(): string[] {
  const b64 = Buffer.from(password).toString('base64');
  const b64url = Buffer.from(password).toString('base64url');
  const userPass = Buffer.from(`${user}:${password}`).toString('base64');
  return [password, b64, b64.replace(/=+$/, ''), b64url, b64url.replace(/=+$/, ''), userPass, JSON.stringify(password).slice(1, -1), encodeURIComponent(password)];
}

test('secrets passed to the recorder are redacted in the create body and in TTY output; replay still matches', async () => {
  const script = 'echo "pw=$SECRET"; printf %s "$SECRET" | base64';
  const { live, replayed, file } = await recordAndReplay(
    'secret-output',
    (e, ctx) => run(e, ctx, { Cmd: ['sh', '-c', script], Tty: true, Env: [`SECRET=${password}`] }),
    {
      secrets: [password],
      // What was redacted is not reproduced: the replay shows the marker where the secret was.
      compare: (replayed, live) => assert.equal(replayed.stdout, live.stdout.split(password).join(REDACTED).split(Buffer.from(password).toString('base64')).join(REDACTED)),
    },
  );
  assert.ok(live.stdout.includes(`pw=${password}`));
  assert.ok(replayed.stdout.includes(`pw=${REDACTED}`));
  const text = await readFile(file, 'utf8');
  assert.ok(text.includes(`SECRET=${REDACTED}`), 'the create body keeps the variable with its value redacted');
  for (const form of secretFormsToGrep()) assert.ok(!text.includes(form), `the recording contains ${JSON.stringify(form)}`);
});

test('no recording file of this suite holds the password in any form', async () => {
  const dirs = await readdir(root);
  assert.ok(dirs.length >= 8, `expected the recordings of every test, found ${dirs.join(', ')}`);
  for (const dir of dirs) {
    const text = await readFile(join(root, dir, RECORDING_FILE), 'utf8');
    for (const form of secretFormsToGrep()) assert.ok(!text.includes(form), `${dir}/${RECORDING_FILE} contains ${JSON.stringify(form)}`);
  }
});

test('redaction on disk only: a secret split across chunks, and inside a longer base64 text (recording a replay, no daemon)', async () => {
  // The recorder wraps any Dispatcher; here a replay of a hand-made exchange stands in for the daemon.
  const secret = 'hunter2-S3cr3t';
  const inBlob = Buffer.from(`{"username":"u","password":"${secret}"}`).toString('base64');
  const id = 'ab'.repeat(32);
  const execId = 'cd'.repeat(32);
  const source = [
    { format: 'skiff-engine-recording', version: 1 },
    { n: 1, ev: 'request', method: 'GET', path: `/v1.41/containers/${id}/json` },
    { n: 1, ev: 'response', status: 200, headers: { 'content-type': 'application/json' } },
    { n: 1, ev: 'data', data: '{"Id":"' + id + '","Config":{"Env":["A=hunter2-' },
    { n: 1, ev: 'data', data: 'S3cr3t"],"Labels":{"blob":"' + inBlob + '"}}}\n' },
    { n: 1, ev: 'end' },
    { n: 2, ev: 'request', method: 'POST', path: `/v1.41/exec/${execId}/start`, upgrade: 'tcp', headers: { 'content-type': 'application/json' }, json: { Detach: false, Tty: true } },
    { n: 2, ev: 'upgrade', status: 101, headers: { 'content-type': 'application/vnd.docker.raw-stream' } },
    { n: 2, ev: 'client', data: `echo ${secret}\n` },
    { n: 2, ev: 'client-end' },
    { n: 2, ev: 'server', data: 'the secret is hunt' },
    { n: 2, ev: 'server', data: 'er2-S3cr3t\r\n' },
    { n: 2, ev: 'server-end' },
  ];
  const file = join(root, 'redaction', RECORDING_FILE);
  const recorder = new RecordingDispatcher(new ReplayDispatcher(source.map((l) => JSON.stringify(l)).join('\n')), { file, secrets: [secret] });
  const e = openEngine({ dispatcher: recorder, apiVersion: '1.41', env: { DOCKER_HOST: 'unix:///nonexistent' } });
  const info = await e.containers.inspect(id);
  const { socket } = await e.exec.start(execId, true);
  socket.end(`echo ${secret}\n`);
  const out: Buffer[] = [];
  for await (const chunk of socket) out.push(chunk as Buffer);
  await recorder.close();

  // The client saw the real values…
  assert.deepEqual((info.Config as { Env: string[] }).Env, [`A=${secret}`]);
  assert.equal(Buffer.concat(out).toString(), `the secret is ${secret}\r\n`);
  // …the file never did, in any form, though each secret arrived in two pieces.
  const text = await readFile(file, 'utf8');
  for (const form of [secret, 'hunter2-', 'S3cr3t', Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'), inBlob]) {
    assert.ok(!text.includes(form), `the recording contains ${JSON.stringify(form)}`);
  }
  const lines = parseRecording(text, file).events;
  const data = lines.filter((l) => l.ev === 'data' || l.ev === 'server' || l.ev === 'client').map((l) => decodeData((l as { data: Data }).data).toString());
  assert.ok(data.join('').includes(`"Env":["A=${REDACTED}"]`), data.join(''));
  assert.ok(data.includes(`echo ${REDACTED}\n`));
  assert.ok(data.join('').includes(`the secret is ${REDACTED}\r\n`));
});
