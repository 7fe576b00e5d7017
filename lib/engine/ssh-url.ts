// `ssh://[user@]host[:port][/socket]`, turned into the ssh command line the docker CLI runs
// (docs/engine-api.md §12.1, §12.4): `docker system dial-stdio` on the far side, whose stdin and
// stdout are a connection to that host's engine. The system `ssh` is used so that ~/.ssh/config,
// agents and known_hosts apply as they do for `docker -H ssh://…`.
import { SkiffError } from './errors.js';

export interface SshTarget {
  kind: 'ssh';
  /** The URL as given, for messages. */
  url: string;
  host: string;
  user?: string;
  port?: string;
  /** A socket path on the far side; absent means that host's default. */
  socketPath?: string;
  /** Everything after `ssh` on its command line. */
  args: string[];
}

/**
 * `SKIFF_SSH_OPTS` adds options in front of skiff's own (split at whitespace, no quoting), for
 * what no ssh config file is at hand for: `-F ./ssh_config`, `-i deploy_key`, `-o …`. ssh keeps
 * the first value it sees for an option, so these win over skiff's defaults and the config.
 */
export function parseSshUrl(raw: string, where: string, env: NodeJS.ProcessEnv): SshTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SkiffError('usage', `${where}: not a valid ssh URL; use ssh://[user@]host[:port][/socket]`);
  }
  if (url.password !== '') throw new SkiffError('usage', `${where}: a password in an ssh URL is not supported`, { hint: 'use a key: ssh-agent, or IdentityFile in ~/.ssh/config' });
  if (url.search !== '' || url.hash !== '') throw new SkiffError('usage', `${where}: an ssh URL takes no query or fragment`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new SkiffError('usage', `${where}: the ssh URL has no host name`);
  const user = url.username === '' ? undefined : decodeURIComponent(url.username);
  const port = url.port === '' ? undefined : url.port;
  const path = decodeURIComponent(url.pathname);
  const socketPath = path.replace(/^\/+|\/+$/g, '') === '' ? undefined : path;

  const extra = (env.SKIFF_SSH_OPTS ?? '').split(/\s+/).filter((word) => word !== '');
  const remote = ['docker', ...(socketPath ? [shellWord(`--host=unix://${socketPath}`)] : []), 'system', 'dial-stdio'];
  const args = [
    ...extra,
    ...(extra.some((word) => /ConnectTimeout/i.test(word)) ? [] : ['-o', 'ConnectTimeout=30']),
    // No terminal on the far side: dial-stdio's bytes must pass untouched.
    '-T',
    ...(user ? ['-l', user] : []),
    ...(port ? ['-p', port] : []),
    '--',
    host,
    ...remote,
  ];
  return { kind: 'ssh', url: raw, host, user, port, socketPath, args };
}

/** ssh hands the remote command to a shell: quote what the shell would change. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
