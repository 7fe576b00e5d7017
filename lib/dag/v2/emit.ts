// What the Dagu 2.x translation's parts share: the value being built, where each value came from
// in the file, and the problems found on the way (translate.ts owns them).

export type Json = Record<string, unknown>;
export type Path = Array<string | number>;

export interface Emit {
  /** Sets `out[key]`, remembering that its value came from `from` in the file. */
  set(out: Json, key: string, value: unknown, from: Path): void;
  /** A problem placed on the value at `path` (on its key with `key: true`). */
  problem(path: Path, message: string, key?: boolean): void;
  /** An unknown key: with Dagu's snake_case hint when it is a 1.2x spelling of a known one. */
  invalidKey(owner: string, path: Path, key: string, known: ReadonlySet<string> | ReadonlyMap<string, string>): void;
  /** A Dagu 2.x key skiff does not run, refused by name. */
  unsupported(path: Path, key: string): void;
}
