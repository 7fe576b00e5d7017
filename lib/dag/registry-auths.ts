// `registryAuths` (docs/dagu-behavior.md §5.1): expanded when the DAG loads, in one of three forms —
// a whole config.json document (`${DOCKER_AUTH_CONFIG}`), host → {username, password, …}, or
// host → string (pre-encoded `auth`, or a JSON AuthConfig when it starts with `{`).
// No problem message ever holds a credential: they name keys and types only.
import Type, { type TSchema } from 'typebox';
import { expand, type Lookup } from '../common/expand.js';
import type { RegistryAuths, RegistryCredential } from '../common/model.js';
import { goTypeName, isPlainMap } from '../common/go-values.js';
import { childPath, type KeyPath, type Locate, type Problem } from '../common/problem.js';

const CREDENTIAL_FIELDS = ['username', 'password', 'auth', 'identitytoken', 'registrytoken'] as const;
type CredentialField = (typeof CREDENTIAL_FIELDS)[number];

const Credential = Type.Object(
  {
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    auth: Type.Optional(Type.String({ description: 'base64 of user:password (decoded by skiff before use)' })),
    identitytoken: Type.Optional(Type.String()),
    registrytoken: Type.Optional(Type.String()),
  },
  { description: 'Credentials for one registry host; other keys are ignored' },
);

export const RegistryAuthsSchema: TSchema = Type.Union(
  [
    Type.String({ description: 'A Docker config.json document ({"auths": {...}}), typically ${DOCKER_AUTH_CONFIG}' }),
    Type.Record(
      Type.String(),
      Type.Union([Type.String({ description: 'base64 of user:password, or a JSON AuthConfig starting with {' }), Credential, Type.Null()]),
      { description: 'Registry host (as computed from the image: docker.io, ghcr.io, host:port) → credentials' },
    ),
  ],
  { description: 'Credentials for pulling images; values are expanded when the DAG loads' },
);

export function buildRegistryAuths(
  raw: unknown,
  locate: Locate,
  ctx: { lookup: Lookup; path: string },
): { value?: RegistryAuths; problems: Problem[] } {
  const problems: Problem[] = [];
  const report = (rel: KeyPath, message: string): void => {
    problems.push({ path: childPath(ctx.path, rel), message, place: locate(rel) });
  };
  // Dagu expands with os.ExpandEnv: a name defined nowhere is empty, so an unset
  // ${DOCKER_AUTH_CONFIG} or ${DOCKER_PASSWORD} means "no credentials", not the literal text.
  const lookup: Lookup = (name) => ctx.lookup(name) ?? '';
  const expandText = (s: string): string => expand(s, lookup);

  if (raw === null || raw === undefined) return { problems };

  if (typeof raw === 'string') {
    const document = expandText(raw).trim();
    if (document === '') return { problems };
    const error = checkAuthConfigDocument(document);
    if (error) {
      report([], `invalid DOCKER_AUTH_CONFIG format: ${error}`);
      return { problems };
    }
    return { value: { form: 'json', document }, problems };
  }

  if (!isPlainMap(raw)) {
    report([], `invalid type: ${goTypeName(raw)}`);
    return { problems };
  }

  const entries: Record<string, RegistryCredential> = {};
  for (const [host, data] of Object.entries(raw)) {
    if (data === null || data === undefined) {
      // An entry without credentials still counts as the match for its host (§5.3).
      entries[host] = {};
    } else if (typeof data === 'string') {
      const parsed = credentialFromString(data, expandText);
      if ('error' in parsed) report([host], parsed.error);
      else entries[host] = parsed.credential;
    } else if (isPlainMap(data)) {
      const credential: RegistryCredential = {};
      for (const [key, value] of Object.entries(data)) {
        const field = credentialField(key);
        if (field === undefined || value === null || value === undefined) continue;
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
          report([host, key], `invalid type: ${goTypeName(value)}`);
          continue;
        }
        const text = expandText(String(value));
        if (text !== '') credential[field] = text;
      }
      entries[host] = credential;
    } else {
      report([host], `invalid type: ${goTypeName(data)}`);
    }
  }
  if (problems.length > 0) return { problems };
  return { value: { form: 'map', entries }, problems };
}

/** The credential field a key names. Matched in any letter case, as Go's JSON decoder does. */
function credentialField(key: string): CredentialField | undefined {
  const lower = key.toLowerCase();
  return CREDENTIAL_FIELDS.find((f) => f === lower);
}

/**
 * Host → string: a JSON AuthConfig when it starts with `{` (its fields expanded one by one, so a
 * token holding quotes cannot break the JSON), otherwise a pre-encoded `auth`.
 */
function credentialFromString(raw: string, expandText: (s: string) => string): { credential: RegistryCredential } | { error: string } {
  let json: unknown;
  let expandFields = true;
  if (raw.trimStart().startsWith('{')) {
    json = parseJson(raw);
    if (json === undefined) {
      // Perhaps the JSON is only complete once expanded (`"password": ${QUOTED_JSON_STRING}`).
      json = parseJson(expandText(raw));
      expandFields = false;
      if (json === undefined) return { error: 'registry credentials start with { but are not valid JSON' };
    }
  } else {
    const text = expandText(raw);
    if (!text.trimStart().startsWith('{')) return { credential: text.trim() === '' ? {} : { auth: text.trim() } };
    json = parseJson(text);
    expandFields = false;
    if (json === undefined) return { error: 'registry credentials start with { but are not valid JSON' };
  }
  if (!isPlainMap(json)) return { error: 'registry credentials must be a JSON object' };
  const credential: RegistryCredential = {};
  for (const [key, value] of Object.entries(json)) {
    const field = credentialField(key);
    if (field === undefined || value === null) continue;
    if (typeof value !== 'string') return { error: `registry credential field ${key} must be a JSON string, got ${goTypeName(value)}` };
    const text = expandFields ? expandText(value) : value;
    if (text !== '') credential[field] = text;
  }
  return { credential };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Why `document` is not a usable config.json; undefined when it is. Never quotes the text. */
function checkAuthConfigDocument(document: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch (err) {
    // V8's message quotes the input, which may hold secrets: keep only the position.
    const position = /position (\d+)/.exec(err instanceof Error ? err.message : '');
    return `not valid JSON${position ? ` (at position ${position[1]})` : ''}`;
  }
  if (!isPlainMap(parsed)) return `expected a JSON object, got ${goTypeName(parsed)}`;
  const auths = Object.entries(parsed).find(([k]) => k.toLowerCase() === 'auths')?.[1];
  if (!isPlainMap(auths)) return 'no "auths" object';
  return undefined;
}
