// Where the engine is: `--host`, the context (context.ts), or DOCKER_HOST and the TLS variables,
// read the way the docker CLI reads them (docs/engine-api.md §12.1–12.3), so a user's existing setup
// works unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from './errors.js';
import { DEFAULT_CONTEXT, chooseContext, dockerConfigDir, loadContext, type EngineSelection } from './context.js';
import { parseSshUrl, type SshTarget } from './ssh-url.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Check the daemon's certificate against `ca` (DOCKER_TLS_VERIFY; a context without SkipTLSVerify). */
  verify: boolean;
}

export type EngineTarget = (
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; basePath: string; tls?: TlsFiles; url: string }
  | SshTarget
) & {
  /** The docker context it came from, when not `default` (for messages). */
  context?: string;
};

export type { EngineSelection } from './context.js';

/**
 * The engine a command talks to: `selection` is what the command line said (`-H`, `-c`), `env`
 * supplies DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG and the TLS variables.
 */
export function resolveEngineTarget(env: NodeJS.ProcessEnv = process.env, selection: EngineSelection = {}): EngineTarget {
  const choice = chooseContext(env, selection);
  if (choice.name === DEFAULT_CONTEXT) {
    const fromFlag = selection.host !== undefined;
    const raw = (fromFlag ? selection.host! : (env.DOCKER_HOST ?? '')).trim();
    return parseHost(raw, fromFlag ? `--host ${raw}` : `DOCKER_HOST=${raw}`, env, () => tlsFromEnv(env));
  }
  const endpoint = loadContext(env, choice);
  const where = `docker context "${endpoint.name}" (${endpoint.metaFile}): host ${endpoint.host}`;
  const tls = endpoint.tls || endpoint.skipTlsVerify ? { ...endpoint.tls, verify: !endpoint.skipTlsVerify } : undefined;
  return { ...parseHost(endpoint.host.trim(), where, env, () => tls), context: endpoint.name };
}

/** One host string in any of the forms DOCKER_HOST takes; `where` names it in errors. */
function parseHost(raw: string, where: string, env: NodeJS.ProcessEnv, tlsOf: () => TlsFiles | undefined): EngineTarget {
  if (raw === '' || raw === 'unix://') return unix(DEFAULT_SOCKET);
  if (raw.startsWith('unix://')) return unix(raw.slice('unix://'.length));
  // The CLI treats a bare path as TCP and fails obscurely; a path can only mean a socket.
  if (raw.startsWith('/')) return unix(raw);
  if (raw.startsWith('ssh://')) return parseSshUrl(raw, where, env);
  const withScheme = raw.includes('://') ? raw : `tcp://${raw}`;
  if (!withScheme.startsWith('tcp://')) {
    throw new SkiffError('usage', `${where}: unsupported scheme; use unix:///path/to/docker.sock, tcp://host:port or ssh://[user@]host[:port]`);
  }
  let url: URL;
  try {
    url = new URL(withScheme.replace(/^tcp:/, 'http:'));
  } catch {
    throw new SkiffError('usage', `${where}: not a valid address; use tcp://host:port`);
  }
  const tls = tlsOf();
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
  const dir = env.DOCKER_CERT_PATH || dockerConfigDir(env);
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
