// The `sweep` section of a config file: which runs to make from the base run the rest of
// the file describes (src/sweep/ makes and runs them). `grid` crosses lists of values,
// `random` adds seeded draws from ranges, `folds` splits the training rows k ways for
// cross-validation, `seeds` repeats every run with other seeds, `metric` ranks the runs.
//
// Option paths are dotted paths into the run config as the file writes it: "train.lr",
// "model.layers.0.units" (a number indexes a list). The parsed section keeps them sorted,
// so the order keys were written in changes neither the runs nor the sweep's id.

import { z } from 'zod';
import { field, positiveInt, seedSchema } from './fields.ts';

export const METRIC_SPLITS = ['validation', 'test', 'train'] as const;
export const METRIC_NAMES = ['accuracy', 'loss', 'mse', 'mae', 'r2'] as const;
export type MetricSplit = (typeof METRIC_SPLITS)[number];
export type MetricName = (typeof METRIC_NAMES)[number];
/** "validation.accuracy", "test.loss", "train.loss" (the last epoch's), … */
export type MetricKey = `${MetricSplit}.${MetricName}`;
export const METRIC_KEYS = METRIC_SPLITS.flatMap((s) => METRIC_NAMES.map((n) => `${s}.${n}` as MetricKey)) as [MetricKey, ...MetricKey[]];

const PATH_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|\d+))*$/;
/**
 * Paths a sweep may not vary. Outputs are the sweep's to place (one folder per run), and
 * the thread count changes no bits, so the sweep chooses it to pack runs onto the cores.
 */
const FIXED_PATHS: readonly (readonly [prefix: string, why: string])[] = [
  ['out', 'each run writes its model to its own folder under the sweep\'s output folder'],
  ['log', 'each run writes its log to its own folder under the sweep\'s output folder'],
  ['logEverySteps', 'per-run logs hold epoch records'],
  ['train.checkpoint', 'runs of a sweep are restarted, not resumed; a rerun skips the finished ones'],
  ['train.resume', 'runs of a sweep are restarted, not resumed; a rerun skips the finished ones'],
  ['train.threads', 'results are the same bits for any thread count, so the sweep chooses it to pack runs onto the cores'],
  ['sweep', 'a sweep cannot vary its own definition'],
  ['$schema', 'it names the JSON Schema, not an option'],
];

/** Why `path` cannot be swept, or undefined when it can. */
function pathProblem(path: string): { message: string; hint: string } | undefined {
  if (!PATH_PATTERN.test(path)) {
    return { message: `"${path}" is not an option path`, hint: 'write dotted paths into the run config, e.g. "train.lr" or "model.layers.0.units"' };
  }
  const fixed = FIXED_PATHS.find(([prefix]) => path === prefix || path.startsWith(`${prefix}.`));
  return fixed ? { message: `"${path}" cannot be swept`, hint: fixed[1] } : undefined;
}

const rangeSchema = z
  .strictObject({
    min: field(z.number(), 'smallest value drawn', 'e.g. 0.001'),
    max: field(z.number(), 'largest value drawn', 'e.g. 0.3'),
    log: field(z.boolean().default(false), 'draw uniformly in log space (for rates and widths)', 'true draws uniformly in log space'),
    integer: field(z.boolean().default(false), 'round each draw to a whole number', 'true rounds each draw to a whole number, e.g. for layer widths'),
  })
  .superRefine((r, ctx) => {
    if (r.min > r.max) ctx.addIssue({ code: 'custom', path: [], message: `min must not exceed max (found min ${r.min}, max ${r.max})`, params: { hint: 'e.g. { "min": 0.001, "max": 0.3 }' } });
    if (r.log && r.min <= 0) ctx.addIssue({ code: 'custom', path: ['min'], message: `a log range needs min > 0 (found ${r.min})`, params: { hint: 'log-uniform draws need positive bounds, e.g. min 0.0001' } });
  });

const choiceSchema = z.strictObject({
  choice: field(z.array(z.unknown()).min(1), 'values to pick from, each equally likely', 'e.g. { "choice": ["adam", "sgd"] }'),
});

// Told apart by a key each member must have, so a mistake is reported against the member meant.
const randomParamSchema = field(
  z.union([choiceSchema, rangeSchema]), 'a range or a list to draw from', 'e.g. { "min": 0.001, "max": 0.3, "log": true } or { "choice": ["adam", "sgd"] }',
  { unionKeys: ['choice', 'min'] },
);

const randomSchema = z.strictObject({
  n: field(positiveInt(), 'number of draws', 'the number of draws, e.g. 8'),
  seed: field(seedSchema().default(1), 'seed of the draws', 'any whole number, e.g. 1'),
  space: field(z.record(z.string(), randomParamSchema), 'option paths to what to draw them from', 'e.g. { "train.lr": { "min": 0.001, "max": 0.3, "log": true } }'),
});

const foldsSchema = z.union([
  field(z.number().int().min(2), 'k: the number of folds', 'k-fold cross-validation splits the training rows k ways, e.g. 5'),
  z.strictObject({
    k: field(z.number().int().min(2), 'the number of folds', 'k-fold cross-validation splits the training rows k ways, e.g. 5'),
    seed: field(seedSchema().default(1), 'seed the rows are dealt into folds with', 'any whole number, e.g. 1'),
    stratify: field(z.boolean().optional(), 'keep each class\'s share the same in every fold (default: true for classification)', 'true deals each class out on its own'),
  }),
]).transform((f) => (typeof f === 'number' ? { k: f, seed: 1, stratify: undefined } : { k: f.k, seed: f.seed, stratify: f.stratify }));

const seedsSchema = z.union([
  field(positiveInt(), 'how many seeds to repeat every run with', 'e.g. 3 repeats every run with 3 seeds'),
  field(z.array(seedSchema()).min(1), 'the seeds to repeat every run with', 'e.g. [1, 2, 3]'),
]);

/** Repeats: a count to derive seeds from the base run's seed, or the seeds themselves. */
export type SeedRepeats = { readonly count: number } | { readonly list: readonly number[] };

const byPath = (a: readonly [string, unknown], b: readonly [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export const sweepSchema = z
  .strictObject({
    grid: field(
      z.record(z.string(), field(z.array(z.unknown()).min(1), 'the values to run this option with', 'e.g. [0.01, 0.03, 0.1]; a single value belongs in the base config')).optional(),
      'option paths to lists of values: every combination is a run',
      'e.g. { "train.lr": [0.01, 0.03, 0.1], "model.layers.0.units": [64, 128] }',
    ),
    random: field(randomSchema.optional(), 'n seeded draws from ranges, crossed with the grid', 'e.g. { "n": 8, "seed": 1, "space": { "train.lr": { "min": 0.001, "max": 0.3, "log": true } } }'),
    folds: field(foldsSchema.optional(), 'k-fold cross-validation on the training rows: k, or { k, seed, stratify }', 'e.g. 5'),
    seeds: field(seedsSchema.optional(), 'repeat every run with this many seeds (base seed, +3, +6, …), or with these seeds', 'e.g. 3, or [1, 2, 3]'),
    metric: field(z.enum(METRIC_KEYS).optional(), 'what ranks the runs (default: validation accuracy, or loss for regression)', '"validation.accuracy" ranks by held-out accuracy; the split must exist in the runs'),
    out: field(z.string().min(1).optional(), 'output folder (default: sweep-<id> beside the config)', 'a folder path relative to the config file, e.g. "sweeps/lr"', { path: 'output' }),
  })
  .superRefine((s, ctx) => {
    const check = (path: string, at: (string | number)[]) => {
      const problem = pathProblem(path);
      if (problem) ctx.addIssue({ code: 'custom', path: at, message: problem.message, params: { hint: problem.hint } });
    };
    for (const path of Object.keys(s.grid ?? {})) check(path, ['grid', path]);
    const space = Object.keys(s.random?.space ?? {});
    if (s.random && space.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['random', 'space'], message: 'names no option to draw', params: { hint: 'e.g. { "train.lr": { "min": 0.001, "max": 0.3, "log": true } }' } });
    }
    for (const path of space) {
      check(path, ['random', 'space', path]);
      if (s.grid?.[path] !== undefined) ctx.addIssue({ code: 'custom', path: ['random', 'space', path], message: `"${path}" is also in sweep.grid`, params: { hint: 'vary an option either on the grid or at random, not both' } });
    }
    if (s.seeds !== undefined && (s.grid?.['train.seed'] !== undefined || s.random?.space['train.seed'] !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['seeds'], message: 'is given and train.seed is also swept', params: { hint: 'repeat seeds with sweep.seeds alone' } });
    }
    if (Array.isArray(s.seeds) && new Set(s.seeds).size !== s.seeds.length) {
      ctx.addIssue({ code: 'custom', path: ['seeds'], message: `lists a seed twice (${JSON.stringify(s.seeds)})`, params: { hint: 'a repeat with the same seed gives the same bits' } });
    }
  })
  .transform((s) => ({
    grid: Object.entries(s.grid ?? {}).sort(byPath),
    random: s.random ? { n: s.random.n, seed: s.random.seed, space: Object.entries(s.random.space).sort(byPath) } : undefined,
    folds: s.folds,
    seeds: (s.seeds === undefined ? undefined : typeof s.seeds === 'number' ? { count: s.seeds } : { list: s.seeds }) as SeedRepeats | undefined,
    metric: s.metric,
    out: s.out,
  }));

/** The `sweep` section as a config file writes it. */
export type SweepSection = z.input<typeof sweepSchema>;
/** The section checked: paths sorted, defaults filled in, `out` absolute. */
export type ResolvedSweepSection = z.output<typeof sweepSchema>;
export type RandomParam = z.output<typeof randomParamSchema>;
export type ResolvedFolds = NonNullable<ResolvedSweepSection['folds']>;
