// A stored run's DAG, built again from the run's own copy of the file and its parameters: what
// `retry` and `restart` run, whatever the file on disk says now. Relative paths in it still
// resolve against the original file's directory.
import { readFile } from 'node:fs/promises';
import { loadDag } from '../index.js';
import type { Dag } from '../../common/model.js';
import type { Definition } from './layout.js';
import { readDefinition } from './store.js';
import { restoreDefinitionText } from './redact.js';

/** The DAG file as it is now; empty when it is gone (then nothing can be restored from it). */
async function currentText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => '');
}

export async function loadStoredDag(runDir: string, env: NodeJS.ProcessEnv): Promise<{ dag: Dag; definition: Definition }> {
  const definition = await readDefinition(runDir);
  const text = definition.redacted?.length ? restoreDefinitionText(definition.text, definition.redacted, await currentText(definition.file), definition.file) : definition.text;
  const dag = loadDag(definition.file, { text, params: definition.params, env });
  return { dag, definition };
}
