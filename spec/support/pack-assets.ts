// What the pack tests (and the offline-install check) build for themselves: images with ids of
// their own (busybox plus a marker file, imported through the engine client, so removing them
// never touches a shared image), and a throwaway registry on a loopback port that the test
// starts and stops, so "the registry is gone" never means stopping the shared ones.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import tar from 'tar-stream';
import type { Engine } from '../../lib/engine/index.js';

/**
 * A busybox root filesystem with `/marker` holding `marker` (a new image id per marker) and, when
 * asked, `/blob` of that many random bytes (an image that takes a while to save).
 */
function rootfs(marker: string, blobBytes = 0): tar.Pack {
  const pack = tar.pack();
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'data']) pack.entry({ name: d, type: 'directory', mode: 0o755 });
  pack.entry({ name: 'bin/busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) pack.entry({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' });
  pack.entry({ name: 'etc/passwd' }, 'root:x:0:0:root:/root:/bin/sh\n');
  pack.entry({ name: 'marker' }, `${marker}\n`);
  if (blobBytes === 0) {
    pack.finalize();
    return pack;
  }
  const blob = pack.entry({ name: 'blob', size: blobBytes });
  void (async () => {
    for (let left = blobBytes; left > 0; left -= 1 << 20) {
      if (!blob.write(randomBytes(Math.min(left, 1 << 20)))) await new Promise((resolve) => blob.once('drain', resolve));
    }
    blob.end();
    pack.finalize();
  })();
  return pack;
}

/** Imports a marked busybox as `ref` (`repo:tag`); returns its id. */
export async function buildMarkedImage(engine: Engine, ref: string, marker: string, blobBytes = 0): Promise<string> {
  const colon = ref.lastIndexOf(':');
  await engine.images.import(rootfs(marker, blobBytes) as unknown as Readable, { repo: ref.slice(0, colon), tag: ref.slice(colon + 1), changes: ['CMD ["/bin/sh"]'] });
  const info = await engine.images.find(ref);
  if (!info) throw new Error(`imported ${ref}, but the engine does not list it`);
  return info.Id;
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ThrowawayRegistry {
  /** `127.0.0.1:PORT` */
  address: string;
  /** Stops it and waits until the process is gone (idempotent). */
  stop(): Promise<void>;
}

/** Debian's docker-registry (what scripts/engine-up runs), on a free loopback port, storing in `dir`. */
export async function startRegistry(dir: string): Promise<ThrowawayRegistry> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const conf = join(dir, 'registry.yml');
  await writeFile(conf, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\nhttp:\n  addr: ${address}\n`);
  const child: ChildProcess = spawn('docker-registry', ['serve', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${address}/v2/`).then((r) => r.status === 200, () => false);
    if (ok) return { address, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`the throwaway registry on ${address} did not start`);
}

/** Pushes a local image to `target` (`host:port/repo:tag`) and removes the local names. */
export async function pushTo(engine: Engine, local: string, target: string): Promise<void> {
  const colon = target.lastIndexOf(':');
  await engine.images.tag(local, target.slice(0, colon), target.slice(colon + 1));
  for await (const _ of engine.images.push(target.slice(0, colon), { tag: target.slice(colon + 1) })) void _;
  await engine.images.remove(target);
}
