// `skiff status`: one run as a tree, Dagu's layout (docs/run-history.md §6). The run's status and start, the DAG with its
// duration, the run log, then one branch per step in file order (duration, status, command,
// output tails, error) and the handlers that ran; `Result:` last.
import type { RunRecord, StepRecord } from '../../lib/dag/history/record.js';
import { formatDuration, type Colour, type Paint } from './format.js';
import { statusWords } from './summary.js';

export interface StepTails {
  stdout: string[];
  stderr: string[];
}

export interface TreeInput {
  record: RunRecord;
  /** Where the run log is. */
  runLog: string;
  /** Output tails by step name (handlers included). */
  tails: ReadonlyMap<string, StepTails>;
  paint: Paint;
  now: Date;
}

export function statusColour(status: string): Colour {
  switch (status) {
    case 'succeeded':
      return 'green';
    case 'failed':
      return 'red';
    case 'running':
      return 'cyan';
    case 'skipped':
    case 'not_started':
      return 'dim';
    default:
      return 'yellow';
  }
}

/** `partially_succeeded` → `Partially succeeded`. */
export function titleWords(status: string): string {
  const words = statusWords(status);
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function renderStatusTree(input: TreeInput): string {
  const { record, paint } = input;
  const lines: string[] = [];
  lines.push(`${paint(statusColour(record.status), titleWords(record.status))} - ${record.startedAt}`);
  lines.push('');
  const elapsed = spanMs(record.startedAt, record.finishedAt, input.now);
  lines.push(`dag: ${record.dag} (${formatDuration(elapsed)})  run ${record.runId}, attempt ${record.attempt} (${record.trigger})`);
  if (record.params.length > 0) lines.push(`├─params: ${record.params.join(' ')}`);
  lines.push(`├─log: ${input.runLog}`);
  if (record.error !== null && record.status !== 'running') lines.push(`├─error: ${record.error}`);
  lines.push('│');
  const branches: Array<{ head: string; children: string[][] }> = [];
  for (const step of record.steps) branches.push(stepBranch(step, '', input));
  for (const handler of record.handlers) branches.push(stepBranch(handler, 'handler ', input));
  branches.forEach((b, i) => {
    const last = i === branches.length - 1;
    lines.push(`${last ? '└─' : '├─'}${b.head}`);
    const pad = last ? '  ' : '│ ';
    b.children.forEach((child, j) => {
      const lastChild = j === b.children.length - 1;
      child.forEach((text, k) => {
        const lead = k === 0 ? (lastChild ? '└─' : '├─') : lastChild ? '  ' : '│ ';
        lines.push(`${pad}${lead}${k === 0 ? text : `  ${text}`}`);
      });
    });
  });
  lines.push(record.status === 'running' ? `Status: ${paint('cyan', 'Running')}` : `Result: ${paint(statusColour(record.status), titleWords(record.status))}`);
  return `${lines.join('\n')}\n`;
}

function stepBranch(step: StepRecord, prefix: string, input: TreeInput): { head: string; children: string[][] } {
  const { paint, record } = input;
  const took = step.startedAt !== null ? ` (${formatDuration(spanMs(step.startedAt, step.finishedAt, input.now))})` : '';
  const kept = step.attempt < record.attempt ? ` (kept from attempt ${step.attempt})` : '';
  const retried = step.retries > 0 ? ` (retried ${step.retries}×)` : '';
  const head = `${prefix}${step.name}${took} [${paint(statusColour(step.status), statusWords(step.status))}]${retried}${kept}`;
  const children: string[][] = [];
  if (step.command !== null) children.push(step.command.split('\n').map((l, i) => (i === 0 ? `$ ${l}` : l)));
  const tails = input.tails.get(step.name);
  if (tails && tails.stdout.length > 0) children.push(['stdout:', ...tails.stdout]);
  if (tails && tails.stderr.length > 0) children.push(['stderr:', ...tails.stderr]);
  for (const [name, value] of Object.entries(step.outputs)) children.push([`output ${name}=${value}`]);
  if (step.error !== null) children.push([paint(step.status === 'failed' ? 'red' : 'yellow', `error: ${step.error}`)]);
  return { head, children };
}

function spanMs(start: string, end: string | null, now: Date): number {
  return (end !== null ? Date.parse(end) : now.getTime()) - Date.parse(start);
}
