// The one place the sweep meets the run-config format (the option schema in src/options):
// reading a sweep's config file, checking the whole file and each expanded run, loading a
// run's data, and turning a run into train() options. Everything else in src/sweep works
// on plain JSON objects (a run config as a config file writes it) and on train() itself.

import { loadConfigData, parseConfig, readConfigJson, type Config } from '../options/parse.ts';
import type { TrainOptions } from '../options/schema.ts';
import type { DataSplits } from '../data/load.ts';
import type { Dataset } from '../data/dataset.ts';
import type { ModelSpec } from '../model/spec.ts';
import { ConfigError } from '../errors.ts';

/** A run config as a config file writes it: JSON, paths relative to the file. */
export type RunConfigObject = Record<string, unknown>;

/** A run config checked and resolved (defaults filled in, paths absolute). */
export type RunConfig = Config;

export { readConfigJson };

/**
 * Where a run writes things and how many threads it uses: neither changes a run's result,
 * so neither is part of its identity, and the sweep sets both itself.
 */
const PLACEMENT_FIELDS = { top: ['out', 'log', 'logEverySteps', '$schema'], train: ['threads'] } as const;

/** `raw` without the fields the sweep places itself (a copy; `raw` is left alone). */
export function withoutPlacement(raw: RunConfigObject): RunConfigObject {
  const out: RunConfigObject = { ...raw };
  for (const key of PLACEMENT_FIELDS.top) delete out[key];
  if (out.train !== null && typeof out.train === 'object' && !Array.isArray(out.train)) {
    const train = { ...(out.train as Record<string, unknown>) };
    for (const key of PLACEMENT_FIELDS.train) delete train[key];
    out.train = train;
  }
  return out;
}

/** Check a whole sweep config file (base run and sweep section); messages name the file. */
export function checkSweepConfig(value: unknown, file: string, baseDir: string): RunConfig {
  const config = parseConfig(value, file, baseDir);
  for (const key of ['checkpoint', 'resume'] as const) {
    if (config.train[key] !== undefined) {
      throw new ConfigError(`${file}: train.${key} cannot be used in a sweep`, 'runs of a sweep are restarted, not resumed; a rerun of the sweep skips the runs already finished');
    }
  }
  return config;
}

/** Check one expanded run; messages name the config file. */
export function checkRunConfig(raw: RunConfigObject, file: string, baseDir: string): RunConfig {
  return parseConfig(raw, file, baseDir);
}

/** The run's rows, split as its config says (held-out files, or fractions drawn from its seed). */
export function loadRunData(config: RunConfig): DataSplits {
  const data = loadConfigData(config);
  return 'train' in data && (data as DataSplits).train !== undefined ? (data as DataSplits) : { train: data as Dataset };
}

/** Whether the run holds out validation rows of its own (folds would clash with them). */
export function runHasValidation(config: RunConfig): boolean {
  return config.split.validation > 0 || (config.data.kind === 'csv' && config.data.validationPath !== undefined);
}

/** What sizes a run's step, for choosing its thread count: its net on data of `inputs` features, and its batch. */
export function runShape(config: RunConfig, inputs: number): { spec: ModelSpec; batchSize: number | 'full' } {
  return { spec: { inputs, layers: config.model.layers, loss: config.model.loss }, batchSize: config.train.batchSize };
}

/** What identifies a run's data and split (not its seed): runs that share it share their data's shape. */
export function dataKey(config: RunConfig): unknown {
  return { data: config.data, split: config.split };
}

/**
 * train() options for a run: its config as written, with the data and thread count given.
 * train() parses them with the same field schemas a config file's train section goes
 * through, so the run resolves to what `threadtrain train --config` resolves (tested).
 */
export function runTrainOptions(raw: RunConfigObject, data: DataSplits, threads: number): TrainOptions {
  const { train = {}, model, split, scale } = raw as { train?: Record<string, unknown>; model: TrainOptions['model']; split?: TrainOptions['split']; scale?: TrainOptions['scale'] };
  return { ...train, model, ...(split !== undefined ? { split } : {}), ...(scale !== undefined ? { scale } : {}), data, threads } as TrainOptions;
}
