// Go RE2 log patterns as JavaScript RegExps: one dialect for checking a DAG when it loads and for
// reading a container's log when it runs, so both agree on every pattern.

/** A logPattern that is not a valid Go (RE2) regular expression; the message is Go's `code: \`expr\``. */
export class LogPatternError extends SyntaxError {
  override name = 'LogPatternError';
}

/**
 * A Go RE2 pattern as a JavaScript RegExp, used both when the DAG loads (validation) and when the
 * container's log is read, so both agree on every pattern. The syntaxes mostly overlap:
 * - a leading flag group such as `(?i)` (common in Go, unsupported by Node 20) becomes flags;
 * - Go's `(?P<name>…)` groups become `(?<name>…)`;
 * - what RE2 refuses and JavaScript would accept (lookaround, backreferences) is refused.
 * Errors use Go's wording (`missing closing ): \`(x\``), as Dagu prints them.
 */
export function compileLogPattern(pattern: string): RegExp {
  const flags = /^\(\?([imsU]+)\)/.exec(pattern);
  if (flags?.[1]!.includes('U')) throw new LogPatternError('ungreedy flag (?U) is not supported by skiff: `(?U`');
  let body = flags ? pattern.slice(flags[0].length) : pattern;
  const perl = /\(\?(?:[=!]|<[=!])/.exec(withoutEscapes(body));
  if (perl) throw new LogPatternError(`invalid or unsupported Perl syntax: \`${perl[0]}\``);
  const backreference = /\\[1-9]/.exec(withoutEscapedBackslashes(body));
  if (backreference) throw new LogPatternError(`invalid escape sequence: \`${backreference[0]}\``);
  body = body.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(body, flags ? [...new Set(flags[1])].join('') : '');
  } catch (err) {
    throw new LogPatternError(goRegexpReason(err instanceof Error ? err.message : String(err), pattern));
  }
}

/** `\\` pairs blanked out, so that `\\1` (a backslash, then 1) is not taken for `\1`. */
function withoutEscapedBackslashes(pattern: string): string {
  return pattern.replace(/\\\\/g, '__');
}

/** Every escaped character blanked out, so that `\(?=` is not taken for a lookahead. */
function withoutEscapes(pattern: string): string {
  return pattern.replace(/\\./g, '__');
}

/** V8's reason for a bad pattern, in Go's regexp/syntax wording where there is one. */
function goRegexpReason(message: string, pattern: string): string {
  const plain = withoutEscapes(pattern);
  if (/Unterminated group/.test(message)) return `missing closing ): \`${pattern}\``;
  if (/Unmatched '\)'/.test(message)) return `unexpected ): \`${pattern}\``;
  if (/Unterminated character class/.test(message)) return `missing closing ]: \`${pattern.slice(plain.lastIndexOf('['))}\``;
  if (/\\ at end of pattern/.test(message)) return 'trailing backslash at end of expression: ``';
  if (/numbers out of order in \{\} quantifier/.test(message)) {
    const m = /\{\d+,\d+\}/.exec(plain);
    return `invalid repeat count: \`${m ? pattern.slice(m.index, m.index + m[0].length) : pattern}\``;
  }
  if (/Range out of order in character class/.test(message)) {
    const range = [...plain.matchAll(/([^\\])-([^\]\\])/g)].find((m) => m[1]! > m[2]!);
    return `invalid character class range: \`${range ? range[0] : pattern}\``;
  }
  if (/Nothing to repeat/.test(message)) {
    const nested = /[*+?][*+]/.exec(plain);
    if (nested) return `invalid nested repetition operator: \`${pattern.slice(nested.index, nested.index + 2)}\``;
    const bare = /(?:^|[(|])([*+?])/.exec(plain);
    return `missing argument to repetition operator: \`${bare ? bare[1] : pattern}\``;
  }
  const reason = message.slice(message.lastIndexOf(': ') + 2) || message;
  return `${reason}: \`${pattern}\``;
}
