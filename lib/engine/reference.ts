// Image references the way distribution/reference reads them (docs/engine-api.md §4.1): which
// registry an image comes from decides which credentials may be sent to it.
import { SkiffError } from './errors.js';

export interface ImageReference {
  /** Registry host, `docker.io` for Docker Hub. */
  domain: string;
  /** Repository path inside the registry (`library/alpine`). */
  path: string;
  tag?: string;
  digest?: string;
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

export function parseReference(image: string): ImageReference {
  const trimmed = image.trim();
  if (trimmed === '') throw new SkiffError('config', 'invalid reference format: empty image name');
  let rest = trimmed;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new SkiffError('config', `invalid reference format: bad digest in ${image}`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new SkiffError('config', `invalid reference format: bad tag in ${image}`);
  }
  const slash = rest.indexOf('/');
  let domain = 'docker.io';
  let path = rest;
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (path !== path.toLowerCase()) throw new SkiffError('config', `invalid reference format: repository name (${path}) must be lowercase`);
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path)) {
    throw new SkiffError('config', `invalid reference format: ${image}`);
  }
  return { domain, path, tag, digest };
}

/** `fromImage` and `tag` for a pull: always a tag or a digest, never "every tag" (docs/engine-api.md §4.3). */
export function pullQuery(ref: ImageReference): { fromImage: string; tag: string } {
  const repo = `${ref.domain}/${ref.path}`;
  return ref.digest ? { fromImage: `${repo}@${ref.digest}`, tag: '' } : { fromImage: repo, tag: ref.tag ?? 'latest' };
}

/** `docker.io`, `index.docker.io`, `registry-1.docker.io` and `https://index.docker.io/v1/` are one registry. */
export function normalizeRegistryKey(key: string): string {
  let host = key.trim().replace(/^[a-z]+:\/\//i, '');
  host = host.replace(/\/.*$/, '').toLowerCase();
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'registry.hub.docker.com') return 'docker.io';
  return host;
}
