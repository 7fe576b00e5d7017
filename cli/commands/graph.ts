// `skiff graph FILE [--format ascii|mermaid|dot] [--run-id ID]`: the DAG's shape, optionally with
// one run's step statuses (that run's stored definition is drawn, not the file as it is now).
import { Option, UsageError } from 'clipanion';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { VerbCommand } from './verb.js';

export class GraphCommand extends VerbCommand {
  static override paths = [['graph']];

  static override usage = VerbCommand.Usage({
    description: "draw a DAG's steps and dependencies",
    details: `
      Prints the DAG's steps in dependency order with the edges between them: \`ascii\` (the
      default) for a terminal, \`mermaid\` or \`dot\` (Graphviz) for documents. With \`--run-id\`,
      each step carries its status in that run (coloured on a terminal, unless NO_COLOR is set).
    `,
    examples: [
      ['Draw a DAG', '$0 graph build.yaml'],
      ['A Mermaid diagram of one run', '$0 graph build.yaml --format mermaid --run-id 20261201T145116Z-2d98b918'],
    ],
  });

  format = Option.String('--format', 'ascii', { description: 'ascii, mermaid or dot' });

  runId = Option.String('--run-id,-r', { description: "Show this run's step statuses" });

  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    const format = this.format;
    if (format !== 'ascii' && format !== 'mermaid' && format !== 'dot') throw new UsageError(`--format: expected ascii, mermaid or dot, got "${format}"`);
    const [{ loadDag, topologicalOrder }, { renderGraph }, { colourEnabled, painter }] = await Promise.all([
      import('../../lib/dag/index.js'),
      import('../render/graph.js'),
      import('../render/format.js'),
    ]);
    let statuses: Map<string, string> | undefined;
    let source: { file: string; text?: string; params: string[] } = { file: this.file, params: [] };
    if (this.runId !== undefined) {
      const run = await this.findRun(this.file, this.runId);
      if (!run) return EXIT_FAILED;
      const { readDefinition } = await import('../../lib/dag/history/store.js');
      const definition = await readDefinition(run.dir);
      source = { file: definition.file, text: definition.text, params: definition.params };
      statuses = new Map(run.record.steps.map((s) => [s.name, s.status]));
    }
    const dag = await this.loaded(() => loadDag(source.file, { env: this.context.env, params: source.params, ...(source.text !== undefined ? { text: source.text } : {}) }));
    if (!dag) return EXIT_USAGE;
    const paint = painter(colourEnabled(this.context.stdout, this.context.env));
    const nodes = topologicalOrder(dag.steps.map((s) => ({ name: s.name, depends: s.depends })));
    this.context.stdout.write(renderGraph({ name: dag.name, nodes, paint, ...(statuses ? { statuses } : {}) }, format));
    return EXIT_OK;
  }
}
