// Metrics from a split's output pre-activations: mean loss, and accuracy with a
// confusion matrix for classification, or MSE, MAE and R² for regression. Sums run in
// row order in float64, so the numbers are the same whichever path produced the
// outputs (in-process or sharded over threads).

import type { Dataset } from '../data/dataset.ts';
import { view, type ParamLayout } from './layout.ts';
import { layerAlpha, type ModelSpec } from './spec.ts';
import { activationForward } from '../nn/activations.ts';
import { isCorrect, rowLoss, targetCoding, type Targets } from '../nn/loss.ts';

export interface Metrics {
  readonly loss: number;
  /** Classification only. */
  readonly accuracy?: number;
  /** confusion[actual][predicted], classification only. */
  readonly confusion?: number[][];
  /** Regression only: MSE and MAE over every target value, R² averaged over target columns. */
  readonly mse?: number;
  readonly mae?: number;
  readonly r2?: number;
}

/** The output layer's activation applied to z (rows, units). */
export function outputsFromLogits(spec: ModelSpec, layout: ParamLayout, params: Float32Array, z: Float32Array, rows: number): Float32Array {
  const L = spec.layers.length;
  const last = spec.layers[L - 1]!;
  const slots = layout.layers[L - 1]!;
  const y = new Float32Array(rows * slots.units);
  activationForward(last.activation, y, z, rows, slots.units, layerAlpha(last), slots.a ? view(params, slots.a) : undefined);
  return y;
}

export function datasetTargets(ds: Dataset): Targets {
  return ds.task === 'classification' ? { kind: 'class', labels: ds.y } : { kind: 'vector', values: ds.y };
}

/** Predicted class of each row: argmax, or the threshold for a single output unit. */
export function predictedClasses(spec: ModelSpec, y: Float32Array, rows: number): Int32Array {
  const units = spec.layers[spec.layers.length - 1]!.units;
  const coding = targetCoding(spec.layers[spec.layers.length - 1]!.activation);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    if (units === 1) {
      out[r] = y[r]! >= coding.threshold ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let j = 1; j < units; j++) if (y[r * units + j]! > y[r * units + best]!) best = j;
    out[r] = best;
  }
  return out;
}

export function computeMetrics(spec: ModelSpec, layout: ParamLayout, params: Float32Array, z: Float32Array, ds: Dataset): Metrics {
  const n = ds.n;
  const units = spec.layers[spec.layers.length - 1]!.units;
  const y = outputsFromLogits(spec, layout, params, z, n);
  const coding = targetCoding(spec.layers[spec.layers.length - 1]!.activation);
  const targets = datasetTargets(ds);
  let lossSum = 0;
  for (let r = 0; r < n; r++) lossSum += rowLoss(spec.loss, z, y, targets, coding, r, units);
  const loss = n > 0 ? lossSum / n : NaN;
  if (ds.task === 'classification') {
    const classes = Math.max(ds.classes, units === 1 ? 2 : units);
    const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
    const predicted = predictedClasses(spec, y, n);
    let correct = 0;
    for (let r = 0; r < n; r++) {
      if (isCorrect(y, targets, coding, r, units)) correct++;
      confusion[ds.y[r]!]![predicted[r]!]!++;
    }
    return { loss, accuracy: n > 0 ? correct / n : NaN, confusion };
  }
  // MSE and MAE over every target value; R² per target column, then averaged (the usual
  // "uniform average": a column's R² does not depend on the other columns' spread).
  let se = 0;
  let ae = 0;
  let r2Sum = 0;
  for (let j = 0; j < units; j++) {
    let mean = 0;
    for (let r = 0; r < n; r++) mean += ds.y[r * units + j]!;
    mean /= n;
    let res = 0;
    let tot = 0;
    for (let r = 0; r < n; r++) {
      const t = ds.y[r * units + j]!;
      const d = y[r * units + j]! - t;
      res += d * d;
      ae += Math.abs(d);
      tot += (t - mean) ** 2;
    }
    se += res;
    r2Sum += tot > 0 ? 1 - res / tot : NaN;
  }
  const count = n * units;
  return { loss, mse: se / count, mae: ae / count, r2: r2Sum / units };
}
