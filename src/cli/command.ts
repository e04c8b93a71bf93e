// What a command is to the CLI: its yargs name and description, its flags, and what it
// runs. main.ts wires the list in COMMANDS (commands.ts); a new command is a file exporting
// one of these and a line there.

import type { Argv } from 'yargs';

export interface Command {
  /** As yargs takes it: "train", or "plot <log>" with positionals. */
  readonly command: string;
  readonly describe: string;
  readonly builder: (y: Argv) => Argv;
  /** Resolves to the exit code. */
  readonly run: (args: Record<string, unknown>) => number | Promise<number>;
  /** Commands under this one ("sweep collect"), wired the same way. */
  readonly subcommands?: readonly Command[];
}
