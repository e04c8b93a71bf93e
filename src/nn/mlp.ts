// The MLP's compute core as pure functions over a Workspace of typed arrays. The same
// functions run the in-process path (threads = 1) and every worker thread; the pool is a
// way of running them, not a second implementation.
//
// One training step over a batch of B rows, in three phases:
//   1. rows:  each thread gathers its rows; then it computes layer 0 for ITS units over
//             all rows (forwardFirstLayerUnits), so layer 0's weights are read only by the
//             thread that updates them; then, for its rows, the layers above, the loss, and
//             the backward chain of deltas down to the first layer. Rows (and layer-0
//             units) are independent, so any split gives the same bits.
//   2. units: for its output units, a thread sums the weight gradients over ALL B rows,
//             in row order (the kernel contract). This is the gradient reduction, split
//             by parameter, not by sample: its result cannot depend on the thread count.
//   3. update: the same thread applies the optimizer to the units it summed, and
//             refreshes the transposed weights the forward kernel reads.
// Which rows and units each thread takes is the engine's business (src/engine/partition.ts);
// barriers separate the parts of 1 (gather, layer 0, the rest), 1 from 2, and 3 from the
// next step (src/engine/program.ts).

import type { FloatArray, Kernel } from '../kernels/kernel.ts';
import { view, type ParamLayout } from '../model/layout.ts';
import { layerAlpha, type ModelSpec } from '../model/spec.ts';
import { activationBackward, activationForward, softmaxRow } from './activations.ts';
import type { Arena } from './arena.ts';
import { outputLossAndGrad, targetCoding, targetValue, type OutputLayerInfo, type Targets, type TrainingRule } from './loss.ts';

export interface Workspace<F extends FloatArray = Float32Array> {
  readonly spec: ModelSpec;
  readonly layout: ParamLayout;
  readonly maxRows: number;
  readonly params: F;
  readonly grads: F;
  /** Same layout as params; each W slot holds that layer's Wᵀ (IN, OUT) for the forward kernel. */
  readonly paramsT: F;
  /**
   * (maxRows, inputs): the batch's input rows, gathered. Not readonly: the engine points it
   * at one of two buffers each step, so that the next step's rows can be gathered while
   * this step's are still being read (engine/program.ts).
   */
  input: F;
  /** Per layer (maxRows, units): pre-activations z and outputs a. */
  readonly z: F[];
  readonly a: F[];
  /** Per layer (maxRows, units): first dA, then dZ in place. */
  readonly delta: F[];
  /** Per prelu layer: dA kept for the slope gradients (dZ alone cannot give them back). */
  readonly preluDa: (F | undefined)[];
  readonly rowLoss: Float64Array;
  /** Per row, a softmax output's logsumexp from the forward pass (NaN: not usable), so the loss needs no second exp pass. */
  readonly rowLse: Float64Array;
  readonly rowCorrect: Uint8Array;
  readonly targets: Targets;
  readonly output: OutputLayerInfo;
}

export type TargetKind = 'class' | 'vector';

/** Allocate a workspace from an arena; float32 unless `f64` is set (gradient checks). */
export function allocateWorkspace(
  arena: Arena, spec: ModelSpec, layout: ParamLayout, maxRows: number, targetKind: TargetKind,
  rule: TrainingRule = 'backprop', f64 = false,
): Workspace<FloatArray> {
  const fl = (n: number): FloatArray => (f64 ? arena.f64(n) : arena.f32(n));
  const params = fl(layout.size);
  const grads = fl(layout.size);
  const paramsT = fl(layout.size);
  const input = fl(maxRows * spec.inputs);
  const z: FloatArray[] = [];
  const a: FloatArray[] = [];
  const delta: FloatArray[] = [];
  const preluDa: (FloatArray | undefined)[] = [];
  for (const layer of spec.layers) {
    z.push(fl(maxRows * layer.units));
    a.push(fl(maxRows * layer.units));
    delta.push(fl(maxRows * layer.units));
    preluDa.push(layer.activation === 'prelu' ? fl(maxRows * layer.units) : undefined);
  }
  const rowLoss = arena.f64(maxRows);
  const rowLse = arena.f64(maxRows);
  const rowCorrect = arena.u8(maxRows);
  const outUnits = spec.layers[spec.layers.length - 1]!.units;
  const targets: Targets =
    targetKind === 'class'
      ? { kind: 'class', labels: arena.i32(maxRows) }
      : { kind: 'vector', values: f64 ? arena.f64(maxRows * outUnits) : arena.f32(maxRows * outUnits) };
  const last = spec.layers[spec.layers.length - 1]!;
  const output: OutputLayerInfo = {
    loss: spec.loss, rule, activation: last.activation, alpha: layerAlpha(last), coding: targetCoding(last.activation),
  };
  return { spec, layout, maxRows, params, grads, paramsT, input, z, a, delta, preluDa, rowLoss, rowLse, rowCorrect, targets, output };
}

function rows<F extends FloatArray>(buf: F, r0: number, r1: number, width: number): F {
  return buf.subarray(r0 * width, r1 * width) as F;
}

/**
 * Forward pass for rows [r0, r1) of the current batch through every layer, or, with
 * `afterFirstLayer`, from layer 0's activation on: layer 0's z (and, for ReLU, its output)
 * must then already be there for these rows, from forwardFirstLayerUnits.
 */
export function forwardRows<F extends FloatArray>(ws: Workspace<F>, kernel: Kernel<F>, r0: number, r1: number, afterFirstLayer = false): void {
  const m = r1 - r0;
  if (m <= 0) return;
  let x = rows(ws.input, r0, r1, ws.spec.inputs);
  for (let l = 0; l < ws.spec.layers.length; l++) {
    const s = ws.layout.layers[l]!;
    const z = rows(ws.z[l]!, r0, r1, s.units);
    const a = rows(ws.a[l]!, r0, r1, s.units);
    const relu = ws.spec.layers[l]!.activation === 'relu';
    if (!(afterFirstLayer && l === 0)) {
      // For ReLU the kernel writes z and relu(z) from its registers: no second pass over memory.
      kernel.linearForward(z, x, view(ws.paramsT, s.w), view(ws.params, s.b), m, s.inputs, s.units, relu ? a : undefined);
    }
    if (!relu) activate(ws, l, a, z, r0, m);
    x = a;
  }
}

/** a = f(z) for `m` rows from row r0 of layer l (any activation but the fused ReLU); a softmax output keeps each row's lse. */
function activate<F extends FloatArray>(ws: Workspace<F>, l: number, a: F, z: F, r0: number, m: number): void {
  const layer = ws.spec.layers[l]!;
  const s = ws.layout.layers[l]!;
  if (layer.activation === 'softmax') {
    for (let r = 0; r < m; r++) ws.rowLse[r0 + r] = softmaxRow(a, z, r * s.units, s.units);
    return;
  }
  activationForward(layer.activation, a, z, m, s.units, layerAlpha(layer), s.a ? view(ws.params, s.a) : undefined);
}

/**
 * Layer 0's pre-activations z for units [j0, j1) of all B gathered rows, and for a ReLU
 * layer its output too (the kernel's epilogue). Each element has the bits forwardRows gives
 * it. Splitting the first layer by units lets each thread read only the Wᵀ columns it
 * updates itself: the largest weight matrix then never crosses between cores.
 */
export function forwardFirstLayerUnits<F extends FloatArray>(ws: Workspace<F>, kernel: Kernel<F>, B: number, j0: number, j1: number): void {
  if (B <= 0 || j1 <= j0) return;
  const s = ws.layout.layers[0]!;
  const relu = ws.spec.layers[0]!.activation === 'relu';
  kernel.linearForward(ws.z[0]!, ws.input, view(ws.paramsT, s.w), view(ws.params, s.b), B, s.inputs, s.units,
    relu ? ws.a[0]! : undefined, j0, j1);
}

/**
 * Loss and backward chain for rows [r0, r1): writes the per-row loss and correctness,
 * and dZ of every layer for those rows. B is the whole batch size (for the mean).
 */
export function backwardRows<F extends FloatArray>(ws: Workspace<F>, kernel: Kernel<F>, r0: number, r1: number, B: number): void {
  const m = r1 - r0;
  if (m <= 0) return;
  const L = ws.spec.layers.length;
  const last = ws.layout.layers[L - 1]!;
  outputLossAndGrad(
    ws.output, ws.delta[L - 1]!, ws.z[L - 1]!, ws.a[L - 1]!, last.a ? view(ws.params, last.a) : undefined,
    ws.targets, r0, r1, last.units, 1 / B, ws.rowLoss, ws.rowCorrect, ws.rowLse,
  );
  if (ws.output.rule === 'backprop' && ws.preluDa[L - 1]) {
    // An mse output through prelu: keep dA for the slope gradient. y − t scaled is dA.
    recoverOutputDa(ws, r0, r1, B);
  }
  for (let l = L - 1; l >= 1; l--) {
    const s = ws.layout.layers[l]!;
    const below = ws.spec.layers[l - 1]!;
    const sb = ws.layout.layers[l - 1]!;
    const dA = rows(ws.delta[l - 1]!, r0, r1, sb.units);
    const dout = rows(ws.delta[l]!, r0, r1, s.units);
    if (below.activation === 'relu') {
      // ReLU's derivative applied in the kernel's epilogue: dA comes out as dZ.
      kernel.linearBackwardInput(dA, dout, view(ws.params, s.w), m, s.inputs, s.units, rows(ws.z[l - 1]!, r0, r1, sb.units));
      continue;
    }
    kernel.linearBackwardInput(dA, dout, view(ws.params, s.w), m, s.inputs, s.units);
    const keep = ws.preluDa[l - 1];
    if (keep) rows(keep, r0, r1, sb.units).set(dA);
    activationBackward(
      below.activation, dA, dA, rows(ws.z[l - 1]!, r0, r1, sb.units), rows(ws.a[l - 1]!, r0, r1, sb.units),
      m, sb.units, layerAlpha(below), sb.a ? view(ws.params, sb.a) : undefined,
    );
  }
}

function recoverOutputDa<F extends FloatArray>(ws: Workspace<F>, r0: number, r1: number, B: number): void {
  const L = ws.spec.layers.length;
  const units = ws.layout.layers[L - 1]!.units;
  const keep = ws.preluDa[L - 1]!;
  const y = ws.a[L - 1]!;
  const t = ws.targets;
  for (let r = r0; r < r1; r++)
    for (let j = 0; j < units; j++) {
      const i = r * units + j;
      keep[i] = (y[i]! - targetValue(t, ws.output.coding, r, j, units)) / B;
    }
}

/**
 * Gradients of layer l's parameters for units [j0, j1), summed over rows 0..B-1 in
 * order: dW rows, db, and prelu slopes. Needs phase 1 done for every row.
 */
export function paramGradsUnits<F extends FloatArray>(ws: Workspace<F>, kernel: Kernel<F>, B: number, l: number, j0: number, j1: number): void {
  const s = ws.layout.layers[l]!;
  const x = l === 0 ? ws.input : ws.a[l - 1]!;
  kernel.linearBackwardWeights(view(ws.grads, s.w), view(ws.grads, s.b), ws.delta[l]!, x, B, s.inputs, s.units, j0, j1);
  if (s.a) {
    const dslope = view(ws.grads, s.a);
    const da = ws.preluDa[l]!;
    const z = ws.z[l]!;
    for (let j = j0; j < j1; j++) {
      let acc = 0;
      for (let r = 0; r < B; r++) {
        const v = z[r * s.units + j]!;
        if (v < 0) acc += da[r * s.units + j]! * v;
      }
      dslope[j] = acc;
    }
  }
}

/** Σ of squared gradients over layer l's units [j0, j1), in a fixed order. */
export function gradSumSqUnits(ws: Workspace<FloatArray>, l: number, j0: number, j1: number): number {
  const s = ws.layout.layers[l]!;
  let sum = 0;
  const g = ws.grads;
  for (let i = s.w.offset + j0 * s.inputs, end = s.w.offset + j1 * s.inputs; i < end; i++) sum += g[i]! * g[i]!;
  for (let j = j0; j < j1; j++) sum += g[s.b.offset + j]! ** 2;
  if (s.a) for (let j = j0; j < j1; j++) sum += g[s.a.offset + j]! ** 2;
  return sum;
}

/** Parameter index ranges [lo, hi) that belong to layer l's units [j0, j1). */
export function unitParamRanges(layout: ParamLayout, l: number, j0: number, j1: number): [number, number][] {
  const s = layout.layers[l]!;
  const ranges: [number, number][] = [
    [s.w.offset + j0 * s.inputs, s.w.offset + j1 * s.inputs],
    [s.b.offset + j0, s.b.offset + j1],
  ];
  if (s.a) ranges.push([s.a.offset + j0, s.a.offset + j1]);
  return ranges;
}

/** Refresh Wᵀ for layer l's units [j0, j1) after their weights changed. */
export function refreshTransposed<F extends FloatArray>(ws: Workspace<F>, kernel: Kernel<F>, l: number, j0: number, j1: number): void {
  const s = ws.layout.layers[l]!;
  kernel.transposeUnits(view(ws.paramsT, s.w), view(ws.params, s.w), s.inputs, s.units, j0, j1);
}

export function refreshAllTransposed<F extends FloatArray>(ws: Workspace<F>, kernel: Kernel<F>): void {
  ws.layout.layers.forEach((s, l) => refreshTransposed(ws, kernel, l, 0, s.units));
}
