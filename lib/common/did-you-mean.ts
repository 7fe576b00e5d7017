// The key a typo probably meant: `depend` → `depends`, `failed` → `failure`, `cap_add` → `CapAdd`,
// `evn` → `Env`. Letter case, `_` and `-` are ignored; then the nearest name by edit distance,
// within a distance that grows with the key's length (or sharing its first four letters).

const squash = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');

export function didYouMean(key: string, candidates: Iterable<string>): string | undefined {
  const k = squash(key);
  if (k === '') return undefined;
  const limit = k.length <= 4 ? 1 : k.length <= 8 ? 2 : 3;
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const c = squash(name);
    if (c === k) return name;
    const distance = editDistance(k, c);
    const sharesStem = k.length >= 5 && c.length >= 5 && commonPrefix(k, c) >= 4;
    if ((distance <= limit || (sharesStem && distance <= limit + 1)) && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** `; did you mean X?` or nothing. */
export function didYouMeanText(key: string, candidates: Iterable<string>): string {
  const found = didYouMean(key, candidates);
  return found === undefined ? '' : `; did you mean ${found}?`;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Levenshtein distance with adjacent transpositions (`evn` ↔ `env` is one edit). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push(new Array<number>(b.length + 1).fill(0));
    rows[i]![0] = i;
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
