// Which credentials go with an image (docs/dagu-behavior.md §5, docs/engine-api.md §5.2–5.3): the DAG's
// registryAuths, then DOCKER_AUTH_CONFIG, then the user's docker config (credHelpers, credsStore,
// auths), then none. Chosen by the image's registry host, so one registry's password is never
// sent to another. Docker Hub's aliases all name one registry.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SkiffError } from './errors.js';
import { dockerConfigDir } from './context.js';
import type { AuthConfig } from './auth.js';
import { normalizeRegistryKey, parseReference } from './reference.js';

/** One source of credentials: answers for a registry host, or undefined to pass. */
/**
 * One source of credentials: answers for a registry host, or undefined to pass. `warn` hears
 * about a source that failed and was skipped (a broken credential helper).
 */
export type CredentialSource = (registry: string, warn?: (message: string) => void) => Promise<AuthConfig | undefined>;

interface ConfigDocument {
  auths?: Record<string, AuthConfig>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

const HELPER_TIMEOUT_MS = 10_000;
const HUB_KEY = 'https://index.docker.io/v1/';

/** The registry host of an image, Docker Hub's aliases (index.docker.io, registry-1.docker.io…) as docker.io. */
export function registryOf(image: string): string {
  return normalizeRegistryKey(parseReference(image).domain);
}

/** The first source that answers wins. */
export function firstOf(...sources: CredentialSource[]): CredentialSource {
  return async (registry, warn) => {
    for (const source of sources) {
      const found = await source(registry, warn);
      if (found) return found;
    }
    return undefined;
  };
}

/** A map of registry host → credentials (DAG `registryAuths`), keys compared as registries. */
export function fromMap(entries: Record<string, AuthConfig>): CredentialSource {
  const byHost = new Map(Object.entries(entries).map(([host, cred]) => [normalizeRegistryKey(host), cred]));
  return async (registry) => byHost.get(normalizeRegistryKey(registry));
}

/** The `auths` of a config.json-shaped document (DOCKER_AUTH_CONFIG, `registryAuths: ${…}`). */
export function fromConfigDocument(document: string, origin: string): CredentialSource {
  // Parsed on first use: a broken DOCKER_AUTH_CONFIG only matters to a run that pulls.
  let source: CredentialSource | undefined;
  return async (registry) => (source ??= fromAuths(parseDocument(document, origin).auths ?? {}))(registry);
}

export interface DockerConfigOptions {
  /** Told when a credential helper is missing or fails and the pull goes on anonymously. */
  warn?(message: string): void;
}

/**
 * `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, the way the CLI reads it: a helper
 * from credHelpers (per registry) or credsStore, else the `auths` entry. A missing file is no
 * credentials; a helper that is missing or fails is a warning and an anonymous pull.
 */
export function fromDockerConfigFile(env: NodeJS.ProcessEnv, options: DockerConfigOptions = {}): CredentialSource {
  const path = join(dockerConfigDir(env), 'config.json');
  let loaded: Promise<ConfigDocument | undefined> | undefined;
  return async (registry, warn = options.warn) => {
    loaded ??= readFile(path, 'utf8').then(
      (text) => parseDocument(text, path),
      () => undefined,
    );
    const config = await loaded;
    if (!config) return undefined;
    const host = normalizeRegistryKey(registry);
    const helper = helperFor(config, host);
    if (!helper) return fromAuths(config.auths ?? {})(host);
    try {
      return await runCredentialHelper(helper, host === 'docker.io' ? HUB_KEY : host, env);
    } catch (err) {
      warn?.(`${(err as Error).message}; pulling from ${registry} without credentials`);
      return undefined;
    }
  };
}

function helperFor(config: ConfigDocument, registry: string): string | undefined {
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (normalizeRegistryKey(key) === registry) return helper;
  }
  return config.credsStore || undefined;
}

/**
 * `docker-credential-<name> get` with the server key on stdin (no newline). "credentials not
 * found" is an answer (none), not an error; the helper's own message is on stdout.
 */
export function runCredentialHelper(name: string, serverKey: string, env: NodeJS.ProcessEnv): Promise<AuthConfig | undefined> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { env, timeout: HELPER_TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (err, stdout) => {
      if (err) {
        const text = stdout.trim();
        if (/credentials not found/i.test(text)) return resolve(undefined);
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'not found on PATH' : err.killed ? `did not answer within ${HELPER_TIMEOUT_MS / 1000} s` : text || err.message;
        return reject(new SkiffError('auth', `credential helper ${program} failed for ${serverKey}: ${why}`));
      }
      try {
        const answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (!answer.Secret) return resolve(undefined);
        // `<token>` as the user name means the secret is an identity token, not a password.
        resolve(answer.Username === '<token>' ? { identitytoken: answer.Secret } : { username: answer.Username, password: answer.Secret });
      } catch {
        reject(new SkiffError('auth', `credential helper ${program} gave an answer that is not JSON for ${serverKey}`));
      }
    });
    child.stdin?.end(serverKey);
  });
}

function fromAuths(auths: Record<string, AuthConfig>): CredentialSource {
  return async (registry) => {
    const host = normalizeRegistryKey(registry);
    for (const [key, value] of Object.entries(auths)) {
      if (normalizeRegistryKey(key) !== host || !value) continue;
      const entry = lowerKeys(value);
      if (entry.auth || entry.username || entry.identitytoken || entry.registrytoken) return entry;
    }
    return undefined;
  };
}

function parseDocument(document: string, origin: string): ConfigDocument {
  try {
    const parsed = JSON.parse(document) as unknown;
    if (parsed === null || typeof parsed !== 'object') throw new Error('not a JSON object');
    return parsed as ConfigDocument;
  } catch (err) {
    // Never quote the document: it holds secrets. V8's JSON.parse messages quote the start of the
    // input (`Unexpected token 'c', "c2tpZmY6Pz"... is not valid JSON`): keep only the position.
    const message = (err as Error).message;
    const position = /position (\d+)/.exec(message);
    const reason = message === 'not a JSON object' ? message : `not valid JSON${position ? ` (at position ${position[1]})` : ''}`;
    throw new SkiffError('auth', `invalid ${origin} format: ${reason}`);
  }
}

function lowerKeys(value: AuthConfig): AuthConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k.toLowerCase()] = v;
  return out as AuthConfig;
}
