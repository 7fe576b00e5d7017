// `skiff dry FILE [-- params]`: load, validate, evaluate preconditions and print what a run would
// do, creating and starting nothing and recording no history (Dagu's `dry`).
import { Command, Option } from 'clipanion';
import type { RunEvent } from '../../lib/dag/events.js';
import type { PlanItem } from '../../lib/executors/plan.js';
import type { PlannedStep } from '../render/plan.js';
import { EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { paramsFromCli } from './params-option.js';
import { VerbCommand } from './verb.js';
import { contextOption, hostOption, engineSelection } from './engine-options.js';

export class DryCommand extends VerbCommand {
  static override paths = [['dry']];

  static override usage = Command.Usage({
    description: 'show what a run would do, without running it',
    details: `
      Loads and validates the DAG file as \`skiff run\` does, evaluates the DAG's and the steps'
      preconditions (their commands run, as in Dagu's dry run), and prints the plan: the steps in
      the order they would start and where each would run (on the host, in a new container, in a
      running one), the images that would be pulled and the containers that would be created or
      reused. The engine is only asked questions (does this image, this container exist?);
      nothing is created, started, pulled or recorded. Exit 0 when the plan holds, 1 when a step
      could not run as configured, 2 when the file is invalid.
    `,
    examples: [
      ['Plan a run', '$0 dry build.yaml'],
      ['Plan a run with parameters', '$0 dry deploy.yaml -- staging TAG=1.4.2'],
    ],
  });

  params = Option.Array('--params,-p', [], { description: 'Parameters, as for skiff run' });

  engineHost = hostOption();

  // Not `context`: clipanion's Command has its own.
  dockerContext = contextOption();

  file = Option.String({ name: 'FILE' });

  extraParams = Option.Rest({ name: 'params' });

  async run(): Promise<number> {
    const params = paramsFromCli(this.params, this.extraParams);
    const [{ loadDag }, { runDag }, { createPlanExecutors }, { newRunId }, { renderPlan }, { colourEnabled, painter }, { trapInterrupts }, fs, os, path] =
      await Promise.all([
        import('../../lib/dag/index.js'),
        import('../../lib/dag/scheduler.js'),
        import('../../lib/executors/plan.js'),
        import('../../lib/dag/run-dir.js'),
        import('../render/plan.js'),
        import('../render/format.js'),
        import('../signals.js'),
        import('node:fs/promises'),
        import('node:os'),
        import('node:path'),
      ]);
    const dag = await this.loaded(() => loadDag(this.file, { params, env: this.context.env }));
    if (!dag) return EXIT_USAGE;
    const steps = new Map<string, PlannedStep>();
    const dagContainer: PlanItem[] = [];
    const order: PlannedStep[] = [];
    const entry = (name: string, handler: boolean): PlannedStep => {
      const key = `${handler ? 'h' : 's'}:${name}`;
      let s = steps.get(key);
      if (!s) {
        s = { name, handler, status: 'not_started', error: null, items: [] };
        steps.set(key, s);
        order.push(s);
      }
      return s;
    };
    const handlerNames = new Set(Object.values(dag.handlerOn).flatMap((h) => (h ? [h.name] : [])));
    const executors = createPlanExecutors(dag, {
      env: this.context.env,
      engine: engineSelection(this),
      onPlan: (item) => {
        if (item.kind === 'dag-container' || item.step === undefined) dagContainer.push(item);
        else entry(item.step, handlerNames.has(item.step) && !dag.steps.some((s) => s.name === item.step)).items.push(item);
      },
    });
    const onEvent = (ev: RunEvent): void => {
      if (ev.type === 'step-start') entry(ev.step, ev.handler);
      if (ev.type === 'step-end') Object.assign(entry(ev.step, ev.handler), { status: ev.status, error: ev.error });
    };
    // The scheduler writes step logs as it goes; a dry run keeps none of them.
    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'skiff-dry-'));
    const interrupts = trapInterrupts();
    let report;
    try {
      report = await runDag({ dag, executors, runId: newRunId(), logDir: scratch, signal: interrupts.signal, forceSignal: interrupts.forceSignal, onEvent, env: this.context.env });
    } finally {
      interrupts.dispose();
      await fs.rm(scratch, { recursive: true, force: true });
    }
    const stoppedBefore = report.phase === 'startup' || (report.status === 'aborted' && order.length === 0) ? report.error : null;
    const paint = painter(colourEnabled(this.context.stdout, this.context.env));
    this.context.stdout.write(renderPlan({ dag: dag.name, params, stoppedBefore, dagContainer, steps: order, paint }));
    if (interrupts.cancelled) return EXIT_CANCELLED;
    return report.phase === 'startup' || order.some((s) => s.status === 'failed') ? EXIT_FAILED : EXIT_OK;
  }
}
