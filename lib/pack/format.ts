// What a pack file is (docs/pack-format.md): one plain tar whose members are, in this order,
//   skiff-pack.json      the head: format, skiff version, the DAG, the images (ref, id, platform)
//   dag/…                the DAG file and the files it needs, paths relative to the DAG's directory
//   images/N/part-NNNN   image N's `docker save` archive, cut into parts of PART_BYTES
//   skiff-pack.sha256    `sha256sum` lines for every member above, head included
// The image archives come from the engine as a stream of unknown length, and a tar header needs
// the size first: cutting them into parts of known size is what lets a pack be written in one
// pass with bounded memory. The sums come last because they are known only once the data has
// gone by; the head comes first so a reader can refuse a pack it does not understand at once.
import Type, { type Static } from 'typebox';
import { Check } from 'typebox/value';
import { SkiffError } from '../common/errors.js';
import { PACK_HEAD_MEMBER } from './detect.js';

/** Bumped when a reader of the previous format could not read the new one. */
export const PACK_FORMAT = 1;

export const HEAD_MEMBER = PACK_HEAD_MEMBER;
export const SUMS_MEMBER = 'skiff-pack.sha256';
export const DAG_PREFIX = 'dag/';
export const IMAGE_PREFIX = 'images/';
/** Bytes of an image archive per tar member: held in memory once while the pack is written. */
export const PART_BYTES = 4 * 1024 * 1024;

const PackImageSchema = Type.Object({
  /** As the DAG names it (after `${VAR}` expansion): what the run will ask the engine for. */
  ref: Type.String(),
  /** The image id (`sha256:…`), what decides whether the engine already has it. */
  id: Type.String(),
  /** `os/arch[/variant]` of the image in the pack. */
  platform: Type.String(),
  /** Member-name prefix of its parts: `images/1/`. */
  prefix: Type.String(),
});

const PackHeadSchema = Type.Object({
  format: Type.Integer(),
  skiff: Type.String(),
  created: Type.String(),
  /** The DAG file's member (`dag/build.yaml`). */
  dag: Type.String(),
  /** Every `dag/…` member, the DAG file included. */
  files: Type.Array(Type.String()),
  images: Type.Array(PackImageSchema),
});

export type PackImage = Static<typeof PackImageSchema>;
export type PackHead = Static<typeof PackHeadSchema>;

/** Parses the head; a head of a newer format is refused before its shape is looked at. */
export function parseHead(text: string, pack: string): PackHead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw packError(pack, `${HEAD_MEMBER} is not JSON`);
  }
  const format = (value as { format?: unknown } | null)?.format;
  if (typeof format === 'number' && format > PACK_FORMAT) {
    const by = (value as { skiff?: unknown }).skiff;
    throw new SkiffError('config', `${pack}: the pack was made by a newer skiff${typeof by === 'string' ? ` (${by})` : ''}, in pack format ${format}; this skiff reads format ${PACK_FORMAT} and older`, {
      hint: 'run it with the skiff that made it (carry that bundle along), or make the pack again with this one',
    });
  }
  if (!Check(PackHeadSchema, value)) throw packError(pack, `${HEAD_MEMBER} does not describe a pack (format ${PACK_FORMAT})`);
  for (const name of [value.dag, ...value.files]) {
    if (!safeMemberName(name) || !name.startsWith(DAG_PREFIX)) throw packError(pack, `${HEAD_MEMBER} names a file outside dag/: ${JSON.stringify(name)}`);
  }
  return value;
}

/** `sha256sum` text: `HEX  NAME` per line. */
export function formatSums(sums: ReadonlyArray<readonly [name: string, hex: string]>): string {
  return sums.map(([name, hex]) => `${hex}  ${name}\n`).join('');
}

export function parseSums(text: string, pack: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!m) throw packError(pack, `${SUMS_MEMBER} line ${i + 1} is not \`sha256  member\``);
    sums.set(m[2]!, m[1]!);
  }
  return sums;
}

/** Relative, no `..`, no empty segments: a member that cannot land outside the unpack directory. */
export function safeMemberName(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export function packError(pack: string, message: string, hint?: string): SkiffError {
  return new SkiffError('config', `${pack}: ${message}`, hint ? { hint } : {});
}
