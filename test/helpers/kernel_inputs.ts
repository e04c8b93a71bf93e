// Inputs for the kernel tests: uniform fills, and forward operands whose products hit
// the IEEE special cases (0, NaN, ±∞, ± denormals) that the ReLU epilogues must treat
// exactly as the TypeScript expression does.

import { expect } from 'vitest';
import type { Rng } from '../../src/rng.ts';

/** Uniform in [−1, 1). */
export function fill(a: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

/**
 * Fill forward inputs so that z = x·wt + b holds 0, NaN, ±∞ and ± denormals at scattered
 * (row, column) places: a "special" row of x is zero but for x[i, 0] = s, a special column
 * has wt[0, j] = t and b[j] = 0, so there z = +0 + s·t + Σ ±0 = s·t exactly (0·∞ = NaN,
 * 2⁻¹⁰⁰·2⁻⁴⁰ = 2⁻¹⁴⁰ is denormal). z is never −0: every sum starts at +0 and +0 + −0 = +0.
 */
export function fillSpecialForward(x: Float32Array, wt: Float32Array, b: Float32Array, B: number, IN: number, OUT: number, rng: Rng): void {
  const S = [1, -1, 2 ** -100, -(2 ** -100), 0, NaN, Infinity];
  const T = [0, -0, NaN, Infinity, -Infinity, 2 ** -40, -(2 ** -40), 2 ** -49, 1, -1, 2 ** -126];
  fill(x, rng);
  fill(wt, rng);
  for (let j = 0; j < OUT; j++) b[j] = rng.uniform() - 0.5;
  for (let i = 0; i < B; i++) {
    if (rng.uniform() < 0.6) {
      x.fill(0, i * IN, (i + 1) * IN);
      x[i * IN] = S[rng.int(S.length)]!;
    }
  }
  for (let j = 0; j < OUT; j++) {
    if (rng.uniform() < 0.7) {
      wt[j] = T[rng.int(T.length)]!;
      b[j] = 0;
    }
  }
}

/** z has every special the forward tests are about, and no −0. */
export function expectSpecials(z: Float32Array): void {
  const has = (p: (v: number) => boolean) => z.some(p);
  expect(has((v) => Object.is(v, 0)) && has(Number.isNaN) && has((v) => v === Infinity) && has((v) => v === -Infinity)).toBe(true);
  expect(has((v) => v > 0 && v < 2 ** -126) && has((v) => v < 0 && v > -(2 ** -126))).toBe(true);
  expect(has((v) => Object.is(v, -0))).toBe(false);
}
