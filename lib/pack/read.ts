// Reading a pack: members one after another from the file (tar-stream, never the whole pack in
// memory), and the check every use starts with: every member's sha256 against skiff-pack.sha256,
// in one pass over the file, before anything is unpacked or loaded. A pack that was cut short or
// changed is named by the member where it went wrong, with what was expected and what was found.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { isSkiffError } from '../engine/errors.js';
import { HEAD_MEMBER, IMAGE_PREFIX, SUMS_MEMBER, packError, parseHead, parseSums, safeMemberName, type PackHead } from './format.js';

export interface VerifiedPack {
  path: string;
  head: PackHead;
  /** Member → sha256, as checked. */
  sums: Map<string, string>;
  /** sha256 of skiff-pack.sha256: names this pack's whole content (it covers the head). */
  identity: string;
  /** Bytes of every image's parts. */
  imageBytes: Map<string, number>;
}

export interface Member {
  name: string;
  size: number;
  body: AsyncIterable<Buffer>;
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
    const name = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    return name === HEAD_MEMBER;
  } finally {
    await file.close();
  }
}

/**
 * The members of the pack in order. Leave a member's body unread to skip it; breaking out of the
 * loop closes the file. A truncated or malformed tar throws a placed error naming the member.
 */
export async function* members(path: string, signal?: AbortSignal): AsyncGenerator<Member> {
  const extract = tar.extract();
  const source = createReadStream(path, { signal });
  const fed = pipeline(source, extract);
  fed.catch(() => {});
  let current: { name: string; size: number; read: number } | undefined;
  // A tar that ends early fails inside whichever read was waiting: the member list's or a body's.
  const failure = (err: unknown): unknown => {
    if (signal?.aborted || isSkiffError(err)) return err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return packError(path, `cannot read the pack: ${(err as Error).message}`);
    if (/unexpected end/i.test((err as Error).message) && current) {
      return packError(path, `the pack is truncated: it ends inside member ${current.name} (${current.read} of ${current.size} bytes)`, 'copy the pack again; its size must match the original');
    }
    return packError(path, `not a readable tar${current ? ` (at member ${current.name})` : ''}: ${(err as Error).message}`);
  };
  try {
    for await (const entry of extract) {
      const { name, size = 0 } = entry.header;
      current = { name, size, read: 0 };
      const counted = current;
      yield {
        name,
        size,
        body: (async function* () {
          try {
            for await (const chunk of entry as AsyncIterable<Buffer>) {
              counted.read += chunk.length;
              yield chunk;
            }
          } catch (err) {
            throw failure(err);
          }
        })(),
      };
      entry.resume();
    }
    await fed;
  } catch (err) {
    throw failure(err);
  } finally {
    source.destroy();
    extract.destroy();
  }
}

/** Reads the whole pack once and checks it; throws at the first member that is wrong. */
export async function verifyPack(path: string, signal?: AbortSignal): Promise<VerifiedPack> {
  let head: PackHead | undefined;
  let sums: Map<string, string> | undefined;
  let identity = '';
  let last: string | undefined;
  const found = new Map<string, string>();
  const imageBytes = new Map<string, number>();
  for await (const member of members(path, signal)) {
    const { name } = member;
    if (last === undefined && name !== HEAD_MEMBER) throw packError(path, `not a skiff pack: its first member is ${name}, not ${HEAD_MEMBER}`);
    if (sums) throw packError(path, `member ${name} comes after ${SUMS_MEMBER}, which ends a pack`);
    if (found.has(name)) throw packError(path, `member ${name} appears twice`);
    if (!safeMemberName(name)) throw packError(path, `member ${JSON.stringify(name)} has a path that could land outside the unpack directory`);
    const hash = createHash('sha256');
    const text: Buffer[] = [];
    let size = 0;
    const keep = name === HEAD_MEMBER || name === SUMS_MEMBER;
    for await (const chunk of member.body) {
      hash.update(chunk);
      size += chunk.length;
      if (keep && size <= TEXT_CAP) text.push(chunk);
    }
    const hex = hash.digest('hex');
    if (keep && size > TEXT_CAP) throw packError(path, `member ${name} is larger than ${TEXT_CAP} bytes`);
    if (name === HEAD_MEMBER) head = parseHead(Buffer.concat(text).toString('utf8'), path);
    if (name === SUMS_MEMBER) {
      sums = parseSums(Buffer.concat(text).toString('utf8'), path);
      identity = hex;
    } else {
      found.set(name, hex);
    }
    if (name.startsWith(IMAGE_PREFIX)) {
      const prefix = name.slice(0, name.lastIndexOf('/') + 1);
      imageBytes.set(prefix, (imageBytes.get(prefix) ?? 0) + size);
    }
    last = name;
  }
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
    if (!imageBytes.has(image.prefix)) throw packError(path, `image ${image.ref} has no parts (${image.prefix}…) in the pack`);
  }
  return { path, head, sums, identity, imageBytes };
}
