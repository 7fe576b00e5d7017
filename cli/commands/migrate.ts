// `skiff migrate FILE [-o OUT]`: rewrite a Dagu 1.2x DAG file as a Dagu 2.x one.
import { Command, Option } from 'clipanion';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';

export class MigrateCommand extends Command {
  static override paths = [['migrate']];

  static override usage = Command.Usage({
    description: 'rewrite a Dagu 1.2x DAG file as a Dagu 2.x file',
    details: `
      Rewrites FILE with Dagu 2.x syntax: snake_case keys, \`run:\` for commands, \`action: exec\`
      for exec-form commands on the host, \`action: docker.run\` with \`with:\` for Docker steps.
      Comments and key order are kept. Whatever has no 2.x equivalent is left as written and listed
      on stderr as \`FILE:LINE: note\`. The result is printed, or written to OUT with \`-o\`; it is
      loaded again before the command ends, so a result skiff cannot read is an error, not a file.
    `,
    examples: [
      ['Print the 2.x form of a file', '$0 migrate build.yaml'],
      ['Write it to a new file', '$0 migrate build.yaml -o build.v2.yaml'],
    ],
  });

  debug = Option.Boolean('--debug', false, { description: 'Show the cause chain and stack of an error' });

  out = Option.String('-o,--output', { description: 'Write the migrated file here instead of stdout' });

  file = Option.String({ name: 'FILE' });

  async execute(): Promise<number> {
    try {
      const [{ readFileSync, writeFileSync, rmSync }, { join, dirname, basename, resolve }] = await Promise.all([import('node:fs'), import('node:path')]);
      const [{ problemLines }, { DagLoadError, loadDag, migrateText }] = await Promise.all([import('../render/errors.js'), import('../../lib/dag/index.js')]);
      const stderr = this.context.stderr;
      let dialect: string;
      try {
        dialect = loadDag(this.file, { env: this.context.env }).dialect;
      } catch (err) {
        if (!(err instanceof DagLoadError)) throw err;
        stderr.write(`skiff: ${this.file} does not load, so it cannot be migrated:\n`);
        stderr.write(problemLines(err.problems).map((l) => `${l}\n`).join(''));
        return EXIT_USAGE;
      }
      if (dialect === 'dagu-2') {
        stderr.write(`skiff: ${this.file} is already a Dagu 2.x file; nothing to migrate\n`);
        return EXIT_USAGE;
      }
      const result = migrateText(readFileSync(this.file, 'utf8'));
      // The check loads the result from beside the original, so relative paths (dotenv, binds) resolve the same.
      const check = join(dirname(resolve(this.file)), `.${basename(this.file)}.skiff-migrate-${process.pid}.yaml`);
      try {
        writeFileSync(check, result.text);
        loadDag(check, { env: this.context.env });
      } catch (err) {
        if (!(err instanceof DagLoadError)) throw err;
        stderr.write(`skiff: the migrated form of ${this.file} does not load (a bug in skiff migrate; please report it):\n`);
        stderr.write(problemLines(err.problems).map((l) => `${l.replace(check, this.out ?? '<migrated>')}\n`).join(''));
        return EXIT_USAGE;
      } finally {
        rmSync(check, { force: true });
      }
      if (this.out) writeFileSync(this.out, result.text);
      else this.context.stdout.write(result.text);
      for (const note of result.notes) stderr.write(`${this.file}:${note.line}: ${note.path}: ${note.message}\n`);
      return EXIT_OK;
    } catch (err) {
      const { debugEnabled, reportFailure } = await import('../render/errors.js');
      return reportFailure(err, { stderr: this.context.stderr, debug: debugEnabled(this.debug, this.context.env) });
    }
  }
}
