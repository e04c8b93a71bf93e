// The commands of the threadtrain CLI, in the order --help lists them. A new command is a
// module exporting a Command (command.ts) and one entry here.

import { bench } from './bench.ts';
import type { Command } from './command.ts';
import { datasets } from './datasets.ts';
import { evaluate } from './evaluate.ts';
import { exportModelCommand } from './export.ts';
import { inspect } from './inspect.ts';
import { plot } from './plot.ts';
import { predict } from './predict.ts';
import { sweep } from './sweep.ts';
import { train } from './train.ts';

export const COMMANDS: readonly Command[] = [train, sweep, evaluate, predict, exportModelCommand, plot, inspect, bench, datasets];
