// The class-label fast paths of the softmax + cross-entropy output (one Math.exp per value
// in softmax; the one-hot loss as its single non-zero term, from the forward pass's lse or
// its own; dz without a call per value) give exactly the bits of the general path, which
// one-hot *vector* targets still take.

import { describe, expect, it } from 'vitest';
import { activationForward, softmaxRow } from '../src/nn/activations.ts';
import { outputLossAndGrad, rowLoss, targetCoding, type OutputLayerInfo, type Targets } from '../src/nn/loss.ts';
import { createRng } from '../src/rng.ts';

const units = 26;
const rows = 40;
const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const bits64 = (a: Float64Array) => Array.from(new Uint32Array(a.buffer));

function logits(seed: number, scale: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: rows * units }, () => scale * (2 * rng.uniform() - 1));
}

function targetsFor(labels: Int32Array): { cls: Targets; oneHot: Targets } {
  const values = new Float32Array(rows * units);
  labels.forEach((c, r) => {
    if (c >= 0 && c < units) values[r * units + c] = 1;
  });
  return { cls: { kind: 'class', labels }, oneHot: { kind: 'vector', values } };
}

describe('softmax + cross-entropy fast paths', () => {
  it('softmax equals exp(z − max) / Σ exp(z − max) computed twice over, bit for bit', () => {
    for (const scale of [1, 30, 1e4]) {
      const z = logits(3, scale);
      const a = new Float32Array(z.length);
      activationForward('softmax', a, z, rows, units, 0, undefined);
      const ref = new Float32Array(z.length);
      for (let r = 0; r < rows; r++) {
        const o = r * units;
        let max = -Infinity;
        for (let j = 0; j < units; j++) max = Math.max(max, z[o + j]!);
        let sum = 0;
        for (let j = 0; j < units; j++) sum += Math.exp(z[o + j]! - max);
        for (let j = 0; j < units; j++) ref[o + j] = Math.exp(z[o + j]! - max) / sum;
      }
      expect(bits(a)).toEqual(bits(ref));
    }
  });

  it('class labels give the one-hot vector targets\' loss and dz, bit for bit, non-finite logits included', () => {
    const info: OutputLayerInfo = { loss: 'cross_entropy', rule: 'backprop', activation: 'softmax', alpha: 0, coding: targetCoding('softmax') };
    const rng = createRng(11);
    const labels = Int32Array.from({ length: rows }, () => Math.floor(rng.uniform() * units));
    const { cls, oneHot } = targetsFor(labels);
    for (const scale of [1, 50, 1e4]) {
      const z = logits(5 + scale, scale);
      // Rows with -Infinity and NaN logits: the general sum turns 0·(−∞) into NaN; so must the fast path.
      z[3 * units + ((labels[3]! + 1) % units)] = -Infinity;
      z[4 * units + 7] = NaN;
      const y = new Float32Array(z.length);
      activationForward('softmax', y, z, rows, units, 0, undefined);
      // The forward pass's lse per row, as the engine keeps it (NaN where a logit is not finite).
      const lse = Float64Array.from({ length: rows }, (_, r) => softmaxRow(new Float32Array(z.length), z, r * units, units));
      expect(Number.isNaN(lse[3]) && Number.isNaN(lse[4]) && Number.isFinite(lse[0])).toBe(true);
      const run = (t: Targets, withLse?: Float64Array) => {
        const dz = new Float32Array(z.length);
        const loss = new Float64Array(rows);
        const correct = new Uint8Array(rows);
        outputLossAndGrad(info, dz, z, y, undefined, t, 0, rows, units, 1 / rows, loss, correct, withLse);
        return { dz, loss, correct };
      };
      const fast = run(cls);
      const general = run(oneHot);
      const cached = run(cls, lse);
      expect(bits(fast.dz)).toEqual(bits(general.dz));
      expect(bits64(fast.loss)).toEqual(bits64(general.loss));
      expect(bits(cached.dz)).toEqual(bits(general.dz));
      expect(bits64(cached.loss)).toEqual(bits64(general.loss));
      expect(Array.from(cached.correct)).toEqual(Array.from(fast.correct));
      expect(Number.isNaN(fast.loss[3])).toBe(true);
      expect(Number.isNaN(fast.loss[4])).toBe(true);
      expect(Number.isFinite(fast.loss[0])).toBe(true);
      // And against the formula itself: logsumexp(z) − z_c.
      const o = 0;
      let max = -Infinity;
      for (let j = 0; j < units; j++) max = Math.max(max, z[o + j]!);
      let s = 0;
      for (let j = 0; j < units; j++) s += Math.exp(z[o + j]! - max);
      expect(rowLoss('cross_entropy', z, y, cls, info.coding, 0, units)).toBe(max + Math.log(s) - z[labels[0]!]!);
    }
  });
});
