// `skiff schema`: the JSON Schema of DAG files, for editors (yaml-language-server) and CI.
import { Command, Option } from 'clipanion';
import { EXIT_OK } from '../exit-codes.js';

export class SchemaCommand extends Command {
  static override paths = [['schema']];

  static override usage = Command.Usage({
    description: 'print the JSON Schema of DAG files',
    details: `
      Prints the JSON Schema (draft-07) that DAG files are validated against. Point your editor at it
      to get completion and inline errors, e.g. with the YAML language server:
      \`# yaml-language-server: $schema=./skiff-dag.schema.json\` as the first line of a DAG file.
    `,
    examples: [
      ['Save the schema next to your DAGs', '$0 schema > skiff-dag.schema.json'],
    ],
  });

  debug = Option.Boolean('--debug', false, { description: 'Show the cause chain and stack of an error' });

  async execute(): Promise<number> {
    try {
      const { dagJsonSchema } = await import('../../lib/dag/index.js');
      this.context.stdout.write(`${JSON.stringify(dagJsonSchema(), null, 2)}\n`);
      return EXIT_OK;
    } catch (err) {
      const { debugEnabled, reportFailure } = await import('../render/errors.js');
      return reportFailure(err, { stderr: this.context.stderr, debug: debugEnabled(this.debug, this.context.env) });
    }
  }
}
