// From a config file with a `sweep` section to the list of runs it asks for: every seed ×
// every grid point × every random draw × every fold, in that order (the last varies
// fastest). Each run is a complete run config: the base with the run's values set, and
// checked as a config file would be, so a mistake in any run is found before the first
// one starts. A run's id is the hash of that config and its fold; the sweep's id is the
// hash of the whole definition.

import { ConfigError, describe } from '../errors.ts';
import type { RandomParam, ResolvedFolds, ResolvedSweepSection } from '../options/sweep.ts';
import { createRng } from '../rng.ts';
import { contentHash, formatValue } from './hash.ts';
import { checkRunConfig, checkSweepConfig, runHasValidation, withoutPlacement, type RunConfig, type RunConfigObject } from './run_config.ts';

/** One run of a sweep. */
export interface SweepRun {
  /** Position in the expanded list; shards and tables go by it. */
  readonly index: number;
  /** Hash of the run's config and fold: the same run has the same id on every machine. */
  readonly id: string;
  /** Hash of the swept values alone: the runs that differ only by seed or fold share it. */
  readonly configId: string;
  /** The swept options' values (grid and random), by path. */
  readonly values: Readonly<Record<string, unknown>>;
  readonly seed: number;
  /** Which fold this run validates on, when the sweep cross-validates. */
  readonly fold: { readonly index: number } & ResolvedFolds | undefined;
  /** The complete run config, as a config file would write it. */
  readonly raw: RunConfigObject;
  readonly config: RunConfig;
}

export interface ExpandedSweep {
  /** Hash of the definition: base run and sweep section. Shards of one sweep share it. */
  readonly sweepId: string;
  readonly file: string;
  readonly baseDir: string;
  readonly section: ResolvedSweepSection;
  /** The swept option paths, sorted (grid first, then random). */
  readonly paths: readonly string[];
  readonly runs: readonly SweepRun[];
  /** Random draws that repeated a run already in the list, left out. */
  readonly duplicates: number;
}

/** Seeds a repeat count derives from the base seed: 3 apart, because a run draws from seed, seed + 1 and seed + 2. */
export const SEED_STRIDE = 3;

/**
 * Expand a config object with a `sweep` section. `file` names it in messages; relative
 * paths resolve from `baseDir`.
 */
export function expandSweep(value: unknown, file: string, baseDir: string): ExpandedSweep {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${file}: the config must be an object (got ${describe(value)})`, 'a sweep config is a run config with a "sweep" section');
  }
  const { sweep: sectionValue, ...base } = value as Record<string, unknown>;
  if (sectionValue === undefined) throw new ConfigError(`${file}: no "sweep" section`, 'add e.g. "sweep": { "grid": { "train.lr": [0.01, 0.1] } }, or run it with "threadtrain train"');
  const whole = checkSweepConfig(value, file, baseDir);
  const section = whole.sweep!;
  const baseRun = withoutPlacement(base);
  const sweepId = contentHash({ base: baseRun, sweep: { ...section, out: undefined } });

  const points = gridPoints(section);
  const draws = randomDraws(section);
  const s = section.seeds;
  const seeds: readonly (number | undefined)[] = s === undefined ? [undefined] : 'list' in s ? s.list : Array.from({ length: s.count }, (_, i) => whole.train.seed + SEED_STRIDE * i);
  const folds = section.folds;
  const foldList = folds ? Array.from({ length: folds.k }, (_, index) => ({ index, ...folds })) : [undefined];

  const runs: SweepRun[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  // Seeds outermost: a sweep stopped half-way has tried every configuration with the first
  // seeds, and runs that follow each other share their data split (drawn from the seed).
  for (const seed of seeds) {
    for (const point of points) {
      for (const draw of draws) {
        const values = { ...point, ...draw };
        const configId = contentHash(values);
        let raw = structuredClone(baseRun);
        for (const [path, v] of Object.entries(values)) raw = setPath(raw, path, v, file);
        if (seed !== undefined) raw = setPath(raw, 'train.seed', seed, file);
        const config = checkRun(raw, file, baseDir, values, seed);
        if (folds && runHasValidation(config)) {
          throw new ConfigError(`${file}: sweep.folds and a validation split of the run's own`, 'with folds, each run validates on its fold: remove split.validation (or data.validationCsv)');
        }
        for (const fold of foldList) {
          const id = contentHash({ config: raw, fold: fold ?? null });
          if (seen.has(id)) {
            duplicates++;
            continue;
          }
          seen.add(id);
          runs.push({ index: runs.length, id, configId, values, seed: config.train.seed, fold, raw, config });
        }
      }
    }
  }
  const paths = [...section.grid.map(([p]) => p), ...(section.random?.space.map(([p]) => p) ?? [])];
  return { sweepId, file, baseDir, section, paths, runs, duplicates };
}

/** Check one run; a mistake says which run (its swept values) as well as what is wrong. */
function checkRun(raw: RunConfigObject, file: string, baseDir: string, values: Record<string, unknown>, seed: number | undefined): RunConfig {
  try {
    return checkRunConfig(raw, file, baseDir);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const which = Object.entries(values).map(([p, v]) => `${p}=${formatValue(v)}`);
    if (seed !== undefined) which.push(`seed ${seed}`);
    const message = error.hint === undefined ? error.message : error.message.slice(0, error.message.length - `\nhint: ${error.hint}`.length);
    throw new ConfigError(`${message} (in the sweep's run with ${which.length ? which.join(', ') : 'the base values'})`, error.hint);
  }
}

/** Every combination of the grid's values, the last path varying fastest; one empty point without a grid. */
function gridPoints(section: ResolvedSweepSection): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [path, values] of section.grid) points = points.flatMap((p) => values.map((v) => ({ ...p, [path]: v })));
  return points;
}

/** The random draws, in order, each a value per path (paths drawn in sorted order); one empty draw without `random`. */
function randomDraws(section: ResolvedSweepSection): Record<string, unknown>[] {
  const r = section.random;
  if (!r) return [{}];
  const rng = createRng(r.seed);
  return Array.from({ length: r.n }, () => Object.fromEntries(r.space.map(([path, p]) => [path, draw(p, rng.uniform(), rng)])));
}

function draw(p: RandomParam, u: number, rng: { int(n: number): number }): unknown {
  if ('choice' in p) return p.choice[rng.int(p.choice.length)];
  const v = p.log ? Math.exp(Math.log(p.min) + u * (Math.log(p.max) - Math.log(p.min))) : p.min + u * (p.max - p.min);
  // Six significant digits read well in tables and file names and lose nothing a
  // learning rate or a width cares about; clamping keeps the rounding inside the range.
  const rounded = p.integer ? Math.round(v) : Number(v.toPrecision(6));
  return Math.min(p.max, Math.max(p.min, rounded));
}

/** `obj` with the value at dotted `path` set (objects on the way are created; list indices must exist). */
export function setPath(obj: RunConfigObject, path: string, value: unknown, file: string): RunConfigObject {
  const parts = path.split('.');
  let node: unknown = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    const at = parts.slice(0, i + 1).join('.');
    const container = node as Record<string, unknown> | unknown[];
    let next = Array.isArray(container) ? container[indexOf(container, key, at, path, file)] : container[key];
    if (next === undefined) {
      if (/^\d+$/.test(parts[i + 1]!)) throw new ConfigError(`${file}: sweep path "${path}": the base config has no list at ${at}`, `give ${at} in the base config, then sweep its entries`);
      next = {};
      (container as Record<string, unknown>)[key] = next;
    }
    if (next === null || typeof next !== 'object') {
      throw new ConfigError(`${file}: sweep path "${path}": ${at} is ${describe(next)} in the base config, not an object or list`, 'a path goes through objects and lists, e.g. "model.layers.0.units"');
    }
    node = next;
  }
  const last = parts[parts.length - 1]!;
  if (Array.isArray(node)) node[indexOf(node, last, path, path, file)] = value;
  else (node as Record<string, unknown>)[last] = value;
  return obj;
}

function indexOf(list: unknown[], key: string, at: string, path: string, file: string): number {
  if (!/^\d+$/.test(key)) throw new ConfigError(`${file}: sweep path "${path}": ${at.slice(0, at.length - key.length - 1)} is a list, so "${key}" must be an index`, 'e.g. "model.layers.0.units"');
  const i = Number(key);
  if (i >= list.length) throw new ConfigError(`${file}: sweep path "${path}": ${at.slice(0, at.length - key.length - 1)} has ${list.length} entries, so index ${i} does not exist`, `indices count from 0, up to ${list.length - 1}`);
  return i;
}

/** The runs as `sweep --dry-run` lists them: index, id, swept values, seed, fold. */
export function formatRunList(expanded: ExpandedSweep): string {
  const header = ['run', 'id', ...expanded.paths, 'seed', ...(expanded.section.folds ? ['fold'] : [])];
  const rows = expanded.runs.map((r) => [
    String(r.index), r.id, ...expanded.paths.map((p) => formatValue(r.values[p])), String(r.seed),
    ...(r.fold ? [`${r.fold.index + 1}/${r.fold.k}`] : []),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
