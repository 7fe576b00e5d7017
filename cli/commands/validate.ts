// `skiff validate FILE…`: load each DAG file as `run` would, report every problem, run nothing.
import { Command, Option } from 'clipanion';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';

export class ValidateCommand extends Command {
  static override paths = [['validate']];

  static override usage = Command.Usage({
    description: 'check DAG files without running them',
    details: `
      Loads each DAG file the way \`skiff run\` does (YAML syntax, known keys, value types, step
      references, dependency cycles, executor configuration) and lists every problem found as
      \`file:line:col: message\`. Exits 0 when every file is valid and 2 when one is not. What skiff
      ignores without changing what runs (Dagu keys it does not support; in a Dagu 2.x file, syntax
      Dagu has deprecated, as \`dagu validate\` says) is listed on stderr as
      \`file:line:col: warning: …\`; warnings do not change the exit code.
    `,
    examples: [
      ['Check a DAG file', '$0 validate build.yaml'],
      ['Check every DAG file in a directory', '$0 validate dags/*.yaml'],
    ],
  });

  debug = Option.Boolean('--debug', false, { description: 'Show the cause chain and stack of an error' });

  files = Option.Rest({ name: 'FILE', required: 1 });

  async execute(): Promise<number> {
    try {
      const [{ problemLines, warningLines }, { loadDag, DagLoadError }] = await Promise.all([import('../render/errors.js'), import('../../lib/dag/index.js')]);
      let code = EXIT_OK;
      for (const file of this.files) {
        try {
          const dag = loadDag(file, { env: this.context.env });
          this.context.stderr.write(warningLines(dag.warnings).map((l) => `${l}\n`).join(''));
          const n = dag.steps.length;
          this.context.stdout.write(`${file}: ok (${n} step${n === 1 ? '' : 's'})\n`);
        } catch (err) {
          if (!(err instanceof DagLoadError)) throw err;
          this.context.stderr.write(problemLines(err.problems).map((l) => `${l}\n`).join(''));
          code = EXIT_USAGE;
        }
      }
      return code;
    } catch (err) {
      const { debugEnabled, reportFailure } = await import('../render/errors.js');
      return reportFailure(err, { stderr: this.context.stderr, debug: debugEnabled(this.debug, this.context.env) });
    }
  }
}
