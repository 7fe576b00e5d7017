// API version negotiation (docs/engine-api.md §2.3): ping once, use min(ours, daemon's) compared
// numerically, or DOCKER_API_VERSION as given. Never an unversioned path.
import { SkiffError } from './errors.js';

/** The newest API whose behaviour this client knows (docs/engine-api.md §2.5). */
export const CLIENT_MAX_API = '1.47';
/** wait?condition= appeared in 1.30; older daemons cannot run a step safely. */
export const CLIENT_MIN_API = '1.30';

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function pinnedVersion(env: NodeJS.ProcessEnv): string | undefined {
  const v = env.DOCKER_API_VERSION?.trim().replace(/^v/, '');
  if (!v) return undefined;
  if (!/^\d+\.\d+$/.test(v)) throw new SkiffError('usage', `DOCKER_API_VERSION=${env.DOCKER_API_VERSION}: expected a version such as 1.41`);
  return v;
}

/** Picks the version to speak from the daemon's `Api-Version` header (absent: ours). */
export function chooseVersion(daemonVersion: string | undefined): string {
  if (!daemonVersion || !/^\d+\.\d+$/.test(daemonVersion)) return CLIENT_MAX_API;
  if (compareVersions(daemonVersion, CLIENT_MIN_API) < 0) {
    throw new SkiffError('engine', `the Docker engine speaks API ${daemonVersion}; skiff needs at least ${CLIENT_MIN_API} (Docker 17.06)`, {
      hint: 'upgrade the Docker engine',
    });
  }
  return compareVersions(daemonVersion, CLIENT_MAX_API) < 0 ? daemonVersion : CLIENT_MAX_API;
}
