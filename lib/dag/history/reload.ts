// A stored run's DAG, built again from the run's own copy of the file and its parameters: what
// `retry` and `restart` run, whatever the file on disk says now. Relative paths in it still
// resolve against the original file's directory.
import { loadDag } from '../index.js';
import type { Dag } from '../../common/model.js';
import type { Definition } from './layout.js';
import { readDefinition } from './store.js';

export async function loadStoredDag(runDir: string, env: NodeJS.ProcessEnv): Promise<{ dag: Dag; definition: Definition }> {
  const definition = await readDefinition(runDir);
  const dag = loadDag(definition.file, { text: definition.text, params: definition.params, env });
  return { dag, definition };
}
