// What a command is to the CLI. commands.ts lists each command's name and description with a
// loader for its module; the module exports a CommandHandler: its flags and what it runs.
// main.ts imports only the module of the command being run, so `--help` and one command
// never pay for loading the others.

import type { Argv } from 'yargs';

export interface CommandHandler {
  readonly builder: (y: Argv) => Argv;
  /** Resolves to the exit code. */
  readonly run: (args: Record<string, unknown>) => number | Promise<number>;
  /** Commands under this one ("sweep collect"), wired the same way. */
  readonly subcommands?: readonly Command[];
}

/** A command with its name and description beside its handler (a subcommand, loaded with its parent). */
export interface Command extends CommandHandler {
  /** As yargs takes it: "train", or "plot <log>" with positionals. */
  readonly command: string;
  readonly describe: string;
}

/** One line of the command list: enough for --help, and the module to import when it runs. */
export interface CommandEntry {
  readonly command: string;
  readonly describe: string;
  readonly load: () => Promise<CommandHandler>;
}
