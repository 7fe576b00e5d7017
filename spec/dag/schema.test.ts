// The published JSON Schema of a DAG file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dagJsonSchema } from '../../lib/dag/index.js';

type Schema = { [key: string]: unknown; properties?: Record<string, Schema> };

describe('dagJsonSchema', () => {
  it('is a draft-07 object schema with a title and camelCase properties', () => {
    const schema = dagJsonSchema() as Schema;
    assert.equal(typeof schema, 'object');
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(typeof schema.title, 'string');
    assert.equal(schema.type, 'object');
    const props = Object.keys(schema.properties ?? {});
    for (const key of ['steps', 'env', 'params', 'dotenv', 'handlerOn', 'container', 'registryAuths', 'maxActiveSteps']) {
      assert.ok(props.includes(key), `missing property ${key}`);
    }
    assert.equal(schema.additionalProperties, false);
  });

  it('embeds the container block and defines a step once, with its executor config', () => {
    const schema = dagJsonSchema() as Schema & { definitions: { step: Schema } };
    const container = schema.properties!.container!;
    assert.ok(Object.keys(container.properties ?? {}).includes('image'));
    const step = schema.definitions.step;
    for (const key of ['name', 'command', 'depends', 'continueOn', 'retryPolicy', 'executor', 'env']) {
      assert.ok(Object.keys(step.properties ?? {}).includes(key), `step is missing ${key}`);
    }
    assert.match(JSON.stringify(schema.properties!.steps), /"\$ref":"#\/definitions\/step"/);
    assert.match(JSON.stringify(step.properties!.executor), /containerName/i);
  });

  it('is plain JSON and a fresh copy on every call', () => {
    const a = dagJsonSchema();
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
    (a as Schema).title = 'changed';
    assert.notEqual((dagJsonSchema() as Schema).title, 'changed');
  });
});
