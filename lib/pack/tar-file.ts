// A pack on disk as a plain tar, read and written in large pieces through reused buffers
// (tar-stream's header codec; its streams would hand out a new Buffer per piece, garbage that
// V8 collects late on a file of hundreds of MB). Writes are synchronous: they go to the page
// cache between two reads of the engine's socket, as the docker CLI's do, and a thread-pool
// round trip per piece measured slower on a busy machine.
import { closeSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import * as headers from 'tar-stream/headers.js';
import { SkiffError } from '../common/errors.js';
import { packError } from './format.js';

const BLOCK = 512;
const ZEROS = Buffer.alloc(2 * BLOCK);
export const READ_PIECE_BYTES = 1024 * 1024;

export interface MemberHeader {
  name: string;
  mode?: number;
  mtime?: Date;
}

/** Appends tar members to a file descriptor the caller opened (and closes). */
export class TarFileWriter {
  readonly #fd: number;
  bytes = 0;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** The header of a member of `size` bytes; its data follows with data(), then end(). */
  begin(member: MemberHeader, size: number): void {
    const header = { name: member.name, mode: member.mode ?? 0o644, uid: 0, gid: 0, size, mtime: member.mtime ?? new Date(), type: 'file' };
    const block = headers.encode(header);
    if (block) return this.#write([block]);
    // A name ustar cannot hold: a pax record carries it (what tar-stream's own pack does).
    const pax = headers.encodePax({ name: member.name });
    this.#write([headers.encode({ ...header, name: 'PaxHeader', size: pax.length, type: 'pax-header' })!, pax, padding(pax.length)]);
    this.#write([headers.encode({ ...header, name: 'PaxHeader' })!]);
  }

  data(chunk: Buffer): void {
    this.#write([chunk]);
  }

  end(size: number): void {
    const pad = padding(size);
    if (pad.length > 0) this.#write([pad]);
  }

  /**
   * A member whose size is known only at its end, its data written as it comes: a placeholder
   * header now, the real one written over it by endOpen() (a seekable file only).
   */
  beginOpen(): number {
    const at = this.bytes;
    this.#write([ZEROS.subarray(0, BLOCK)]);
    return at;
  }

  endOpen(at: number, member: MemberHeader, size: number): void {
    this.end(size);
    const block = headers.encode({ name: member.name, mode: member.mode ?? 0o644, uid: 0, gid: 0, size, mtime: member.mtime ?? new Date(), type: 'file' });
    if (!block) throw new SkiffError('config', `member name too long for a streamed member: ${member.name}`);
    for (let done = 0; done < BLOCK; ) done += writeSync(this.#fd, block, done, BLOCK - done, at + done);
  }

  add(member: MemberHeader, data: Buffer): void {
    this.begin(member, data.length);
    this.#write(data.length > 0 ? [data, padding(data.length)] : []);
  }

  finish(): void {
    this.#write([ZEROS]);
  }

  #write(buffers: Buffer[]): void {
    let pending = buffers.filter((b) => b.length > 0);
    while (pending.length > 0) {
      let n = pending.length === 1 ? writeSync(this.#fd, pending[0]!) : writevSync(this.#fd, pending);
      this.bytes += n;
      // A short write (a pipe, a full disk on the way): go on with what is left.
      while (pending.length > 0 && n >= pending[0]!.length) n -= pending.shift()!.length;
      if (pending.length > 0 && n > 0) pending[0] = pending[0]!.subarray(n);
    }
  }
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? ZEROS.subarray(0, 0) : ZEROS.subarray(0, BLOCK - rest);
}

export interface TarEntry {
  name: string;
  size: number;
  mode: number;
  /** Where the member's data starts in the file. */
  offset: number;
}

export interface TarVisitor {
  /** A member starts (empty ones too). */
  onEntry(entry: TarEntry): void;
  /**
   * Its data, in views of one reused buffer, valid only during the call. Without it only the
   * headers are read (an index of the file: one small read per member).
   */
  onData?(entry: TarEntry, chunk: Buffer): void;
}

/**
 * Reads the tar at `path` member by member, in order. A file that ends early throws a pack
 * error naming the member it ends in (from the sizes alone when only headers are read).
 */
export async function scanTar(path: string, visit: TarVisitor, signal?: AbortSignal): Promise<TarEntry[]> {
  const fh = await openPack(path);
  const entries: TarEntry[] = [];
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(READ_PIECE_BYTES);
    let at = 0;
    let pax: Record<string, string> | undefined;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const last = entries.at(-1);
      if (at + BLOCK > size) {
        throw packError(path, last ? `the pack is truncated: it ends after member ${last.name}, without the end of the archive` : 'not a skiff pack: the file is empty or not a tar');
      }
      await readFully(fh, buf, BLOCK, at);
      let header;
      try {
        header = headers.decode(buf.subarray(0, BLOCK), 'utf-8', false);
      } catch (err) {
        throw packError(path, `not a readable tar${last ? ` (after member ${last.name})` : ''}: ${(err as Error).message}`);
      }
      if (header === null) return entries;
      const entry: TarEntry = { name: pax?.path ?? header.name, size: pax?.size !== undefined ? Number(pax.size) : header.size, mode: header.mode & 0o777, offset: at + BLOCK };
      pax = undefined;
      const available = Math.max(0, size - entry.offset);
      if (header.type === 'pax-header') {
        if (entry.size > 1024 * 1024 || available < entry.size) throw packError(path, `not a readable tar: a pax header of ${entry.size} bytes at ${at}`);
        await readFully(fh, buf, entry.size, entry.offset);
        pax = headers.decodePax(Buffer.from(buf.subarray(0, entry.size)));
      } else {
        visit.onEntry(entry);
        const onData = visit.onData?.bind(visit);
        let done = onData ? 0 : Math.min(entry.size, available);
        while (done < entry.size) {
          const n = Math.min(READ_PIECE_BYTES, entry.size - done);
          if (done + n > available) {
            if (available > done) onData!(entry, await readPiece(fh, buf, available - done, entry.offset + done));
            break;
          }
          onData!(entry, await readPiece(fh, buf, n, entry.offset + done));
          done += n;
        }
        if (available < entry.size) {
          throw packError(path, `the pack is truncated: it ends inside member ${entry.name} (${available} of ${entry.size} bytes)`, 'copy the pack again; its size must match the original');
        }
        entries.push(entry);
      }
      at = entry.offset + entry.size + padding(entry.size).length;
    }
  } finally {
    await fh.close();
  }
}

/** What a reader of whole members does with each one as it is read: sees its pieces, then judges it (a throw refuses it). */
export interface MemberCheck {
  update(piece: Buffer): void;
  end(): void;
}

/**
 * Members (from scanTar) whole, each read (in pieces of READ_PIECE_BYTES, each shown to its
 * `check`) into one of the two `buffers` in turn and judged before it is handed out; the next one
 * is read while the last is in use, so a member's buffer may be reused once the next one is
 * asked for. Callers that read one set of members after another share the buffers. A member
 * larger than a buffer is refused.
 */
export async function* readMembers(path: string, members: readonly TarEntry[], options: { buffers: readonly Buffer[]; check?(member: TarEntry): MemberCheck; signal?: AbortSignal }): AsyncGenerator<Buffer> {
  const { buffers, signal } = options;
  const cap = buffers[0]!.length;
  const fh = await openPack(path);
  try {
    let turn = 0;
    const readNext = async (member: TarEntry): Promise<Buffer> => {
      if (member.size > cap) throw packError(path, `member ${member.name} holds ${member.size} bytes, more than the ${cap} of a part`);
      const buf = buffers[turn++ % 2]!;
      const check = options.check?.(member);
      for (let done = 0; done < member.size; ) {
        if (signal?.aborted) throw signal.reason;
        const piece = await readPiece(fh, buf.subarray(done), Math.min(READ_PIECE_BYTES, member.size - done), member.offset + done);
        check?.update(piece);
        done += piece.length;
      }
      check?.end();
      return buf.subarray(0, member.size);
    };
    let next = 0;
    let pending = members.length > 0 ? readNext(members[next++]!) : undefined;
    while (pending) {
      const data = await pending;
      if (signal?.aborted) throw signal.reason;
      pending = next < members.length ? readNext(members[next++]!) : undefined;
      // Its failure is met when it is awaited, or not at all if the consumer stops first.
      pending?.catch(() => {});
      yield data;
    }
  } finally {
    await fh.close();
  }
}

/** Whole small members (DAG files) as copies. */
export function readSmall(path: string, entry: TarEntry): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(entry.size);
    let done = 0;
    while (done < entry.size) {
      const n = readSync(fd, buf, done, entry.size - done, entry.offset + done);
      if (n === 0) throw new SkiffError('config', `${path}: the pack changed while it was read (member ${entry.name})`);
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

async function openPack(path: string): Promise<FileHandle> {
  try {
    const fh = await open(path, 'r');
    if ((await fh.stat()).isDirectory()) {
      await fh.close();
      throw packError(path, 'cannot read the pack: it is a directory');
    }
    return fh;
  } catch (err) {
    if (err instanceof SkiffError) throw err;
    throw packError(path, `cannot read the pack: ${(err as Error).message}`);
  }
}

async function readPiece(fh: FileHandle, buf: Buffer, n: number, at: number): Promise<Buffer> {
  await readFully(fh, buf, n, at);
  return buf.subarray(0, n);
}

async function readFully(fh: FileHandle, buf: Buffer, n: number, at: number): Promise<void> {
  let done = 0;
  while (done < n) {
    const { bytesRead } = await fh.read(buf, done, n - done, at + done);
    if (bytesRead === 0) throw new SkiffError('config', 'the pack changed while it was read');
    done += bytesRead;
  }
}
