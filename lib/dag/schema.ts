// The shape of a DAG file as typebox schemas: the one source of the field names and types. The
// loader validates the file (after its keys were folded to these camelCase names) against the
// "check" variant, and `dagJsonSchema()` publishes the same objects for editors, with the
// registryAuths schema and the docker executor's own config schemas (from the contract) embedded.
// Field rules: docs/dagu-behavior.md §1 and §2; skiff's deliberate differences are noted inline.
import Type, { type TSchema } from 'typebox';
import { configChecksFor } from '../executors/contract.js';
import { RegistryAuthsSchema } from './registry-auths.js';

/**
 * Objects whose keys are matched exactly (Dagu decodes `executor` and the map form of
 * `continueOn` by hand, not through mapstructure: §1.6, §3.1). Every other object schema with
 * `properties` has its keys matched case-insensitively (§1.1).
 */
export const EXACT_KEYS = new WeakSet<object>();

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
/** An env or param value: scalars are written as text; `KEY:` alone is the empty string. */
const EnvValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
const StringOrList = Type.Union([Type.String(), Type.Array(Type.String())]);
const Seconds = Type.Integer({ minimum: 0 });

/** `env:` of the DAG or a step: a map, or a list of `KEY: value` maps and `KEY=value` strings. */
export const EnvSchema = Type.Union([
  Type.Record(Type.String(), EnvValue),
  Type.Array(Type.Union([Type.String(), Type.Record(Type.String(), EnvValue)])),
]);

/** `params:`: `"a b k=v"`, a list of strings and `{name: value}` maps, or a map. */
export const ParamsSchema = Type.Union([
  Type.String(),
  Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Record(Type.String(), EnvValue)])),
  Type.Record(Type.String(), EnvValue),
]);

const PreconditionMap = Type.Object(
  {
    condition: Type.Optional(Type.String()),
    /** Alias of `condition`. */
    command: Type.Optional(Type.String()),
    expected: Type.Optional(Scalar),
    negate: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const Precondition = Type.Union([Type.String(), PreconditionMap]);
export const PreconditionsSchema = Type.Union([Precondition, Type.Array(Precondition)]);

export const RetryPolicySchema = Type.Object(
  {
    /** A number, or a string expanded when the step runs. */
    limit: Type.Union([Type.Integer({ minimum: 0 }), Type.String()]),
    intervalSec: Type.Union([Type.Integer({ minimum: 0 }), Type.String()]),
    exitCode: Type.Optional(Type.Union([Type.Integer(), Type.Array(Type.Integer())])),
    /** `true` = ×2; a number must be greater than 1. */
    backoff: Type.Optional(Type.Union([Type.Boolean(), Type.Number({ exclusiveMinimum: 1 })])),
    maxIntervalSec: Type.Optional(Seconds),
  },
  { additionalProperties: false },
);

export const STEP_ID_PATTERN = '^[a-zA-Z][a-zA-Z0-9_-]*$';

function makeSchemas(blocks: { container: TSchema; registryAuths: TSchema; executorConfig: TSchema; stepRef?: TSchema }) {
  // Unknown keys of the map form are ignored (§1.6), so no additionalProperties: false here.
  const continueOnMap = Type.Object({
    failure: Type.Optional(Type.Boolean()),
    skipped: Type.Optional(Type.Boolean()),
    markSuccess: Type.Optional(Type.Boolean()),
    exitCode: Type.Optional(Type.Union([Type.Integer(), Type.Array(Type.Integer())])),
    output: Type.Optional(StringOrList),
  });
  const executorMap = Type.Object(
    {
      type: Type.String(),
      config: Type.Optional(blocks.executorConfig),
    },
    { additionalProperties: false },
  );
  EXACT_KEYS.add(continueOnMap);
  EXACT_KEYS.add(executorMap);

  const step = Type.Object(
    {
      name: Type.Optional(Type.String()),
      id: Type.Optional(Type.String({ pattern: STEP_ID_PATTERN })),
      description: Type.Optional(Type.String()),
      /** String: shell form (skiff differs from Dagu, which splits it into argv); list: exec form. */
      command: Type.Optional(Type.Union([Type.String(), Type.Array(Scalar)])),
      script: Type.Optional(Type.String()),
      shell: Type.Optional(Type.String()),
      workingDir: Type.Optional(Type.String()),
      /** Alias of `workingDir`. */
      dir: Type.Optional(Type.String()),
      env: Type.Optional(EnvSchema),
      depends: Type.Optional(StringOrList),
      continueOn: Type.Optional(Type.Union([Type.String(), continueOnMap])),
      retryPolicy: Type.Optional(RetryPolicySchema),
      timeoutSec: Type.Optional(Seconds),
      preconditions: Type.Optional(PreconditionsSchema),
      precondition: Type.Optional(PreconditionsSchema),
      output: Type.Optional(Type.String()),
      signalOnStop: Type.Optional(Type.String()),
      executor: Type.Optional(Type.Union([Type.String(), executorMap])),
      /** Accepted and ignored (skiff sends no mail). */
      mailOnError: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  );

  // The published schema refers to one definition of a step instead of repeating it 8 times.
  // (Typed as the step itself: only the checked variant, which has no ref, feeds the TS types.)
  const stepUse = (blocks.stepRef ?? step) as typeof step;
  const stepItem = Type.Union([Type.String(), stepUse]);
  const handlerOn = Type.Object(
    {
      success: Type.Optional(stepUse),
      failure: Type.Optional(stepUse),
      cancel: Type.Optional(stepUse),
      /** Alias of `cancel`. */
      abort: Type.Optional(stepUse),
      exit: Type.Optional(stepUse),
    },
    { additionalProperties: false },
  );
  const mailConfig = Type.Record(Type.String(), Type.Unknown());

  const dag = Type.Object(
    {
      name: Type.Optional(Type.String()),
      description: Type.Optional(Type.String()),
      type: Type.Optional(Type.Union([Type.Literal('graph'), Type.Literal('chain')])),
      env: Type.Optional(EnvSchema),
      dotenv: Type.Optional(StringOrList),
      params: Type.Optional(ParamsSchema),
      workingDir: Type.Optional(Type.String()),
      /** A list (nested lists are parallel groups) or a map of name → step. */
      steps: Type.Optional(Type.Union([Type.Array(Type.Union([stepItem, Type.Array(stepItem)])), Type.Record(Type.String(), stepUse)])),
      handlerOn: Type.Optional(handlerOn),
      maxActiveSteps: Type.Optional(Type.Integer({ minimum: 0 })),
      timeoutSec: Type.Optional(Seconds),
      delaySec: Type.Optional(Seconds),
      preconditions: Type.Optional(PreconditionsSchema),
      precondition: Type.Optional(PreconditionsSchema),
      shell: Type.Optional(Type.String()),
      maxOutputSize: Type.Optional(Type.Integer({ minimum: 0 })),
      maxCleanUpTimeSec: Type.Optional(Seconds),
      container: Type.Optional(blocks.container),
      registryAuths: Type.Optional(blocks.registryAuths),
      // Accepted so Dagu files load, and ignored: skiff has no scheduler, history or mail.
      tags: Type.Optional(StringOrList),
      schedule: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String()), Type.Record(Type.String(), StringOrList)])),
      skipIfSuccessful: Type.Optional(Type.Boolean()),
      group: Type.Optional(Type.String()),
      logDir: Type.Optional(Type.String()),
      histRetentionDays: Type.Optional(Type.Integer({ minimum: 0 })),
      restartWaitSec: Type.Optional(Seconds),
      maxActiveRuns: Type.Optional(Type.Integer()),
      queue: Type.Optional(Type.String()),
      mailOn: Type.Optional(Type.Object({ failure: Type.Optional(Type.Boolean()), success: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
      smtp: Type.Optional(mailConfig),
      errorMail: Type.Optional(mailConfig),
      infoMail: Type.Optional(mailConfig),
    },
    { additionalProperties: false },
  );
  return { dag, step };
}

/**
 * What the loader checks: the blocks with builders of their own (`container`, `registryAuths`,
 * a docker step's `config`) are opaque here and checked by those builders.
 */
const checked = makeSchemas({
  container: Type.Unknown(),
  registryAuths: Type.Unknown(),
  executorConfig: Type.Record(Type.String(), Type.Unknown()),
});

export const DagFileSchema = checked.dag;
export const StepFileSchema = checked.step;

/** The file as written, once its keys are folded to camelCase. */
export type DagFile = Type.Static<typeof DagFileSchema>;
export type StepFile = Type.Static<typeof StepFileSchema>;
export type EnvFile = Type.Static<typeof EnvSchema>;
export type ParamsFile = Type.Static<typeof ParamsSchema>;
export type PreconditionsFile = Type.Static<typeof PreconditionsSchema>;
export type RetryPolicyFile = Type.Static<typeof RetryPolicySchema>;

/** JSON Schema (draft-07) of a whole DAG file, for `skiff schema` and yaml-language-server. */
export function dagJsonSchema(): object {
  const docker = configChecksFor('docker');
  const { dag, step } = makeSchemas({
    container: docker.dagContainer?.schema ?? Type.Unknown(),
    registryAuths: RegistryAuthsSchema,
    // One of the executors' own config schemas (the loader checks the one `type` names).
    executorConfig: Type.Union([docker.stepConfigSchema, configChecksFor('swarm').stepConfigSchema]),
    stepRef: Type.Ref('#/definitions/step'),
  });
  // Round-trip through JSON: drops typebox's internal markers and gives the caller its own copy.
  const body = JSON.parse(JSON.stringify(dag)) as Record<string, unknown>;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'skiff DAG file',
    description: 'A Dagu-style DAG file run by skiff. Keys are matched case-insensitively by skiff; this schema lists their camelCase names.',
    ...body,
    definitions: { step: JSON.parse(JSON.stringify(step)) as object },
  };
}
