// The X-Registry-Auth header (docs/engine-api.md §5.1): padded base64url of a JSON object. The daemon
// ignores `auth`, so a pre-encoded `user:password` is decoded here and sent as username/password.
import { SkiffError } from './errors.js';

export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64 of `user:password`, as config.json stores it. */
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
  serveraddress?: string;
}

/** Splits a config.json `auth` at the first colon; trailing NULs are stripped like the CLI does. */
export function decodeAuthField(auth: string): { username: string; password: string } {
  const decoded = Buffer.from(auth.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new SkiffError('auth', 'invalid auth configuration: the "auth" value is not base64 of user:password');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, '') };
}

/** The header value; undefined for anonymous (omitting it is what `{}` means to the daemon). */
export function encodeRegistryAuth(config: AuthConfig | undefined, serveraddress: string): string | undefined {
  if (!config) return undefined;
  let { username, password } = config;
  if (!(username && password) && config.auth) ({ username, password } = decodeAuthField(config.auth));
  const payload: Record<string, string> = { serveraddress };
  if (config.identitytoken) payload.identitytoken = config.identitytoken;
  else if (config.registrytoken) payload.registrytoken = config.registrytoken;
  else if (username && password) Object.assign(payload, { username, password });
  else return undefined;
  // base64url WITH padding: unpadded or standard base64 is silently read as "no credentials".
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
