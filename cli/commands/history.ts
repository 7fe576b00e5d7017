// `skiff history [FILE]`: past runs, newest first, filtered by time, status and run id.
import { Option, UsageError } from 'clipanion';
import { EXIT_OK } from '../exit-codes.js';
import { VerbCommand } from './verb.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export class HistoryCommand extends VerbCommand {
  static override paths = [['history']];

  static override usage = VerbCommand.Usage({
    description: 'list past runs',
    details: `
      Lists the runs of one DAG (FILE, or a DAG name), or of every DAG, newest first: name, run id,
      status, start (UTC), duration, attempts and parameters. \`--format json\` and \`--format csv\`
      are for scripts. Nothing found: a note on stderr, exit 0.
    `,
    examples: [
      ['Every run of the last week', '$0 history --last 7d'],
      ['Failed runs of one DAG, as JSON', '$0 history build.yaml --status failed --format json'],
    ],
  });

  last = Option.String('--last', { description: 'Only runs started within this long: 30m, 24h, 7d, 2w' });

  status = Option.String('--status', { description: 'Only runs with one of these statuses (comma-separated)' });

  runId = Option.String('--run-id,-r', { description: 'Only runs whose id contains this text' });

  format = Option.String('--format,-f', 'table', { description: 'table, json or csv' });

  limit = Option.String('--limit,-l', { description: `At most this many runs (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})` });

  file = Option.String({ name: 'FILE', required: false });

  async run(): Promise<number> {
    const [{ parseLast, parseStatuses, matchesFilter, dagNameOf }, { listRuns }, { renderHistory }] = await Promise.all([
      import('../../lib/dag/history/query.js'),
      import('../../lib/dag/history/store.js'),
      import('../render/history.js'),
    ]);
    const format = this.format;
    if (format !== 'table' && format !== 'json' && format !== 'csv') throw new UsageError(`--format: expected table, json or csv, got "${format}"`);
    let limit = DEFAULT_LIMIT;
    if (this.limit !== undefined) {
      limit = Number(this.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit: expected a positive whole number, got "${this.limit}"`);
      if (limit > MAX_LIMIT) {
        this.context.stderr.write(`skiff: --limit ${limit} is more than ${MAX_LIMIT}: showing ${MAX_LIMIT}\n`);
        limit = MAX_LIMIT;
      }
    }
    const filter = {
      ...(this.last !== undefined ? { since: Date.now() - parseLast(this.last) } : {}),
      ...(this.status !== undefined ? { statuses: parseStatuses(this.status) } : {}),
      ...(this.runId !== undefined ? { runId: this.runId } : {}),
    };
    const runs = await listRuns(this.context.env, this.file === undefined ? undefined : dagNameOf(this.file), { accept: (r) => matchesFilter(r.record, filter), limit });
    const records = runs.map((r) => r.record);
    if (records.length === 0) this.context.stderr.write('No runs found matching the filters.\n');
    this.context.stdout.write(renderHistory(records, format));
    return EXIT_OK;
  }
}
