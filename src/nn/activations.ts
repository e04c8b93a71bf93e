// Element-wise activations and their derivatives, over rows of a (rows, units) block.
// Each value is computed in float64 and stored once, so a Float32Array result is the
// same whichever thread computes which rows. step and sign have zero derivative almost
// everywhere: backprop cannot train them (use the perceptron rule), and the backward
// pass says so by passing zero gradient rather than pretending.
//
// softmax is row-wise; its backward here is the full Jacobian-vector product, used when
// softmax feeds a loss other than cross-entropy (with cross-entropy the loss is fused).

import type { FloatArray } from '../kernels/kernel.ts';
import type { ActivationName } from '../model/spec.ts';

/**
 * a = f(z) for `rows` rows of `units` values. `slopes` holds the per-unit prelu
 * slopes; `alpha` is the leaky_relu slope or the elu scale.
 */
export function activationForward(
  act: ActivationName, a: FloatArray, z: FloatArray, rows: number, units: number,
  alpha: number, slopes: FloatArray | undefined,
): void {
  const n = rows * units;
  switch (act) {
    case 'identity':
      if (a !== z) for (let i = 0; i < n; i++) a[i] = z[i]!;
      return;
    case 'step':
      for (let i = 0; i < n; i++) a[i] = z[i]! >= 0 ? 1 : 0;
      return;
    case 'sign':
      for (let i = 0; i < n; i++) a[i] = z[i]! >= 0 ? 1 : -1;
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) a[i] = sigmoid(z[i]!);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) a[i] = Math.tanh(z[i]!);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) a[i] = z[i]! > 0 ? z[i]! : 0;
      return;
    case 'leaky_relu':
      for (let i = 0; i < n; i++) a[i] = z[i]! > 0 ? z[i]! : alpha * z[i]!;
      return;
    case 'prelu':
      for (let r = 0, i = 0; r < rows; r++)
        for (let j = 0; j < units; j++, i++) a[i] = z[i]! > 0 ? z[i]! : slopes![j]! * z[i]!;
      return;
    case 'elu':
      for (let i = 0; i < n; i++) a[i] = z[i]! > 0 ? z[i]! : alpha * Math.expm1(z[i]!);
      return;
    case 'softmax':
      for (let r = 0; r < rows; r++) softmaxRow(a, z, r * units, units);
      return;
  }
}

/**
 * dz = da ⊙ f'(z), row block. `dz` may alias `da` (the engine converts in place).
 * `a` is the forward output (cheaper derivatives for sigmoid, tanh, elu, softmax).
 */
export function activationBackward(
  act: ActivationName, dz: FloatArray, da: FloatArray, z: FloatArray, a: FloatArray,
  rows: number, units: number, alpha: number, slopes: FloatArray | undefined,
): void {
  const n = rows * units;
  switch (act) {
    case 'identity':
      if (dz !== da) for (let i = 0; i < n; i++) dz[i] = da[i]!;
      return;
    case 'step':
    case 'sign':
      for (let i = 0; i < n; i++) dz[i] = 0;
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) dz[i] = da[i]! * a[i]! * (1 - a[i]!);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) dz[i] = da[i]! * (1 - a[i]! * a[i]!);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) dz[i] = z[i]! > 0 ? da[i]! : 0;
      return;
    case 'leaky_relu':
      for (let i = 0; i < n; i++) dz[i] = z[i]! > 0 ? da[i]! : alpha * da[i]!;
      return;
    case 'prelu':
      for (let r = 0, i = 0; r < rows; r++)
        for (let j = 0; j < units; j++, i++) dz[i] = z[i]! > 0 ? da[i]! : slopes![j]! * da[i]!;
      return;
    case 'elu':
      // f'(z) = f(z) + alpha for z ≤ 0
      for (let i = 0; i < n; i++) dz[i] = z[i]! > 0 ? da[i]! : da[i]! * (a[i]! + alpha);
      return;
    case 'softmax':
      for (let r = 0; r < rows; r++) {
        const o = r * units;
        let dot = 0;
        for (let j = 0; j < units; j++) dot += da[o + j]! * a[o + j]!;
        for (let j = 0; j < units; j++) dz[o + j] = a[o + j]! * (da[o + j]! - dot);
      }
      return;
  }
}

export function sigmoid(x: number): number {
  // Two branches keep exp() from overflowing for large |x|.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** float64 exponentials of one softmax row, kept between the sum and the division (one Math.exp per value). */
let expScratch = new Float64Array(64);

/**
 * Stable softmax of one row (subtract the max; logits of ±1e4 stay finite). Returns the
 * row's logsumexp, max + log Σ exp(z − max) — the cross-entropy loss's exact lse, from the
 * same sum — or NaN when a logit is not finite (the loss must then take its general path).
 */
export function softmaxRow(out: FloatArray, z: FloatArray, offset: number, units: number): number {
  if (expScratch.length < units) expScratch = new Float64Array(units);
  const e = expScratch;
  let max = -Infinity;
  let finite = true;
  for (let j = 0; j < units; j++) {
    const v = z[offset + j]!;
    if (v > max) max = v;
    if (v - v !== 0) finite = false;
  }
  let sum = 0;
  for (let j = 0; j < units; j++) {
    const v = Math.exp(z[offset + j]! - max);
    e[j] = v;
    sum += v;
  }
  for (let j = 0; j < units; j++) out[offset + j] = e[j]! / sum;
  return finite ? max + Math.log(sum) : NaN;
}
