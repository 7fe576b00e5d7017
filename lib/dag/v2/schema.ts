// JSON Schema of a Dagu 2.x file, for `skiff schema --dialect 2`. It is derived from the 1.2x
// schema (schema.ts, the typebox source of every field both dialects share) by the rule that maps
// one spelling to the other, with the fields only 2.x has added as typebox schemas here, so a
// field is still described in one place.
import Type from 'typebox';
import { dagJsonSchema } from '../schema.js';
import { snakeOf } from './spelling.js';

type Json = { [key: string]: unknown };

const CAMEL = /^[a-z]+(?:[A-Z][a-z0-9]*)+$/;

const StringOrList = Type.Union([Type.String(), Type.Array(Type.String())]);

const RunWith = Type.Object(
  {
    shell: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'Shell for run, e.g. bash or "bash -e"' })),
    shell_args: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
const ExecWith = Type.Object(
  { command: Type.String({ description: 'Program to run without a shell' }), args: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean()]))) },
  { additionalProperties: false },
);
const LogWith = Type.Object({ message: Type.String() }, { additionalProperties: false });
const Run = Type.Union([Type.String(), Type.Array(Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())]))], {
  description: 'Shell text (a line break makes it a script); a list runs each entry in a fresh shell, stopping at the first failure. In a container skiff runs a string with /bin/sh -c',
});
const Action = Type.Union([Type.Literal('exec'), Type.Literal('docker.run'), Type.Literal('container.run'), Type.Literal('swarm.run'), Type.Literal('noop'), Type.Literal('log.write')], {
  description: 'What the step runs; the actions skiff runs (swarm.run is skiff\'s own: a service of run-once tasks on a swarm)',
});
const StepContainer = Type.Union([
  Type.String({ description: 'Name of a running container to exec into' }),
  Type.Object(
    {
      image: Type.Optional(Type.String()),
      exec: Type.Optional(Type.String({ description: 'Running container to exec into (instead of image)' })),
      name: Type.Optional(Type.String()),
      pull_policy: Type.Optional(Type.Union([Type.String(), Type.Boolean()])),
      env: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Array(Type.Unknown())])),
      volumes: Type.Optional(Type.Array(Type.String())),
      user: Type.Optional(Type.String()),
      working_dir: Type.Optional(Type.String()),
      platform: Type.Optional(Type.String()),
      network: Type.Optional(Type.String()),
      keep_container: Type.Optional(Type.Boolean({ description: 'Keep the step container (removed by default)' })),
    },
    { additionalProperties: false },
  ),
]);
const PreconditionV2 = Type.Union([
  Type.String(),
  Type.Object(
    {
      condition: Type.Optional(Type.String({ description: 'Command check, or (with expected) a value compared as text, never run' })),
      eval: Type.Optional(Type.String({ description: 'Text whose $(…) and backticks run before it is compared with expected' })),
      expected: Type.Optional(Type.String()),
      negate: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
]);
const Consts = Type.Array(Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { minProperties: 1, maxProperties: 1 }), {
  description: 'Values resolved once at load as ${consts.name}; each entry sees the ones before it',
});

const json = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json;

/** A strict object schema with its camelCase property names in snake_case. */
function snakeObject(schema: unknown, extra: Record<string, unknown> = {}, drop: string[] = []): Json {
  const s = schema as Json;
  const props = (s.properties ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) if (!drop.includes(key)) out[CAMEL.test(key) ? snakeOf(key) : key] = value;
  const { patternProperties: _p, properties: _q, required, ...rest } = s;
  // 2.x matches keys exactly: the 1.2x "any letter case" sentence does not hold.
  if (typeof rest.description === 'string') rest.description = rest.description.replace(/;? ?[Kk]eys match in any letter case\.?/, '').trim();
  return { ...rest, type: 'object', properties: { ...out, ...extra }, ...(required ? { required } : {}), additionalProperties: false };
}

/** The object branch of a `string | object` union, transformed. */
function mapObjectBranch(schema: unknown, fn: (o: Json) => Json): Json {
  const s = schema as Json;
  if (!Array.isArray(s.anyOf)) return fn(s);
  return { ...s, anyOf: (s.anyOf as Json[]).map((b) => (b.type === 'object' ? fn(b) : b)) };
}

function hasProps(branch: Json, ...names: string[]): boolean {
  const props = branch.properties as Record<string, unknown> | undefined;
  return props !== undefined && names.every((n) => n in props);
}

export function dagJsonSchemaV2(): object {
  const v1 = dagJsonSchema() as Json & { properties: Record<string, Json>; definitions: { step: Json } };
  const step = v1.definitions.step;
  const stepProps = step.properties as Record<string, Json>;
  const executor = stepProps.executor!;
  // The executors' configs are one anyOf (docker's, swarm's): each action's with takes its own.
  const config = ((executor.anyOf as Json[]).find((b) => b.type === 'object')!.properties as Record<string, Json>).config!;
  const configs = (config.anyOf as Json[] | undefined) ?? [config];
  const dockerConfig = configs.find((b) => hasProps(b, 'containerName', 'autoRemove')) ?? configs[0]!;
  const swarmConfig = configs.find((b) => hasProps(b, 'replicas', 'placement'));
  const containerWith = {
    working_dir: { type: 'string', description: 'Working directory in the container' },
    volumes: { type: 'array', items: { type: 'string' }, description: 'src:dst[:ro|rw] binds' },
    command: json(StringOrList),
  };
  const dockerWith = snakeObject(dockerConfig, containerWith);
  const swarmWith = swarmConfig ? [snakeObject(swarmConfig, containerWith)] : [];
  // Dagu leaves the Docker config open (unknown keys ignored); editors may still flag typos.
  const With = { anyOf: [dockerWith, ...swarmWith, json(ExecWith), json(LogWith), json(RunWith)], description: 'Inputs of the action (or the shell of run)' };

  const stepV2 = snakeObject(
    {
      ...step,
      properties: {
        ...stepProps,
        continueOn: mapObjectBranch(stepProps.continueOn, (o) => snakeObject(o, { failed: { type: 'boolean' } }, ['failure'])),
        retryPolicy: snakeObject(stepProps.retryPolicy),
        preconditions: json(Type.Union([PreconditionV2, Type.Array(PreconditionV2)])),
      },
    },
    {
      run: json(Run),
      action: json(Action),
      with: With,
      container: json(StepContainer),
      type: { type: 'string', description: 'Deprecated: use action' },
      config: { ...dockerWith, description: 'Deprecated: use with' },
      exec: { ...json(ExecWith), description: 'Deprecated: use action: exec' },
      shell_args: { type: 'array', items: { type: 'string' } },
    },
    ['executor', 'dir', 'precondition'],
  );
  stepV2.properties = { ...(stepV2.properties as Json), command: { ...(stepProps.command as Json), description: 'Deprecated: use run' }, script: { type: 'string', description: 'Deprecated: use run' } };

  const handlerOn = v1.properties.handlerOn!;
  const root = snakeObject(
    {
      ...v1,
      properties: {
        ...v1.properties,
        handlerOn: snakeObject(handlerOn, {}, ['cancel']),
        container: snakeObject(v1.properties.container, {}, ['workDir']),
        preconditions: json(Type.Union([PreconditionV2, Type.Array(PreconditionV2)])),
      },
    },
    { consts: json(Consts), labels: json(StringOrList), shell_args: { type: 'array', items: { type: 'string' } } },
    ['precondition'],
  );
  return {
    ...root,
    title: 'skiff DAG file (Dagu 2.x)',
    description: 'A Dagu 2.x DAG file as skiff runs it: snake_case keys only; steps with run or action.',
    definitions: { step: stepV2 },
  };
}

/**
 * The node at a dotted path, walking `properties` then `items` as `dagu schema dag steps.container`
 * does; unions and `$ref`s on the way are looked through, and a plain key is the last resort.
 */
export function schemaAt(schema: object, path: string): object | undefined {
  const root = schema as Json;
  let node: Json = root;
  for (const part of path.split('.').filter((p) => p !== '')) {
    const found = propertyOf(node, part, root, 0);
    if (found === undefined) return undefined;
    node = found;
  }
  return resolveRef(node, root);
}

function propertyOf(node: Json, part: string, root: Json, depth: number): Json | undefined {
  if (depth > 8) return undefined;
  const n = resolveRef(node, root);
  const props = n.properties as Record<string, Json> | undefined;
  if (props && Object.hasOwn(props, part)) return props[part];
  const next: Json[] = [];
  if (n.items && typeof n.items === 'object') next.push(n.items as Json);
  if (Array.isArray(n.anyOf)) next.push(...(n.anyOf as Json[]));
  for (const candidate of next) {
    const found = propertyOf(candidate, part, root, depth + 1);
    if (found !== undefined) return found;
  }
  return depth === 0 && Object.hasOwn(n, part) && typeof n[part] === 'object' ? (n[part] as Json) : undefined;
}

function resolveRef(node: Json, root: Json): Json {
  let n = node;
  for (let i = 0; typeof n.$ref === 'string' && i < 10; i++) {
    n = (n.$ref as string).replace(/^#\//, '').split('/').reduce<Json>((acc, k) => (acc[k] ?? {}) as Json, root);
  }
  return n;
}
