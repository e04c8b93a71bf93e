// Train / validation / test splits by fraction, from a seeded permutation. Classification
// splits are stratified by default: each class is divided on its own, so a rare class
// shows up in every split in about its overall proportion instead of by luck.

import { ConfigError, DataError, describe } from '../errors.ts';
import { createRng } from '../rng.ts';
import type { Rng } from '../rng.ts';
import { selectRows } from './dataset.ts';
import type { Dataset } from './dataset.ts';

export interface SplitOptions {
  /** Fraction of rows for validation, in [0, 1). */
  readonly validation: number;
  /** Fraction of rows for test, in [0, 1). */
  readonly test: number;
  readonly seed: number;
  /** Split each class separately; default true for classification. Regression cannot stratify. */
  readonly stratify?: boolean;
}

export interface Splits<D extends Dataset> {
  readonly train: D;
  /** Present when `validation` > 0. */
  readonly validation?: D;
  /** Present when `test` > 0. */
  readonly test?: D;
}

/** 0..n-1 in an order drawn from `rng`. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  rng.shuffle(p);
  return p;
}

function checkFraction(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new ConfigError(
      `split: ${name} fraction must be a number in [0, 1), found ${describe(value)}`,
      `e.g. ${name}: 0.1 holds out 10% of the rows; 0 holds out none`,
    );
  }
}

/**
 * Share `total` rows among groups in proportion to `weights` (largest remainder; ties go
 * to the lower index), never giving a group more than its `cap`. Needs Σcap ≥ total.
 */
function apportion(total: number, weights: readonly number[], caps: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const quota = weights.map((w) => (total * w) / sum);
  const out = quota.map((q, k) => Math.min(Math.floor(q), caps[k]!));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = weights.map((_, k) => k).sort((a, b) => quota[b]! - out[b]! - (quota[a]! - out[a]!) || a - b);
  while (left > 0) {
    let gave = false;
    for (const k of order) {
      if (left === 0) break;
      if (out[k]! < caps[k]!) {
        out[k]!++;
        left--;
        gave = true;
      }
    }
    if (!gave) break;
  }
  return out;
}

/**
 * Split `ds` into train and, for non-zero fractions, validation and test. Split sizes are
 * round(n · fraction), at least 1 for a non-zero fraction; train keeps the rest and must
 * keep at least 1. Rows keep their original order within each split. The same dataset,
 * fractions and seed always give the same split.
 */
export function splitDataset<D extends Dataset>(ds: D, options: SplitOptions): Splits<D> {
  const { validation, test, seed } = options;
  checkFraction('validation', validation);
  checkFraction('test', test);
  if (validation + test >= 1) {
    throw new ConfigError(
      `split: validation + test fractions must be below 1 so that rows remain for training, found ${validation} + ${test} = ${validation + test}`,
      'e.g. validation: 0.1, test: 0.1 trains on the remaining 80%',
    );
  }
  if (!Number.isFinite(seed)) throw new ConfigError(`split: seed must be a finite number, found ${describe(seed)}`);
  const stratify = options.stratify ?? ds.task === 'classification';
  if (stratify && ds.task !== 'classification') {
    throw new ConfigError('split: stratify needs a classification dataset; regression targets have no classes', 'leave stratify unset for regression');
  }

  const n = ds.n;
  const nVal = validation > 0 ? Math.max(1, Math.round(n * validation)) : 0;
  const nTest = test > 0 ? Math.max(1, Math.round(n * test)) : 0;
  if (n - nVal - nTest < 1) {
    throw new DataError(
      `split: ${n} row${n === 1 ? '' : 's'} cannot give ${nVal} validation and ${nTest} test row${nTest === 1 ? '' : 's'} and still leave one for training`,
      'use a larger dataset or set the validation/test fractions to 0',
    );
  }

  const rng = createRng(seed);
  // 0 = train, 1 = validation, 2 = test.
  const where = new Uint8Array(n);
  if (stratify && ds.task === 'classification') {
    const members: number[][] = Array.from({ length: ds.classes }, () => []);
    for (let i = 0; i < n; i++) members[ds.y[i]!]!.push(i);
    const sizes = members.map((m) => m.length);
    const valPer = apportion(nVal, sizes, sizes);
    const testPer = apportion(nTest, sizes, sizes.map((s, k) => s - valPer[k]!));
    for (let k = 0; k < members.length; k++) {
      const rows = members[k]!;
      rng.shuffle(rows);
      for (let j = 0; j < valPer[k]!; j++) where[rows[j]!] = 1;
      for (let j = valPer[k]!; j < valPer[k]! + testPer[k]!; j++) where[rows[j]!] = 2;
    }
  } else {
    const p = permutation(n, rng);
    for (let j = 0; j < nVal; j++) where[p[j]!] = 1;
    for (let j = nVal; j < nVal + nTest; j++) where[p[j]!] = 2;
  }

  const pick = (part: number): D => {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (where[i] === part) idx.push(i);
    return selectRows(ds, idx);
  };
  return {
    train: pick(0),
    ...(nVal > 0 ? { validation: pick(1) } : {}),
    ...(nTest > 0 ? { test: pick(2) } : {}),
  };
}

/**
 * The split a training run makes of one dataset: `splitDataset` drawing from the run's
 * seed + 2, so that init (seed) and shuffling (seed + 1) do not change when the split
 * does. train() and the config loader both split through here, so a config run and a
 * library run of the same settings hold out the same rows.
 */
export function splitForRun<D extends Dataset>(
  ds: D, fractions: { readonly validation: number; readonly test: number; readonly stratify?: boolean | undefined }, runSeed: number,
): Splits<D> {
  return splitDataset(ds, {
    validation: fractions.validation, test: fractions.test, seed: runSeed + 2,
    ...(fractions.stratify === undefined ? {} : { stratify: fractions.stratify }),
  });
}
