// threadtrain sweep: many runs of one config (a grid, random draws, k folds, seed repeats)
// packed onto the cores of this machine, or the share of them one machine of a cluster
// runs; `sweep collect` merges the shards' folders. Prints what it will do, one line per
// run as it ends (with runs done, running and left, and an ETA), then the table of
// configurations with the best one marked. Ctrl-C stops the running runs at their next
// step (exit 130); running the command again does only what is missing.

import os from 'node:os';
import type { Argv } from 'yargs';
import { ConfigError, displayPath, firstLine } from '../errors.ts';
import { prepareOutput } from '../io/output_path.ts';
import { formatDuration, formatLoss } from '../report/progress.ts';
import { formatRunList, type ExpandedSweep } from '../sweep/expand.ts';
import { formatValue } from '../sweep/hash.ts';
import type { RunRecord } from '../sweep/results.ts';
import { parseShard, selectShard, shardFromEnv, type Shard } from '../sweep/shard.ts';
import { collect, commonSweepFolder, loadSweep, sweep as runSweep, sweepOut, type SweepProgress } from '../sweep/sweep.ts';
import type { Command, CommandHandler } from './command.ts';
import { err, out, UsageError } from './format.ts';
import { onStopSignals } from './stop_signals.ts';

/** --shard I/N, or --shards N with the index from the batch scheduler's environment. */
function shardOf(a: Record<string, unknown>): Shard | undefined {
  if (a.shard !== undefined && a.shards !== undefined) throw new UsageError('give --shard I/N or --shards N, not both');
  if (a.shard !== undefined) return parseShard(String(a.shard));
  if (a.shards !== undefined) {
    const count = Number(a.shards);
    if (!Number.isInteger(count) || count < 1) throw new ConfigError(`--shards must be a positive integer (got ${String(a.shards)})`, 'the number of shards the sweep is split into, e.g. 8');
    return shardFromEnv(count);
  }
  return undefined;
}

function coresOf(a: Record<string, unknown>): number | undefined {
  if (a.cores === undefined) return undefined;
  const cores = Number(a.cores);
  if (!Number.isInteger(cores) || cores < 1) {
    throw new ConfigError(`--cores must be a positive integer (got ${String(a.cores)})`, `the cores to pack runs onto; this machine has ${os.availableParallelism()}`);
  }
  return cores;
}

/** "3 train.lr × 2 model.layers.0.units × 4 draws × 2 seeds × 3 folds". */
function describeShape(e: ExpandedSweep): string {
  const parts = e.section.grid.map(([p, values]) => `${values.length} ${p}`);
  if (e.section.random) parts.push(`${e.section.random.n} random draws`);
  const seeds = e.section.seeds;
  if (seeds) parts.push(`${'count' in seeds ? seeds.count : seeds.list.length} seeds`);
  if (e.section.folds) parts.push(`${e.section.folds.k} folds`);
  return parts.length ? parts.join(' × ') : 'the base run';
}

function runLabel(r: RunRecord, paths: readonly string[]): string {
  const values = paths.map((p) => `${p}=${formatValue(r.values[p])}`);
  return [...values, `seed ${r.seed}`, ...(r.fold !== null ? [`fold ${r.fold + 1}`] : [])].join(' ');
}

async function sweepCommand(a: Record<string, unknown>): Promise<number> {
  if (a.config === undefined) throw new UsageError('sweep needs --config FILE (a run config with a "sweep" section), or the collect subcommand');
  const file = String(a.config);
  const shard = shardOf(a);
  const cores = coresOf(a) ?? os.availableParallelism();
  const expanded = loadSweep({ config: file });
  const folder = sweepOut(expanded, a.out === undefined ? undefined : String(a.out), shard);
  const mine = selectShard(expanded.runs, shard);
  if (a['dry-run'] !== true) prepareOutput(folder, a.out === undefined ? 'sweep.out' : '--out', 'folder');
  const dupes = expanded.duplicates ? ` (${expanded.duplicates} repeated random draws left out)` : '';
  out(`sweep ${expanded.sweepId}: ${expanded.runs.length} runs = ${describeShape(expanded)}${dupes}`);
  if (shard) {
    const first = mine.slice(0, 3).map((r) => r.index).join(', ');
    out(`shard ${shard.index}/${shard.count}: ${mine.length} of them${mine.length ? ` (runs ${first}${mine.length > 3 ? ', …' : ''})` : ''}`);
  }
  out(`output: ${displayPath(folder)}`);
  if (a['dry-run'] === true) {
    out('');
    out(formatRunList({ ...expanded, runs: mine }));
    return 0;
  }
  // Listen before saying anything a caller may react to: until a listener is set, a SIGINT
  // kills the process outright.
  const controller = new AbortController();
  const signals = onStopSignals(() => controller.abort(), {
    stopping: 'stopping the running runs at their next step',
    quitting: 'quitting now (finished runs are saved; rerun the command to do the rest)',
  });
  out(`packing runs onto ${cores} core${cores === 1 ? '' : 's'}`);
  out('');

  let progress: SweepProgress | undefined;
  const started = performance.now();
  try {
    const result = await runSweep({ config: file, ...(a.out !== undefined ? { out: String(a.out) } : {}), ...(shard ? { shard } : {}), cores }, {
      signal: controller.signal,
      onProgress: (p) => {
        if (!progress && p.skipped > 0) out(`${p.skipped} of ${p.total} runs already finished in ${displayPath(folder)}: skipped`);
        progress = p;
      },
      onRunEnd: (r) => {
        const p = progress!;
        const counts = `${p.done + p.failed}/${p.total}`.padStart(2 * String(p.total).length + 1);
        const what = r.status === 'done'
          ? `${p.metric} ${r.metrics[p.metric] === undefined ? '—' : formatLoss(r.metrics[p.metric]!)}`
          : `FAILED: ${firstLine(r.error ?? '')}`;
        const eta = p.etaSeconds === undefined || p.left + p.running === 0 ? '' : `, ETA ${formatDuration(p.etaSeconds)}`;
        out(`[${counts}] ${runLabel(r, expanded.paths)}: ${what} (${r.seconds.toFixed(1)}s, ${r.threads} thread${r.threads === 1 ? '' : 's'}) | ${p.running} running, ${p.left} left${eta}`);
      },
    });
    out('');
    out(result.table);
    out('');
    const seconds = (performance.now() - started) / 1000;
    out(`ran ${result.ran} run${result.ran === 1 ? '' : 's'} in ${formatDuration(seconds)}${result.skipped ? `, skipped ${result.skipped} finished before` : ''}${result.failed ? `, ${result.failed} failed` : ''}`);
    if (result.best) out(`best: run ${result.best.index} (${runLabel(result.best, expanded.paths)}), ${result.metric} ${formatLoss(result.best.metrics[result.metric]!)}; its model is ${displayPath(`${result.out}/best.ttm`)}`);
    else out(`no run has ${result.metric} yet: no best model`);
    out(`wrote ${displayPath(result.out)}: results.csv, results.jsonl, summary.csv${result.best ? ', best.ttm' : ''}${expanded.paths.length ? ', plot.svg' : ''}, runs/`);
    if (result.stopped) {
      out(`stopped: ${result.total - result.ran - result.skipped - result.failed} runs not done; rerun the same command to do them`);
      return signals.exitCode ?? 130;
    }
    if (result.failed) {
      err(`error: ${result.failed} run${result.failed === 1 ? '' : 's'} failed; their errors are in results.csv (rerunning the command retries them)`);
      return 1;
    }
    if (shard) out(`when every shard is done: threadtrain sweep collect ${displayPath(`${sweepOut(expanded, a.out === undefined ? undefined : String(a.out))}/shards`)}/*`);
    return 0;
  } finally {
    signals.dispose();
  }
}

function collectCommand(a: Record<string, unknown>): number {
  const dirs = (a.dirs as unknown[]).map(String);
  const target = a.out !== undefined ? String(a.out) : commonSweepFolder(dirs);
  if (target === undefined) {
    throw new UsageError('give --out DIR: the folders are not the shards/<I>-of-<N> folders of one sweep folder, so there is no folder to merge them into');
  }
  prepareOutput(target, '--out', 'folder');
  const result = collect(dirs, { out: target });
  out(`sweep ${result.sweepId}: ${result.records.length} runs from ${dirs.length} folder${dirs.length === 1 ? '' : 's'} into ${displayPath(result.out)}`);
  out('');
  out(result.table);
  out('');
  if (result.best) out(`best: run ${result.best.index}, ${result.metric} ${formatLoss(result.best.metrics[result.metric]!)}; its model is ${displayPath(`${result.out}/best.ttm`)}`);
  for (const id of result.conflicts) err(`warning: run ${id} has different results in two folders; the first folder's are kept`);
  if (result.missing > 0) {
    err(`error: ${result.missing} run${result.missing === 1 ? ' is' : 's are'} in no folder; rerun the shards they belong to, then collect again`);
    return 1;
  }
  return 0;
}

const collectCmd: Command = {
  command: 'collect <dirs..>',
  describe: 'Merge the output folders of a sweep\'s shards into one table, best model and plot',
  builder: (y: Argv) =>
    y
      .positional('dirs', { type: 'string', array: true, describe: 'shard folders written by sweep --shard (or --shards)' })
      .option('out', { alias: 'o', type: 'string', requiresArg: true, describe: 'folder to merge into', defaultDescription: 'the sweep folder that holds the shards/ folders' })
      .example('$0 sweep collect sweeps/blobs/shards/*', ''),
  run: collectCommand,
};

export const sweep: CommandHandler = {
  builder: (y: Argv) =>
    y
      .option('config', { alias: 'c', type: 'string', requiresArg: true, describe: 'a run config with a "sweep" section (see configs/sweeps/)' })
      .option('dry-run', { type: 'boolean', describe: 'list the runs and their ids, run nothing' })
      .option('shard', { type: 'string', requiresArg: true, describe: 'run only shard I of N (I counts from 0): runs whose index is I modulo N' })
      .option('shards', { requiresArg: true, describe: 'the shard count N; this shard\'s index comes from JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm)' })
      .option('cores', { requiresArg: true, describe: 'cores to pack runs onto', defaultDescription: `all (${os.availableParallelism()})` })
      .option('out', { alias: 'o', type: 'string', requiresArg: true, describe: 'output folder (a shard writes into shards/<I>-of-<N> inside it)', defaultDescription: 'the sweep section\'s "out", else sweep-<id> beside the config' })
      .example('$0 sweep --config configs/sweeps/blobs.json', '')
      .example('$0 sweep -c configs/sweeps/blobs.json --shards 8', 'in each Indexed Job pod or Slurm array task'),
  run: sweepCommand,
  subcommands: [collectCmd],
};
