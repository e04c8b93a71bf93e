// Metrics worked by hand: an identity output layer makes the outputs equal the given
// logits, so every number below follows from four rows of arithmetic.

import { describe, expect, it } from 'vitest';
import { paramLayout } from '../src/model/layout.ts';
import type { ModelSpec } from '../src/model/spec.ts';
import { computeMetrics } from '../src/model/metrics.ts';
import { classification, regression } from './helpers/nets.ts';

describe('computeMetrics', () => {
  it('regression: MSE and MAE over every value, R² per target column then averaged', () => {
    const spec: ModelSpec = { inputs: 1, loss: 'mse', layers: [{ units: 2, activation: 'identity' }] };
    const layout = paramLayout(spec);
    // Column 0: targets 0, 2, 4, 6 (mean 3, Σ(t−mean)² = 20); predictions off by 1, −1, 1, −1 → SSres 4, R² 0.8.
    // Column 1: targets 10, 10, 10, 14 (mean 11, Σ = 12); predictions off by 0, 0, 0, −2 → SSres 4, R² 2/3.
    const ds = regression([[0], [0], [0], [0]], [[0, 10], [2, 10], [4, 10], [6, 14]]);
    const z = Float32Array.from([1, 10, 1, 10, 5, 10, 5, 12]);
    const m = computeMetrics(spec, layout, new Float32Array(layout.size), z, ds);
    expect(m.mse).toBeCloseTo(8 / 8, 12);
    expect(m.mae).toBeCloseTo(6 / 8, 12);
    expect(m.r2).toBeCloseTo((0.8 + 2 / 3) / 2, 12);
    // loss is the mse loss convention: ½·Σ_j (t − y)² per row, averaged over rows.
    expect(m.loss).toBeCloseTo((0.5 * 8) / 4, 12);
  });

  it('classification: accuracy and the confusion matrix by actual and predicted class', () => {
    const spec: ModelSpec = { inputs: 1, loss: 'mse', layers: [{ units: 3, activation: 'identity' }] };
    const layout = paramLayout(spec);
    const ds = classification([[0], [0], [0], [0]], [0, 1, 2, 2], 3);
    // argmax per row: 0, 2, 2, 1 → right, wrong (1 → 2), right, wrong (2 → 1).
    const z = Float32Array.from([5, 0, 0, 0, 1, 3, 0, 0, 4, 0, 2, 1]);
    const m = computeMetrics(spec, layout, new Float32Array(layout.size), z, ds);
    expect(m.accuracy).toBe(0.5);
    expect(m.confusion).toEqual([[1, 0, 0], [0, 0, 1], [0, 1, 1]]);
  });
});
