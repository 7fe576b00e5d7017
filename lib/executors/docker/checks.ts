// What the docker executor checks when a DAG loads, handed to the DAG layer through the contract:
// a docker step's `executor.config` and the DAG-level `container:` block it runs.
import type { ExecutorConfigChecks } from '../contract.js';
import { DockerStepConfigSchema, checkDockerStepConfig } from './config.js';
import { DagContainerSchema, buildDagContainer } from './container-config.js';

export const dockerConfigChecks: ExecutorConfigChecks = {
  stepConfigSchema: DockerStepConfigSchema,
  checkStepConfig: checkDockerStepConfig,
  dagContainer: { schema: DagContainerSchema, build: buildDagContainer },
};
