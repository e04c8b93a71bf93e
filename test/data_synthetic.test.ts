import { describe, it, expect } from 'vitest';
import type { ClassificationDataset, RegressionDataset } from '../src/data/dataset.ts';
import {
  andDataset,
  blobs,
  builtinDataset,
  parabolaVsRandom,
  sine,
  spirals,
  xorDataset,
} from '../src/data/synthetic.ts';
import { ConfigError, DataError } from '../src/errors.ts';

function classCounts(ds: ClassificationDataset): number[] {
  const counts = new Array<number>(ds.classes).fill(0);
  for (const k of ds.y) counts[k]!++;
  return counts;
}

/** Mean and population standard deviation in float64. */
function stats(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

describe('logic gates', () => {
  it('XOR is the four corners with labels 0 1 1 0', () => {
    const ds = xorDataset();
    expect(ds.n).toBe(4);
    expect(ds.features).toBe(2);
    expect(Array.from(ds.x)).toEqual([0, 0, 0, 1, 1, 0, 1, 1]);
    expect(Array.from(ds.y)).toEqual([0, 1, 1, 0]);
    expect(ds.classes).toBe(2);
    expect(ds.classNames).toEqual(['0', '1']);
  });

  it('AND labels only (1, 1) as 1', () => {
    const ds = andDataset();
    expect(Array.from(ds.x)).toEqual([0, 0, 0, 1, 1, 0, 1, 1]);
    expect(Array.from(ds.y)).toEqual([0, 0, 0, 1]);
  });
});

describe('spirals', () => {
  it('splits n between the two arms and interleaves them', () => {
    const ds = spirals({ n: 1001, noise: 0.05, seed: 1 });
    expect(ds.n).toBe(1001);
    expect(ds.features).toBe(2);
    expect(ds.x.length).toBe(2002);
    expect(classCounts(ds)).toEqual([501, 500]);
    const firstHundred = Array.from(ds.y.subarray(0, 100)).reduce((a, b) => a + b, 0);
    expect(firstHundred).toBeGreaterThan(30);
    expect(firstHundred).toBeLessThan(70);
  });

  it('without noise puts every point on its arm: angle = 2π·turns·r + class·π', () => {
    const turns = 2;
    const ds = spirals({ n: 400, noise: 0, seed: 7, turns });
    for (let i = 0; i < ds.n; i++) {
      const px = ds.x[2 * i]!;
      const py = ds.x[2 * i + 1]!;
      const r = Math.hypot(px, py);
      expect(r).toBeLessThan(1);
      const angle = 2 * Math.PI * turns * r + ds.y[i]! * Math.PI;
      // Compare on the unit circle so the 2π wrap does not matter; float32 storage costs ~1e-7 · turns.
      expect(Math.abs(Math.cos(angle) * r - px)).toBeLessThan(1e-5);
      expect(Math.abs(Math.sin(angle) * r - py)).toBeLessThan(1e-5);
    }
  });

  it('is a function of the seed', () => {
    const a = spirals({ n: 200, noise: 0.1, seed: 42 });
    const b = spirals({ n: 200, noise: 0.1, seed: 42 });
    const c = spirals({ n: 200, noise: 0.1, seed: 43 });
    expect(b.x).toEqual(a.x);
    expect(b.y).toEqual(a.y);
    expect(c.x).not.toEqual(a.x);
  });

  it('rejects a count below 2 and negative noise', () => {
    expect(() => spirals({ n: 1, noise: 0, seed: 1 })).toThrow(ConfigError);
    expect(() => spirals({ n: 1, noise: 0, seed: 1 })).toThrow('spirals: n must be an integer ≥ 2, found 1');
    expect(() => spirals({ n: 10, noise: -0.1, seed: 1 })).toThrow('spirals: noise must be a finite number ≥ 0, found -0.1');
    expect(() => spirals({ n: 10, noise: Number.NaN, seed: 1 })).toThrow('spirals: noise must be a finite number ≥ 0, found NaN');
  });
});

describe('blobs', () => {
  it('gives each class n / classes points around its own centre with the given spread', () => {
    const classes = 3;
    const features = 4;
    const spread = 0.2;
    const ds = blobs({ n: 6000, classes, features, spread, seed: 5 });
    expect(ds.n).toBe(6000);
    expect(ds.features).toBe(4);
    expect(ds.featureNames).toEqual(['x1', 'x2', 'x3', 'x4']);
    expect(classCounts(ds)).toEqual([2000, 2000, 2000]);
    for (let k = 0; k < classes; k++) {
      for (let f = 0; f < features; f++) {
        const column: number[] = [];
        for (let i = 0; i < ds.n; i++) if (ds.y[i] === k) column.push(ds.x[i * features + f]!);
        const { mean, std } = stats(column);
        // Centres are uniform in [-1, 1]; the mean of 2000 draws is within ~4·0.2/√2000 ≈ 0.018 of it.
        expect(Math.abs(mean)).toBeLessThan(1.02);
        // The sample std of 2000 normals is within ~4·0.2/√4000 ≈ 0.013 of the spread.
        expect(Math.abs(std - spread)).toBeLessThan(0.015);
      }
    }
  });

  it('keeps class sizes within one of each other and is deterministic', () => {
    const ds = blobs({ n: 10, classes: 3, features: 2, spread: 0.1, seed: 9 });
    expect(classCounts(ds)).toEqual([4, 3, 3]);
    expect(blobs({ n: 10, classes: 3, features: 2, spread: 0.1, seed: 9 }).x).toEqual(ds.x);
    expect(blobs({ n: 10, classes: 3, features: 2, spread: 0.1, seed: 10 }).x).not.toEqual(ds.x);
  });

  it('rejects fewer points than classes', () => {
    expect(() => blobs({ n: 2, classes: 3, features: 2, spread: 0.1, seed: 1 })).toThrow('blobs: n must be an integer ≥ 3, found 2');
  });
});

describe('sine', () => {
  it('without noise is y = sin(x) for x in [-π, π]', () => {
    const ds = sine({ n: 500, noise: 0, seed: 3 });
    expect(ds.task).toBe('regression');
    expect(ds.features).toBe(1);
    expect(ds.targets).toBe(1);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < ds.n; i++) {
      const x = ds.x[i]!;
      min = Math.min(min, x);
      max = Math.max(max, x);
      expect(Math.abs(ds.y[i]! - Math.sin(x))).toBeLessThan(1e-6);
    }
    expect(min).toBeGreaterThanOrEqual(-Math.fround(Math.PI));
    expect(max).toBeLessThanOrEqual(Math.fround(Math.PI));
    // 500 uniform draws come within ~0.05 of both ends.
    expect(min).toBeLessThan(-3);
    expect(max).toBeGreaterThan(3);
  });

  it('adds Gaussian noise of the given standard deviation', () => {
    const ds: RegressionDataset = sine({ n: 8000, noise: 0.1, seed: 4 });
    const residuals = Array.from(ds.y, (y, i) => y - Math.sin(ds.x[i]!));
    const { mean, std } = stats(residuals);
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.abs(std - 0.1)).toBeLessThan(0.004);
    expect(sine({ n: 8000, noise: 0.1, seed: 4 }).y).toEqual(ds.y);
  });
});

describe('parabolaVsRandom', () => {
  const noise = 0.02;
  const ds = parabolaVsRandom({ noise, seed: 11 });

  it('defaults to 10,000 rows, half of each class, interleaved', () => {
    expect(ds.n).toBe(10_000);
    expect(ds.features).toBe(2);
    expect(classCounts(ds)).toEqual([5000, 5000]);
    const firstHundred = Array.from(ds.y.subarray(0, 100)).reduce((a, b) => a + b, 0);
    expect(firstHundred).toBeGreaterThan(30);
    expect(firstHundred).toBeLessThan(70);
    expect(classCounts(parabolaVsRandom({ n: 7, noise, seed: 1 }))).toEqual([3, 4]);
  });

  it('puts class 1 on y = x² with the given noise and class 0 uniformly in the same box', () => {
    const onCurve: number[] = [];
    const random: number[] = [];
    const curveX: number[] = [];
    let yMin = Infinity;
    let yMax = -Infinity;
    for (let i = 0; i < ds.n; i++) {
      const x = ds.x[2 * i]!;
      const y = ds.x[2 * i + 1]!;
      expect(Math.abs(x)).toBeLessThanOrEqual(1);
      if (ds.y[i] === 1) {
        onCurve.push(y - x * x);
        curveX.push(x);
        yMin = Math.min(yMin, y);
        yMax = Math.max(yMax, y);
      } else {
        random.push(y);
      }
    }
    const residual = stats(onCurve);
    expect(Math.abs(residual.mean)).toBeLessThan(0.002);
    expect(Math.abs(residual.std - noise)).toBeLessThan(0.002);
    expect(Math.max(...onCurve.map(Math.abs))).toBeLessThan(6 * noise);
    // x on the curve is uniform in [-1, 1]: mean 0, variance 1/3.
    expect(Math.abs(stats(curveX).mean)).toBeLessThan(0.03);
    expect(Math.abs(stats(curveX).std - Math.sqrt(1 / 3))).toBeLessThan(0.01);
    // The random half stays inside the curve points' box and fills it: uniform mean and spread.
    expect(Math.min(...random)).toBeGreaterThanOrEqual(yMin);
    expect(Math.max(...random)).toBeLessThanOrEqual(yMax);
    const r = stats(random);
    expect(Math.abs(r.mean - (yMin + yMax) / 2)).toBeLessThan(0.015);
    expect(Math.abs(r.std - (yMax - yMin) / Math.sqrt(12))).toBeLessThan(0.01);
  });

  it('makes few random points look like curve points', () => {
    let near = 0;
    for (let i = 0; i < ds.n; i++) {
      if (ds.y[i] !== 0) continue;
      const x = ds.x[2 * i]!;
      if (Math.abs(ds.x[2 * i + 1]! - x * x) < 3 * noise) near++;
    }
    // The ±3σ band covers ≈ 2·0.06·2 / (2·1.06) ≈ 11% of the box.
    expect(near / 5000).toBeGreaterThan(0.08);
    expect(near / 5000).toBeLessThan(0.14);
  });

  it('is a function of the seed', () => {
    const again = parabolaVsRandom({ noise, seed: 11 });
    expect(again.x).toEqual(ds.x);
    expect(again.y).toEqual(ds.y);
    expect(parabolaVsRandom({ noise, seed: 12 }).x).not.toEqual(ds.x);
  });
});

describe('builtinDataset', () => {
  it('dispatches by name with documented defaults', () => {
    expect(builtinDataset('xor', { seed: 1 })).toEqual(xorDataset());
    expect(builtinDataset('and', { seed: 1 })).toEqual(andDataset());
    expect(builtinDataset('spirals', { seed: 3 })).toEqual(spirals({ n: 1000, noise: 0.05, seed: 3 }));
    expect(builtinDataset('spirals', { seed: 3, n: 50, noise: 0.2, turns: 3 })).toEqual(spirals({ n: 50, noise: 0.2, seed: 3, turns: 3 }));
    expect(builtinDataset('blobs', { seed: 3 })).toEqual(blobs({ n: 1000, classes: 3, features: 2, spread: 0.15, seed: 3 }));
    expect(builtinDataset('sine', { seed: 3, n: 20 })).toEqual(sine({ n: 20, noise: 0.1, seed: 3 }));
    const parabola = builtinDataset('parabola', { seed: 3 });
    expect(parabola.n).toBe(10_000);
    expect(parabola).toEqual(parabolaVsRandom({ noise: 0.02, seed: 3 }));
  });

  it('lists the known names for an unknown one', () => {
    expect(() => builtinDataset('moons', { seed: 1 })).toThrow(DataError);
    expect(() => builtinDataset('moons', { seed: 1 })).toThrow(
      'unknown built-in dataset "moons"; expected one of "xor", "and", "spirals", "blobs", "sine", "parabola"',
    );
  });
});
