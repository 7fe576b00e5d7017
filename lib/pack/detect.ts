// Whether a file is a pack, told without loading the rest of lib/pack: `skiff run` asks it of
// every file it is given, and a DAG file must not pay for the pack reader's modules.
import { open } from 'node:fs/promises';

/** The first member of every pack (format.ts's HEAD_MEMBER, which checks that they agree). */
export const PACK_HEAD_MEMBER = 'skiff-pack.json';

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
    return header.toString('utf8', 0, 100).replace(/\0.*$/s, '') === PACK_HEAD_MEMBER;
  } finally {
    await file.close();
  }
}
