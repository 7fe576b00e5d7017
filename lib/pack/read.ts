// Reading a pack, and the check every use starts with: every member's sha256 against
// skiff-pack.sha256, in one pass over the file (tar-file.ts: large pieces, one reused buffer),
// before anything is unpacked or loaded. A pack that was cut short or changed is named by the
// member where it went wrong, with what was expected and what was found.
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { HEAD_MEMBER, IMAGE_PREFIX, SUMS_MEMBER, packError, parseHead, parseSums, safeMemberName, type PackHead } from './format.js';
import { scanTar, type TarEntry } from './tar-file.js';

export interface VerifiedPack {
  path: string;
  head: PackHead;
  /** Member → sha256, as checked. */
  sums: Map<string, string>;
  /** sha256 of skiff-pack.sha256: names this pack's whole content (it covers the head). */
  identity: string;
  /** Every member, by name: where its data is in the file. */
  entries: Map<string, TarEntry>;
  /** Each image's parts in order, by its prefix (`images/1/`). */
  parts: Map<string, TarEntry[]>;
}

const TEXT_CAP = 16 * 1024 * 1024;

/** True when the file is a tar whose first member is a pack head (what `skiff run` tells apart by). */
export async function isPackFile(path: string): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(512);
    const { bytesRead } = await file.read(header, 0, 512, 0);
    if (bytesRead < 512 || header.toString('latin1', 257, 262) !== 'ustar') return false;
    return header.toString('utf8', 0, 100).replace(/\0.*$/s, '') === HEAD_MEMBER;
  } finally {
    await file.close();
  }
}

/** Reads the whole pack once and checks it; throws at the first member that is wrong. */
export async function verifyPack(path: string, signal?: AbortSignal): Promise<VerifiedPack> {
  let head: PackHead | undefined;
  let sums: Map<string, string> | undefined;
  let identity = '';
  const found = new Map<string, string>();
  const entries = new Map<string, TarEntry>();
  const parts = new Map<string, TarEntry[]>();
  let current: { entry: TarEntry; hash: Hash; text: Buffer[] } | undefined;

  const close = (): void => {
    if (!current) return;
    const { entry, hash, text } = current;
    current = undefined;
    const hex = hash.digest('hex');
    if (entry.name === HEAD_MEMBER) head = parseHead(Buffer.concat(text).toString('utf8'), path);
    if (entry.name === SUMS_MEMBER) {
      sums = parseSums(Buffer.concat(text).toString('utf8'), path);
      identity = hex;
    } else {
      found.set(entry.name, hex);
    }
  };
  const start = (entry: TarEntry): void => {
    const { name } = entry;
    if (entries.size === 0 && name !== HEAD_MEMBER) throw packError(path, `not a skiff pack: its first member is ${name}, not ${HEAD_MEMBER}`);
    if (sums) throw packError(path, `member ${name} comes after ${SUMS_MEMBER}, which ends a pack`);
    if (entries.has(name)) throw packError(path, `member ${name} appears twice`);
    if (!safeMemberName(name)) throw packError(path, `member ${JSON.stringify(name)} has a path that could land outside the unpack directory`);
    if ((name === HEAD_MEMBER || name === SUMS_MEMBER) && entry.size > TEXT_CAP) throw packError(path, `member ${name} is larger than ${TEXT_CAP} bytes`);
    entries.set(name, entry);
    if (name.startsWith(IMAGE_PREFIX)) {
      const prefix = name.slice(0, name.lastIndexOf('/') + 1);
      parts.set(prefix, [...(parts.get(prefix) ?? []), entry]);
    }
    current = { entry, hash: createHash('sha256'), text: [] };
  };

  const scanned = await scanTar(
    path,
    {
      onEntry: (entry) => {
        close();
        start(entry);
      },
      onData: (entry, chunk) => {
        current!.hash.update(chunk);
        if (entry.name === HEAD_MEMBER || entry.name === SUMS_MEMBER) current!.text.push(Buffer.from(chunk));
      },
    },
    signal,
  );
  close();
  const last = scanned.at(-1)?.name;
  if (!head) throw packError(path, 'not a skiff pack: the file holds no members');
  if (!sums) throw packError(path, `the pack is truncated: it ends after member ${last}, without ${SUMS_MEMBER}`, 'copy the pack again; its size must match the original');
  for (const [name, got] of found) {
    const expected = sums.get(name);
    if (expected === undefined) throw packError(path, `member ${name} is not listed in ${SUMS_MEMBER}: the pack was changed after it was made`);
    if (expected !== got) throw packError(path, `member ${name} is damaged or was changed: sha256 expected ${expected}, got ${got}`, 'copy the pack again from the machine that made it');
  }
  for (const name of sums.keys()) {
    if (!found.has(name)) throw packError(path, `member ${name} is listed in ${SUMS_MEMBER} but missing from the pack`);
  }
  for (const file of [head.dag, ...head.files]) {
    if (!found.has(file)) throw packError(path, `member ${file} is named by ${HEAD_MEMBER} but missing from the pack`);
  }
  for (const image of head.images) {
    if (!parts.has(image.prefix)) throw packError(path, `image ${image.ref} has no parts (${image.prefix}…) in the pack`);
  }
  return { path, head, sums, identity, entries, parts };
}
