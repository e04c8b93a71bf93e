// threadtrain bench: the thread-scaling benchmark of a config from the command line. The
// config's run is trained once per thread count (train/scaling.ts): samples/s, speedup and
// efficiency per count, the final weights checked bit for bit across counts (a difference is
// an error, exit 1), and optionally the speedup chart that `plot` draws from the same lines.

import os from 'node:os';
import type { Argv } from 'yargs';
import { ConfigError } from '../errors.ts';
import { prepareOutput } from '../io/output_path.ts';
import { commandLineValues } from '../options/flags.ts';
import { loadConfigData, parseCommandLine, runOptionsOf } from '../options/parse.ts';
import { renderScalingSvg, writeSvg } from '../report/plot.ts';
import { formatRate } from '../report/progress.ts';
import { measureScaling, type ScalingResult } from '../train/scaling.ts';
import type { CommandHandler } from './command.ts';
import { err, formatColumns, formatTable, int, out } from './format.ts';
import { onStopSignals } from './stop_signals.ts';

/** "1,2,4" or "1..4" (the --threads of bench); 1 must be there, as the speedup's baseline. */
export function parseThreadList(text: string): number[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(text);
  const list = range
    ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i)
    : text.split(',').map((t) => (/^\d+$/.test(t.trim()) ? Number(t) : NaN));
  if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n > 0)) {
    throw new ConfigError(`--threads: expected thread counts as "1,2,4" or "1..4", found ${JSON.stringify(text)}`, 'e.g. --threads 1,2');
  }
  if (!list.includes(1)) {
    throw new ConfigError(`--threads: expected 1 among the thread counts (speedup is measured against one thread), found ${JSON.stringify(text)}`, `e.g. --threads 1,${list.join(',')}`);
  }
  if (new Set(list).size !== list.length) throw new ConfigError(`--threads: expected each thread count once, found ${JSON.stringify(text)}`, 'e.g. --threads 1,2');
  return list;
}

function machine(): { cpu: string; cores: number; node: string } {
  return { cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU', cores: os.availableParallelism(), node: process.version };
}

function printResult(config: string, r: ScalingResult, m: ReturnType<typeof machine>): void {
  out(formatTable([
    ['config', config], ['epochs', `${r.epochs} per thread count`], ['kernel', r.kernel],
    ['machine', `${m.cpu}, ${m.cores} cores, Node ${m.node}`],
  ]));
  out();
  out(formatColumns(
    ['threads', 'samples/s', 'speedup', 'efficiency', 'start-up s', 'run s'],
    r.points.map((p) => [
      String(p.threads), int(Math.round(p.samplesPerSec)), `${p.speedup.toFixed(2)}×`, `${(100 * p.efficiency).toFixed(0)}%`,
      p.startupSeconds.toFixed(2), p.seconds.toFixed(2),
    ]),
  ));
  out('samples/s: median over the epochs after the first (the first also warms up the JIT); speedup against 1 thread;');
  out('efficiency = speedup / threads; start-up: shared memory, threads and data; run: the whole run, start-up and evaluation included.');
  out(`final weights: bit-identical across threads ${r.points.map((p) => p.threads).join(', ')}`);
}

async function benchCommand(a: Record<string, unknown>): Promise<number> {
  const file = String(a.config);
  if (a.plot !== undefined) prepareOutput(String(a.plot), '--plot');
  const threads = parseThreadList(a.threads === undefined ? `1..${os.availableParallelism()}` : String(a.threads));
  const config = parseCommandLine(file, commandLineValues({ epochs: a.epochs }));
  const run = runOptionsOf(config, loadConfigData(config));
  const json = a.json === true;
  const controller = new AbortController();
  const signals = onStopSignals(() => controller.abort(), { stopping: 'stopping at the next step', quitting: 'quitting now' });
  let result: ScalingResult;
  try {
    result = await measureScaling(run, threads, {
      signal: controller.signal,
      onPoint: json ? undefined : (p) => err(`threads ${p.threads}: ${formatRate(p.samplesPerSec)} samples/s (${p.seconds.toFixed(1)} s)`),
    });
  } finally {
    signals.dispose();
  }
  for (const w of result.warnings) err(`warning: ${w}`);
  if (result.interrupted) {
    err('interrupted: no result (every thread count must finish for the speedups and the bit check)');
    return signals.exitCode ?? 130;
  }
  const m = machine();
  if (a.plot !== undefined) {
    writeSvg(String(a.plot), renderScalingSvg(result.points, { title: `Scaling: ${file}` }));
  }
  if (json) {
    const { warnings: _warnings, ...fields } = result;
    out(JSON.stringify({ bench: 'scaling', config: file, ...fields, machine: m, date: new Date().toISOString() }));
  } else {
    printResult(file, result, m);
    if (a.plot !== undefined) out(`wrote ${String(a.plot)}`);
  }
  return 0;
}

export const bench: CommandHandler = {
  builder: (y: Argv) =>
    y
      .option('config', { alias: 'c', type: 'string', demandOption: true, requiresArg: true, describe: 'JSON config file: the run to time' })
      .option('threads', { type: 'string', requiresArg: true, describe: 'thread counts to run, "1,2,4" or "1..4"; 1 is the baseline', defaultDescription: '1..cores' })
      .option('epochs', { requiresArg: true, describe: 'epochs per thread count', defaultDescription: 'the config\'s' })
      .option('json', { type: 'boolean', describe: 'print one JSON object instead of tables (progress lines are left out)' })
      .option('plot', { type: 'string', requiresArg: true, describe: 'write the speedup-against-threads chart to this SVG file' })
      .example('$0 bench --config configs/mnist.json --threads 1,2 --epochs 2', 'samples/s on 1 and 2 threads')
      .example('$0 bench --config configs/spirals.json --json --plot scaling.svg', 'as JSON, with the speedup chart'),
  run: benchCommand,
};
