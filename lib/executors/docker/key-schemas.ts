// JSON Schema of the struct tables of keys.ts: the published schema and the editor's view of a
// Docker step's pass-through blocks, any letter case accepted as skiff accepts it.
import Type, { type TSchema } from 'typebox';
import type { FieldType, StructTable } from './keys.js';

/** A regular expression matching `name` in any letter case (JSON Schema has no `i` flag). */
export function caseInsensitivePattern(name: string): string {
  let out = '^';
  for (const ch of name) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    out += lower !== upper ? `[${upper}${lower}]` : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return `${out}$`;
}

/**
 * An object schema whose properties are matched in any letter case. `properties` lists one
 * spelling of each key (for completion); `patternProperties` accepts every other spelling, either
 * with the same schema (`typedPatterns`, for small blocks whose checks rely on it) or with any
 * value (large nested blocks, where repeating each schema per spelling would multiply the size
 * at every level; skiff's own decoder checks those values).
 */
export function caseInsensitiveObject(
  props: Record<string, TSchema>,
  options: { additional: boolean; typedPatterns: boolean; spelling?: (name: string) => string; description?: string },
): TSchema {
  const properties: Record<string, TSchema> = {};
  const patternProperties: Record<string, TSchema> = {};
  for (const [name, schema] of Object.entries(props)) {
    properties[options.spelling ? options.spelling(name) : name] = Type.Optional(schema);
    patternProperties[caseInsensitivePattern(name)] = options.typedPatterns ? schema : Type.Unknown();
  }
  return Type.Object(properties, {
    patternProperties,
    additionalProperties: options.additional,
    ...(options.description ? { description: options.description } : {}),
  });
}

const SPELLING_EXCEPTIONS: Record<string, string> = { IPv4Address: 'ipv4Address', IPv6Address: 'ipv6Address', IPv6Gateway: 'ipv6Gateway' };

/** The lower-camel spelling Dagu's docs use for a JSON name: `CpuShares` → `cpuShares`, `IPAMConfig` → `ipamConfig`. */
export function camelSpelling(name: string): string {
  const exception = SPELLING_EXCEPTIONS[name];
  if (exception) return exception;
  const run = /^[A-Z]+/.exec(name)?.[0] ?? '';
  if (run.length === name.length) return name.toLowerCase();
  if (run.length > 1 && /[a-z]/.test(name[run.length]!)) return run.slice(0, -1).toLowerCase() + name.slice(run.length - 1);
  return run.toLowerCase() + name.slice(run.length);
}

const scalar = (): TSchema => Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

function schemaOfType(type: FieldType): TSchema {
  if (typeof type === 'object') {
    if ('struct' in type) return schemaOfTable(type.struct);
    if ('structList' in type) return Type.Union([Type.Array(schemaOfTable(type.structList)), schemaOfTable(type.structList)]);
    if ('structMap' in type) return Type.Record(Type.String(), Type.Union([schemaOfTable(type.structMap), Type.Null()]));
    const item = schemaOfTable(type.structListMap);
    return Type.Record(Type.String(), Type.Union([Type.Array(item), item, Type.Null()]));
  }
  switch (type) {
    case 'string':
      return scalar();
    case 'bool':
      return Type.Union([Type.Boolean(), Type.String(), Type.Number()]);
    case 'int':
      return Type.Union([Type.Integer(), Type.String(), Type.Boolean()]);
    case 'strings':
      return Type.Union([Type.Array(scalar()), scalar()]);
    case 'env':
      return Type.Union([Type.Array(scalar()), scalar(), Type.Record(Type.String(), Type.Union([scalar(), Type.Null()]))]);
    case 'stringMap':
      return Type.Record(Type.String(), Type.Union([scalar(), Type.Null()]));
    case 'set':
      return Type.Union([Type.Record(Type.String(), Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()])), Type.Array(Type.String())]);
    case 'ints':
      return Type.Array(Type.Union([Type.Integer(), Type.String()]));
    case 'any':
      return Type.Unknown();
  }
}

const schemaCache = new WeakMap<StructTable, TSchema>();

/** The JSON Schema of a struct table: its fields in lower camel case, any letter case accepted, no other keys. */
export function schemaOfTable(t: StructTable): TSchema {
  const cached = schemaCache.get(t);
  if (cached) return cached;
  const props: Record<string, TSchema> = {};
  for (const [name, type] of Object.entries(t.fields)) props[name] = schemaOfType(type);
  const schema = caseInsensitiveObject(props, {
    additional: false,
    typedPatterns: false,
    spelling: camelSpelling,
    description: `Docker ${t.name} (Engine API field names, matched in any letter case)`,
  });
  schemaCache.set(t, schema);
  return schema;
}
