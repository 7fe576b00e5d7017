// Where the engine is: DOCKER_HOST and the TLS variables read the way the docker CLI reads them
// (docs/engine-api.md §12.1–12.2), so a user's existing setup works unchanged.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SkiffError } from './errors.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** DOCKER_TLS_VERIFY set: check the daemon's certificate against `ca`. */
  verify: boolean;
}

export type EngineTarget =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; basePath: string; tls?: TlsFiles; url: string };

export function resolveEngineTarget(env: NodeJS.ProcessEnv = process.env): EngineTarget {
  const raw = (env.DOCKER_HOST ?? '').trim();
  if (raw === '' || raw === 'unix://') return unix(DEFAULT_SOCKET);
  if (raw.startsWith('unix://')) return unix(raw.slice('unix://'.length));
  // The CLI treats a bare path as TCP and fails obscurely; a path can only mean a socket.
  if (raw.startsWith('/')) return unix(raw);
  if (raw.startsWith('ssh://')) {
    throw new SkiffError('usage', `DOCKER_HOST=${raw}: ssh:// engines are not supported yet`, {
      hint: 'forward the remote socket yourself (ssh -NL /tmp/docker.sock:/var/run/docker.sock host) and set DOCKER_HOST=unix:///tmp/docker.sock',
    });
  }
  const withScheme = raw.includes('://') ? raw : `tcp://${raw}`;
  if (!withScheme.startsWith('tcp://')) {
    throw new SkiffError('usage', `DOCKER_HOST=${raw}: unsupported scheme; use unix:///path/to/docker.sock or tcp://host:port`);
  }
  let url: URL;
  try {
    url = new URL(withScheme.replace(/^tcp:/, 'http:'));
  } catch {
    throw new SkiffError('usage', `DOCKER_HOST=${raw}: not a valid address; use tcp://host:port`);
  }
  const tls = tlsFromEnv(env);
  const port = url.port === '' ? (tls ? 2376 : 2375) : Number(url.port);
  const host = url.hostname === '' ? 'localhost' : url.hostname.replace(/^\[|\]$/g, '');
  const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return { kind: 'tcp', host, port, basePath, tls, url: `tcp://${url.host}${basePath}` };
}

function unix(socketPath: string): EngineTarget {
  return { kind: 'unix', socketPath, url: `unix://${socketPath}` };
}

// CLI rule: DOCKER_TLS_VERIFY set to anything non-empty (even "0") means TLS with verification;
// DOCKER_TLS alone means TLS without it. Missing cert.pem/key.pem is tolerated (no client cert).
function tlsFromEnv(env: NodeJS.ProcessEnv): TlsFiles | undefined {
  const verify = (env.DOCKER_TLS_VERIFY ?? '') !== '';
  if (!verify && (env.DOCKER_TLS ?? '') === '') return undefined;
  const dir = env.DOCKER_CERT_PATH || join(env.DOCKER_CONFIG || join(homedir(), '.docker'));
  const read = (name: string, required: boolean): Buffer | undefined => {
    try {
      return readFileSync(join(dir, name));
    } catch (err) {
      if (!required) return undefined;
      throw new SkiffError('usage', `DOCKER_TLS_VERIFY is set but ${join(dir, name)} cannot be read: ${(err as Error).message}`, {
        hint: 'set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem',
        cause: err,
      });
    }
  };
  return { verify, ca: read('ca.pem', verify), cert: read('cert.pem', false), key: read('key.pem', false) };
}
