// How skiff's command line describes itself: help and usage text without colour escapes unless
// they go to a colour terminal, option values shown by what they are (`--report <file>`, not
// clipanion's `#0`), and the `help [command]` and `version` commands people type from habit.
import { Builtins, Cli, Command, Option, type BaseContext, type CliOptions } from 'clipanion';
import { EXIT_USAGE } from './exit-codes.js';

/** What an option's value is, where its own name does not say it. */
const PLACEHOLDERS: Record<string, string> = {
  '--report': 'file',
  '--record': 'dir',
  '--replay': 'dir',
};

/** clipanion writes an option's value as `#0`; this names it. */
export function withPlaceholders(text: string): string {
  return text.replace(/(--([a-z][a-z0-9-]*))((?:,-[A-Za-z])*) #0/g, (_m, long: string, bare: string, short: string) => `${long}${short} <${PLACEHOLDERS[long] ?? bare}>`);
}

export class SkiffCli extends Cli<BaseContext> {
  readonly #colour: boolean;
  #errorColour: boolean | undefined;

  /** `colour`: whether help on stdout may carry escapes (a colour terminal, no NO_COLOR). */
  constructor(options: Partial<CliOptions> & { colour: boolean }) {
    const { colour, ...rest } = options;
    super(rest);
    this.#colour = colour;
  }

  // Every piece of help and error text is formatted through here. clipanion falls back on the
  // process's own colour depth when a caller gives no choice (the usage inside an error): the
  // choice made for this run's streams wins instead.
  override format(colored?: boolean): ReturnType<Cli['format']> {
    return super.format(colored ?? this.#errorColour ?? this.#colour);
  }

  // The one place clipanion turns a command's options into text (help, usage lines, the
  // definitions); the option table is aligned after this, so names stay in columns.
  protected override getUsageByIndex(...args: Parameters<Cli['getUsageByIndex']>): ReturnType<Cli['getUsageByIndex']> {
    const { usage, options } = super.getUsageByIndex(...args);
    return { usage: withPlaceholders(usage), options: options.map((o) => ({ ...o, definition: withPlaceholders(o.definition) })) };
  }

  // The usage lines a parse error quotes were made before getUsageByIndex had its say.
  override error(...args: Parameters<Cli['error']>): string {
    const previous = this.#errorColour;
    this.#errorColour = args[1]?.colored;
    try {
      return withPlaceholders(super.error(...args));
    } finally {
      this.#errorColour = previous;
    }
  }
}

/** `skiff help [command]`: the same text as `skiff [command] --help`. */
export class HelpCommand extends Command {
  static override paths = [['help']];

  static override usage = Command.Usage({
    description: 'show the commands, or the help of one command',
    examples: [
      ['List the commands', '$0 help'],
      ['Show the options of `run`', '$0 help run'],
    ],
  });

  names = Option.Rest({ name: 'command' });

  async execute(): Promise<number> {
    if (this.names.length === 0) {
      this.context.stdout.write(this.cli.usage());
      return 0;
    }
    const known = this.cli.definitions().map((d) => d.path.split(' ').slice(1).join(' '));
    const wanted = this.names.join(' ');
    if (!known.includes(wanted)) {
      const commands = known.filter((k) => k !== '' && !k.startsWith('-')).join(', ');
      this.context.stderr.write(`skiff: unknown command "${wanted}"; the commands are: ${commands}\n`);
      return EXIT_USAGE;
    }
    return this.cli.run([...this.names, '--help']);
  }
}

/** `skiff version`, as well as `--version` and `-v`. */
export class VersionCommand extends Builtins.VersionCommand {
  static override paths = [['version'], ['-v'], ['--version']];

  static override usage = Command.Usage({ description: 'print the version of skiff' });
}
