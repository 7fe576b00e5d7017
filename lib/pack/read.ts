// Reading a pack, checked as it is used: nothing read from a pack that was cut short or changed
// is used. Opening it reads the tar headers alone (the sizes tell a truncated file at once), then
// the head, the sums and the DAG files, each checked against its sha256 before anything is
// unpacked. Image parts are checked as they are read (checkedParts): each part whole, before any
// byte of it goes on, so the engine is never sent a byte that did not match. A changed member is
// named with what was expected and what was found.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { HEAD_MEMBER, IMAGE_PREFIX, PART_BYTES, SUMS_MEMBER, packError, parseHead, parseSums, safeMemberName, type PackHead } from './format.js';
import { READ_PIECE_BYTES, readMembers, readSmall, scanTar, type TarEntry } from './tar-file.js';

/** A pack whose structure, head, sums and DAG files are checked; its image parts are checked as they are read. */
export interface VerifiedPack {
  path: string;
  head: PackHead;
  /** Member → sha256, from skiff-pack.sha256. */
  sums: Map<string, string>;
  /** sha256 of skiff-pack.sha256: names this pack's whole content (it covers the head). */
  identity: string;
  /** Every member, by name: where its data is in the file. */
  entries: Map<string, TarEntry>;
  /** Each image's parts in order, by its prefix (`images/1/`). */
  parts: Map<string, TarEntry[]>;
}

const TEXT_CAP = 16 * 1024 * 1024;

export { isPackFile } from './detect.js';

/**
 * Opens a pack for use: its layout from the tar headers, its head and sums, every listed member
 * present, the head and the DAG files checked against their sums. Image parts are not read here:
 * checkedParts() checks them as they are read. Throws at the first thing that is wrong.
 */
export async function openPack(path: string, signal?: AbortSignal): Promise<VerifiedPack> {
  const entries = new Map<string, TarEntry>();
  const parts = new Map<string, TarEntry[]>();
  let sumsEntry: TarEntry | undefined;
  const scanned = await scanTar(
    path,
    {
      onEntry: (entry) => {
        const { name } = entry;
        if (entries.size === 0 && name !== HEAD_MEMBER) throw packError(path, `not a skiff pack: its first member is ${name}, not ${HEAD_MEMBER}`);
        if (sumsEntry) throw packError(path, `member ${name} comes after ${SUMS_MEMBER}, which ends a pack`);
        if (entries.has(name)) throw packError(path, `member ${name} appears twice`);
        if (!safeMemberName(name)) throw packError(path, `member ${JSON.stringify(name)} has a path that could land outside the unpack directory`);
        if ((name === HEAD_MEMBER || name === SUMS_MEMBER) && entry.size > TEXT_CAP) throw packError(path, `member ${name} is larger than ${TEXT_CAP} bytes`);
        entries.set(name, entry);
        if (name === SUMS_MEMBER) sumsEntry = entry;
        if (name.startsWith(IMAGE_PREFIX)) {
          const prefix = name.slice(0, name.lastIndexOf('/') + 1);
          const list = parts.get(prefix);
          if (list) list.push(entry);
          else parts.set(prefix, [entry]);
        }
      },
    },
    signal,
  );
  const headEntry = entries.get(HEAD_MEMBER);
  if (!headEntry) throw packError(path, 'not a skiff pack: the file holds no members');
  // The head first: a pack of a newer format is refused for that, whatever else it holds.
  const headBytes = readSmall(path, headEntry);
  const head = parseHead(headBytes.toString('utf8'), path);
  if (!sumsEntry) throw packError(path, `the pack is truncated: it ends after member ${scanned.at(-1)?.name}, without ${SUMS_MEMBER}`, 'copy the pack again; its size must match the original');
  const sumsBytes = readSmall(path, sumsEntry);
  const sums = parseSums(sumsBytes.toString('utf8'), path);
  const identity = sha256(sumsBytes);

  for (const name of entries.keys()) {
    if (name !== SUMS_MEMBER && !sums.has(name)) throw packError(path, `member ${name} is not listed in ${SUMS_MEMBER}: the pack was changed after it was made`);
  }
  for (const name of sums.keys()) {
    if (!entries.has(name)) throw packError(path, `member ${name} is listed in ${SUMS_MEMBER} but missing from the pack`);
  }
  for (const file of [head.dag, ...head.files]) {
    if (!entries.has(file)) throw packError(path, `member ${file} is named by ${HEAD_MEMBER} but missing from the pack`);
  }
  for (const image of head.images) {
    if (!parts.has(image.prefix)) throw packError(path, `image ${image.ref} has no parts (${image.prefix}…) in the pack`);
  }
  const pack: VerifiedPack = { path, head, sums, identity, entries, parts };
  expectSum(pack, HEAD_MEMBER, sha256(headBytes));
  for (const file of new Set([head.dag, ...head.files])) expectSum(pack, file, await hashMember(path, entries.get(file)!, signal));
  return pack;
}

/**
 * Every member checked, image parts included: openPack, then every part read once. What `skiff
 * run` and `skiff load` do as they go, all at once, for a caller that wants the answer first.
 */
export async function verifyPack(path: string, signal?: AbortSignal): Promise<VerifiedPack> {
  const pack = await openPack(path, signal);
  const buffers = partBuffers();
  for (const parts of pack.parts.values()) for await (const _ of checkedParts(pack, parts, buffers, signal));
  return pack;
}

/** The two buffers checkedParts reads parts into; one pair serves the images of a pack one after another. */
export function partBuffers(): Buffer[] {
  return [Buffer.allocUnsafe(PART_BYTES), Buffer.allocUnsafe(PART_BYTES)];
}

/**
 * An image's parts, in order, each whole and checked against its sum before it is handed out
 * (a view of one of the two `buffers` from partBuffers(), valid until the next part is asked
 * for); the next part is read and hashed, a piece at a time so the socket that takes the last
 * one is served in between, while the last one is in use. A part that does not match throws,
 * naming it, before any byte of it is handed out.
 */
export function checkedParts(pack: VerifiedPack, parts: readonly TarEntry[], buffers: readonly Buffer[], signal?: AbortSignal): AsyncGenerator<Buffer> {
  return readMembers(pack.path, parts, {
    buffers,
    signal,
    check: (part) => {
      const hash = createHash('sha256');
      return { update: (piece) => hash.update(piece), end: () => expectSum(pack, part.name, hash.digest('hex')) };
    },
  });
}

function expectSum(pack: VerifiedPack, name: string, got: string): void {
  const expected = pack.sums.get(name);
  if (expected === got) return;
  throw packError(pack.path, `member ${name} is damaged or was changed: sha256 expected ${expected}, got ${got}`, 'copy the pack again from the machine that made it');
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A DAG file may be large (`--include DIR`): hashed in pieces, never held whole. */
async function hashMember(path: string, entry: TarEntry, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(READ_PIECE_BYTES, entry.size) || 1);
    for (let done = 0; done < entry.size; ) {
      if (signal?.aborted) throw signal.reason;
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, entry.size - done), entry.offset + done);
      if (bytesRead === 0) throw packError(path, `the pack changed while it was read (member ${entry.name})`);
      hash.update(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}
