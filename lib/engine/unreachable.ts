// Why the engine could not be reached, said so a user can act on it: the socket path or address,
// what went wrong, and how to start or reach the daemon.
import { SkiffError } from './errors.js';
import type { EngineTarget } from './host.js';

/**
 * What to do about an engine that is not there: a local socket is this host's daemon to start; a
 * remote address is another host's, where only the address and that daemon can be checked.
 */
function startHint(target: EngineTarget, hostSetting: string): string {
  if (target.kind === 'unix') return `start the Docker daemon on this host (\`sudo systemctl start docker\`), or set ${hostSetting} to the engine to use`;
  return `check that ${hostSetting} (${target.url}) is the right address and that the daemon on that host is running and listening there`;
}

export function unreachableError(target: EngineTarget, err: unknown): SkiffError | undefined {
  const code = errorCode(err);
  if (code === undefined) return undefined;
  const from = target.context === undefined ? '' : ` (docker context "${target.context}")`;
  const where = target.url + from;
  const hostSetting = target.context === undefined ? 'DOCKER_HOST' : `the host of docker context "${target.context}" (docker context inspect ${target.context})`;
  const make = (message: string, hint?: string) => new SkiffError('engine-unreachable', message, { cause: err, hint });
  const START_HINT = startHint(target, hostSetting);
  switch (code) {
    case 'ENOENT':
      return make(`cannot reach the Docker engine: ${target.kind === 'unix' ? target.socketPath + from : where} does not exist (is the daemon running?)`, START_HINT);
    case 'ECONNREFUSED':
      return make(`cannot reach the Docker engine at ${where}: connection refused (is the daemon running?)`, START_HINT);
    case 'EACCES':
    case 'EPERM':
      return make(
        `cannot reach the Docker engine: permission denied on ${target.kind === 'unix' ? target.socketPath + from : where}`,
        'add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again) or run skiff as root',
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(`cannot reach the Docker engine at ${where}: unknown host`, `check ${hostSetting}`);
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return make(`cannot reach the Docker engine at ${where}: connection timed out`, `check ${hostSetting} and that the daemon listens there`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return make(`the Docker engine at ${where} closed the connection`, 'the daemon may have stopped or restarted; check it with `docker info`');
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_VERSION':
      return make(`the Docker engine at ${where} did not answer in HTTP`, 'is it a TLS-enabled daemon? set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH');
    default:
      if (/CERT|SSL|TLS|SELF_SIGNED|ERR_TLS/i.test(code)) {
        return make(`TLS handshake with the Docker engine at ${where} failed: ${(err as Error).message}`, 'check DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) and DOCKER_TLS_VERIFY');
      }
      return undefined;
  }
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    if (code === 'UND_ERR_SOCKET' && !(e as { cause?: unknown }).cause) return code;
  }
  return undefined;
}
