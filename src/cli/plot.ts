// threadtrain plot: draw a training log (or scaling-benchmark lines) as an SVG chart.

import type { Argv } from 'yargs';
import { prepareOutput } from '../io/output_path.ts';
import { plotFile } from '../report/plot.ts';
import type { CommandHandler } from './command.ts';
import { out } from './format.ts';

function plotCommand(a: Record<string, unknown>): number {
  prepareOutput(String(a.out), '--out');
  plotFile(String(a.log), String(a.out));
  out(`wrote ${String(a.out)}`);
  return 0;
}

export const plot: CommandHandler = {
  builder: (y: Argv) =>
    y
      .positional('log', { type: 'string', describe: 'JSON Lines file written by train --log' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, requiresArg: true, describe: 'SVG file to write' })
      .example('$0 plot run.jsonl --out curves.svg', ''),
  run: plotCommand,
};
