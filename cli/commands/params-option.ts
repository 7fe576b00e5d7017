// `--params "a b k=v"` (repeatable) and the params after `--`: one list, split by Dagu's rules
// (the same tokenizer as `params:` in a file), for every command that runs or plans a DAG.
import { UsageError } from 'clipanion';
import { splitParams } from '../../lib/dag/params-text.js';

export function paramsFromCli(texts: readonly string[], rest: readonly string[] = []): string[] {
  const params: string[] = [];
  for (const text of texts) {
    const split = splitParams(text);
    if ('error' in split) throw new UsageError(`--params: ${split.error}`);
    params.push(...split.tokens);
  }
  params.push(...rest);
  return params;
}
