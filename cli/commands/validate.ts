// `skiff validate FILE`: load the DAG file as `run` would, report every problem, run nothing.
import { Command, Option } from 'clipanion';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';

export class ValidateCommand extends Command {
  static override paths = [['validate']];

  static override usage = Command.Usage({
    description: 'check a DAG file without running it',
    details: `
      Loads the DAG file the way \`skiff run\` does (YAML syntax, known keys, value types, step
      references, dependency cycles, executor configuration) and lists every problem found as
      \`file:line:col: message\`. Exits 0 when the file is valid and 2 when it is not. In a Dagu 2.x
      file, syntax Dagu has deprecated (\`command:\`, \`type:\` + \`config:\`…) is listed on stderr
      as \`file:line:col: warning: …\`, as \`dagu validate\` does; warnings do not change the exit code.
    `,
    examples: [
      ['Check a DAG file', '$0 validate build.yaml'],
      ['Check every DAG file in a directory', 'for f in dags/*.yaml; do $0 validate "$f" || exit 1; done'],
    ],
  });

  debug = Option.Boolean('--debug', false, { description: 'Show the cause chain and stack of an error' });

  file = Option.String({ name: 'FILE' });

  async execute(): Promise<number> {
    try {
      const [{ problemLines }, { loadDagWithWarnings, DagLoadError }] = await Promise.all([import('../render/errors.js'), import('../../lib/dag/index.js')]);
      try {
        const { dag, warnings } = loadDagWithWarnings(this.file, { env: this.context.env });
        const warning = warnings.map((w) => ({ ...w, message: `warning: ${w.message}` }));
        this.context.stderr.write(problemLines(warning).map((l) => `${l}\n`).join(''));
        const n = dag.steps.length;
        this.context.stdout.write(`${this.file}: ok (${n} step${n === 1 ? '' : 's'})\n`);
        return EXIT_OK;
      } catch (err) {
        if (!(err instanceof DagLoadError)) throw err;
        this.context.stderr.write(problemLines(err.problems).map((l) => `${l}\n`).join(''));
        return EXIT_USAGE;
      }
    } catch (err) {
      const { debugEnabled, reportFailure } = await import('../render/errors.js');
      return reportFailure(err, { stderr: this.context.stderr, debug: debugEnabled(this.debug, this.context.env) });
    }
  }
}
