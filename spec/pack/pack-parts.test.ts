// The parts of a pack that need no engine: which images and files a DAG needs (names resolved as
// a run resolves them, what cannot be known said with its place), the tar file read and written
// in pieces (long names, truncation named by member), pull policies for packed images, and the
// bulk connection's HTTP framing against a small server on a Unix socket.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDag } from '../../lib/dag/index.js';
import { isSkiffError } from '../../lib/common/errors.js';
import { packNeeds } from '../../lib/pack/needs.js';
import { parseHead } from '../../lib/pack/format.js';
import { pullMissingForPacked } from '../../lib/pack/pull-policy.js';
import { TarFileWriter, readMembers, scanTar, type MemberCheck, type TarEntry } from '../../lib/pack/tar-file.js';
import { bulkExchange } from '../../lib/engine/bulk.js';

const ENV = { HOME: '/home/tester', PATH: process.env.PATH ?? '/usr/bin:/bin' };
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-pack-parts-'));
  dirs.push(dir);
  return dir;
}

describe('what a DAG needs', () => {
  it('resolves image names from params, env, dotenv and step env; keeps platforms and places', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), 'REGISTRY=reg.local:5000\n');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'a.txt'), 'a');
    const file = join(dir, 'dag.yaml');
    writeFileSync(file, `params:
  - TAG: "1.4"
env:
  - APP: app
steps:
  - name: one
    executor:
      type: docker
      config:
        image: \${REGISTRY}/\${APP}:\${TAG}
        pull: always
    command: "true"
  - name: two
    env:
      - TOOL: tools:2
    executor:
      type: docker
      config:
        image: \${TOOL}
        platform: linux/arm64
    command: "true"
  - name: exec-only
    executor:
      type: docker
      config:
        containerName: already-running
    command: "true"
`);
    const needs = packNeeds(loadDag(file, { env: ENV }), { include: ['data'], cwd: dir, env: ENV });
    assert.deepEqual(needs.images.map((i) => [i.ref, i.platform, i.pullAlways]), [['reg.local:5000/app:1.4', undefined, ['one']], ['tools:2', 'linux/arm64', []]]);
    assert.equal(needs.images[0]!.places[0]!.line, 10, 'the place of the step docker config');
    assert.deepEqual(needs.files.map((f) => f.member), ['dag/dag.yaml', 'dag/.env', 'dag/data/a.txt']);
    assert.deepEqual(needs.unknown, []);
  });

  it('reports an image only a running step can know, and a file outside the DAG directory, with places', () => {
    const dir = tempDir();
    const outside = tempDir();
    writeFileSync(join(outside, 'x.txt'), 'x');
    const file = join(dir, 'dag.yaml');
    writeFileSync(file, `steps:
  - name: make
    command: echo img
    output: IMG
  - name: use
    executor:
      type: docker
      config:
        image: \${IMG}
    command: "true"
`);
    const needs = packNeeds(loadDag(file, { env: ENV }), { include: [join(outside, 'x.txt')], env: ENV });
    assert.equal(needs.images.length, 0);
    assert.match(needs.unknown[0]!.message, /step "use": image \$\{IMG\} depends on something only the run knows/);
    assert.deepEqual([needs.unknown[0]!.place!.line, needs.unknown[0]!.place!.col], [9, 9]);
    assert.match(needs.unknown[1]!.message, /cannot carry --include .*x\.txt: it is outside the DAG file's directory/);
  });

  it('the DAG-level container is the only image when there is one; one name on two platforms is refused', () => {
    const dir = tempDir();
    const file = join(dir, 'dag.yaml');
    writeFileSync(file, `container:\n  image: base:1\n  pullPolicy: always\nsteps:\n  - name: s\n    executor:\n      type: docker\n      config:\n        image: ignored:1\n    command: "true"\n`);
    const dag = loadDag(file, { env: ENV });
    assert.deepEqual(packNeeds(dag, { env: ENV }).images.map((i) => i.ref), ['base:1']);
    const changed = pullMissingForPacked(dag, new Set(['base:1']), ENV);
    assert.equal(changed.dag.container?.pullPolicy, 'missing');
    assert.deepEqual(changed.changed, ['container']);
    assert.equal(dag.container?.pullPolicy, 'always', 'the loaded DAG itself is left alone');

    const twice = join(dir, 'twice.yaml');
    writeFileSync(twice, `steps:\n  - name: a\n    executor: {type: docker, config: {image: x:1, platform: linux/amd64}}\n    command: "true"\n  - name: b\n    executor: {type: docker, config: {image: x:1, platform: linux/arm64}}\n    command: "true"\n`);
    assert.throws(() => packNeeds(loadDag(twice, { env: ENV }), { env: ENV }), (err: unknown) => isSkiffError(err, 'config') && /image x:1 is needed as linux\/amd64 and as linux\/arm64/.test(err.message));
  });

  it("pull: always becomes missing only for packed images, keeping the key's spelling", () => {
    const dir = tempDir();
    const file = join(dir, 'dag.yaml');
    writeFileSync(file, `steps:\n  - name: packed\n    executor: {type: docker, config: {image: a:1, Pull: always}}\n    command: "true"\n  - name: other\n    executor: {type: docker, config: {image: b:1, pull: always}}\n    command: "true"\n`);
    const { dag, changed } = pullMissingForPacked(loadDag(file, { env: ENV }), new Set(['a:1']), ENV);
    assert.deepEqual(changed, ['packed']);
    const config = (i: number) => (dag.steps[i]!.executor as { config: Record<string, unknown> }).config;
    assert.equal(config(0).Pull, 'missing');
    assert.equal(config(1).pull, 'always');
  });
});

describe('swarm steps in a pack', () => {
  it('a swarm step\'s image is packed like a docker step\'s; run from the pack, its steps run the engine\'s own copy (pull: never), others keep theirs', () => {
    const dir = tempDir();
    const file = join(dir, 'dag.yaml');
    writeFileSync(
      file,
      `steps:
  - name: job
    executor: {type: swarm, config: {image: "\${IMG}", platform: linux/amd64}}
    command: "true"
  - name: again
    executor: {type: swarm, config: {image: tools:1, platform: linux/amd64, Pull: always}}
    command: "true"
  - name: pinned
    executor: {type: swarm, config: {image: tools:1, pull: never}}
    command: "true"
  - name: other
    executor: {type: swarm, config: {image: elsewhere:1}}
    command: "true"
  - name: box
    executor: {type: docker, config: {image: tools:1, pull: always}}
    command: "true"
`,
    );
    const loaded = loadDag(file, { env: { ...ENV, IMG: 'tools:1' } });
    const needs = packNeeds(loaded, { env: { ...ENV, IMG: 'tools:1' } });
    assert.deepEqual(needs.images.map((i) => [i.ref, i.platform, i.swarm, i.pullAlways]), [['tools:1', 'linux/amd64', ['job', 'again', 'pinned'], ['box']], ['elsewhere:1', undefined, ['other'], []]]);
    assert.equal(needs.images[0]!.places[0]!.line, 3, 'the place of the swarm step config');

    const { dag, changed, pinned } = pullMissingForPacked(loaded, new Set(['tools:1']), { ...ENV, IMG: 'tools:1' });
    assert.deepEqual(pinned, ['job', 'again'], 'pull: never already needs no change');
    assert.deepEqual(changed, ['box']);
    const config = (i: number) => (dag.steps[i]!.executor as { config: Record<string, unknown> }).config;
    assert.equal(config(0).pull, 'never');
    assert.equal(config(1).Pull, 'never', "the key's spelling kept");
    assert.equal(config(2).pull, 'never');
    assert.equal(config(3).pull, undefined, 'an image the pack did not bring keeps its policy');
    assert.equal(config(4).pull, 'missing');
  });
});

describe('the pack file', () => {
  it('a head of a newer format names the skiff that made it', () => {
    assert.throws(() => parseHead(JSON.stringify({ format: 7, skiff: '3.0.0' }), 'p.tar'), /p\.tar: the pack was made by a newer skiff \(3\.0\.0\), in pack format 7/);
    assert.throws(() => parseHead(JSON.stringify({ format: 1, skiff: '0.1.0', created: '', dag: '../x', files: [], images: [] }), 'p.tar'), /names a file outside dag\//);
  });

  it('written in pieces, read back by tar and by scanTar, long names included', async () => {
    const dir = tempDir();
    const path = join(dir, 'x.tar');
    const long = `dag/${'deep/'.repeat(40)}file.txt`;
    const fd = openSync(path, 'w');
    const tar = new TarFileWriter(fd);
    tar.add({ name: 'one.txt' }, Buffer.from('hello'));
    tar.begin({ name: long, mode: 0o755 }, 6);
    tar.data(Buffer.from('wor'));
    tar.data(Buffer.from('ld'));
    tar.data(Buffer.from('\n'));
    tar.end(6);
    tar.add({ name: 'empty' }, Buffer.alloc(0));
    tar.finish();
    closeSync(fd);
    assert.deepEqual(execFileSync('tar', ['tf', path], { encoding: 'utf8' }).trim().split('\n'), ['one.txt', long, 'empty']);
    const seen: string[] = [];
    const data = new Map<string, string>();
    const entries = await scanTar(path, { onEntry: (e) => seen.push(e.name), onData: (e, c) => data.set(e.name, (data.get(e.name) ?? '') + c.toString()) });
    assert.deepEqual(seen, ['one.txt', long, 'empty']);
    assert.equal(data.get(long), 'world\n');
    assert.equal(entries[1]!.mode, 0o755);
    const members: string[] = [];
    const seenPieces: string[] = [];
    const check = (m: TarEntry): MemberCheck => ({ update: (piece) => void seenPieces.push(piece.toString()), end: () => void seenPieces.push(`end ${m.name.length}`) });
    const buffers = [Buffer.alloc(6), Buffer.alloc(6)];
    for await (const member of readMembers(path, entries.slice(0, 2) as TarEntry[], { buffers, check })) members.push(member.toString());
    assert.deepEqual(members, ['hello', 'world\n'], 'each member whole');
    assert.deepEqual(seenPieces, ['hello', 'end 7', 'world\n', `end ${long.length}`], 'each checked before it is handed out');
    const refused = readMembers(path, entries.slice(0, 2) as TarEntry[], { buffers: [Buffer.alloc(5), Buffer.alloc(5)] });
    await assert.rejects(async () => {
      for await (const _ of refused);
    }, new RegExp(`member ${long} holds 6 bytes, more than the 5 of a part`));
    const failing = readMembers(path, entries.slice(0, 2) as TarEntry[], {
      buffers,
      check: (m) => ({
        update() {},
        end() {
          if (m.name === long) throw new Error('bad');
        },
      }),
    });
    const before: string[] = [];
    await assert.rejects(async () => {
      for await (const m of failing) before.push(m.toString());
    }, /bad/);
    assert.deepEqual(before, ['hello'], 'nothing of a member that fails its check is handed out');

    truncateSync(path, entries[1]!.offset + 3);
    await assert.rejects(scanTar(path, { onEntry() {}, onData() {} }), new RegExp(`the pack is truncated: it ends inside member ${long} \\(3 of 6 bytes\\)`));
    await assert.rejects(scanTar(path, { onEntry() {} }), new RegExp(`the pack is truncated: it ends inside member ${long} \\(3 of 6 bytes\\)`), 'from the headers alone too');
    assert.ok(readFileSync(path).length > 0);
  });
});

describe('bulk exchanges on a connection of our own', () => {
  async function withServer(handler: Parameters<typeof createServer>[1], body: (socketPath: string) => Promise<void>): Promise<void> {
    const socketPath = join(tempDir(), 'engine.sock');
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      await body(socketPath);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('de-chunks a streamed answer byte for byte, and sends a body of known length', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000 + i * 977, i));
    await withServer(
      (req, res) => {
        let received = 0;
        req.on('data', (c: Buffer) => (received += c.length));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/x-tar' });
          let i = 0;
          const next = (): void => {
            if (i === parts.length) {
              res.end(Buffer.from(`received ${received} ${req.headers['content-length']}`));
              return;
            }
            res.write(parts[i++], next);
          };
          next();
        });
      },
      async (socketPath) => {
        const got: Buffer[] = [];
        const chunks = (async function* () {
          const reused = Buffer.alloc(3000);
          for (let i = 0; i < 4; i++) yield reused.fill(i);
        })();
        await bulkExchange({ kind: 'unix', socketPath, url: `unix://${socketPath}` }, { method: 'POST', path: '/x', body: { length: 12000, chunks }, onBody: (c) => got.push(Buffer.from(c)), what: 'test' });
        const all = Buffer.concat(got);
        assert.deepEqual(all.subarray(0, all.length - 'received 12000 12000'.length), Buffer.concat(parts));
        assert.equal(all.subarray(all.length - 'received 12000 12000'.length).toString(), 'received 12000 12000');
      },
    );
  });

  it("an error status becomes the daemon's message", async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'reference does not exist' }));
      },
      async (socketPath) => {
        await assert.rejects(
          bulkExchange({ kind: 'unix', socketPath, url: `unix://${socketPath}` }, { method: 'GET', path: '/images/get', onBody() {}, what: 'save x' }),
          (err: unknown) => isSkiffError(err, 'not-found') && /save x: .*reference does not exist/.test(err.message),
        );
      },
    );
  });
});

describe('what pack, load and run PACK show', async () => {
  const { createPackProgress, formatBytes, packEventLine, packStatusLine } = await import('../../cli/render/pack-progress.js');

  it('lasting lines for what is done, a status line for what is under way', () => {
    assert.equal(formatBytes(566_353_408), '566 MB');
    assert.equal(packEventLine({ type: 'save-done', image: 'app:1', bytes: 2_137_088 }), 'saved app:1 (2.1 MB)');
    assert.equal(packEventLine({ type: 'image-present', image: 'app:1', id: `sha256:${'ab'.repeat(32)}` }), 'app:1 is already in the engine (abababababab)');
    assert.equal(packEventLine({ type: 'load-progress', image: 'app:1', bytes: 5, total: 10 }), undefined);
    assert.equal(packStatusLine({ type: 'load-progress', image: 'app:1', bytes: 500_000, total: 1_000_000 }), 'loading app:1 [==========>         ] 500 kB of 1.0 MB');
  });

  it('off a terminal only lasting lines; --quiet only warnings', () => {
    const out: string[] = [];
    const sink = { write: (s: string) => out.push(s) } as unknown as import('node:stream').Writable;
    const view = createPackProgress(sink);
    view.onEvent({ type: 'save-progress', image: 'app:1', bytes: 10 });
    view.onEvent({ type: 'image-loaded', image: 'app:1', id: `sha256:${'cd'.repeat(32)}` });
    view.done();
    assert.deepEqual(out, ['loaded app:1 (cdcdcdcdcdcd)\n']);
    const quiet: string[] = [];
    const q = createPackProgress({ write: (s: string) => quiet.push(s) } as unknown as import('node:stream').Writable, { quiet: true });
    q.onEvent({ type: 'image-loaded', image: 'app:1', id: `sha256:${'cd'.repeat(32)}` });
    q.onEvent({ type: 'warning', message: 'careful' });
    assert.deepEqual(quiet, ['warning: careful\n']);
  });
});
