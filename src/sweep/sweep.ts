// sweep(): many independent runs of one config, packed onto the cores of this machine,
// or the share of them one machine of a cluster runs; and collect(), which merges the
// folders of many machines. Each run trains on a thread of its own (spawnTrainer) with
// the thread count its size deserves, so a small net takes one core and several run at
// once. A run's result is exactly what `threadtrain train` gives for its config with the
// same thread count: the same train() on the same options, only on another thread.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Dataset } from '../data/dataset.ts';
import { ConfigError, describe } from '../errors.ts';
import { writeFileAtomic } from '../io/envelope.ts';
import type { Metrics } from '../model/metrics.ts';
import type { DataSplits } from '../data/load.ts';
import { spawnTrainer, type RemoteTrainer } from '../remote/spawn.ts';
import type { MetricKey } from '../options/sweep.ts';
import { expandSweep, type ExpandedSweep, type SweepRun } from './expand.ts';
import { foldAssignment, foldSplit } from './folds.ts';
import { canonicalJson } from './hash.ts';
import { MANIFEST_FORMAT, readManifest, readRunRecord, runDir, writeJsonAtomic, writeReport, type SweepManifest } from './output.ts';
import { packRuns, threadsForRun } from './pack.ts';
import { sameResult, type RunRecord } from './results.ts';
import { dataKey, loadRunData, readConfigJson, runShape, runTrainOptions } from './run_config.ts';
import { selectShard, type Shard } from './shard.ts';

export interface SweepOptions {
  /** A config file (a run config with a `sweep` section), or the parsed object. */
  readonly config: string | Record<string, unknown>;
  /** For a config object: its name in messages, and the folder its relative paths resolve from (default: the current one). */
  readonly file?: string;
  readonly baseDir?: string;
  /**
   * Output folder. Default: the section's `out` (relative to the config), else sweep-<id>
   * beside the config. With a shard, the shard writes into shards/<I>-of-<N> inside it.
   */
  readonly out?: string;
  /** Run only this share of the runs. */
  readonly shard?: Shard;
  /** Cores to pack runs onto. Default: os.availableParallelism(). */
  readonly cores?: number;
  /** Threads for every run instead of the size rule (at most `cores`). */
  readonly threads?: number;
}

export interface SweepProgress {
  /** Runs of this machine's share. */
  readonly total: number;
  /** Finished (this time or before), failed, running now, not started. */
  readonly done: number;
  readonly failed: number;
  readonly running: number;
  readonly left: number;
  /** Finished before this call and skipped. */
  readonly skipped: number;
  /** Seconds to go at this call's pace so far; undefined until a run has ended. */
  readonly etaSeconds: number | undefined;
  /** What ranks the runs. */
  readonly metric: MetricKey;
}

export interface SweepHooks {
  /** Stop: no new runs start, running ones stop at their next step and are not recorded; a rerun does them. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: SweepProgress) => void;
  /** After each run ends (finished or failed), after the progress it makes. */
  readonly onRunEnd?: (record: RunRecord) => void;
}

export interface SweepResult {
  readonly sweepId: string;
  readonly out: string;
  readonly metric: MetricKey;
  /** Records of every run of the sweep found in the folder (all shards sharing it), by index. */
  readonly records: readonly RunRecord[];
  /** This machine's share: how many runs it has, ran now, skipped as finished, and how many failed. */
  readonly total: number;
  readonly ran: number;
  readonly skipped: number;
  readonly failed: number;
  /** True when the signal stopped the sweep before its share was done. */
  readonly stopped: boolean;
  readonly best: RunRecord | undefined;
  /** The per-configuration table, as the CLI prints it. */
  readonly table: string;
}

/** Expand the sweep a config file or object describes (what `sweep --dry-run` lists). */
export function loadSweep(options: Pick<SweepOptions, 'config' | 'file' | 'baseDir'>): ExpandedSweep {
  if (typeof options.config === 'string') {
    return expandSweep(readConfigJson(options.config), options.file ?? options.config, path.dirname(path.resolve(options.config)));
  }
  return expandSweep(options.config, options.file ?? 'the sweep config', path.resolve(options.baseDir ?? '.'));
}

/**
 * Where a sweep writes: `out`, else the section's `out` (relative to the config), else
 * sweep-<id> beside the config; a shard writes into shards/<I>-of-<N> inside it, so that
 * `collect` can merge the shards into the sweep's folder.
 */
export function sweepOut(expanded: ExpandedSweep, out: string | undefined, shard?: Shard): string {
  const folder = out !== undefined ? path.resolve(out) : path.resolve(expanded.baseDir, expanded.section.out ?? `sweep-${expanded.sweepId}`);
  return shard ? shardFolder(folder, shard) : folder;
}

/** A shard's folder inside the sweep's. */
export function shardFolder(sweepFolder: string, shard: Shard): string {
  return path.join(sweepFolder, 'shards', `${shard.index}-of-${shard.count}`);
}

/** The sweep folder that holds shard folders `dirs` (all in one shards/ folder), if they are such. */
export function commonSweepFolder(dirs: readonly string[]): string | undefined {
  const parents = new Set(dirs.map((d) => {
    const abs = path.resolve(d);
    return /^\d+-of-\d+$/.test(path.basename(abs)) && path.basename(path.dirname(abs)) === 'shards' ? path.dirname(path.dirname(abs)) : undefined;
  }));
  const [only] = parents;
  return parents.size === 1 ? only : undefined;
}

/** The default metric: held-out accuracy (loss for regression) on validation rows, else test rows, else the last epoch's. */
function defaultMetric(data: DataSplits, folds: boolean): MetricKey {
  const split = folds || data.validation ? 'validation' : data.test ? 'test' : 'train';
  return `${split}.${data.train.task === 'classification' ? 'accuracy' : 'loss'}`;
}

function manifestOf(expanded: ExpandedSweep, metric: MetricKey): SweepManifest {
  return {
    format: MANIFEST_FORMAT, sweepId: expanded.sweepId, config: expanded.file, metric, paths: expanded.paths,
    runs: expanded.runs.map((r) => ({ index: r.index, id: r.id, configId: r.configId, values: r.values, seed: r.seed, fold: r.fold?.index ?? null })),
  };
}

function metricsOf(prefix: 'validation' | 'test', m: Metrics | undefined): Partial<Record<MetricKey, number>> {
  if (!m) return {};
  const out: Partial<Record<MetricKey, number>> = {};
  for (const k of ['loss', 'accuracy', 'mse', 'mae', 'r2'] as const) if (m[k] !== undefined) out[`${prefix}.${k}`] = m[k];
  return out;
}

/** Loads each run's rows, once per distinct data source, split and fold assignment. */
class DataCache {
  private readonly splits = new Map<string, DataSplits>();
  private readonly folds = new Map<string, Int32Array>();

  base(run: SweepRun): DataSplits {
    const c = run.config;
    const key = canonicalJson({ ...(dataKey(c) as object), seed: c.train.seed });
    let d = this.splits.get(key);
    if (!d) {
      // A handful of distinct splits at a time (one per seed repeat, usually).
      if (this.splits.size >= 8) this.splits.delete(this.splits.keys().next().value!);
      this.splits.set(key, (d = loadRunData(c)));
    }
    return d;
  }

  /** The rows run `run` trains, validates and tests on. */
  rows(run: SweepRun): DataSplits {
    const d = this.base(run);
    if (!run.fold) return d;
    const f = run.fold;
    const key = canonicalJson({ ...(dataKey(run.config) as object), seed: run.config.train.seed, k: f.k, foldSeed: f.seed, stratify: f.stratify });
    let assignment = this.folds.get(key);
    if (!assignment) {
      if (this.folds.size >= 8) this.folds.delete(this.folds.keys().next().value!);
      this.folds.set(key, (assignment = foldAssignment(d.train, f.k, f.seed, f.stratify ?? d.train.task === 'classification')));
    }
    const { train, validation } = foldSplit(d.train as Dataset, assignment, f.index);
    return { train, validation, test: d.test };
  }
}

/** The rows a sweep run trains on: its config's split, then its fold. Exposed for tests and for rerunning one run by hand. */
export function sweepRunData(run: SweepRun): DataSplits {
  return new DataCache().rows(run);
}

/**
 * Run a sweep (or one shard of it) into its output folder. Runs already finished there
 * (by this sweep, or by another that had the same run) are skipped; a run that fails is
 * recorded with its error and the others go on.
 */
export async function sweep(options: SweepOptions, hooks: SweepHooks = {}): Promise<SweepResult> {
  const expanded = loadSweep(options);
  const out = sweepOut(expanded, options.out, options.shard);
  const cores = options.cores ?? os.availableParallelism();
  if (!Number.isInteger(cores) || cores < 1) throw new ConfigError(`cores must be a positive integer (got ${describe(cores)})`, `this machine has ${os.availableParallelism()}`);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1 || options.threads > cores)) {
    throw new ConfigError(`threads must be an integer in [1, ${cores}] (got ${describe(options.threads)})`, 'a run may use at most the cores the sweep packs runs onto');
  }
  // The trainer threads start now, one per core that can have a run: each spends ~0.2 s
  // loading the library, which then overlaps the data loading and planning below instead
  // of delaying the first runs. Those not needed (runs already finished) are closed unused.
  const idle: RemoteTrainer[] = Array.from({ length: Math.min(cores, selectShard(expanded.runs, options.shard).length) }, () => spawnTrainer());
  try {
    return await runSweep(expanded, out, cores, options, hooks, idle);
  } finally {
    await Promise.all(idle.splice(0).map((t) => t.close().catch(() => {})));
  }
}

/** sweep() once its options are checked, with `idle` trainer threads to take runs (and more spawned as needed). */
async function runSweep(
  expanded: ExpandedSweep, out: string, cores: number, options: SweepOptions, hooks: SweepHooks, idle: RemoteTrainer[],
): Promise<SweepResult> {
  // A folder of another sweep (an edited grid, say) is taken over: its runs that this
  // sweep also has are reused by id, and its tables become this sweep's.
  const existing = readManifest(out);
  const cache = new DataCache();
  const first = expanded.runs[0]!;
  const sameSweep = existing?.sweepId === expanded.sweepId;
  const metric = expanded.section.metric ?? (sameSweep ? existing!.metric : undefined) ?? defaultMetric(cache.rows(first), first.fold !== undefined);
  const manifest = manifestOf(expanded, metric);
  fs.mkdirSync(path.join(out, 'runs'), { recursive: true });
  writeJsonAtomic(path.join(out, 'sweep.json'), manifest);

  const records = new Map<string, RunRecord>();
  for (const run of manifest.runs) {
    const r = readRunRecord(out, run, expanded.sweepId);
    if (r) records.set(r.id, r);
  }
  const mine = selectShard(expanded.runs, options.shard);
  const todo = mine.filter((r) => records.get(r.id)?.status !== 'done');
  const skipped = mine.length - todo.length;

  // A run's size needs its data's width and row count, which its seed does not change:
  // one load per data source and split answers it for every run.
  const threadsOf = new Map<string, number>();
  const dataShapes = new Map<string, { features: number; rows: number }>();
  for (const run of todo) {
    const key = canonicalJson(dataKey(run.config));
    let data = dataShapes.get(key);
    if (!data) {
      const d = cache.base(run).train;
      dataShapes.set(key, (data = { features: d.features, rows: d.n }));
    }
    const trainRows = run.fold ? Math.floor((data.rows * (run.fold.k - 1)) / run.fold.k) : data.rows;
    const shape = runShape(run.config, data.features);
    threadsOf.set(run.id, options.threads ?? threadsForRun(shape.spec, shape.batchSize, trainRows, cores));
  }

  const active = new Set<RemoteTrainer>();
  let ran = 0;
  let failed = 0;
  let running = 0;
  const started = performance.now();
  let tablesWritten = started;
  const report = () => {
    if (!hooks.onProgress) return;
    const ended = ran + failed;
    const left = todo.length - ended - running;
    const perRun = ended > 0 ? (performance.now() - started) / 1000 / ended : undefined;
    hooks.onProgress({
      total: mine.length, done: skipped + ran, failed, running, left, skipped,
      etaSeconds: perRun === undefined ? undefined : perRun * (left + running), metric,
    });
  };
  // Stopping comes from the caller's signal, or from a failure to write results (a full
  // disk is the sweep's failure, not a run's): either way no run starts and the running
  // ones are cancelled at their next step.
  const halt = new AbortController();
  let fatal: unknown;
  const stopped = () => halt.signal.aborted;
  const onAbort = () => halt.abort();
  halt.signal.addEventListener('abort', () => {
    for (const t of active) void t.cancel().catch(() => {});
  });
  if (hooks.signal?.aborted) halt.abort();
  hooks.signal?.addEventListener('abort', onAbort);

  const runOne = async (run: SweepRun): Promise<void> => {
    const threads = threadsOf.get(run.id)!;
    const trainer = idle.pop() ?? spawnTrainer();
    active.add(trainer);
    running++;
    report();
    const t0 = performance.now();
    let result: Awaited<ReturnType<RemoteTrainer['train']>> | undefined;
    let error: unknown;
    try {
      // Epoch records come back in the result's history: the callback's messages travel on
      // a port of their own and may arrive after the result, so it only re-sends a stop
      // that reached the trainer before its run began.
      result = await trainer.train(runTrainOptions(run.raw, cache.rows(run), threads), {
        onEpoch: () => {
          if (stopped()) void trainer.cancel().catch(() => {});
        },
      });
    } catch (e) {
      error = e;
    } finally {
      active.delete(trainer);
      running--;
    }
    // A trainer whose run failed may have lost its thread: a fresh one takes the next run.
    if (error === undefined && !stopped()) idle.push(trainer);
    else await trainer.close().catch(() => {});
    if (result?.stopReason === 'interrupted') return; // not recorded: a rerun does it
    const seconds = (performance.now() - t0) / 1000;
    const base = { sweepId: expanded.sweepId, id: run.id, index: run.index, configId: run.configId, values: run.values, seed: run.seed, fold: run.fold?.index ?? null, threads };
    try {
      const dir = runDir(out, run.id);
      fs.mkdirSync(dir, { recursive: true });
      let record: RunRecord;
      if (result) {
        result.model.save(path.join(dir, 'model.ttm'));
        writeFileAtomic(path.join(dir, 'log.jsonl'), new TextEncoder().encode(result.history.map((e) => `${JSON.stringify(e)}\n`).join('')));
        const last = result.history.at(-1);
        record = {
          ...base, status: 'done',
          metrics: {
            ...metricsOf('validation', result.validation), ...metricsOf('test', result.test),
            ...(last ? { 'train.loss': last.loss, ...(last.accuracy !== undefined ? { 'train.accuracy': last.accuracy } : {}) } : {}),
          },
          epochs: result.position.epoch, stopReason: result.stopReason, seconds,
        };
      } else {
        record = { ...base, status: 'failed', error: error instanceof Error ? error.message : String(error), metrics: {}, seconds };
      }
      // metrics.json last: its presence marks the run as ended.
      writeJsonAtomic(path.join(dir, 'metrics.json'), record);
      records.set(run.id, record);
      if (record.status === 'done') ran++;
      else failed++;
      // The tables follow along at most once a second (each atomic write costs an fsync);
      // the runs' metrics.json files are the record, and the tables are rewritten at the end.
      if (performance.now() - tablesWritten >= 1000) {
        writeReport(out, manifest, sorted(records), false);
        tablesWritten = performance.now();
      }
      report();
      hooks.onRunEnd?.(record);
    } catch (e) {
      fatal ??= e;
      halt.abort();
    }
  };

  try {
    report();
    await packRuns(todo, (r) => threadsOf.get(r.id)!, cores, runOne, stopped);
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
  }
  if (fatal !== undefined) throw fatal;
  const all = sorted(records);
  const { table, best } = writeReport(out, manifest, all, true);
  return {
    sweepId: expanded.sweepId, out, metric, records: all, total: mine.length, ran, skipped, failed,
    stopped: skipped + ran + failed < mine.length, best, table,
  };
}

function sorted(records: Map<string, RunRecord>): RunRecord[] {
  return [...records.values()].sort((a, b) => a.index - b.index);
}

export interface CollectResult {
  readonly sweepId: string;
  readonly out: string;
  readonly metric: MetricKey;
  readonly records: readonly RunRecord[];
  /** Runs of the sweep found in no folder. */
  readonly missing: number;
  /** Runs found in two folders with different results (the first folder's kept). */
  readonly conflicts: readonly string[];
  readonly best: RunRecord | undefined;
  readonly table: string;
}

/**
 * Merge the output folders of a sweep's shards (or of reruns) into `out`: run folders
 * copied, tables, best model and plot written from all of them and from the runs `out`
 * already holds. Refuses folders of different sweeps. A run finished in any folder counts
 * as finished.
 */
export function collect(dirs: readonly string[], options: { readonly out: string }): CollectResult {
  if (dirs.length === 0) throw new ConfigError('collect needs at least one sweep output folder', 'e.g. threadtrain sweep collect results/shard-*');
  const out = path.resolve(options.out);
  const manifests = dirs.map((d) => {
    const m = readManifest(d);
    if (!m) throw new ConfigError(`${d}: not a sweep output folder (no sweep.json)`, 'pass the folders that threadtrain sweep wrote, one per shard');
    return m;
  });
  const manifest = manifests[0]!;
  manifests.forEach((m, i) => {
    if (m.sweepId !== manifest.sweepId) {
      throw new ConfigError(`${dirs[i]} holds sweep ${m.sweepId}, but ${dirs[0]} holds sweep ${manifest.sweepId}`,
        'collect merges the shards of one sweep: the same config file, run with --shard I/N; leave out the other folder');
    }
  });
  const outManifest = readManifest(out);
  fs.mkdirSync(path.join(out, 'runs'), { recursive: true });

  const records = new Map<string, RunRecord>();
  const conflicts: string[] = [];
  // The runs the target folder already holds count too (by id, as sweep() reuses them):
  // collecting some shards into a sweep folder adds to it, never drops its other runs.
  const sources = outManifest && !dirs.some((d) => path.resolve(d) === out) ? [out, ...dirs] : dirs;
  for (const dir of sources) {
    for (const run of manifest.runs) {
      const r = readRunRecord(dir, run, manifest.sweepId);
      if (!r) continue;
      const have = records.get(run.id);
      if (have?.status === 'done') {
        if (r.status === 'done' && !sameResult(have, r)) conflicts.push(run.id);
        continue;
      }
      if (have && r.status === 'failed') continue;
      if (path.resolve(dir) !== out) copyRun(runDir(dir, run.id), runDir(out, run.id));
      records.set(run.id, r);
    }
  }
  writeJsonAtomic(path.join(out, 'sweep.json'), manifest);
  const all = sorted(records);
  const { table, best } = writeReport(out, manifest, all, true);
  return { sweepId: manifest.sweepId, out, metric: manifest.metric, records: all, missing: manifest.runs.length - all.length, conflicts, best, table };
}

/** Copy a run's folder, metrics.json last, so a copy cut short does not count as a finished run. */
function copyRun(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  const files = fs.readdirSync(from).filter((f) => !f.startsWith('.')).sort((a, b) => Number(a === 'metrics.json') - Number(b === 'metrics.json'));
  for (const f of files) writeFileAtomic(path.join(to, f), fs.readFileSync(path.join(from, f)));
}
