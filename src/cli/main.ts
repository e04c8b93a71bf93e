// main.ts — the threadtrain command line: yargs wiring for the commands in commands.ts
// (train, sweep and sweep collect, evaluate, predict, export, plot, inspect, bench), and the one
// place errors become output and exit codes.
// Output follows llm.c's habits: the resolved settings as a table before anything runs,
// one line per epoch, errors as one `error:` line with a hint and no stack trace. A stack
// trace is printed only for errors that are not a ThreadtrainError, because those are bugs.
//
// Exit codes: 0 done, 1 error, 2 usage error (bad flags), 128 + the signal's number when a
// stop signal ended the run (129 SIGHUP, 130 SIGINT / Ctrl-C, 143 SIGTERM).

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { closestName } from '../options/closest_name.ts';
import type { Command, CommandHandler } from './command.ts';
import { COMMANDS } from './commands.ts';
import { err, printError, UsageError } from './format.ts';

/** "Unknown argument: epoch" with the nearest flag of the command, when one is close. */
function withSuggestion(message: string, known: readonly string[]): string {
  const m = /^Unknown arguments?: (\S+?)(,|$)/.exec(message);
  const guess = m ? closestName(m[1]!, known) : undefined;
  return guess ? `${message}; did you mean --${guess}?` : message;
}

/**
 * The package's version, from its package.json (the one place it is written), found by the
 * package's own name: that resolves from the sources, from dist/ and from the CLI bundle alike.
 */
function packageVersion(): string {
  return (createRequire(import.meta.url)('threadtrain/package.json') as { version: string }).version;
}

/** The command the arguments name: the first one that is not a flag (top-level flags take no value). */
function commandNamed(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

/**
 * Stands in for a command that is not being run: yargs lists it in --help and matches its
 * name, nothing more. Running it would mean commandNamed() missed the command yargs matched
 * (strict parsing rejects every flag such a command is given first): a bug, never a silent exit 0.
 */
const UNLOADED: CommandHandler = {
  builder: (y) => y,
  run: () => {
    throw new Error('a command was matched whose module main.ts did not load (commandNamed)');
  },
};

/**
 * Before it runs a command, yargs renders that command's whole help text and keeps it, in case
 * the command calls showHelp() later. None of ours does (usage errors are reported before a
 * command runs, with help rendered then), and for `train`'s sixty flags the rendering (cliui and
 * wrap-ansi) cost ~100 ms of every start (node --cpu-prof). The hook is yargs' internal usage
 * object, so a yargs without it simply renders as before.
 */
function skipHelpRendering(cli: Argv): void {
  const internal = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

let pipeGuarded = false;
/**
 * `threadtrain predict ... | head` closes the pipe early; that is the reader's choice, not an
 * error worth a stack trace. Listened for once per process: tests call main() many times.
 */
function exitQuietlyOnClosedPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

/** Parse `args` (argv without node and the script) and run the command; resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  exitQuietlyOnClosedPipe();
  let cli = yargs([...args])
    .scriptName('threadtrain')
    .usage('$0 <command> [options]\n\nData-parallel MLP training on worker threads.');
  skipHelpRendering(cli);
  // yargs runs the builders of the matched command and its parents, deepest last: the last
  // one is the command to run (after parsing), and its flags are the ones to suggest for a
  // misspelt flag.
  let chosen: Command | undefined;
  let flagsOf: string[] = [];
  const wire = (y: Argv, c: Command): Argv =>
    y.command(c.command, c.describe, (sub) => {
      let built = c.builder(sub);
      chosen = c;
      flagsOf = Object.keys((built as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key);
      for (const child of c.subcommands ?? []) built = wire(built, child);
      return built;
    });
  // Only the named command's module is imported (commands.ts says why).
  const named = commandNamed(args);
  for (const entry of COMMANDS) {
    const handler = entry.command.split(' ')[0] === named ? await entry.load() : UNLOADED;
    cli = wire(cli, { ...handler, command: entry.command, describe: entry.describe });
  }
  cli = cli
    .demandCommand(1, `give a command: ${COMMANDS.map((c) => c.command.split(' ')[0]).join(', ').replace(/, ([^,]+)$/, ' or $1')}`)
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .epilog([
      'Run "threadtrain <command> --help" for the flags and examples of a command. Configs: configs/*.json.',
      'With --json, evaluate, inspect and bench print one JSON object on stdout and nothing else.',
      '',
      'Exit codes:',
      '  0    done',
      '  1    error: one "error:" line and a hint on stderr',
      '  2    usage error: an unknown, missing or incomplete flag',
      '  129  stopped by SIGHUP',
      '  130  interrupted (Ctrl-C)',
      '  143  stopped by SIGTERM',
    ].join('\n'))
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, error, y) => {
      // yargs reports its own parse errors (a flag without its value) as YError; those are
      // usage errors like the rest. Anything else came out of a command handler.
      if (error && error.name !== 'YError') throw error;
      y.showHelp((s: string) => err(s));
      err('');
      throw new UsageError(withSuggestion(msg ?? error?.message ?? 'invalid command line', flagsOf));
    });
  try {
    const parsed = await cli.parseAsync();
    // --help printed and exited inside yargs' parse; otherwise a command matched (demandCommand).
    return chosen ? await chosen.run(parsed) : 0;
  } catch (error) {
    return printError(error);
  }
}

// Run when executed directly (`tsx src/cli/main.ts`); bin.js imports this file and calls main.
function runDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && fs.realpathSync(path.resolve(process.argv[1])) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (runDirectly()) void main(hideBin(process.argv)).then((code) => { process.exitCode = code; });
