// Docker contexts, chosen and read the way the docker CLI does (docs/engine-api.md §12.3), so a user
// whose `docker ps` works (Docker Desktop, colima, rootless, a remote host) needs nothing more.
// Which context: `--context`, else `default` when `--host` or DOCKER_HOST is set, else
// DOCKER_CONTEXT, else `currentContext` in config.json, else `default`. The store lives in the
// docker config directory: `contexts/meta/<sha256 of name>/meta.json` and TLS material in
// `contexts/tls/<sha256 of name>/docker/{ca,cert,key}.pem`.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SkiffError } from './errors.js';

/** What a command line chose, as the docker CLI's `-H/--host` and `-c/--context`. */
export interface EngineSelection {
  host?: string;
  context?: string;
}

export const DEFAULT_CONTEXT = 'default';

/** `$DOCKER_CONFIG`, else `~/.docker`: where config.json, credentials and contexts live. */
export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

export interface ContextChoice {
  name: string;
  /** Where the name came from, for messages: `--context`, `DOCKER_CONTEXT`, `currentContext in …`. */
  from: string;
}

export function chooseContext(env: NodeJS.ProcessEnv, selection: EngineSelection = {}): ContextChoice {
  if (selection.context !== undefined && selection.host !== undefined) {
    throw new SkiffError('usage', 'conflicting options: cannot specify both --host and --context');
  }
  if (selection.context !== undefined) {
    if (selection.context === '') throw new SkiffError('usage', '--context needs a context name');
    return { name: selection.context, from: '--context' };
  }
  if (selection.host !== undefined) return { name: DEFAULT_CONTEXT, from: '--host' };
  if ((env.DOCKER_HOST ?? '') !== '') return { name: DEFAULT_CONTEXT, from: 'DOCKER_HOST' };
  if ((env.DOCKER_CONTEXT ?? '') !== '') return { name: env.DOCKER_CONTEXT!, from: 'DOCKER_CONTEXT' };
  const configFile = join(dockerConfigDir(env), 'config.json');
  const current = currentContextIn(configFile);
  if (current) return { name: current, from: `currentContext in ${configFile}` };
  return { name: DEFAULT_CONTEXT, from: 'default' };
}

export interface ContextEndpoint {
  name: string;
  /** The docker endpoint's Host; empty means the default socket, as for the docker CLI. */
  host: string;
  skipTlsVerify: boolean;
  /** Present when the context has a TLS directory for its docker endpoint. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  metaFile: string;
}

/** The docker endpoint of a stored context (never `default`, which is not stored). */
export function loadContext(env: NodeJS.ProcessEnv, choice: ContextChoice): ContextEndpoint {
  const { name } = choice;
  const id = createHash('sha256').update(name).digest('hex');
  const root = join(dockerConfigDir(env), 'contexts');
  const metaFile = join(root, 'meta', id, 'meta.json');
  const fail = (problem: string, hint?: string, cause?: unknown) =>
    new SkiffError('usage', `docker context "${name}" (from ${choice.from}) ${problem}`, { hint, cause });
  let text: string;
  try {
    text = readFileSync(metaFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw fail(`does not exist: there is no ${metaFile}`, 'list the contexts with `docker context ls`, or choose another with --context, DOCKER_CONTEXT or `docker context use`', err);
    }
    throw fail(`cannot be read: ${(err as Error).message}`, undefined, err);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message);
    throw fail(`is broken: ${metaFile} is not valid JSON${position ? ` (at position ${position[1]})` : ''}`, 'recreate it with `docker context rm` and `docker context create`', err);
  }
  // Go's JSON decoding matches field names without regard to case; the CLI writes `Endpoints`.
  const endpoints = field(meta, 'endpoints');
  const docker = field(endpoints, 'docker');
  if (docker === undefined || docker === null || typeof docker !== 'object') {
    throw fail(`is broken: ${metaFile} has no docker endpoint`, 'recreate it with `docker context create NAME --docker host=…`');
  }
  const host = field(docker, 'host') ?? '';
  if (typeof host !== 'string') throw fail(`is broken: the docker endpoint's Host in ${metaFile} is not a string`);
  return { name, host, skipTlsVerify: field(docker, 'skiptlsverify') === true, tls: readTls(join(root, 'tls', id, 'docker'), fail), metaFile };
}

function readTls(dir: string, fail: (problem: string) => SkiffError): ContextEndpoint['tls'] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail(`has TLS material that cannot be read: ${(err as Error).message}`);
  }
  const read = (file: string): Buffer | undefined => {
    if (!files.includes(file)) return undefined;
    try {
      return readFileSync(join(dir, file));
    } catch (err) {
      throw fail(`has TLS material that cannot be read: ${(err as Error).message}`);
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

function currentContextIn(configFile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch {
    return undefined; // no config file: no current context, as for the CLI
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    // Never quote the file: it may hold credentials.
    const position = /position (\d+)/.exec((err as Error).message);
    throw new SkiffError('usage', `cannot tell the current docker context: ${configFile} is not valid JSON${position ? ` (at position ${position[1]})` : ''}`, {
      hint: 'fix the file, or choose the engine with --host, --context, DOCKER_HOST or DOCKER_CONTEXT',
    });
  }
  const current = field(config, 'currentcontext');
  return typeof current === 'string' && current !== '' ? current : undefined;
}

/** A member of a JSON object by its lower-case name, matched as Go matches struct fields. */
function field(value: unknown, lowerName: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  for (const [key, v] of Object.entries(value)) if (key.toLowerCase() === lowerName) return v;
  return undefined;
}
