// `skiff schema [dag] [PATH]`: the JSON Schema of DAG files, for editors (yaml-language-server) and CI.
import { Command, Option } from 'clipanion';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';

export class SchemaCommand extends Command {
  static override paths = [['schema']];

  static override usage = Command.Usage({
    description: 'print the JSON Schema of DAG files',
    details: `
      Prints the JSON Schema (draft-07) of DAG files. Point your editor at it to get completion and
      inline errors, e.g. with the YAML language server:
      \`# yaml-language-server: $schema=./skiff-dag.schema.json\` as the first line of a DAG file.

      skiff reads two dialects: Dagu 1.2x files (camelCase keys, \`executor:\`; the default here) and
      Dagu 2.x files (snake_case keys, \`run:\`, \`action:\`; \`--dialect 2\`). As with \`dagu schema\`,
      an optional \`dag\` word and a dotted PATH print one part of it (\`steps.container\`).
    `,
    examples: [
      ['Save the schema next to your DAGs', '$0 schema > skiff-dag.schema.json'],
      ['The Dagu 2.x schema', '$0 schema dag --dialect 2'],
      ['One field of it', '$0 schema dag steps.retry_policy --dialect 2'],
    ],
  });

  debug = Option.Boolean('--debug', false, { description: 'Show the cause chain and stack of an error' });

  dialect = Option.String('--dialect', '1.2x', { description: 'Which DAG dialect: 1.2x (default) or 2' });

  args = Option.Rest({ name: '[dag] [PATH]' });

  async execute(): Promise<number> {
    try {
      const dialect = this.dialect.trim().replace(/^v/, '');
      if (!['1.2x', '1', '2', '2.x'].includes(dialect)) {
        this.context.stderr.write(`skiff: unknown dialect "${this.dialect}" (use 1.2x or 2)\n`);
        return EXIT_USAGE;
      }
      const args = [...this.args];
      if (args[0] === 'dag') args.shift();
      else if (args[0] === 'config') {
        this.context.stderr.write('skiff: skiff has no configuration file, so no config schema; use `skiff schema dag`\n');
        return EXIT_USAGE;
      }
      if (args.length > 1) {
        this.context.stderr.write(`skiff: schema takes at most one PATH, got ${args.join(' ')}\n`);
        return EXIT_USAGE;
      }
      const { dagJsonSchema, dagJsonSchemaV2, schemaAt } = await import('../../lib/dag/index.js');
      const whole = dialect.startsWith('2') ? dagJsonSchemaV2() : dagJsonSchema();
      const node = args[0] === undefined ? whole : schemaAt(whole, args[0]);
      if (node === undefined) {
        this.context.stderr.write(`skiff: schema navigation failed: path "${args[0]}" not found\n`);
        return EXIT_USAGE;
      }
      this.context.stdout.write(`${JSON.stringify(node, null, 2)}\n`);
      return EXIT_OK;
    } catch (err) {
      const { debugEnabled, reportFailure } = await import('../render/errors.js');
      return reportFailure(err, { stderr: this.context.stderr, debug: debugEnabled(this.debug, this.context.env) });
    }
  }
}
