// Losses on the output layer, per row, and the gradient they send back into the
// output pre-activations z. Conventions (also in the README):
//   mse            ½·Σ_j (t_j − y_j)² per sample, averaged over the batch
//   bce            −Σ_j [t·log p + (1−t)·log(1−p)] on a sigmoid output, from the logits (stable)
//   cross_entropy  −log softmax(z)_c, as logsumexp(z) − z_c (stable for logits of ±1e4)
// The batch mean is taken by scaling every row's gradient by 1/B, so a row's numbers
// do not depend on which thread computes it.
//
// Training rules for single-layer nets reuse the same path with another error signal:
//   perceptron  dz = (y − t)/B with y the step/sign output: the update is w += η(t − y)x
//   adaline     dz = (z − t)/B on the linear output z (LMS / Widrow–Hoff)

import type { FloatArray } from '../kernels/kernel.ts';
import type { ActivationName, LossName } from '../model/spec.ts';
import { activationBackward } from './activations.ts';

export type TrainingRule = 'backprop' | 'perceptron' | 'adaline';

/** Targets for a block of rows: class ids, or float vectors of the output width. */
export type Targets =
  | { readonly kind: 'class'; readonly labels: Int32Array }
  | { readonly kind: 'vector'; readonly values: Float32Array | Float64Array };

/** How class ids become output targets for a given output activation. */
export interface TargetCoding {
  /** Value of an "off" unit: −1 for tanh and sign outputs, 0 otherwise. */
  readonly low: number;
  /** Threshold between the two values for single-unit outputs. */
  readonly threshold: number;
}

export function targetCoding(outputActivation: ActivationName): TargetCoding {
  const low = outputActivation === 'tanh' || outputActivation === 'sign' ? -1 : 0;
  return { low, threshold: (low + 1) / 2 };
}

/** Target value of output unit j for row r. */
export function targetValue(targets: Targets, coding: TargetCoding, r: number, j: number, units: number): number {
  if (targets.kind === 'vector') return targets.values[r * units + j]!;
  const c = targets.labels[r]!;
  if (units === 1) return c === 1 ? 1 : coding.low;
  return c === j ? 1 : coding.low;
}

/** Whether row r's output is the right class (false for regression). */
export function isCorrect(y: FloatArray, targets: Targets, coding: TargetCoding, r: number, units: number): boolean {
  if (targets.kind === 'vector') return false;
  const o = r * units;
  const c = targets.labels[r]!;
  if (units === 1) return (y[o]! >= coding.threshold ? 1 : 0) === (c === 1 ? 1 : 0);
  let best = 0;
  for (let j = 1; j < units; j++) if (y[o + j]! > y[o + best]!) best = j;
  return best === c;
}

/** The per-sample loss of row r, from the output pre-activations z and outputs y. */
export function rowLoss(loss: LossName, z: FloatArray, y: FloatArray, targets: Targets, coding: TargetCoding, r: number, units: number): number {
  const o = r * units;
  let sum = 0;
  switch (loss) {
    case 'mse':
      for (let j = 0; j < units; j++) {
        const d = targetValue(targets, coding, r, j, units) - y[o + j]!;
        sum += 0.5 * d * d;
      }
      return sum;
    case 'bce':
      for (let j = 0; j < units; j++) {
        const t = targetValue(targets, coding, r, j, units);
        const x = z[o + j]!;
        sum += Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
      }
      return sum;
    case 'cross_entropy': {
      let max = -Infinity;
      let finite = true;
      for (let j = 0; j < units; j++) {
        const v = z[o + j]!;
        if (v > max) max = v;
        if (v - v !== 0) finite = false;
      }
      let s = 0;
      for (let j = 0; j < units; j++) s += Math.exp(z[o + j]! - max);
      const lse = max + Math.log(s);
      if (targets.kind === 'class' && units > 1 && coding.low === 0 && finite) {
        // One-hot targets: every other term of the sum below is 0·(finite) = ±0, which leaves
        // the sum as it is, so this is the sum's exact value with one term instead of `units`.
        const c = targets.labels[r]!;
        if (c >= 0 && c < units) return 0 - (z[o + c]! - lse);
      }
      for (let j = 0; j < units; j++) sum -= targetValue(targets, coding, r, j, units) * (z[o + j]! - lse);
      return sum;
    }
  }
}

export interface OutputLayerInfo {
  readonly loss: LossName;
  readonly rule: TrainingRule;
  readonly activation: ActivationName;
  readonly alpha: number;
  readonly coding: TargetCoding;
}

/**
 * Loss and gradient for rows [r0, r1) of the output layer. Writes dz (the gradient of
 * the batch-mean loss with respect to z) for those rows, the per-row loss into
 * `losses[r]` and 1/0 into `correct[r]`. `scale` is 1/B for the whole batch.
 * dz may not alias z or y. `lse`, when given, holds each row's logsumexp from the softmax
 * forward pass (softmaxRow; NaN where not usable).
 */
export function outputLossAndGrad(
  info: OutputLayerInfo, dz: FloatArray, z: FloatArray, y: FloatArray, slopes: FloatArray | undefined,
  targets: Targets, r0: number, r1: number, units: number, scale: number,
  losses: Float64Array, correct: Uint8Array | Int32Array, lse?: Float64Array,
): void {
  // Class labels on softmax + cross-entropy: the loss is lse − z_c exactly (see rowLoss),
  // and the forward pass already summed the exponentials for lse.
  const fromLse = lse !== undefined && info.loss === 'cross_entropy' && targets.kind === 'class' && units > 1 && info.coding.low === 0;
  for (let r = r0; r < r1; r++) {
    const c = fromLse ? (targets as { labels: Int32Array }).labels[r]! : -1;
    const l = fromLse ? lse[r]! : NaN;
    losses[r] = Number.isFinite(l) && c >= 0 && c < units ? 0 - (z[r * units + c]! - l) : rowLoss(info.loss, z, y, targets, info.coding, r, units);
    correct[r] = isCorrect(y, targets, info.coding, r, units) ? 1 : 0;
  }
  const o0 = r0 * units;
  const o1 = r1 * units;
  const fused = info.rule === 'backprop' && (info.loss === 'bce' || info.loss === 'cross_entropy');
  if (info.rule === 'adaline' || info.rule === 'perceptron' || fused) {
    // Error signal straight on z: (p − t) for the fused losses, (y − t) for the
    // perceptron, (z − t) for adaline.
    const out = info.rule === 'adaline' ? z : y;
    if (targets.kind === 'class' && units > 1) {
      // targetValue's numbers, without a call per value: 1 for the row's class, `low` elsewhere.
      const low = info.coding.low;
      for (let r = r0; r < r1; r++) {
        const c = targets.labels[r]!;
        for (let j = 0, i = r * units; j < units; j++, i++) dz[i] = (out[i]! - (j === c ? 1 : low)) * scale;
      }
      return;
    }
    for (let r = r0; r < r1; r++)
      for (let j = 0; j < units; j++) {
        const i = r * units + j;
        dz[i] = (out[i]! - targetValue(targets, info.coding, r, j, units)) * scale;
      }
    return;
  }
  // mse through the activation's derivative: dy = (y − t)/B, then dz = dy ⊙ f'(z).
  for (let r = r0; r < r1; r++)
    for (let j = 0; j < units; j++) {
      const i = r * units + j;
      dz[i] = (y[i]! - targetValue(targets, info.coding, r, j, units)) * scale;
    }
  activationBackward(
    info.activation, dz.subarray(o0, o1), dz.subarray(o0, o1), z.subarray(o0, o1), y.subarray(o0, o1),
    r1 - r0, units, info.alpha, slopes,
  );
}
