// Small helpers shared by the core tests: a float64 workspace with the naive kernel,
// a full-batch loss and gradient, and tiny datasets built in place.

import type { ClassificationDataset, RegressionDataset } from '../../src/data/dataset.ts';
import { naiveKernel } from '../../src/kernels/naive.ts';
import type { FloatArray, Kernel } from '../../src/kernels/kernel.ts';
import { paramLayout } from '../../src/model/layout.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { Arena } from '../../src/nn/arena.ts';
import type { TrainingRule } from '../../src/nn/loss.ts';
import {
  allocateWorkspace, backwardRows, forwardRows, paramGradsUnits, refreshAllTransposed, type Workspace,
} from '../../src/nn/mlp.ts';

export const k64 = naiveKernel as unknown as Kernel<FloatArray>;

export function workspace64(spec: ModelSpec, rows: number, targetKind: 'class' | 'vector', rule: TrainingRule = 'backprop'): Workspace<FloatArray> {
  return allocateWorkspace(new Arena(undefined), spec, paramLayout(spec), rows, targetKind, rule, true);
}

/** Mean loss over the workspace's `rows` rows at the current params (float64). */
export function meanLoss(ws: Workspace<FloatArray>, rows: number): number {
  refreshAllTransposed(ws, k64);
  forwardRows(ws, k64, 0, rows);
  backwardRows(ws, k64, 0, rows, rows);
  let s = 0;
  for (let r = 0; r < rows; r++) s += ws.rowLoss[r]!;
  return s / rows;
}

/** Analytic gradient of the mean loss into ws.grads. */
export function gradient(ws: Workspace<FloatArray>, rows: number): void {
  meanLoss(ws, rows);
  ws.layout.layers.forEach((s, l) => paramGradsUnits(ws, k64, rows, l, 0, s.units));
}

export function regression(x: number[][], y: number[][]): RegressionDataset {
  return { task: 'regression', n: x.length, features: x[0]!.length, x: Float32Array.from(x.flat()), y: Float32Array.from(y.flat()), targets: y[0]!.length };
}

export function classification(x: number[][], labels: number[], classes: number): ClassificationDataset {
  return {
    task: 'classification', n: x.length, features: x[0]!.length, x: Float32Array.from(x.flat()), y: Int32Array.from(labels), classes,
    classNames: Array.from({ length: classes }, (_, i) => String(i)),
  };
}
