// Placement constraints as the swarm's manager reads them (docs/engine-api.md §13.4), checked
// when the DAG loads: one the manager would refuse fails `service create` with a terse rpc error,
// and one with a key it does not know is taken and then matches no node, so the step would wait
// for a node for ever. Both are told at the constraint's place instead.

/** The operators, tried in this order: the first the expression holds splits it. */
const OPERATORS = ['==', '!='] as const;
const KEY = /^[a-z_][a-z0-9\-_.]+$/i;
const VALUE = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;
const NODE_KEYS = ['node.id', 'node.hostname', 'node.ip', 'node.role', 'node.platform.os', 'node.platform.arch'];
const LABEL_PREFIXES = ['node.labels.', 'engine.labels.'];
const KNOWN = [...NODE_KEYS, ...LABEL_PREFIXES.map((p) => `${p}<label>`)].join(', ');

/** What is wrong with one constraint, or undefined when a swarm can match it. */
export function constraintProblem(expr: string): string | undefined {
  const op = OPERATORS.find((o) => expr.includes(o));
  const shown = JSON.stringify(expr);
  if (op === undefined) return `invalid placement constraint ${shown}: expected <key>==<value> or <key>!=<value>`;
  const at = expr.indexOf(op);
  const key = expr.slice(0, at).trim();
  const value = expr.slice(at + op.length).trim();
  if (!KEY.test(key)) return `invalid key ${JSON.stringify(key)} in placement constraint ${shown}: expected <key>==<value> or <key>!=<value>`;
  if (!VALUE.test(value)) return `invalid value ${JSON.stringify(value)} in placement constraint ${shown}: letters, digits, spaces and : - _ . * ( ) ? + [ ] \\ ^ $ | / only`;
  const lower = key.toLowerCase();
  const known = NODE_KEYS.includes(lower) || LABEL_PREFIXES.some((p) => lower.length > p.length && lower.startsWith(p));
  if (!known) return `unknown key ${JSON.stringify(key)} in placement constraint ${shown}: no node would ever match it (known: ${KNOWN})`;
  return undefined;
}
