// The engine client against the real engine: run, exit codes, streams, stdin, exec,
// TTY, pulls with and without credentials, and an unreachable daemon.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { openEngine, type Engine } from '../../lib/engine/index.js';
import { isSkiffError } from '../../lib/engine/errors.js';
import { encodeRegistryAuth } from '../../lib/engine/auth.js';
import type { ProgressEvent } from '../../lib/engine/json-lines.js';
import { runContainer } from '../../lib/executors/docker/run.js';
import { execIn } from '../../lib/executors/docker/exec.js';
import { Collect, SlowCopy, TEST_IMAGE, engineEnv, liveEngine, reap, testLabels } from '../support/live.js';
import { REGISTRY_IMAGE_LOCK, withImageLock } from '../support/skiff-cli.js';

let engine: Engine;
const Labels = testLabels('engine-live');

before(async () => {
  engine = await liveEngine();
});
after(async () => {
  await reap(engine, Labels);
  await engine.close();
});

async function run(cmd: string[], extra: { tty?: boolean; stdin?: Buffer | string; signal?: AbortSignal; stdout?: Writable } = {}) {
  const stdout = extra.stdout ?? new Collect();
  const stderr = new Collect();
  const result = await runContainer(engine, {
    body: { Image: TEST_IMAGE, Cmd: cmd, Tty: extra.tty, Labels },
    autoRemove: true,
    stdout,
    stderr,
    stdin: extra.stdin,
    signal: extra.signal,
    graceSec: 1,
  });
  return { ...result, stdout: stdout instanceof Collect ? stdout.text() : '', stderr: stderr.text() };
}

test('negotiates the API version from the ping (1.41 on this engine)', async () => {
  assert.equal(await engine.version(), '1.41');
});

test('runs the test image with echo and returns its output', async () => {
  const r = await run(['echo', 'hi']);
  assert.equal(r.stdout, 'hi\n');
  assert.equal(r.exitCode, 0);
});

test('exit codes 0, 1 and 42 come back as the container exit code', async () => {
  for (const code of [0, 1, 42]) {
    const r = await run(['sh', '-c', `exit ${code}`]);
    assert.equal(r.exitCode, code);
  }
});

test('a killed container reports 137 and is removed', async () => {
  const ac = new AbortController();
  // Abort once the container has shown it runs; sleep as PID 1 ignores SIGTERM, so SIGKILL follows.
  const stdout = new Writable({
    write(_chunk, _enc, cb) {
      ac.abort();
      cb();
    },
  });
  const r = await run(['sh', '-c', 'echo started; exec sleep 60'], { signal: ac.signal, stdout });
  assert.equal(r.exitCode, 137);
  assert.equal(r.stopped, true);
  assert.equal(await engine.containers.find(r.id), undefined);
});

test('with onRemoval the run ends at the exit and hands over the removal, which ends with the container gone', async () => {
  const removals: Promise<void>[] = [];
  const stdout = new Collect();
  const r = await runContainer(engine, {
    body: { Image: TEST_IMAGE, Cmd: ['sh', '-c', 'echo bye; exit 7'], Labels },
    autoRemove: true,
    stdout,
    stderr: new Collect(),
    onRemoval: (removed) => removals.push(removed),
  });
  assert.equal(r.exitCode, 7);
  assert.equal(stdout.text(), 'bye\n');
  assert.equal(removals.length, 1);
  await removals[0];
  assert.equal(await engine.containers.find(r.id), undefined);
});

test('onRemoval is not used for a container the caller removes itself (restart policy) or keeps', async () => {
  const removals: Promise<void>[] = [];
  for (const [autoRemove, HostConfig] of [[false, undefined], [true, { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 1 } }]] as const) {
    const r = await runContainer(engine, { body: { Image: TEST_IMAGE, Cmd: ['true'], Labels, HostConfig }, autoRemove, stdout: new Collect(), stderr: new Collect(), onRemoval: (removed) => removals.push(removed) });
    assert.equal(r.exitCode, 0);
    if (autoRemove) assert.equal(await engine.containers.find(r.id), undefined);
    else await engine.containers.remove(r.id, { force: true });
  }
  assert.equal(removals.length, 0);
});

test('stdout and stderr arrive separated', async () => {
  const r = await run(['sh', '-c', 'echo to-out; echo to-err >&2; echo more-out']);
  assert.equal(r.stdout, 'to-out\nmore-out\n');
  assert.equal(r.stderr, 'to-err\n');
});

test('a binary payload passes through stdin, cat and the demuxer byte-exact', async () => {
  const payload = randomBytes(4 * 1024 * 1024);
  const stdout = new Collect();
  const r = await run(['cat'], { stdin: payload, stdout });
  assert.equal(r.exitCode, 0);
  assert.ok(stdout.buffer().equals(payload), 'output differs from the payload');
});

/** Counts the streams `target[method]` really borrowed (it may fall back); restore() undoes it. */
function countBorrowed<T extends object>(target: T, method: keyof T & string): { count(): number; restore(): void } {
  const original = target[method] as unknown as (...args: unknown[]) => Promise<unknown>;
  let count = 0;
  Object.defineProperty(target, method, {
    configurable: true,
    value: async (...args: unknown[]) => {
      const stream = await original.apply(target, args);
      if (stream) count++;
      return stream;
    },
  });
  return { count: () => count, restore: () => void delete (target as Record<string, unknown>)[method] };
}

test('with targetsCopy the output is read into one reused buffer, byte-exact, streams separated', async () => {
  const borrowed = countBorrowed(engine.containers, 'attachBorrowed');
  try {
    const payload = randomBytes(4 * 1024 * 1024);
    const run = async (cmd: string[], tty: boolean, stdin?: Buffer) => {
      const stdout = new SlowCopy();
      const stderr = new SlowCopy();
      const r = await runContainer(engine, { body: { Image: TEST_IMAGE, Cmd: cmd, Tty: tty, Labels }, autoRemove: true, stdin, stdout, stderr, targetsCopy: true });
      return { exitCode: r.exitCode, stdout: stdout.buffer(), stderr: stderr.text() };
    };
    const cat = await run(['cat'], false, payload);
    assert.equal(cat.exitCode, 0);
    assert.ok(cat.stdout.equals(payload), 'output differs from the payload');
    const split = await run(['sh', '-c', 'for i in $(seq 2000); do echo out-$i; echo err-$i >&2; done; exit 3'], false);
    assert.equal(split.exitCode, 3);
    assert.equal(split.stdout.toString(), Array.from({ length: 2000 }, (_, i) => `out-${i + 1}\n`).join(''));
    assert.equal(split.stderr, Array.from({ length: 2000 }, (_, i) => `err-${i + 1}\n`).join(''));
    const tty = await run(['sh', '-c', 'echo out; echo err >&2'], true);
    assert.equal(tty.stdout.toString(), 'out\r\nerr\r\n');
    assert.equal(borrowed.count(), 3);
  } finally {
    borrowed.restore();
  }
});

test('an exec with targetsCopy reads into one reused buffer too: byte-exact, streams separated, exit code', async () => {
  const { Id } = await engine.containers.create({ Image: TEST_IMAGE, Cmd: ['sleep', '60'], Labels });
  const borrowed = countBorrowed(engine.exec, 'startBorrowed');
  try {
    await engine.containers.start(Id);
    const payload = randomBytes(2 * 1024 * 1024);
    const stdout = new SlowCopy();
    const stderr = new SlowCopy();
    const r = await execIn(engine, Id, { body: { Cmd: ['sh', '-c', 'cat; echo to-err >&2; exit 5'] }, stdin: payload, stdout, stderr, targetsCopy: true });
    assert.equal(r.exitCode, 5);
    assert.ok(stdout.buffer().equals(payload), 'output differs from the payload');
    assert.equal(stderr.text(), 'to-err\n');
    assert.equal(borrowed.count(), 1);
  } finally {
    borrowed.restore();
    await engine.containers.remove(Id, { force: true });
  }
});

test('stdin is closed by a half-close: cat ends and its output arrives', async () => {
  const r = await run(['sh', '-c', 'cat; echo after-eof'], { stdin: 'line one\n' });
  assert.equal(r.stdout, 'line one\nafter-eof\n');
  assert.equal(r.exitCode, 0);
});

test('a container with Tty: true gives the raw stream with CRLF and stderr merged', async () => {
  const r = await run(['sh', '-c', 'echo out; echo err >&2'], { tty: true });
  assert.equal(r.stdout, 'out\r\nerr\r\n');
  assert.equal(r.stderr, '');
});

test('exec into a running container returns its output and exit code', async () => {
  const { Id } = await engine.containers.create({ Image: TEST_IMAGE, Cmd: ['sleep', '60'], Labels });
  try {
    await engine.containers.start(Id);
    const stdout = new Collect();
    const stderr = new Collect();
    const r = await execIn(engine, Id, { body: { Cmd: ['sh', '-c', 'echo in-exec; echo e >&2; exit 3'], WorkingDir: '/tmp', Env: ['X=1'] }, stdout, stderr });
    assert.equal(r.exitCode, 3);
    assert.equal(stdout.text(), 'in-exec\n');
    assert.equal(stderr.text(), 'e\n');
    const withStdin = new Collect();
    const r2 = await execIn(engine, Id, { body: { Cmd: ['wc', '-c'] }, stdin: 'twelve bytes', stdout: withStdin, stderr: new Collect() });
    assert.equal(r2.exitCode, 0);
    assert.equal(withStdin.text().trim(), '12');
  } finally {
    await engine.containers.remove(Id, { force: true });
  }
});

test('a start failure is a clear error and leaves no container behind', async () => {
  const before = (await engine.containers.list({ label: [`dev.skiff.run=${Labels['dev.skiff.run']}`] })).length;
  await assert.rejects(
    runContainer(engine, { body: { Image: TEST_IMAGE, Cmd: ['no-such-binary'], Labels }, autoRemove: false, stdout: new Collect(), stderr: new Collect() }),
    (err: unknown) => isSkiffError(err) && /executable file not found/.test(err.message),
  );
  const afterCount = (await engine.containers.list({ label: [`dev.skiff.run=${Labels['dev.skiff.run']}`] })).length;
  assert.equal(afterCount, before);
});

async function pull(image: string, registryAuth?: string): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  for await (const ev of engine.images.pull(image, { registryAuth })) events.push(ev);
  return events;
}

// The registries' busybox images are pulled and removed by other test files too: the shared
// locks keep them out of each other's way.
test('pull from the plain registry streams progress events and lands the image', () =>
  withImageLock(REGISTRY_IMAGE_LOCK, async () => {
    const image = `${engineEnv.SKIFF_REGISTRY}/busybox:latest`;
    await engine.images.remove(image, { force: true });
    try {
      const events = await pull(image);
      assert.ok(events.some((e) => e.status?.startsWith('Pulling from')), 'no "Pulling from" event');
      assert.ok(events.some((e) => e.id && /Pull complete|Download complete|Already exists/.test(e.status ?? '')), 'no layer event');
      assert.ok(events.some((e) => e.status?.startsWith('Status: Downloaded newer image')), 'no final status');
      assert.ok(await engine.images.find(image));
    } finally {
      await engine.images.remove(image, { force: true });
    }
  }));

test('pull from the auth registry works with the right password', () =>
  withImageLock(REGISTRY_IMAGE_LOCK, async () => {
    const registry = engineEnv.SKIFF_AUTH_REGISTRY!;
    const image = `${registry}/busybox:latest`;
    await engine.images.remove(image, { force: true });
    try {
      const auth = encodeRegistryAuth({ username: engineEnv.SKIFF_REGISTRY_USER, password: engineEnv.SKIFF_REGISTRY_PASSWORD }, registry);
      await pull(image, auth);
      assert.ok(await engine.images.find(image));
    } finally {
      await engine.images.remove(image, { force: true });
    }
  }));

test('pull from the auth registry with a wrong password fails clearly and pulls nothing', () =>
  withImageLock(REGISTRY_IMAGE_LOCK, async () => {
    const registry = engineEnv.SKIFF_AUTH_REGISTRY!;
    const image = `${registry}/busybox:latest`;
    await engine.images.remove(image, { force: true });
    const auth = encodeRegistryAuth({ username: engineEnv.SKIFF_REGISTRY_USER, password: 'wrong-password' }, registry);
    await assert.rejects(pull(image, auth), (err: unknown) => {
      assert.ok(isSkiffError(err, 'auth'), `expected an auth error, got ${String(err)}`);
      assert.match(err.message, /unauthorized|authentication required/);
      assert.match(err.message, new RegExp(registry.replace(/\./g, '\\.')));
      assert.doesNotMatch(err.message, /wrong-password/);
      return true;
    });
    assert.equal(await engine.images.find(image), undefined);
  }));

test('a stopped daemon: the first call fails within 2 s naming the socket and how to start it', async () => {
  const down = openEngine({ env: { DOCKER_HOST: 'unix:///tmp/skiff-no-such-docker.sock' } });
  const started = process.hrtime.bigint();
  try {
    await assert.rejects(down.version(), (err: unknown) => {
      assert.ok(isSkiffError(err, 'engine-unreachable'));
      assert.match(err.message, /\/tmp\/skiff-no-such-docker\.sock/);
      assert.match(err.hint ?? '', /engine-up|systemctl start docker/);
      return true;
    });
  } finally {
    await down.close();
  }
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000, 'took 2 s or more');
});

test('DOCKER_HOST over loopback TCP and over TLS with client certificates both reach the engine', async () => {
  const certs = `${engineEnv.SKIFF_ENGINE_DIR}/certs`;
  for (const env of [
    { DOCKER_HOST: engineEnv.SKIFF_TCP_HOST },
    { DOCKER_HOST: engineEnv.SKIFF_TLS_HOST, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs },
  ]) {
    const remote = openEngine({ env });
    try {
      assert.equal(await remote.version(), '1.41');
      for (const targetsCopy of [false, true]) {
        const out = new SlowCopy();
        const r = await runContainer(remote, { body: { Image: TEST_IMAGE, Cmd: ['echo', 'over-tcp'], Labels }, autoRemove: true, stdout: out, stderr: new Collect(), targetsCopy });
        assert.equal(out.text(), 'over-tcp\n');
        assert.equal(r.exitCode, 0);
      }
      // A connection of skiff's own over plain TCP; TLS stays on the dispatcher's path.
      const { Id } = await remote.containers.create({ Image: TEST_IMAGE, Cmd: ['true'], Labels });
      try {
        const stream = await remote.containers.attachBorrowed(Id, { stdout: true, stderr: true });
        stream?.socket.destroy();
        assert.equal(stream !== undefined, env.DOCKER_HOST === engineEnv.SKIFF_TCP_HOST);
      } finally {
        await remote.containers.remove(Id, { force: true });
      }
    } finally {
      await remote.close();
    }
  }
});

test('TLS with an unreadable certificate directory names the file it needs', () => {
  assert.throws(
    () => openEngine({ env: { DOCKER_HOST: engineEnv.SKIFF_TLS_HOST, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent-certs' } }),
    (err: unknown) => isSkiffError(err, 'usage') && /\/nonexistent-certs\/ca\.pem/.test(err.message),
  );
});

test('TLS without a client certificate is refused with a TLS error, not a hang', async () => {
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/skiff-ca-only-'));
  const { copyFile } = await import('node:fs/promises');
  await copyFile(`${engineEnv.SKIFF_ENGINE_DIR}/certs/ca.pem`, `${dir}/ca.pem`);
  const remote = openEngine({ env: { DOCKER_HOST: engineEnv.SKIFF_TLS_HOST, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir } });
  try {
    await assert.rejects(remote.version(), (err: unknown) => isSkiffError(err, 'engine-unreachable') || isSkiffError(err, 'protocol'));
  } finally {
    await remote.close();
  }
});
