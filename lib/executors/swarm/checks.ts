// What the swarm executor checks when a DAG loads, handed to the DAG layer through the contract.
// It runs no DAG-level `container:` block: that block is the docker executor's.
import type { ExecutorConfigChecks } from '../contract.js';
import { SwarmStepConfigSchema, checkSwarmStepConfig } from './config.js';

export const swarmConfigChecks: ExecutorConfigChecks = {
  stepConfigSchema: SwarmStepConfigSchema,
  checkStepConfig: checkSwarmStepConfig,
};
