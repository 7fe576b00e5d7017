// Secrets never reach a recording: every value the recorder is given, in every form it may take
// on the wire (JSON-escaped, URL-encoded, base64 and base64url, inside longer base64 texts), is
// replaced by `<redacted>`, also when a stream splits it across two chunks.
import { REDACTED } from './recording-format.js';

/**
 * Replaces secrets by `<redacted>`: each value as given, JSON-escaped, URL-encoded, and its
 * base64 and base64url encodings (padded, unpadded, and the part that any base64 text containing
 * the value at any byte offset must include, so it is caught inside a longer encoded blob such as
 * an X-Registry-Auth header or a config.json `auth`). Longest forms are replaced first.
 */
export class Redactor {
  #secrets = new Set<string>();
  #forms: Buffer[] = [];
  #textForms: string[] = [];
  #longest = 0;

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  get size(): number {
    return this.#secrets.size;
  }

  add(secret: string): void {
    if (typeof secret !== 'string' || secret === '' || this.#secrets.has(secret)) return;
    this.#secrets.add(secret);
    const forms = new Set<string>(secretForms(secret));
    forms.delete(REDACTED);
    const all = new Set([...this.#textForms, ...forms]);
    this.#textForms = [...all].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    this.#forms = this.#textForms.map((f) => Buffer.from(f, 'utf8'));
    this.#longest = this.#forms[0]?.length ?? 0;
  }

  /** Adds the credentials inside an X-Registry-Auth value (password and tokens). */
  addRegistryAuth(headerValue: string): void {
    for (const s of secretsOfRegistryAuth(headerValue)) this.add(s);
  }

  text(value: string): string {
    if (this.#textForms.length === 0) return value;
    let out = value;
    for (const form of this.#textForms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out;
  }

  bytes(chunk: Buffer): Buffer {
    if (this.#forms.length === 0) return chunk;
    let out = chunk;
    for (const form of this.#forms) out = replaceAll(out, form);
    return out;
  }

  /** Every string (and key) inside a JSON value. */
  json(value: unknown): unknown {
    if (this.#textForms.length === 0) return value;
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.json(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.text(k), this.json(v)]));
    }
    return value;
  }

  /** For bytes that arrive in chunks: a secret split across two chunks is still caught. */
  stream(): StreamRedactor {
    return new StreamRedactor(this);
  }

  /** How many trailing bytes of `buf` could be the start of a secret form. */
  heldTail(buf: Buffer): number {
    const max = Math.min(this.#longest - 1, buf.length);
    for (let len = max; len > 0; len--) {
      const tail = buf.subarray(buf.length - len);
      for (const form of this.#forms) if (form.length > len && form.subarray(0, len).equals(tail)) return len;
    }
    return 0;
  }
}

export class StreamRedactor {
  readonly #r: Redactor;
  #pending: Buffer = Buffer.alloc(0);

  constructor(redactor: Redactor) {
    this.#r = redactor;
  }

  /** The bytes safe to write now; a tail that may be the start of a secret waits for the next chunk. */
  push(chunk: Buffer): Buffer {
    const joined = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const clean = this.#r.bytes(joined);
    const hold = this.#r.heldTail(clean);
    this.#pending = hold === 0 ? Buffer.alloc(0) : Buffer.from(clean.subarray(clean.length - hold));
    return hold === 0 ? clean : clean.subarray(0, clean.length - hold);
  }

  flush(): Buffer {
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    return rest;
  }
}

function replaceAll(buf: Buffer, form: Buffer): Buffer {
  let at = buf.indexOf(form);
  if (at === -1) return buf;
  const parts: Buffer[] = [];
  let from = 0;
  const marker = Buffer.from(REDACTED, 'utf8');
  while (at !== -1) {
    parts.push(buf.subarray(from, at), marker);
    from = at + form.length;
    at = buf.indexOf(form, from);
  }
  parts.push(buf.subarray(from));
  return Buffer.concat(parts);
}

const MIN_CORE_CHARS = 6;

export function secretForms(secret: string): string[] {
  const raw = Buffer.from(secret, 'utf8');
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  const std = raw.toString('base64');
  const url = toBase64Url(std);
  for (const b of [std, url]) {
    forms.add(b);
    forms.add(b.replace(/=+$/, ''));
  }
  // Inside a longer base64 text the secret starts at some byte offset k (mod 3); the characters
  // whose 6 bits all come from the secret are fixed for each k.
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), raw]).toString('base64');
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + raw.length)) / 6); // exclusive
    if (last - first >= MIN_CORE_CHARS) {
      const core = encoded.slice(first, last);
      forms.add(core);
      forms.add(toBase64Url(core));
    }
  }
  forms.delete('');
  return [...forms];
}

function toBase64Url(b64: string): string {
  return b64.replace(/\+/g, '-').replace(/\//g, '_');
}

/** The secrets inside an X-Registry-Auth value: password and tokens (not the user name). */
export function secretsOfRegistryAuth(headerValue: string): string[] {
  const out: string[] = [headerValue];
  try {
    const decoded = JSON.parse(Buffer.from(headerValue, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const key of ['password', 'identitytoken', 'registrytoken', 'auth']) {
      const v = decoded[key];
      if (typeof v === 'string' && v !== '') out.push(v);
    }
    if (typeof decoded.auth === 'string') out.push(...secretsOfAuthConfig({ auth: decoded.auth }));
  } catch {
    // not what the daemon would decode either; the whole value is redacted anyway
  }
  return out;
}

/**
 * The values of one set of registry credentials that must never reach a recording (for the
 * caller's `secrets` option): password, tokens, the config.json `auth` and the password inside it.
 */
export function secretsOfAuthConfig(config: { password?: string; auth?: string; identitytoken?: string; registrytoken?: string }): string[] {
  const out: string[] = [];
  for (const v of [config.password, config.auth, config.identitytoken, config.registrytoken]) if (v) out.push(v);
  if (config.auth) {
    const decoded = Buffer.from(config.auth.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      const password = decoded.slice(colon + 1).replace(/\0+$/, '');
      if (password) out.push(password);
    }
  }
  return out;
}
