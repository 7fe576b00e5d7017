// `skiff pack` and `skiff run PACK.tar`, live: DAGs whose images come from a registry and from
// this machine are packed, the images removed and the registry stopped, and the packs run with
// the same reports as the files did; then packs that are wrong in every way the issue names fail
// before any container exists, naming what is wrong, and leave nothing behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import type { Engine } from '../../lib/engine/index.js';
import type { RunReport } from '../../lib/dag/report.js';
import { liveEngine } from '../support/live.js';
import { stableReport } from '../support/replay-check.js';
import { containersOfDag, type CliResult, removeTempDirs, skiff, tempDir, writeDag } from '../support/skiff-cli.js';
import { buildMarkedImage, freePort, pushTo, startRegistry, type ThrowawayRegistry } from '../support/pack-assets.js';

const PID = process.pid;
const LOCAL = `skiff-pack-test-local-${PID}:1`;
const STEPS_DAG = `pack-steps-${PID}`;
const CONTAINER_DAG = `pack-container-${PID}`;

let engine: Engine;
let dir: string;
let registry: ThrowawayRegistry;
let remote: string;
const ids: string[] = [];

function show(result: CliResult): string {
  return `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** The report without what differs between any two runs (run ids in log paths). */
function comparable(report: RunReport | undefined): RunReport {
  assert.ok(report, 'a report was written');
  return stableReport(report);
}

const stepsYaml = (image: string): string => `name: ${STEPS_DAG}
dotenv: .env
params:
  - LOCAL_IMAGE: ${LOCAL}
steps:
  - name: local
    executor:
      type: docker
      config:
        image: \${LOCAL_IMAGE}
        autoRemove: true
    command: cat /marker
    output: LOCAL_MARKER
  - name: remote
    executor:
      type: docker
      config:
        image: ${image}
        pull: always
        autoRemove: true
        host:
          binds:
            - ./data:/data:ro
    command: sh -c 'cat /marker /data/greeting.txt; echo "$GREETING"'
    env:
      - GREETING: \${GREETING}
    output: REMOTE_OUT
`;

const containerYaml = (image: string): string => `name: ${CONTAINER_DAG}
container:
  image: ${image}
  pullPolicy: always
steps:
  - cat /marker
  - echo second step in the same container
`;

before(async () => {
  engine = await liveEngine();
  dir = await tempDir('pack');
  ids.push(await buildMarkedImage(engine, LOCAL, `local-${PID}`));
  registry = await startRegistry(await tempDir('pack-registry'));
  remote = `${registry.address}/skiff-pack-test-remote-${PID}:1`;
  const staging = `skiff-pack-test-staging-${PID}:1`;
  ids.push(await buildMarkedImage(engine, staging, `remote-${PID}`));
  await pushTo(engine, staging, remote);
  await engine.images.remove(staging);
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'greeting.txt'), 'from the bind\n');
  await writeFile(join(dir, '.env'), 'GREETING=from the dotenv\n');
  await writeDag(dir, 'steps.yaml', stepsYaml(remote));
  await writeDag(dir, 'container.yaml', containerYaml(remote));
});

after(async () => {
  await registry?.stop();
  for (const id of ids) await engine.images.remove(id, { force: true }).catch(() => {});
  for (const dag of [STEPS_DAG, CONTAINER_DAG]) for (const c of await containersOfDag(engine, dag)) await engine.containers.remove(c.Id, { force: true });
  await engine.close();
  await removeTempDirs();
});

async function removeTestImages(): Promise<void> {
  for (const id of ids) await engine.images.remove(id, { force: true });
  for (const id of ids) assert.equal(await engine.images.find(id), undefined, `image ${id} is gone`);
}

describe('a DAG carried across an air gap', { concurrency: false }, () => {
  let fromFileSteps: CliResult;
  let fromFileContainer: CliResult;
  const stepsPack = () => join(dir, 'steps.pack.tar');
  const containerPack = () => join(dir, 'container.pack.tar');

  test('--list names both images, with the places that ask for them, and the files, without pulling', async () => {
    const result = await skiff(['pack', '--list', 'steps.yaml', '--include', 'data'], { cwd: dir });
    assert.equal(result.code, 0, show(result));
    assert.match(result.stdout, new RegExp(`^image ${LOCAL.replace(/[.:]/g, '\\$&')} .*steps\\.yaml:\\d+:\\d+$`, 'm'));
    assert.match(result.stdout, new RegExp(`^image ${remote.replace(/[.:]/g, '\\$&')} `, 'm'));
    for (const file of ['steps.yaml', '.env', 'data/greeting.txt']) assert.match(result.stdout, new RegExp(`^file  ${file.replace('.', '\\.')} `, 'm'));
    assert.equal(await engine.images.find(remote), undefined, '--list pulled nothing');
  });

  test('the DAGs run from their files (the reference reports)', async () => {
    fromFileSteps = await skiff(['run', join(dir, 'steps.yaml')], { cwd: dir });
    assert.equal(fromFileSteps.code, 0, show(fromFileSteps));
    assert.deepEqual(fromFileSteps.report!.steps.map((s) => s.outputs), [{ LOCAL_MARKER: `local-${PID}` }, { REMOTE_OUT: `remote-${PID}\nfrom the bind\nfrom the dotenv` }]);
    fromFileContainer = await skiff(['run', join(dir, 'container.yaml')], { cwd: dir });
    assert.equal(fromFileContainer.code, 0, show(fromFileContainer));
  });

  test('skiff pack pulls what is missing and writes the DAG, its files and both images', async () => {
    await engine.images.remove(remote, { force: true });
    const result = await skiff(['pack', 'steps.yaml', '--include', 'data'], { cwd: dir });
    assert.equal(result.code, 0, show(result));
    assert.match(result.stdout, /^wrote steps\.pack\.tar \(.+\): 2 image\(s\), 3 file\(s\)$/m);
    assert.match(result.stderr, new RegExp(`pulled ${remote.replace(/[.:]/g, '\\$&')}`));
    const names = execFileSync('tar', ['tf', stepsPack()], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(names[0], 'skiff-pack.json');
    assert.equal(names.at(-1), 'skiff-pack.sha256');
    for (const name of ['dag/steps.yaml', 'dag/.env', 'dag/data/greeting.txt', 'images/1/part-0001', 'images/2/part-0001']) assert.ok(names.includes(name), `${name} in ${names.join(' ')}`);
    const head = JSON.parse(execFileSync('tar', ['xOf', stepsPack(), 'skiff-pack.json'], { encoding: 'utf8' })) as { images: Array<{ ref: string; id: string; platform: string }> };
    assert.deepEqual(head.images.map((i) => [i.ref, i.id]).sort(), [[LOCAL, ids[0]], [remote, ids[1]]].sort());
    assert.ok(head.images.every((i) => /^linux\/\w+/.test(i.platform)));
    // The sums are sha256sum's own format: a user can check an extracted pack with it.
    const sums = execFileSync('tar', ['xOf', stepsPack(), 'skiff-pack.sha256'], { encoding: 'utf8' });
    assert.equal(sums.trim().split('\n').length, names.length - 1);

    const packed = await skiff(['pack', 'container.yaml'], { cwd: dir });
    assert.equal(packed.code, 0, show(packed));
  });

  test('with the images gone and the registry stopped, skiff run PACK.tar gives the same report as the file', async () => {
    await registry.stop();
    await removeTestImages();
    const result = await skiff(['run', stepsPack()], { cwd: dir });
    assert.equal(result.code, 0, show(result));
    assert.deepEqual(comparable(result.report), comparable(fromFileSteps.report));
    assert.match(result.stderr, new RegExp(`loaded ${LOCAL.replace(/[.:]/g, '\\$&')}`));
    assert.match(result.stderr, new RegExp(`loaded ${remote.replace(/[.:]/g, '\\$&')}`));
    // `pull: always` on the remote step would need the stopped registry: said once, not pulled.
    assert.equal(result.stderr.split('treated as `missing`').length - 1, 1, result.stderr);
    assert.ok(existsSync(join(dir, 'steps.pack', 'data', 'greeting.txt')), 'unpacked beside the pack');
  });

  test('a second run of the same pack loads nothing', async () => {
    const result = await skiff(['run', stepsPack()], { cwd: dir });
    assert.equal(result.code, 0, show(result));
    assert.deepEqual(comparable(result.report), comparable(fromFileSteps.report));
    assert.match(result.stderr, /nothing to load: the engine has all 2 image\(s\) of the pack/);
    assert.doesNotMatch(result.stderr, /^loaded /m);
  });

  test('a DAG-level container (pull policy always) runs from its pack as from its file, its image loaded', async () => {
    await engine.images.remove(remote, { force: true });
    const result = await skiff(['run', containerPack()], { cwd: dir });
    assert.equal(result.code, 0, show(result));
    assert.deepEqual(comparable(result.report), comparable(fromFileContainer.report));
    assert.match(result.stderr, new RegExp(`loaded ${remote.replace(/[.:]/g, '\\$&')}`));
    assert.match(result.stderr, /treated as `missing` .*\(container\)/);
  });

  test('skiff load loads only; the engine having the images, it loads nothing', async () => {
    const result = await skiff(['load', stepsPack()], { cwd: dir });
    assert.equal(result.code, 0, show(result));
    assert.match(result.stdout, /^nothing to load: the engine has all 2 image\(s\) of the pack$/m);
  });

  test('a pack cannot be unpacked over a directory holding something else', async () => {
    const other = join(dir, 'occupied');
    await mkdir(other);
    await writeFile(join(other, 'mine.txt'), 'keep me\n');
    const result = await skiff(['run', stepsPack(), '--dir', other], { cwd: dir });
    assert.equal(result.code, 2, show(result));
    assert.match(result.stderr, /cannot unpack into .*occupied: it already holds other files \(e\.g\. mine\.txt\), and skiff never overwrites them/);
    assert.deepEqual(readdirSync(other), ['mine.txt']);
  });

  describe('a pack that is wrong fails before any container is created, naming the member', () => {
    async function failsBeforeContainers(pack: string, expectedCode: number, message: RegExp): Promise<CliResult> {
      const unpackTo = join(dir, `unpack-${createHash('sha256').update(pack).digest('hex').slice(0, 8)}`);
      const result = await skiff(['run', pack, '--dir', unpackTo], { cwd: dir });
      assert.equal(result.code, expectedCode, show(result));
      assert.match(result.stderr, message);
      assert.equal(result.report?.phase, 'load');
      assert.deepEqual(result.runIds, [], 'no run started');
      assert.deepEqual(await containersOfDag(engine, STEPS_DAG), [], 'no container');
      assert.ok(!existsSync(unpackTo), 'nothing unpacked');
      return result;
    }

    test('a changed byte in an image part: the member, expected and got', async () => {
      const bytes = await readFile(stepsPack());
      const at = memberOffset(bytes, 'images/2/part-0001') + 1000;
      bytes[at] = bytes[at]! ^ 0xff;
      const tampered = join(dir, 'tampered.pack.tar');
      await writeFile(tampered, bytes);
      await failsBeforeContainers(tampered, 2, /member images\/2\/part-0001 is damaged or was changed: sha256 expected [0-9a-f]{64}, got [0-9a-f]{64}/);
    });

    test('a changed DAG file', async () => {
      const bytes = await readFile(stepsPack());
      const at = memberOffset(bytes, 'dag/steps.yaml');
      bytes.write('NAME', at + 6);
      const tampered = join(dir, 'tampered-dag.pack.tar');
      await writeFile(tampered, bytes);
      await failsBeforeContainers(tampered, 2, /member dag\/steps\.yaml is damaged or was changed: sha256 expected/);
    });

    test('a pack cut short inside an image part', async () => {
      const bytes = await readFile(stepsPack());
      const cut = memberOffset(bytes, 'images/1/part-0001') + 5000;
      const truncated = join(dir, 'truncated.pack.tar');
      await writeFile(truncated, bytes.subarray(0, cut));
      await failsBeforeContainers(truncated, 2, /the pack is truncated: it ends inside member images\/1\/part-0001 \(\d+ of \d+ bytes\)/);
    });

    test('a pack cut short between members (its sums gone)', async () => {
      const bytes = await readFile(stepsPack());
      const truncated = join(dir, 'truncated-sums.pack.tar');
      await writeFile(truncated, bytes.subarray(0, memberOffset(bytes, 'skiff-pack.sha256') - 512));
      await failsBeforeContainers(truncated, 2, /the pack is truncated: it ends after member images\/2\/part-\d+/);
    });

    test('a pack from a newer skiff', async () => {
      const newer = join(dir, 'newer.pack.tar');
      await writePack(newer, { format: 99, skiff: '9.1.0', created: '', dag: 'dag/x.yaml', files: ['dag/x.yaml'], images: [] }, [['dag/x.yaml', Buffer.from('steps: []\n')]]);
      await failsBeforeContainers(newer, 2, /the pack was made by a newer skiff \(9\.1\.0\), in pack format 99; this skiff reads format 1 and older/);
    });

    test('an image the engine refuses to load: the engine says why, nothing runs', async () => {
      const refused = join(dir, 'refused.pack.tar');
      const yaml = `name: ${STEPS_DAG}\nsteps:\n  - name: s\n    executor:\n      type: docker\n      config:\n        image: skiff-pack-test-refused-${PID}:1\n    command: "true"\n`;
      await writePack(
        refused,
        { format: 1, skiff: '0.1.0', created: '', dag: 'dag/r.yaml', files: ['dag/r.yaml'], images: [{ ref: `skiff-pack-test-refused-${PID}:1`, id: `sha256:${'0'.repeat(64)}`, platform: 'linux/amd64', prefix: 'images/1/' }] },
        [['dag/r.yaml', Buffer.from(yaml)], ['images/1/part-0001', Buffer.alloc(4096, 7)]],
      );
      const result = await skiff(['run', refused, '--dir', join(dir, 'refused')], { cwd: dir });
      assert.equal(result.code, 1, show(result));
      assert.match(result.stderr, new RegExp(`the engine refused image skiff-pack-test-refused-${PID}:1 from the pack: .*tar`));
      assert.deepEqual(result.runIds, []);
      assert.deepEqual(await containersOfDag(engine, STEPS_DAG), []);
      assert.ok(!existsSync(join(dir, 'refused')), 'what was unpacked is removed');
    });
  });
});

describe('skiff pack fails cleanly', () => {
  test('an image that cannot be pulled: its place, and no pack', async () => {
    const port = await freePort();
    await writeDag(dir, 'unpullable.yaml', `steps:\n  - name: s\n    executor:\n      type: docker\n      config:\n        image: 127.0.0.1:${port}/nothing-here:1\n    command: "true"\n`);
    const result = await skiff(['pack', 'unpullable.yaml', '-o', 'unpullable.pack.tar'], { cwd: dir });
    assert.equal(result.code, 1, show(result));
    assert.match(result.stderr, new RegExp(`cannot pull 127\\.0\\.0\\.1:${port}/nothing-here:1 \\(needed at .*unpullable\\.yaml:6:9\\)`));
    assert.ok(!existsSync(join(dir, 'unpullable.pack.tar')));
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('partial')), []);
  });

  test('a disk that fills up while packing: said so, and the partial file removed', async () => {
    // A 1 MiB tmpfs of our own (the test engine runs as root): too small for the image.
    const small = join(dir, 'small-disk');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      const result = await skiff(['pack', 'container.yaml', '-o', join(small, 'container.pack.tar')], { cwd: dir });
      assert.equal(result.code, 1, show(result));
      assert.match(result.stderr, /cannot write the pack .*container\.pack\.tar: the disk is full \(nothing was left behind\)/);
      assert.deepEqual(readdirSync(small), []);
    } finally {
      execFileSync('umount', [small]);
    }
    const full = await skiff(['pack', 'container.yaml', '-o', '/dev/full'], { cwd: dir });
    assert.equal(full.code, 1, show(full));
    assert.match(full.stderr, /cannot write the pack \/dev\/full: the disk is full/);
  });

  test('Ctrl-C while the pack is being written (the next image asked for ahead): exit 130, and no pack nor partial file left', async () => {
    const ref = `skiff-pack-test-big-${PID}:1`;
    const next = `skiff-pack-test-next-${PID}:1`;
    ids.push(await buildMarkedImage(engine, ref, `big-${PID}`, 96 * 1024 * 1024));
    ids.push(await buildMarkedImage(engine, next, `next-${PID}`));
    const sub = join(dir, 'interrupted');
    await mkdir(sub);
    await writeDag(sub, 'big.yaml', `steps:\n${dockerStep('s', ref)}${dockerStep('t', next)}`);
    let interrupted = false;
    const result = await skiff(['pack', 'big.yaml', '-o', 'big.pack.tar'], {
      cwd: sub,
      started: (child) => {
        // Once the partial file has data (the image is streaming into it), interrupt.
        const poll = setInterval(() => {
          const partial = readdirSync(sub).find((n) => n.endsWith('.partial'));
          if (partial && statSync(join(sub, partial)).size > 1024 * 1024) {
            clearInterval(poll);
            interrupted = child.kill('SIGINT');
          }
        }, 10);
        child.once('exit', () => clearInterval(poll));
      },
    });
    assert.ok(interrupted, `interrupted while writing: ${show(result)}`);
    assert.equal(result.code, 130, show(result));
    assert.match(result.stderr, /cancelled by user \(SIGINT\)/);
    assert.deepEqual(readdirSync(sub), ['big.yaml']);
  });

  test('an image named by something only the run knows is reported with its place', async () => {
    await writeDag(dir, 'dynamic.yaml', `steps:\n  - name: make\n    command: echo x\n    output: IMG\n  - name: use\n    executor:\n      type: docker\n      config:\n        image: \${IMG}\n    command: "true"\n`);
    const result = await skiff(['pack', '--list', 'dynamic.yaml'], { cwd: dir });
    assert.equal(result.code, 0, show(result));
    assert.match(result.stderr, /warning: dynamic\.yaml:9:9: step "use": image \$\{IMG\} depends on something only the run knows/);
  });
});

describe('a pack is checked as it is loaded: nothing of a changed image reaches the engine whole', () => {
  test('the engine: a load cut off before its last bytes (the end of the archive held back) leaves no image and no tag', async () => {
    const ref = `skiff-pack-test-cut-${PID}:1`;
    const id = await buildMarkedImage(engine, ref, `cut-${PID}`);
    ids.push(id);
    const saved: Buffer[] = [];
    await engine.images.saveInto([ref], (chunk) => saved.push(Buffer.from(chunk)));
    const archive = Buffer.concat(saved);
    await engine.images.remove(id, { force: true });
    // Everything but the two zero blocks that end the tar: every member of the archive has gone.
    assert.ok(archive.subarray(-1024).equals(Buffer.alloc(1024)), 'a docker save archive ends with its end-of-archive blocks');
    const chunks = (async function* () {
      yield archive.subarray(0, archive.length - 1024);
      await new Promise((resolve) => setTimeout(resolve, 200));
      throw new Error('part did not match');
    })();
    await assert.rejects(engine.images.loadArchive({ length: archive.length, chunks }), /part did not match/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await engine.images.find(id), undefined, 'no image');
    assert.equal(await engine.images.find(ref), undefined, 'no tag');
  });

  test('skiff load of a pack changed in the last part of an image: the member, expected and got; no image loaded, the one before removed', async () => {
    const small = `skiff-pack-test-late-small-${PID}:1`;
    const big = `skiff-pack-test-late-big-${PID}:1`;
    ids.push(await buildMarkedImage(engine, small, `late-small-${PID}`));
    ids.push(await buildMarkedImage(engine, big, `late-big-${PID}`, 10 * 1024 * 1024));
    const sub = join(dir, 'late');
    await mkdir(sub);
    await writeDag(sub, 'late.yaml', `steps:\n${dockerStep('small', small)}${dockerStep('big', big)}`);
    const packed = await skiff(['pack', '-q', 'late.yaml', '-o', 'late.pack.tar'], { cwd: sub });
    assert.equal(packed.code, 0, show(packed));
    const bytes = await readFile(join(sub, 'late.pack.tar'));
    const parts = execFileSync('tar', ['tf', join(sub, 'late.pack.tar')], { encoding: 'utf8' }).split('\n').filter((n) => n.startsWith('images/2/'));
    assert.ok(parts.length >= 3, `the big image takes several parts: ${parts.join(' ')}`);
    const last = parts.at(-1)!;
    const at = memberOffset(bytes, last) + 100;
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(join(sub, 'late.pack.tar'), bytes);
    for (const ref of [small, big]) await engine.images.remove(ref, { force: true });

    const result = await skiff(['load', 'late.pack.tar'], { cwd: sub });
    assert.equal(result.code, 2, show(result));
    assert.match(result.stderr, new RegExp(`member ${last.replace(/\//g, '\\/')} is damaged or was changed: sha256 expected [0-9a-f]{64}, got [0-9a-f]{64}`));
    assert.match(result.stderr, new RegExp(`loaded ${small}`), 'the image before was loaded (and so had to be removed)');
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const ref of [small, big]) assert.equal(await engine.images.find(ref), undefined, `${ref} is not in the engine`);
    for (const id of ids.slice(-2)) assert.equal(await engine.images.find(id), undefined, `${id} is not in the engine`);
  });
});

/** A DAG step that runs `true` in `image`. */
function dockerStep(name: string, image: string): string {
  return `  - name: ${name}\n    executor:\n      type: docker\n      config:\n        image: ${image}\n    command: "true"\n`;
}

/** Byte offset of a member's data in a tar held in memory (its header is the 512 bytes before). */
function memberOffset(bytes: Buffer, name: string): number {
  let at = 0;
  while (at + 512 <= bytes.length) {
    const header = bytes.subarray(at, at + 512);
    const member = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    if (member === '') break;
    const size = parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim(), 8);
    if (member === name) return at + 512;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no member ${name}`);
}

/** A pack made by hand, with correct sums, for heads and images skiff pack would never write. */
async function writePack(path: string, head: object, members: Array<[string, Buffer]>): Promise<void> {
  const pack = tar.pack();
  const sums: string[] = [];
  const add = (name: string, data: Buffer): void => {
    pack.entry({ name }, data);
    sums.push(`${createHash('sha256').update(data).digest('hex')}  ${name}\n`);
  };
  add('skiff-pack.json', Buffer.from(JSON.stringify(head)));
  for (const [name, data] of members) add(name, data);
  pack.entry({ name: 'skiff-pack.sha256' }, sums.join(''));
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) parts.push(chunk);
  await writeFile(path, Buffer.concat(parts));
}

describe('engine.images: docker save archives as streams (the library side of a pack)', () => {
  test('save to a file stream, remove, load back from the file with progress: the same image id', async () => {
    const ref = `skiff-pack-test-stream-${PID}:1`;
    const id = await buildMarkedImage(engine, ref, `stream-${PID}`);
    ids.push(id);
    const file = join(dir, 'stream.tar');
    const { createReadStream, createWriteStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    await pipeline(await engine.images.save([ref]), createWriteStream(file));
    await engine.images.remove(id, { force: true });
    assert.equal(await engine.images.find(ref), undefined);
    const loaded: string[] = [];
    let events = 0;
    for await (const event of engine.images.load(createReadStream(file))) {
      events++;
      if (event.loaded) loaded.push(event.loaded);
    }
    assert.deepEqual(loaded, [ref]);
    assert.ok(events >= 1);
    assert.equal((await engine.images.find(ref))?.Id, id);
    await assert.rejects(async () => {
      for await (const _ of engine.images.load(createReadStream(join(dir, 'steps.yaml')))) void _;
    }, /load images: .*tar|Error processing tar file/);
  });
});

