// k-fold cross-validation: every training row lands in exactly one of k folds, and run i
// of k validates on fold i after training on the others. For classification the rows of
// each class are dealt out separately, so every fold holds about the class's overall
// share (stratified, as scikit-learn's StratifiedKFold); the deal is seeded, so every
// run, shard and rerun sees the same folds.

import { selectRows, type Dataset } from '../data/dataset.ts';
import { permutation } from '../data/split.ts';
import { DataError } from '../errors.ts';
import { createRng } from '../rng.ts';

/**
 * The fold (0..k-1) of each row. Rows are shuffled with `seed` and dealt round-robin;
 * stratified, each class is shuffled and dealt on its own, starting at the fold where the
 * previous class stopped. So fold sizes differ by at most one, and so does each class's
 * count in any two folds.
 */
export function foldAssignment(ds: Dataset, k: number, seed: number, stratify: boolean): Int32Array {
  if (ds.n < k) {
    throw new DataError(`folds: ${ds.n} training rows cannot be split into ${k} folds`, 'use fewer folds, or more data');
  }
  const fold = new Int32Array(ds.n);
  const rng = createRng(seed);
  if (stratify && ds.task === 'classification') {
    const members: number[][] = Array.from({ length: ds.classes }, () => []);
    for (let i = 0; i < ds.n; i++) members[ds.y[i]!]!.push(i);
    let next = 0;
    for (const rows of members) {
      rng.shuffle(rows);
      for (const row of rows) {
        fold[row] = next;
        next = (next + 1) % k;
      }
    }
    return fold;
  }
  const order = permutation(ds.n, rng);
  for (let j = 0; j < ds.n; j++) fold[order[j]!] = j % k;
  return fold;
}

/** Train on every fold but `index`, validate on fold `index`; rows keep their order. */
export function foldSplit<D extends Dataset>(ds: D, fold: Int32Array, index: number): { train: D; validation: D } {
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < ds.n; i++) (fold[i] === index ? validation : train).push(i);
  return { train: selectRows(ds, train), validation: selectRows(ds, validation) };
}
