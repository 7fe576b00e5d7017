// `skiff dry`: the plan of a run that did not happen. Steps in the order they would start, each
// with where it would run (the host, a new container, an exec into a running one, a swarm
// service), then the images to pull and the containers to create or reuse, gathered.
import type { Command, PullPolicy } from '../../lib/common/model.js';
import type { PlanItem, PullDecision } from '../../lib/executors/plan.js';
import type { Paint } from './format.js';

export interface PlannedStep {
  name: string;
  handler: boolean;
  /** How the dry run ended for it: succeeded (would run), skipped (precondition), aborted, failed (the plan itself failed). */
  status: string;
  error: string | null;
  items: PlanItem[];
}

export interface PlanInput {
  dag: string;
  params: string[];
  /** Set when the run would stop before its first step (a DAG precondition, a DAG container that cannot be made). */
  stoppedBefore: string | null;
  dagContainer: PlanItem[];
  steps: PlannedStep[];
  paint: Paint;
}

const PULL_WORDS: Record<PullDecision, string> = {
  pull: 'to pull',
  present: 'image present',
  never: 'never pulled',
  unknown: 'engine not reachable: image state unknown',
};

/** Who gets a swarm step's image, by its pull policy (the swarm executor's rule). */
const SERVICE_PULL_WORDS: Record<PullPolicy, string> = {
  missing: 'pinned to its registry digest, pulled by the nodes that lack it',
  always: 'pinned to its registry digest as the step starts, pulled by the nodes that lack it',
  never: "the manager's local image, pinned by ID, never pulled",
};

export function commandWords(command: Command | null): string {
  if (!command) return '(the image’s own command)';
  return command.form === 'shell' ? command.script.trim().replace(/\n/g, '\n      ') : JSON.stringify(command.argv);
}

function itemLine(item: PlanItem): string {
  switch (item.kind) {
    case 'host':
      return `on the host (in ${item.dir}): ${commandWords(item.command)}`;
    case 'create': {
      const facts = [PULL_WORDS[item.pull], item.removedAfter ? 'removed after' : 'kept after', ...(item.replaces ? [`replaces the stopped container ${item.replaces}`] : [])];
      return `in a new container${item.name ? ` named ${item.name}` : ''} from ${item.image} (${facts.join('; ')}): ${commandWords(item.command)}`;
    }
    case 'exec':
      return `exec in the running container ${item.container}: ${commandWords(item.command)}`;
    case 'service': {
      const tasks = item.replicas === 1 ? 'one task' : item.services === 1 ? `${item.replicas} tasks at once` : `${item.replicas} tasks, ${item.maxConcurrent} at a time, one service per wave`;
      const facts = [tasks, SERVICE_PULL_WORDS[item.pull], ...(item.constraints.length ? [`on nodes where ${item.constraints.join(' and ')}`] : [])];
      return `as ${item.services > 1 ? `${item.services} swarm services` : 'a swarm service'} from ${item.image} (${facts.join('; ')}), removed after: ${commandWords(item.command)}`;
    }
    case 'in-dag-container':
      return `in the DAG container: ${commandWords(item.command)}`;
    case 'dag-container':
      return item.action === 'reuse'
        ? `the DAG container: reuse the running container ${item.name} (kept by an earlier run)`
        : `the DAG container: create ${item.name ? `${item.name} ` : ''}from ${item.image} (${PULL_WORDS[item.pull]}${item.replaces ? `; replaces the stopped container ${item.replaces}` : ''}), ${item.kept ? 'kept running after the run' : 'removed after the run'}`;
    case 'note':
      return `note: ${item.message}`;
  }
}

export function renderPlan(input: PlanInput): string {
  const { paint } = input;
  const out: string[] = [`dry run of ${input.dag}: nothing was created, started or recorded`];
  if (input.params.length > 0) out.push(`params: ${input.params.join(' ')}`);
  for (const item of input.dagContainer) out.push(itemLine(item));
  if (input.stoppedBefore !== null) {
    out.push(paint('yellow', `the run would stop before its first step: ${input.stoppedBefore}`));
    return `${out.join('\n')}\n`;
  }
  const steps = input.steps.filter((s) => !s.handler);
  const handlers = input.steps.filter((s) => s.handler);
  out.push('', 'steps, in the order they would start:');
  const width = Math.max(0, ...input.steps.map((s) => s.name.length));
  let n = 0;
  const stepLine = (s: PlannedStep, label: string): void => {
    const name = s.name.padEnd(width);
    if (s.status === 'succeeded') {
      const [first, ...more] = s.items.map(itemLine);
      out.push(`  ${label} ${name}  ${first ?? ''}`);
      for (const line of more) out.push(`  ${' '.repeat(label.length)} ${' '.repeat(width)}  ${line}`);
    } else if (s.status === 'failed') {
      out.push(`  ${label} ${name}  ${paint('red', `would fail: ${s.error ?? 'failed'}`)}`);
    } else {
      out.push(`  ${label} ${name}  ${paint('dim', s.status === 'skipped' ? 'skipped: a precondition is not met' : `not run (${s.status}${s.error ? `: ${s.error}` : ''})`)}`);
    }
  };
  for (const s of steps) stepLine(s, s.status === 'succeeded' || s.status === 'failed' ? `${String(++n).padStart(2)}.` : '  -');
  if (handlers.length > 0) {
    out.push('', 'handlers that would run:');
    for (const h of handlers) stepLine(h, '  -');
  }
  const items = [...input.dagContainer, ...input.steps.flatMap((s) => s.items)];
  const pulls = [...new Set(items.flatMap((i) => ((i.kind === 'create' || i.kind === 'dag-container') && i.pull === 'pull' ? [i.image] : [])))];
  const creates = items.flatMap((i) => (i.kind === 'create' ? [i.name ?? i.step] : i.kind === 'dag-container' && i.action === 'create' ? [i.name ?? 'the DAG container'] : []));
  const reuses = [...new Set(items.flatMap((i) => (i.kind === 'exec' ? [i.container] : i.kind === 'dag-container' && i.action === 'reuse' ? [i.name!] : [])))];
  out.push('', `images to pull: ${pulls.length > 0 ? pulls.join(', ') : 'none'}`);
  out.push(`containers to create: ${creates.length > 0 ? `${creates.length} (${creates.join(', ')})` : 'none'}`);
  out.push(`containers to reuse: ${reuses.length > 0 ? reuses.join(', ') : 'none'}`);
  const services = items.flatMap((i) => (i.kind === 'service' ? [i] : []));
  const count = services.reduce((n, s) => n + s.services, 0);
  if (count > 0) out.push(`swarm services to create: ${count} (${services.map((s) => (s.services > 1 ? `${s.step} ×${s.services}` : s.step)).join(', ')}), each removed when its tasks end`);
  return `${out.join('\n')}\n`;
}
