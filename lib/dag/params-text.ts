// How a params string is split into parameters: one rule for `params:` in a DAG file and for
// `skiff run --params`, Dagu's (its params parser):
//   - whitespace separates parameters; a parameter is `NAME=value` or a positional value;
//   - a value, or a whole positional parameter, may be a double-quoted string: the quotes go, and
//     `\"` inside stands for `"` (nothing else is an escape);
//   - a backtick command `` `…` `` is one value, kept with its backticks (run later, on the host);
//   - anything else runs to the next whitespace or double quote: single quotes and backslashes
//     are ordinary characters, and `a"b c"` is two parameters, `a` and `b c`.
// Where Dagu silently drops a double quote or backtick that is never closed, this is an error.

export type ParamsSplit = { tokens: string[] } | { error: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** `a "b c" K="x y" E=` → `a`, `b c`, `K=x y`, `E=`. */
export function splitParams(text: string): ParamsSplit {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i]!)) {
      i++;
      continue;
    }
    const name = NAME.exec(text.slice(i, i + 256))?.[0] ?? '';
    i += name.length;
    const ch = text[i];
    if (ch === '"') {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && text[j + 1] === '"') j++;
        value += text[j];
      }
      if (j >= text.length) return { error: `unterminated double quote in ${JSON.stringify(text)}` };
      tokens.push(name + value);
      i = j + 1;
    } else if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) return { error: `unterminated backtick in ${JSON.stringify(text)}` };
      tokens.push(name + text.slice(i, end + 1));
      i = end + 1;
    } else {
      let j = i;
      while (j < text.length && text[j] !== '"' && !/\s/.test(text[j]!)) j++;
      tokens.push(name + text.slice(i, j));
      i = j;
    }
  }
  return { tokens };
}
