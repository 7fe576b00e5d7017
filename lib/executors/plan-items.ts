// What a dry run says each step would do (`skiff dry`), one item per thing: the executors' plan
// modules make them, the CLI renders them.
import type { Command, PullPolicy } from '../common/model.js';

/** `pull`: the image is not here (or the policy is `always`); `present`; `never`: not pulled, whatever; `unknown`: the engine did not answer. */
export type PullDecision = 'pull' | 'present' | 'never' | 'unknown';

export type PlanItem =
  | { kind: 'host'; step: string; command: Command | null; dir: string }
  | { kind: 'create'; step: string; image: string; pull: PullDecision; name?: string; command: Command | null; removedAfter: boolean; replaces?: string }
  | { kind: 'exec'; step: string; container: string; command: Command | null }
  | { kind: 'in-dag-container'; step: string; command: Command | null }
  | { kind: 'dag-container'; image: string; name?: string; action: 'create' | 'reuse'; pull: PullDecision; kept: boolean; replaces?: string }
  /** A swarm step: `services` of them, one per wave of at most `maxConcurrent` of its `replicas` tasks. */
  | { kind: 'service'; step: string; image: string; pull: PullPolicy; replicas: number; maxConcurrent: number; services: number; constraints: string[]; command: Command | null }
  | { kind: 'note'; step?: string; message: string };
