// Key spellings of the two dialects (docs/dagu-dialects.md §1). Dagu 1.2x matched keys in any letter
// case and wrote them camelCase; Dagu 2.x accepts snake_case only, and every 1.2x key in skiff's
// scope becomes its snake_case form by the same mechanical rule (`maxCleanUpTimeSec` →
// `max_clean_up_time_sec`), so the rule is the table.

/** `continueOn` → `continue_on`; a key with no capital is returned unchanged. */
export function snakeOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `continue_on` → `continueOn`. */
export function camelOf(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** A key written the 1.2x way: it has a capital letter and no underscore. */
export function isCamel(key: string): boolean {
  return /[A-Z]/.test(key) && !key.includes('_');
}

/** A key only Dagu 2.x spells this way: lower case with an underscore between words. */
export function isSnake(key: string): boolean {
  return /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(key);
}
