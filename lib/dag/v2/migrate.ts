// `skiff migrate`: a Dagu 1.2x file rewritten as a Dagu 2.x file (snake_case keys, `run`,
// `action: docker.run` + `with`). The rewrite edits the parsed YAML document in place, key by
// key, so comments, key order, anchors and quoting survive; what has no 2.x equivalent is left
// as written and listed as a note. The field mapping is docs/dagu-dialects.md §5.
import { isMap, isPair, isScalar, isSeq, parseDocument, Pair, Scalar, YAMLMap, YAMLSeq, type Document, type Node } from 'yaml';
import { formatPath } from '../../common/problem.js';
import { DagFileSchema, StepFileSchema } from '../schema.js';
import { DOCKER_WITH_KEYS, SWARM_WITH_KEYS } from './containers.js';
import { snakeOf } from './spelling.js';

export interface MigrationNote {
  /** Key path in the 1.2x file. */
  path: string;
  line: number;
  message: string;
}

export interface Migration {
  text: string;
  notes: MigrationNote[];
  /** The text does not parse as YAML: nothing was migrated. */
  errors: string[];
}

type Path = Array<string | number>;

/** 1.2x keys in any letter case → canonical camelCase name (the loader matches them that way). */
const canonical = (schema: object) => {
  const props = (schema as { properties: Record<string, unknown> }).properties;
  const map = new Map(Object.keys(props).map((k) => [k.toLowerCase(), k]));
  return (key: string) => map.get(key.toLowerCase());
};
const dagKey = canonical(DagFileSchema);
const stepKey = canonical(StepFileSchema);
const CONTAINER_KEYS = new Map(
  ['name', 'image', 'pullPolicy', 'env', 'volumes', 'workingDir', 'user', 'platform', 'ports', 'network', 'keepContainer', 'startup', 'command', 'waitFor', 'logPattern', 'restartPolicy'].map((k) => [k.toLowerCase(), k]),
);
const LOCAL_TYPES = new Set(['', 'shell', 'command', 'local']);
const DOCKER_TYPES = new Map([['docker', 'docker.run'], ['container', 'container.run'], ['swarm', 'swarm.run']]);
/** 1.2x config key (lower case) → `with` key: the reverse of what the 2.x reader maps. */
const topKeys = (withKeys: ReadonlyMap<string, string>) => new Map([...withKeys].map(([snake, camel]) => [camel.toLowerCase(), snake]));
const DOCKER_TOP = topKeys(DOCKER_WITH_KEYS);
/** The `with` keys of each action, from the 1.2x config's top-level keys (any letter case). */
const TOP_KEYS = new Map([['docker.run', DOCKER_TOP], ['container.run', DOCKER_TOP], ['swarm.run', topKeys(SWARM_WITH_KEYS)]]);

export function migrateText(text: string): Migration {
  const doc = parseDocument(text, { keepSourceTokens: true });
  if (doc.errors.length > 0) return { text, notes: [], errors: doc.errors.map((e) => e.message.split('\n')[0]!) };
  const m = new Migrator(doc, text);
  m.run();
  return { text: doc.toString({ lineWidth: 0 }), notes: m.notes, errors: [] };
}

class Migrator {
  readonly notes: MigrationNote[] = [];
  readonly #doc: Document;
  readonly #text: string;

  constructor(doc: Document, text: string) {
    this.#doc = doc;
    this.#text = text;
  }

  #note(path: Path, node: Node | null | undefined, message: string): void {
    const offset = node?.range?.[0] ?? 0;
    const line = this.#text.slice(0, offset).split('\n').length;
    this.notes.push({ path: formatPath(path), line, message });
  }

  run(): void {
    const root = this.#doc.contents;
    if (!isMap(root)) return;
    const hasDagContainer = root.items.some((p) => isPair(p) && keyOf(p)?.toLowerCase() === 'container');
    const typePair = root.items.find((p) => isPair(p) && keyOf(p)?.toLowerCase() === 'type');
    const type = typePair && isScalar(typePair.value) ? String(typePair.value.value) : 'chain';
    for (const pair of [...root.items]) {
      const key = keyOf(pair);
      if (key === undefined) continue;
      const name = dagKey(key);
      const path = [key];
      if (name === undefined) continue; // the 1.2x loader refuses it; nothing to carry
      if (name === 'precondition' || name === 'preconditions') {
        rename(pair, 'preconditions');
        this.#preconditions(pair.value as Node, path);
      } else if (name === 'tags') rename(pair, 'labels');
      else if (name === 'handlerOn') {
        rename(pair, 'handler_on');
        this.#handlers(pair.value as Node, hasDagContainer);
      } else if (name === 'container') {
        rename(pair, 'container');
        this.#dagContainer(pair.value as Node);
      } else if (name === 'steps') {
        rename(pair, 'steps');
        this.#steps(pair, root, type, hasDagContainer);
      } else if (name === 'env' || name === 'params') {
        rename(pair, name);
        this.#backticks(pair.value as Node, path, name);
      } else rename(pair, snakeOf(name));
    }
  }

  /** 1.2x runs backticks in env and params values at load; 2.x leaves them as text. */
  #backticks(node: Node | null, path: Path, what: string): void {
    walkScalars(node, path, (scalar, at) => {
      if (typeof scalar.value === 'string' && /`[^`]*`/.test(scalar.value)) {
        this.#note(at, scalar, `${what} value runs a command in backticks; Dagu 2.x keeps it as text (move the command into a step, or use a params entry with eval)`);
      }
    });
  }

  #steps(stepsPair: Pair, root: YAMLMap, type: string, hasDagContainer: boolean): void {
    let steps = stepsPair.value as Node | null;
    if (isMap(steps)) {
      // Map form: Dagu 2.x validate refuses it; a list with the keys as names means the same.
      const list = new YAMLSeq();
      for (const pair of steps.items) {
        const name = keyOf(pair);
        if (!isMap(pair.value) || name === undefined) continue;
        if (!pair.value.items.some((p) => keyOf(p)?.toLowerCase() === 'name')) pair.value.items.unshift(new Pair(new Scalar('name'), new Scalar(name)));
        list.items.push(pair.value);
      }
      stepsPair.value = list;
      steps = list;
      if (!root.items.some((p) => keyOf(p)?.toLowerCase() === 'type')) insertType(root, 'graph');
    } else if (isSeq(steps)) {
      this.#order(steps, root, type);
    }
    if (!isSeq(steps)) return;
    steps.items.forEach((item, i) => {
      if (isSeq(item)) item.items.forEach((m, j) => this.#stepItem(item, j, m as Node, ['steps', i, j], hasDagContainer));
      else this.#stepItem(steps as YAMLSeq, i, item as Node, ['steps', i], hasDagContainer);
    });
  }

  /**
   * 1.2x's default type is chain (each list item waits for the one before); 2.x's is graph and
   * its chain forbids `depends`. Without any `depends`, `type: chain` says the same; with some,
   * the implicit edges are written out as `depends` under `type: graph`.
   */
  #order(steps: YAMLSeq, root: YAMLMap, type: string): void {
    if (type !== 'chain' || steps.items.length < 2) return;
    const members = (item: unknown) => (isSeq(item) ? item.items : [item]);
    const all = steps.items.flatMap(members);
    const anyDepends = all.some((s) => isMap(s) && s.items.some((p) => keyOf(p)?.toLowerCase() === 'depends'));
    const typePair = root.items.find((p) => keyOf(p)?.toLowerCase() === 'type');
    if (!anyDepends) {
      if (!typePair) insertType(root, 'chain');
      return;
    }
    if (typePair) typePair.value = new Scalar('graph');
    else insertType(root, 'graph');
    let position = 0;
    const names = steps.items.map((item, i) =>
      members(item).map((s, j) => {
        position++;
        if (isScalar(s)) {
          // A bare string step becomes a map below; give it a name now so it can be waited for.
          const map = new YAMLMap();
          map.items.push(new Pair(new Scalar('name'), new Scalar(`cmd_${position}`)), new Pair(new Scalar('command'), s));
          if (isSeq(item)) item.items[j] = map;
          else steps.items[i] = map;
          return `cmd_${position}`;
        }
        if (!isMap(s)) return undefined;
        const namePair = s.items.find((p) => keyOf(p)?.toLowerCase() === 'name');
        if (namePair && isScalar(namePair.value)) return String(namePair.value.value).trim();
        const generated = `cmd_${position}`;
        s.items.unshift(new Pair(new Scalar('name'), new Scalar(generated)));
        this.#note(['steps', i], s, `step had no name; named ${generated} so that the next step can depend on it`);
        return generated;
      }),
    );
    steps.items.forEach((item, i) => {
      if (i === 0) return;
      const before = names[i - 1]!.filter((n): n is string => n !== undefined);
      for (const s of members(steps.items[i])) {
        if (!isMap(s)) continue;
        const dep = s.items.find((p) => keyOf(p)?.toLowerCase() === 'depends');
        if (dep && isSeq(dep.value) && dep.value.items.length === 0) {
          // `depends: []` opted out of the chain in 1.2x; in a graph that is simply no depends.
          s.items.splice(s.items.indexOf(dep), 1);
          continue;
        }
        const declared = dep ? (isSeq(dep.value) ? dep.value.items.map((n) => String((n as Scalar).value)) : [String((dep.value as Scalar).value)]) : [];
        const merged = [...new Set([...before, ...declared])];
        const seq = new YAMLSeq();
        seq.flow = true;
        seq.items.push(...merged.map((n) => new Scalar(n)));
        if (dep) dep.value = seq;
        else s.items.push(new Pair(new Scalar('depends'), seq));
      }
    });
  }

  #stepItem(parent: YAMLSeq, index: number, node: Node, path: Path, hasDagContainer: boolean): void {
    if (isScalar(node)) {
      const map = new YAMLMap();
      map.items.push(new Pair(new Scalar('run'), node));
      parent.items[index] = map;
      return;
    }
    if (isMap(node)) this.#step(node, path, hasDagContainer);
  }

  #step(step: YAMLMap, path: Path, hasDagContainer: boolean): void {
    const find = (name: string) => step.items.find((p) => isPair(p) && stepKey(keyOf(p) ?? '') === name) as Pair | undefined;
    const executorPair = find('executor');
    const commandPair = find('command');
    const scriptPair = find('script');
    const shellPair = find('shell');
    let dockerAction: string | undefined;
    let config: Node | null | undefined;
    if (executorPair) {
      const ex = executorPair.value as Node | null;
      const typeNode = isMap(ex) ? ex.items.find((p) => keyOf(p)?.toLowerCase() === 'type')?.value : ex;
      const t = isScalar(typeNode) ? String(typeNode.value).trim().toLowerCase() : '';
      config = isMap(ex) ? (ex.items.find((p) => keyOf(p)?.toLowerCase() === 'config')?.value as Node | null) : undefined;
      if (LOCAL_TYPES.has(t)) step.items.splice(step.items.indexOf(executorPair), 1);
      else if (DOCKER_TYPES.has(t) && hasDagContainer) {
        // In 1.2x such a step runs in the DAG-level container and its config is ignored; a step
        // without an executor does the same in 2.x.
        step.items.splice(step.items.indexOf(executorPair), 1);
        if (config) this.#note([...path, 'executor', 'config'], config, 'ignored in 1.2x (the step runs in the DAG-level container), so dropped');
      } else if (DOCKER_TYPES.has(t)) dockerAction = DOCKER_TYPES.get(t);
      else this.#note([...path, 'executor'], executorPair.key as Node, `executor type ${t} has no Dagu 2.x action skiff runs; left as written`);
    }

    for (const pair of [...step.items]) {
      const key = keyOf(pair);
      const name = key === undefined ? undefined : stepKey(key);
      if (name === undefined || pair === executorPair) continue;
      const at = [...path, key!];
      if (name === 'dir' || name === 'workingDir') rename(pair, 'working_dir');
      else if (name === 'continueOn') {
        rename(pair, 'continue_on');
        renameKeys(pair.value as Node, (k) => ({ failure: 'failed', exitcode: 'exit_code', marksuccess: 'mark_success' })[k.toLowerCase()] ?? k.toLowerCase());
      } else if (name === 'retryPolicy') {
        rename(pair, 'retry_policy');
        renameKeys(pair.value as Node, (k) => ({ intervalsec: 'interval_sec', exitcode: 'exit_code', maxintervalsec: 'max_interval_sec' })[k.toLowerCase()] ?? k.toLowerCase());
      } else if (name === 'precondition' || name === 'preconditions') {
        rename(pair, 'preconditions');
        this.#preconditions(pair.value as Node, at);
      } else if (name === 'id') this.#id(pair, at);
      else if (name === 'command' || name === 'script' || name === 'shell') continue;
      else rename(pair, snakeOf(name));
    }

    if (dockerAction) {
      const index = step.items.indexOf(executorPair!);
      const withMap = isMap(config) ? config : new YAMLMap();
      renameKeys(withMap, (k) => TOP_KEYS.get(dockerAction!)!.get(k.toLowerCase()) ?? k);
      const replacement: Pair[] = [new Pair(new Scalar('action'), new Scalar(dockerAction))];
      replacement[0]!.key = Object.assign(new Scalar('action'), { commentBefore: (executorPair!.key as Scalar).commentBefore });
      replacement.push(new Pair(new Scalar('with'), withMap));
      step.items.splice(index, 1, ...replacement);
      const command = commandPair ?? scriptPair;
      if (command) {
        step.items.splice(step.items.indexOf(command), 1);
        rename(command, 'command');
        // Exec form: one quoted string that sh splits back into the same argv.
        if (isSeq(command.value)) command.value = new Scalar(shellQuote(command.value.items.map((n) => String((n as Scalar).value))));
        // skiff runs the string with /bin/sh -c; with.shell makes Dagu 2.x do the same (it would split it into argv).
        const shell = new YAMLSeq();
        shell.flow = true;
        shell.items.push(new Scalar('/bin/sh'));
        withMap.items.push(new Pair(new Scalar('shell'), shell), command);
      }
      if (shellPair) {
        step.items.splice(step.items.indexOf(shellPair), 1);
        this.#note([...path, 'shell'], shellPair.key as Node, 'a docker step runs no step shell (1.2x ignored it); dropped');
      }
      return;
    }

    if (commandPair && isSeq(commandPair.value)) {
      // Exec form on the host: `action: exec` runs argv without a shell, as 1.2x did.
      const argv = commandPair.value.items as Node[];
      const withMap = new YAMLMap();
      withMap.items.push(new Pair(new Scalar('command'), argv[0] ?? new Scalar('')));
      if (argv.length > 1) {
        const args = new YAMLSeq();
        args.flow = commandPair.value.flow ?? false;
        args.items.push(...argv.slice(1));
        withMap.items.push(new Pair(new Scalar('args'), args));
      }
      const index = step.items.indexOf(commandPair);
      const action = new Pair(Object.assign(new Scalar('action'), { commentBefore: (commandPair.key as Scalar).commentBefore }), new Scalar('exec'));
      step.items.splice(index, 1, action, new Pair(new Scalar('with'), withMap));
      if (shellPair) {
        step.items.splice(step.items.indexOf(shellPair), 1);
        this.#note([...path, 'shell'], shellPair.key as Node, 'shell has no effect on an exec-form command; dropped');
      }
      return;
    }
    const run = commandPair ?? scriptPair;
    if (run) rename(run, 'run');
    if (shellPair) {
      if (run) {
        const withMap = new YAMLMap();
        withMap.items.push(new Pair(new Scalar('shell'), shellPair.value));
        step.items.splice(step.items.indexOf(shellPair), 1, new Pair(new Scalar('with'), withMap));
      } else rename(shellPair, 'shell');
    }
  }

  #id(pair: Pair, at: Path): void {
    if (!isScalar(pair.value) || typeof pair.value.value !== 'string') return;
    const id = pair.value.value;
    if (!id.includes('-')) return;
    const fixed = id.replace(/-/g, '_');
    pair.value.value = fixed;
    this.#note(at, pair.value as Node, `Dagu 2.x step ids cannot hold '-': renamed ${id} to ${fixed}; change references such as \${${id}.stdout} and depends on ${id} by hand`);
  }

  #preconditions(node: Node | null, path: Path): void {
    const items = isSeq(node) ? (node.items as Node[]) : [node];
    items.forEach((item, i) => {
      if (!isMap(item)) return;
      const at = isSeq(node) ? [...path, i] : path;
      renameKeys(item, (k) => (k.toLowerCase() === 'command' ? 'condition' : k.toLowerCase()));
      const condition = item.items.find((p) => keyOf(p) === 'condition');
      const hasExpected = item.items.some((p) => keyOf(p) === 'expected');
      // 1.2x ran backticks in a compared condition; 2.x runs commands only in `eval`.
      if (condition && hasExpected && isScalar(condition.value) && /`[^`]*`|\$\(/.test(String(condition.value.value))) {
        rename(condition, 'eval');
        this.#note(at, condition.key as Node, 'the condition runs a command; written as eval, the only place Dagu 2.x runs one');
      }
    });
  }

  #handlers(node: Node | null, hasDagContainer: boolean): void {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = keyOf(pair)?.toLowerCase();
      if (key === 'cancel') rename(pair, 'abort');
      else if (key !== undefined) rename(pair, key);
      if (isMap(pair.value)) this.#step(pair.value, ['handler_on', keyOf(pair)!], hasDagContainer);
    }
  }

  #dagContainer(node: Node | null): void {
    renameKeys(node, (k) => {
      const lower = k.toLowerCase();
      if (lower === 'workdir') return 'working_dir';
      const name = CONTAINER_KEYS.get(lower);
      return name === undefined ? k : snakeOf(name);
    });
  }
}

/** `type:` just before `steps:`; a comment heading the file stays at its head. */
function insertType(root: YAMLMap, type: string): void {
  const index = Math.max(0, root.items.findIndex((p) => keyOf(p)?.toLowerCase() === 'steps'));
  const key = new Scalar('type');
  const next = root.items[index]?.key;
  if (index === 0 && isScalar(next) && next.commentBefore) {
    key.commentBefore = next.commentBefore;
    next.commentBefore = undefined;
  }
  root.items.splice(index, 0, new Pair(key, new Scalar(type)));
}

function keyOf(pair: unknown): string | undefined {
  return isPair(pair) && isScalar(pair.key) ? String(pair.key.value) : undefined;
}

/** Renames a key in place: its Scalar keeps its comments and position. */
function rename(pair: Pair, to: string): void {
  if (isScalar(pair.key)) pair.key.value = to;
  else pair.key = new Scalar(to);
}

function renameKeys(node: Node | null | undefined, fn: (key: string) => string): void {
  if (!isMap(node)) return;
  for (const pair of node.items) {
    const key = keyOf(pair);
    if (key !== undefined) rename(pair, fn(key));
  }
}

function walkScalars(node: Node | null, path: Path, fn: (scalar: Scalar, path: Path) => void): void {
  if (isScalar(node)) fn(node, path);
  else if (isSeq(node)) node.items.forEach((n, i) => walkScalars(n as Node, [...path, i], fn));
  else if (isMap(node)) for (const p of node.items) walkScalars(p.value as Node, [...path, keyOf(p) ?? '?'], fn);
}

/** argv → one POSIX shell word list that `sh -c` splits back into the same argv. */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
