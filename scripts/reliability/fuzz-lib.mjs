// Shared pieces of the reliability fuzzers: a seeded PRNG and DAG text mutations.
// Used by scripts/reliability/fuzz-*.mjs and by spec/reliability/*.test.ts (fewer cases).

/** mulberry32: small, fast, reproducible. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
}

export function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    const value = m[2] ?? argv[++i];
    out[key] = typeof defaults[key] === 'number' ? Number(value) : value;
  }
  return out;
}

const KEYS = ['steps', 'name', 'command', 'depends', 'executor', 'type', 'config', 'image', 'container', 'env', 'params',
  'volumes', 'host', 'binds', 'continueOn', 'exitCode', 'output', 'dotenv', 'handlerOn', 'registryAuths', 'keepContainer',
  'startup', 'waitFor', 'logPattern', 'workingDir', 'user', 'platform', 'pull', 'autoRemove', 'preconditions', 'retryPolicy',
  'timeoutSec', 'schedule', 'script', 'shell', 'dir', 'stdout', 'stderr', 'network', 'exec', 'containerName', 'healthcheck'];
const VALUES = ['', '~', 'null', 'true', 'false', '0', '-1', '1e309', '0x10', '"x"', "'y'", '[]', '{}', '[a, b]', '{a: 1}',
  '!!binary aGk=', '&a x', '*a', '*nope', '|', '>-', '"\\u0000"', '9999999999999999999999', '.inf', '.nan', '2026-01-01',
  '${X}', '${UNSET.a.b}', '$1', '"\\$"', '<<: *a', '? k', '- - -', '{{', ']]', '"', "'", '#', '%TAG ! x', '---', '...'];

/** One mutation of `text` (a DAG file). Returns { text, kind }. Never adds backticks. */
export function mutate(text, r) {
  const lines = text.split('\n');
  const li = () => r.int(lines.length);
  const kinds = ['flip', 'delete', 'dup', 'indent', 'rename', 'swap', 'insert', 'truncate', 'multi', 'swapLines'];
  const kind = r.pick(kinds);
  let out;
  switch (kind) {
    case 'flip': {
      const b = Buffer.from(text, 'utf8');
      const n = 1 + r.int(4);
      for (let k = 0; k < n && b.length > 0; k++) {
        const i = r.int(b.length);
        b[i] = r.next() < 0.5 ? b[i] ^ (1 << r.int(8)) : r.int(256);
      }
      out = b.toString('latin1'); // keep raw bytes, invalid UTF-8 included
      break;
    }
    case 'delete': lines.splice(li(), 1 + r.int(3)); out = lines.join('\n'); break;
    case 'dup': { const i = li(); lines.splice(i, 0, ...lines.slice(i, i + 1 + r.int(3))); out = lines.join('\n'); break; }
    case 'indent': {
      const i = li();
      const d = r.int(3);
      lines[i] = d === 0 ? ' '.repeat(1 + r.int(4)) + lines[i] : d === 1 ? lines[i].replace(/^ {1,4}/, '') : '\t' + lines[i];
      out = lines.join('\n'); break;
    }
    case 'rename': {
      const i = li();
      lines[i] = lines[i].replace(/^(\s*-?\s*)([A-Za-z_][\w.-]*)(\s*:)/, (_, a, _k, c) => a + (r.next() < 0.5 ? r.pick(KEYS) : _k + 'x') + c);
      out = lines.join('\n'); break;
    }
    case 'swap': {
      const i = li();
      lines[i] = lines[i].replace(/:\s+(.*)$/, () => ': ' + r.pick(VALUES));
      if (!/:/.test(lines[i])) lines[i] = lines[i].replace(/^(\s*-\s*)(.*)$/, (_, a) => a + r.pick(VALUES));
      out = lines.join('\n'); break;
    }
    case 'insert': {
      const i = li();
      const ind = (/^\s*/.exec(lines[i]) ?? [''])[0];
      lines.splice(i, 0, `${ind}${r.pick(KEYS)}: ${r.pick(VALUES)}`);
      out = lines.join('\n'); break;
    }
    case 'truncate': out = text.slice(0, r.int(text.length + 1)); break;
    case 'swapLines': { const i = li(); const j = li(); [lines[i], lines[j]] = [lines[j], lines[i]]; out = lines.join('\n'); break; }
    case 'multi': {
      let t = text;
      const n = 2 + r.int(4);
      for (let k = 0; k < n; k++) t = mutate(t, r).text;
      out = t; break;
    }
  }
  // Backticks in env values run shell commands at load: never let a mutation create one.
  return { text: out.replace(/`/g, "'"), kind };
}

/** `file:line:col` somewhere in the message. */
export const PLACE = /\S+:\d+:\d+/;
