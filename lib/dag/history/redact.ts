// The run's copy of its DAG file never holds registry credentials written in the file: they are
// replaced by a marker before the copy is stored, and put back from the file on disk when a retry
// or restart builds the run again. Credentials given through `${VAR}` stay as written (the copy
// holds the reference, not the value), so only inline values are taken out.
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import { SkiffError } from '../../common/errors.js';

export const REDACTED = '<redacted by skiff>';

/** The keys whose values are secrets in a registryAuths entry (map form). */
const SECRET_KEYS = new Set(['password', 'auth', 'identitytoken', 'registrytoken']);

type Path = Array<string>;

/** `registryAuths` (1.2x, any letter case) or `registry_auths` (2.x) at the top of the file. */
function authsKey(doc: Document): string | undefined {
  if (!isMap(doc.contents)) return undefined;
  for (const item of doc.contents.items) {
    const key = isScalar(item.key) ? String(item.key.value) : '';
    if (key.toLowerCase() === 'registryauths' || key === 'registry_auths') return key;
  }
  return undefined;
}

/** A value that only names a variable is not a secret itself. */
function inline(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value !== REDACTED && !/^\s*\$\{?[A-Za-z_][A-Za-z0-9_]*\}?\s*$/.test(value);
}

/** Paths (from the top of the file) of the inline secrets under registryAuths. */
function secretPaths(doc: Document): Path[] {
  const top = authsKey(doc);
  if (top === undefined) return [];
  const auths = doc.get(top, true);
  if (isScalar(auths)) return inline(auths.value) ? [[top]] : [];
  if (!isMap(auths)) return [];
  const out: Path[] = [];
  for (const item of auths.items) {
    const host = isScalar(item.key) ? String(item.key.value) : undefined;
    if (host === undefined) continue;
    if (isScalar(item.value)) {
      if (inline(item.value.value)) out.push([top, host]);
    } else if (isMap(item.value)) {
      for (const field of item.value.items) {
        const name = isScalar(field.key) ? String(field.key.value) : '';
        if (SECRET_KEYS.has(name.toLowerCase()) && isScalar(field.value) && inline(field.value.value)) out.push([top, host, name]);
      }
    }
  }
  return out;
}

/** The file's text with its inline registry credentials replaced, and where they were. */
export function redactDefinitionText(text: string): { text: string; redacted: Path[] } {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { text, redacted: [] };
  const paths = secretPaths(doc);
  if (paths.length === 0) return { text, redacted: [] };
  for (const path of paths) doc.setIn(path, REDACTED);
  return { text: doc.toString(), redacted: paths };
}

/**
 * The stored text with its credentials put back from the DAG file as it is now. Throws an error a
 * user can act on when the file no longer has one of them.
 */
export function restoreDefinitionText(stored: string, redacted: Path[], currentText: string, file: string): string {
  if (redacted.length === 0) return stored;
  const doc = parseDocument(stored);
  const current = parseDocument(currentText);
  for (const path of redacted) {
    const value = current.getIn(path);
    if (!inline(value)) {
      throw new SkiffError('config', `the registry credentials written in ${file} (${path.join('.')}) are not stored with the run, and the file no longer has them`, {
        hint: 'put them back in the file, or pass them through an environment variable (${VAR})',
      });
    }
    doc.setIn(path, value);
  }
  return doc.toString();
}
