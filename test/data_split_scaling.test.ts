import { describe, it, expect } from 'vitest';
import type { ClassificationDataset, RegressionDataset } from '../src/data/dataset.ts';
import { applyScaler, fitScaler } from '../src/data/scaling.ts';
import { permutation, splitDataset } from '../src/data/split.ts';
import { blobs, sine } from '../src/data/synthetic.ts';
import { ConfigError, DataError } from '../src/errors.ts';
import { createRng } from '../src/rng.ts';

/** One feature holding the row's original index, so splits can be traced back. */
function labelled(labels: number[], classes: number): ClassificationDataset {
  return {
    task: 'classification',
    n: labels.length,
    features: 1,
    x: Float32Array.from(labels, (_, i) => i),
    y: Int32Array.from(labels),
    classes,
    classNames: Array.from({ length: classes }, (_, k) => String(k)),
  };
}

const ids = (ds: { x: Float32Array }) => Array.from(ds.x);
const countsOf = (ds: ClassificationDataset) => {
  const c = new Array<number>(ds.classes).fill(0);
  for (const k of ds.y) c[k]!++;
  return c;
};

describe('permutation', () => {
  it('holds every index once and depends only on the rng stream', () => {
    const p = permutation(1000, createRng(1));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(permutation(1000, createRng(1))).toEqual(p);
    expect(permutation(1000, createRng(2))).not.toEqual(p);
    expect(Array.from(permutation(0, createRng(1)))).toEqual([]);
  });
});

describe('splitDataset', () => {
  // 80 rows of class 0 then 20 of class 1.
  const skewed = labelled([...new Array<number>(80).fill(0), ...new Array<number>(20).fill(1)], 2);

  it('splits by fraction and keeps class proportions (stratified by default)', () => {
    const { train, validation, test } = splitDataset(skewed, { validation: 0.1, test: 0.2, seed: 1 });
    expect([train.n, validation!.n, test!.n]).toEqual([70, 10, 20]);
    expect(countsOf(train)).toEqual([56, 14]);
    expect(countsOf(validation!)).toEqual([8, 2]);
    expect(countsOf(test!)).toEqual([16, 4]);
  });

  it('puts every row in exactly one split, in the original order within each', () => {
    const { train, validation, test } = splitDataset(skewed, { validation: 0.1, test: 0.2, seed: 1 });
    const all = [...ids(train), ...ids(validation!), ...ids(test!)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const part of [train, validation!, test!]) {
      const order = ids(part);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      // Labels travel with their rows.
      for (let i = 0; i < part.n; i++) expect(part.y[i]).toBe(part.x[i]! < 80 ? 0 : 1);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = splitDataset(skewed, { validation: 0.2, test: 0, seed: 5 });
    const b = splitDataset(skewed, { validation: 0.2, test: 0, seed: 5 });
    const c = splitDataset(skewed, { validation: 0.2, test: 0, seed: 6 });
    expect(ids(b.validation!)).toEqual(ids(a.validation!));
    expect(ids(c.validation!)).not.toEqual(ids(a.validation!));
    expect(a.test).toBeUndefined();
    expect('test' in a).toBe(false);
  });

  it('shares rows among classes by largest remainder', () => {
    // Classes of 5, 3 and 2 rows; 30% validation = 3 rows, quotas 1.5, 0.9, 0.6 → 1, 1, 1.
    const ds = labelled([0, 0, 0, 0, 0, 1, 1, 1, 2, 2], 3);
    const { train, validation } = splitDataset(ds, { validation: 0.3, test: 0, seed: 2 });
    expect(countsOf(validation!)).toEqual([1, 1, 1]);
    expect(countsOf(train)).toEqual([4, 2, 1]);
  });

  it('without stratification still gives the sizes, and lets proportions drift', () => {
    const sizes = new Set<string>();
    for (let seed = 1; seed <= 8; seed++) {
      const { train, validation, test } = splitDataset(skewed, { validation: 0.1, test: 0.2, seed, stratify: false });
      expect([train.n, validation!.n, test!.n]).toEqual([70, 10, 20]);
      sizes.add(countsOf(test!).join('/'));
    }
    expect(sizes.size).toBeGreaterThan(1);
  });

  it('gives a non-zero fraction at least one row', () => {
    const ds = labelled([0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 2);
    const { train, validation, test } = splitDataset(ds, { validation: 0.01, test: 0.01, seed: 3 });
    expect([train.n, validation!.n, test!.n]).toEqual([8, 1, 1]);
  });

  it('splits regression data without stratifying', () => {
    const ds = sine({ n: 50, noise: 0, seed: 1 });
    const { train, test } = splitDataset(ds, { validation: 0, test: 0.3, seed: 4 });
    expect([train.n, test!.n]).toEqual([35, 15]);
    expect(train.targets).toBe(1);
    // x and y still pair up after the split.
    for (let i = 0; i < test!.n; i++) expect(Math.abs(test!.y[i]! - Math.sin(test!.x[i]!))).toBeLessThan(1e-6);
    expect(() => splitDataset(ds, { validation: 0.1, test: 0, seed: 1, stratify: true })).toThrow(
      'split: stratify needs a classification dataset',
    );
  });

  it('rejects fractions outside [0, 1) and sums of 1 or more', () => {
    expect(() => splitDataset(skewed, { validation: 1, test: 0, seed: 1 })).toThrow(ConfigError);
    expect(() => splitDataset(skewed, { validation: 1, test: 0, seed: 1 })).toThrow(
      'split: validation fraction must be a number in [0, 1), found 1',
    );
    expect(() => splitDataset(skewed, { validation: 0.1, test: -0.1, seed: 1 })).toThrow(
      'split: test fraction must be a number in [0, 1), found -0.1',
    );
    expect(() => splitDataset(skewed, { validation: Number.NaN, test: 0, seed: 1 })).toThrow(/validation fraction .* found NaN/);
    expect(() => splitDataset(skewed, { validation: 0.6, test: 0.4, seed: 1 })).toThrow(
      'split: validation + test fractions must be below 1 so that rows remain for training, found 0.6 + 0.4 = 1',
    );
  });

  it('rejects a dataset too small to leave a training row', () => {
    const ds = labelled([0, 1], 2);
    expect(() => splitDataset(ds, { validation: 0.1, test: 0.1, seed: 1 })).toThrow(DataError);
    expect(() => splitDataset(ds, { validation: 0.1, test: 0.1, seed: 1 })).toThrow(
      'split: 2 rows cannot give 1 validation and 1 test row and still leave one for training',
    );
  });
});

describe('scaling', () => {
  // Columns: mean 3 / var 3.5; mean 30 / var 350; constant 5.
  const table: ClassificationDataset = {
    task: 'classification',
    n: 4,
    features: 3,
    x: Float32Array.from([1, 10, 5, 2, 20, 5, 3, 60, 5, 6, 30, 5]),
    y: Int32Array.from([0, 1, 0, 1]),
    classes: 2,
    classNames: ['0', '1'],
  };

  it('standard: offset = mean, scale = 1/σ (population), constant column scale 1', () => {
    const s = fitScaler('standard', table);
    expect(s.method).toBe('standard');
    expect(s.offset).toEqual(Float32Array.from([3, 30, 5]));
    expect(s.scale).toEqual(Float32Array.from([1 / Math.sqrt(3.5), 1 / Math.sqrt(350), 1]));
    const out = applyScaler(s, table);
    const r = 1 / Math.sqrt(3.5);
    expect(Array.from(out.x.filter((_, i) => i % 3 === 0))).toEqual(
      [-2, -1, 0, 3].map((d) => Math.fround(d * Math.fround(r))),
    );
    expect(Array.from(out.x.filter((_, i) => i % 3 === 2))).toEqual([0, 0, 0, 0]);
    expect(out.y).toBe(table.y);
    // The input is untouched.
    expect(table.x[0]).toBe(1);
  });

  it('minmax: offset = min, scale = 1/(max − min), mapping the fit data to [0, 1]', () => {
    const s = fitScaler('minmax', table);
    expect(s.offset).toEqual(Float32Array.from([1, 10, 5]));
    expect(s.scale).toEqual(Float32Array.from([1 / 5, 1 / 50, 1]));
    const out = applyScaler(s, table);
    const expected = [0, 0, 0, 0.2, 0.2, 0, 0.4, 1, 0, 1, 0.4, 0];
    out.x.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    // Exactly one rounding of (x − offset) · scale, the float32 scale being 1/5 rounded.
    expect(out.x[3]).toBe(Math.fround(1 * Math.fround(0.2)));
  });

  it('none is the identity', () => {
    const s = fitScaler('none', table);
    expect(s.offset).toEqual(new Float32Array(3));
    expect(s.scale).toEqual(Float32Array.from([1, 1, 1]));
    expect(applyScaler(s, table).x).toEqual(table.x);
  });

  it('matches a float64 computation on data far from zero', () => {
    // A large common offset is where one-pass float32 variance falls apart.
    const base = blobs({ n: 3000, classes: 3, features: 5, spread: 0.3, seed: 8 });
    const x = base.x.map((v, i) => v * (1 + (i % 5)) + 1000);
    const ds = { ...base, x };
    const s = fitScaler('standard', ds);
    for (let j = 0; j < 5; j++) {
      let mean = 0;
      for (let r = 0; r < ds.n; r++) mean += x[r * 5 + j]!;
      mean /= ds.n;
      let v = 0;
      for (let r = 0; r < ds.n; r++) v += (x[r * 5 + j]! - mean) ** 2;
      const std = Math.sqrt(v / ds.n);
      expect(s.offset[j]).toBe(Math.fround(mean));
      expect(s.scale[j]).toBe(Math.fround(1 / std));
    }
    const out = applyScaler(s, ds);
    for (let j = 0; j < 5; j++) {
      const col = Array.from({ length: ds.n }, (_, r) => out.x[r * 5 + j]!);
      const m = col.reduce((a, b) => a + b, 0) / ds.n;
      const sd = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / ds.n);
      expect(Math.abs(m)).toBeLessThan(1e-3);
      expect(Math.abs(sd - 1)).toBeLessThan(1e-3);
    }
  });

  it('is fitted on the training split only and applied unchanged to the others', () => {
    const ds = sine({ n: 400, noise: 0.1, seed: 2 });
    const { train, test } = splitDataset(ds, { validation: 0, test: 0.25, seed: 2 });
    const s = fitScaler('minmax', train);
    let min = Infinity;
    for (const v of train.x) min = Math.min(min, v);
    expect(s.offset[0]).toBe(min);
    const scaledTest: RegressionDataset = applyScaler(s, test!);
    expect(scaledTest.n).toBe(100);
    expect(scaledTest.y).toBe(test!.y);
    for (let i = 0; i < test!.n; i++) {
      expect(scaledTest.x[i]).toBe(Math.fround((test!.x[i]! - s.offset[0]!) * s.scale[0]!));
    }
  });

  it('rejects a feature-count mismatch, NaN columns, empty data and unknown methods', () => {
    const s = fitScaler('standard', table);
    const narrow = { ...table, features: 2, n: 6, x: table.x.slice(0, 12) };
    expect(() => applyScaler(s, narrow)).toThrow(DataError);
    expect(() => applyScaler(s, narrow)).toThrow('scaler was fitted on 3 features but the dataset has 2');
    const withNaN = { ...table, x: Float32Array.from([1, 2, 3, 4, Number.NaN, 6, 7, 8, 9, 1, 2, 3]), featureNames: ['a', 'b', 'c'] };
    expect(() => fitScaler('minmax', withNaN)).toThrow('cannot fit a minmax scaler: feature 2 of 3 ("b") holds NaN or infinite values');
    expect(() => fitScaler('standard', { ...table, n: 0, x: new Float32Array(0), y: new Int32Array(0) })).toThrow(
      'cannot fit a scaler on a dataset with no rows',
    );
    expect(() => fitScaler('zscore' as 'standard', table)).toThrow(ConfigError);
  });
});
