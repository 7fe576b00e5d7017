// Builds the local test images from Debian's static busybox and pushes one to both loopback
// registries, all through skiff's own engine client (its image import is the first real use).
// Called by scripts/engine-up when something is missing; safe to run again.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tar from 'tar-stream';
import { openEngine } from '../dist/lib/engine/index.js';
import { encodeRegistryAuth } from '../dist/lib/engine/auth.js';

const here = dirname(fileURLToPath(import.meta.url));
const env = Object.fromEntries(
  readFileSync(join(here, 'engine.env'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => {
      const [k, ...v] = l.split('=');
      const raw = v.join('=');
      const m = /^\$\{[A-Z_]+:-(.*)\}$/.exec(raw);
      return [k, (m ? m[1] : raw).replace(/^'(.*)'$/, '$1')];
    }),
);
const engine = openEngine();

function rootfs(marker) {
  const pack = tar.pack();
  const dir = (name, mode = 0o755) => pack.entry({ name, type: 'directory', mode });
  const file = (name, content, mode = 0o644) => pack.entry({ name, mode }, content);
  for (const d of ['bin', 'etc', 'root', 'home', 'usr', 'usr/bin', 'var', 'proc', 'sys', 'dev']) dir(d);
  dir('tmp', 0o1777);
  file('bin/busybox', readFileSync('/bin/busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) pack.entry({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' });
  file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  file('etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  if (marker) file(`etc/${marker}`, `${marker}\n`);
  pack.finalize();
  return pack;
}

async function ensureImage(name, build) {
  if (await engine.images.find(name)) return;
  await build();
  console.log(`engine-up: built ${name}`);
}

// The registries hold a variant with a layer of its own, so that a pull really downloads one
// (the local test image's layer would otherwise count as "Already exists").
const REGISTRY_VARIANT = 'skiff-busybox-registry';

async function push(registry, auth) {
  if (!(await engine.images.find(`${REGISTRY_VARIANT}:latest`))) {
    await engine.images.import(rootfs('skiff-registry-image'), { repo: REGISTRY_VARIANT, tag: 'latest', changes: ['CMD ["/bin/sh"]'] });
  }
  const target = `${registry}/busybox`;
  await engine.images.tag(`${REGISTRY_VARIANT}:latest`, target, 'latest');
  for await (const _ of engine.images.push(target, { tag: 'latest', registryAuth: auth })) {
    // progress is not shown here; a failure inside the stream throws
  }
  await engine.images.remove(`${target}:latest`);
  console.log(`engine-up: pushed ${REGISTRY_VARIANT} to ${target}:latest`);
}

try {
  const [repo, tag] = env.SKIFF_TEST_IMAGE.split(':');
  await ensureImage(env.SKIFF_TEST_IMAGE, () => engine.images.import(rootfs(), { repo, tag, changes: ['CMD ["/bin/sh"]'] }));
  await ensureImage(env.SKIFF_TEST_HEALTHY_IMAGE, async () => {
    // A HEALTHCHECK cannot be set by import; commit a container with one instead. Healthy unless
    // /tmp/unhealthy exists, probed every 200 ms.
    const { Id } = await engine.containers.create({ Image: env.SKIFF_TEST_IMAGE, Cmd: ['true'], Labels: { 'dev.skiff.assets': '1' } });
    try {
      const [hrepo, htag] = env.SKIFF_TEST_HEALTHY_IMAGE.split(':');
      await engine.transport.json({
        method: 'POST',
        path: '/commit',
        query: { container: Id, repo: hrepo, tag: htag },
        json: {
          Cmd: ['sh', '-c', 'echo ready; while true; do sleep 1; done'],
          Healthcheck: { Test: ['CMD-SHELL', 'test ! -e /tmp/unhealthy'], Interval: 200_000_000, Timeout: 1_000_000_000, Retries: 2 },
        },
        what: 'commit healthcheck image',
      });
    } finally {
      await engine.containers.remove(Id, { force: true });
    }
  });
  const manifest = async (registry, headers = {}) =>
    (await fetch(`http://${registry}/v2/busybox/manifests/latest`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json', ...headers } })).status === 200;
  if (!(await manifest(env.SKIFF_REGISTRY))) await push(env.SKIFF_REGISTRY);
  const basic = 'Basic ' + Buffer.from(`${env.SKIFF_REGISTRY_USER}:${env.SKIFF_REGISTRY_PASSWORD}`).toString('base64');
  if (!(await manifest(env.SKIFF_AUTH_REGISTRY, { authorization: basic }))) {
    await push(env.SKIFF_AUTH_REGISTRY, encodeRegistryAuth({ username: env.SKIFF_REGISTRY_USER, password: env.SKIFF_REGISTRY_PASSWORD }, env.SKIFF_AUTH_REGISTRY));
  }
  await engine.images.remove(`${REGISTRY_VARIANT}:latest`);
} catch (err) {
  console.error(`engine-up: ${err.message}`);
  process.exitCode = 1;
} finally {
  await engine.close();
}
