// kernels.test.ts — the float64 oracle (naive.ts) and the plain TypeScript float32 kernel
// (blocked.ts): hand-worked literal cases for every op, cases where only the contract's
// rounding order gives the expected number, and the js kernel against the oracle on seeded
// random data across awkward shapes, on plain and on SharedArrayBuffer-backed arrays; the
// fused ReLU epilogues against the unfused op followed by `z > 0 ? v : 0`, bit for bit,
// with masks holding 0, −0, NaN, ±∞ and denormals.
// The wasm kernel and its bit-equality with this one are in kernels_wasm.test.ts.

import { describe, expect, it } from 'vitest';
import { jsKernel } from '../src/kernels/blocked.ts';
import type { FloatArray, Kernel } from '../src/kernels/kernel.ts';
import { naiveKernel } from '../src/kernels/naive.ts';
import { createRng, type Rng } from '../src/rng.ts';
import { expectSpecials, fill, fillSpecialForward } from './helpers/kernel_inputs.ts';

// The 2×3 example, worked by hand: x is (B=2, IN=3), w is (OUT=2, IN=3), b is (OUT).
const X = [1, 2, 3, 4, 5, 6];
const W = [1, 0, -1, 2, 1, 0.5];
const WT = [1, 2, 0, 1, -1, 0.5];
const BIAS = [0.5, -1];
const DOUT = [1, -2, 0.5, 3];
const OUT_EXPECTED = [-1.5, 4.5, -1.5, 15]; // e.g. out[1,1] = 4·2 + 5·1 + 6·0.5 − 1
const DW_EXPECTED = [3, 4.5, 6, 10, 11, 12]; // dw[1,:] = −2·[1,2,3] + 3·[4,5,6]
const DB_EXPECTED = [1.5, 1];
const DX_EXPECTED = [-3, -2, -2, 6.5, 3, 1]; // dx[0,:] = 1·[1,0,−1] − 2·[2,1,0.5]

type Make<F extends FloatArray> = (values: number[] | number) => F;
const kernels: [string, Kernel<FloatArray>, Make<FloatArray>][] = [
  ['naive on Float64Array', naiveKernel, (v) => (typeof v === 'number' ? new Float64Array(v) : Float64Array.from(v))],
  ['naive on Float32Array', naiveKernel, (v) => (typeof v === 'number' ? new Float32Array(v) : Float32Array.from(v))],
  ['js', jsKernel as Kernel<FloatArray>, (v) => (typeof v === 'number' ? new Float32Array(v) : Float32Array.from(v))],
];

describe.each(kernels)('%s: the hand-worked 2×3 layer', (_name, k, make) => {
  it('forward: out = x·wᵀ + b', () => {
    const out = make(4);
    k.linearForward(out, make(X), make(WT), make(BIAS), 2, 3, 2);
    expect(Array.from(out)).toEqual(OUT_EXPECTED);
  });

  it('weights: dw = doutᵀ·x and db = column sums of dout', () => {
    const dw = make(6), db = make(2);
    k.linearBackwardWeights(dw, db, make(DOUT), make(X), 2, 3, 2, 0, 2);
    expect(Array.from(dw)).toEqual(DW_EXPECTED);
    expect(Array.from(db)).toEqual(DB_EXPECTED);
  });

  it('weights for units [1, 2) only: row 0 of dw and db[0] are left alone', () => {
    const dw = make([9, 9, 9, 9, 9, 9]), db = make([9, 9]);
    k.linearBackwardWeights(dw, db, make(DOUT), make(X), 2, 3, 2, 1, 2);
    expect(Array.from(dw)).toEqual([9, 9, 9, 10, 11, 12]);
    expect(Array.from(db)).toEqual([9, 1]);
  });

  it('input: dx = dout·w', () => {
    const dx = make(6);
    k.linearBackwardInput(dx, make(DOUT), make(W), 2, 3, 2);
    expect(Array.from(dx)).toEqual(DX_EXPECTED);
  });

  it('transpose: wt[k, j] = w[j, k], only for the units asked', () => {
    const wt = make(6);
    k.transposeUnits(wt, make(W), 3, 2, 0, 2);
    expect(Array.from(wt)).toEqual(WT);
    const half = make([7, 7, 7, 7, 7, 7]);
    k.transposeUnits(half, make(W), 3, 2, 1, 2);
    expect(Array.from(half)).toEqual([7, 2, 7, 1, 7, 0.5]);
  });
});

// Cases whose float32 answer differs from the exact one, so they pin the contract's order:
// one sequential float32 sum from +0, each product rounded before it is added.
describe('the js kernel follows the float32 contract, not exact arithmetic', () => {
  it('sums in order, rounding each step: 1e8 + 1 − 1e8 is 0 in float32 (the oracle says 1)', () => {
    // x rows are [1e8, 1, −1e8], wt is all ones: every output is that sum plus the bias.
    const B = 5, IN = 3, OUT = 9;
    const x = new Float32Array(B * IN).map((_, i) => [1e8, 1, -1e8][i % 3]!);
    const wt = new Float32Array(IN * OUT).fill(1), b = new Float32Array(OUT).fill(0.25);
    const out = new Float32Array(B * OUT), exact = new Float64Array(B * OUT);
    jsKernel.linearForward(out, x, wt, b, B, IN, OUT);
    naiveKernel.linearForward(exact, x, wt, b, B, IN, OUT);
    expect(Array.from(out)).toEqual(new Array(B * OUT).fill(0.25));
    expect(Array.from(exact)).toEqual(new Array(B * OUT).fill(1.25));

    // The same sum down the batch (dW, db) and across the units (dX).
    const dout = new Float32Array(3 * 6).map((_, i) => [1e8, 1, -1e8][Math.floor(i / 6)]!);
    const dw = new Float32Array(6 * 9), db = new Float32Array(6);
    jsKernel.linearBackwardWeights(dw, db, dout, new Float32Array(3 * 9).fill(1), 3, 9, 6, 0, 6);
    expect(Array.from(dw)).toEqual(new Array(54).fill(0));
    expect(Array.from(db)).toEqual(new Array(6).fill(0));
    const dx = new Float32Array(B * 9);
    jsKernel.linearBackwardInput(dx, x, new Float32Array(3 * 9).fill(1), B, 9, 3);
    expect(Array.from(dx)).toEqual(new Array(B * 9).fill(0));
  });

  it('rounds each product before adding it (no fused multiply-add)', () => {
    // (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ rounds (a tie, to even) to 1 + 2⁻¹¹, which then
    // cancels exactly; a fused multiply-add would keep the 2⁻²⁴.
    const e = 1 + 2 ** -12;
    const out = new Float32Array(1);
    jsKernel.linearForward(out, Float32Array.of(1, e), Float32Array.of(-(1 + 2 ** -11), e), Float32Array.of(0), 1, 2, 1);
    expect(out[0]).toBe(0);
    expect(Math.fround(e * e)).toBe(1 + 2 ** -11);
    const exact = new Float64Array(1);
    naiveKernel.linearForward(exact, Float32Array.of(1, e), Float32Array.of(-(1 + 2 ** -11), e), Float32Array.of(0), 1, 2, 1);
    expect(exact[0]).toBe(2 ** -24);
  });

  it('starts each sum from +0: a lone −0 product gives +0, not −0', () => {
    const dx = new Float32Array(1);
    jsKernel.linearBackwardInput(dx, Float32Array.of(-1), Float32Array.of(0), 1, 1, 1);
    expect(Object.is(dx[0], 0)).toBe(true); // +0 + (−1·0) = +0 + −0 = +0
  });
});

// ---- seeded random shapes against the float64 oracle ----

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [7, 13, 5], [3, 1, 9], [1, 17, 1], [2, 3, 4], [5, 9, 10], [4, 4, 4], [65, 49, 97], [33, 70, 31],
];


/**
 * Rigorous float32 error bound per element: n rounded products summed in order are within
 * γ(n)·Σ|a·b| of the exact dot product, γ(n) = n·u/(1 − n·u), u = 2⁻²⁴ (Higham, Accuracy and
 * Stability of Numerical Algorithms, §3.1). n counts the bias as a term; γ(n+1) leaves room
 * for the oracle's own float64 rounding, a billionth of that.
 */
function expectWithinBound(got: Float32Array, exact: Float64Array, absSum: Float64Array, n: number): void {
  const u = 2 ** -24, gamma = ((n + 1) * u) / (1 - (n + 1) * u);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i]! - exact[i]!), bound = gamma * absSum[i]! * 1.000001 + Number.MIN_VALUE;
    worst = Math.max(worst, err / bound);
  }
  expect(worst).toBeLessThanOrEqual(1);
}

const abs = (a: Float32Array): Float64Array => Float64Array.from(a, Math.abs);

function sharedF32(n: number): Float32Array {
  // Offset by one float so views are not 16-byte aligned either.
  return new Float32Array(new SharedArrayBuffer(4 * n + 4), 4, n);
}

/** The js kernel runs on both kinds of array (it stages either through its private heap). */
const ALLOCATORS = [
  ['plain Float32Array', (n: number) => new Float32Array(n)],
  ['SharedArrayBuffer-backed Float32Array', sharedF32],
] as const;

describe.each(ALLOCATORS)('js kernel vs the float64 oracle on %s', (_name, alloc) => {
  const seeded = (n: number, rng: Rng) => fill(alloc(n), rng);

  it.each(SHAPES)('B=%i IN=%i OUT=%i: all four ops', (B, IN, OUT) => {
    const rng = createRng(B * 10007 + IN * 101 + OUT);
    const x = seeded(B * IN, rng), wt = seeded(IN * OUT, rng), w = seeded(OUT * IN, rng);
    const b = seeded(OUT, rng), dout = seeded(B * OUT, rng);

    const out = alloc(B * OUT), exact = new Float64Array(B * OUT), bound = new Float64Array(B * OUT);
    jsKernel.linearForward(out, x, wt, b, B, IN, OUT);
    naiveKernel.linearForward(exact, x, wt, b, B, IN, OUT);
    naiveKernel.linearForward(bound, abs(x), abs(wt), abs(b), B, IN, OUT);
    expectWithinBound(out, exact, bound, IN + 1);

    // A unit range that leaves rows on both sides when it can; those rows must stay put.
    const j0 = OUT > 2 ? 1 : 0, j1 = OUT > 2 ? OUT - 1 : OUT;
    const dw = alloc(OUT * IN).fill(-7.5), db = alloc(OUT).fill(-7.5);
    const dwExact = new Float64Array(OUT * IN), dbExact = new Float64Array(OUT);
    const dwBound = new Float64Array(OUT * IN), dbBound = new Float64Array(OUT);
    jsKernel.linearBackwardWeights(dw, db, dout, x, B, IN, OUT, j0, j1);
    naiveKernel.linearBackwardWeights(dwExact, dbExact, dout, x, B, IN, OUT, j0, j1);
    naiveKernel.linearBackwardWeights(dwBound, dbBound, abs(dout), abs(x), B, IN, OUT, j0, j1);
    expectWithinBound(dw.subarray(j0 * IN, j1 * IN), dwExact.subarray(j0 * IN, j1 * IN), dwBound.subarray(j0 * IN, j1 * IN), B);
    expectWithinBound(db.subarray(j0, j1), dbExact.subarray(j0, j1), dbBound.subarray(j0, j1), B);
    expect(Array.from(dw.subarray(0, j0 * IN)).every((v) => v === -7.5)).toBe(true);
    expect(Array.from(dw.subarray(j1 * IN)).every((v) => v === -7.5)).toBe(true);
    expect(Array.from(db.subarray(0, j0)).concat(Array.from(db.subarray(j1))).every((v) => v === -7.5)).toBe(true);

    const dx = alloc(B * IN), dxExact = new Float64Array(B * IN), dxBound = new Float64Array(B * IN);
    jsKernel.linearBackwardInput(dx, dout, w, B, IN, OUT);
    naiveKernel.linearBackwardInput(dxExact, dout, w, B, IN, OUT);
    naiveKernel.linearBackwardInput(dxBound, abs(dout), abs(w), B, IN, OUT);
    expectWithinBound(dx, dxExact, dxBound, OUT);

    const t = alloc(IN * OUT).fill(3), tExact = new Float32Array(IN * OUT).fill(3);
    jsKernel.transposeUnits(t, w, IN, OUT, j0, j1);
    naiveKernel.transposeUnits(tExact, w, IN, OUT, j0, j1);
    expect(new Uint32Array(t.slice().buffer)).toEqual(new Uint32Array(tExact.buffer));
  });
});

// ---- the fused ReLU epilogues: bit for bit the unfused op followed by `z > 0 ? v : 0` ----

/** Mask values that a max(z, 0) or a sloppy comparison would get wrong, and denormals. */
const MASK_SPECIALS = [0, -0, NaN, 2 ** -149, -(2 ** -149), 2 ** -130, -(2 ** -130), Infinity, -Infinity, 2 ** -126];

/**
 * z for a mask: about half the elements (placed at random, so every row, column and tile
 * position meets them on the larger shapes) drawn from MASK_SPECIALS, the rest ±random.
 */
function maskZ<F extends FloatArray>(a: F, rng: Rng): F {
  for (let i = 0; i < a.length; i++) {
    a[i] = rng.uniform() < 0.5 ? MASK_SPECIALS[rng.int(MASK_SPECIALS.length)]! : rng.uniform() * 2 - 1;
  }
  return a;
}

/** `z > 0 ? v : 0` element-wise into a fresh array of a's type: the unfused reference. */
function reluRef<F extends FloatArray>(v: F, z: F): F {
  const r = v.slice() as F;
  for (let i = 0; i < r.length; i++) r[i] = z[i]! > 0 ? v[i]! : 0;
  return r;
}

/** Bit patterns, for comparisons that tell −0 from +0 (Float64Array: 64-bit words). */
function wordsOf(a: FloatArray): BigUint64Array | Uint32Array {
  const c = a.slice();
  return c instanceof Float64Array ? new BigUint64Array(c.buffer) : new Uint32Array(c.buffer);
}

/** Bits, with every NaN made the canonical one (kernels may leave any NaN payload or sign). */
function canonicalBits(a: Float32Array): Uint32Array {
  const u = new Uint32Array(a.slice().buffer);
  for (let i = 0; i < u.length; i++) if (Number.isNaN(a[i])) u[i] = 0x7fc00000;
  return u;
}

describe.each(kernels)('%s: fused ReLU on the hand-worked 2×3 layer', (_name, k, make) => {
  it('forward with reluOut: out keeps z, reluOut = relu(z)', () => {
    const out = make(4), relu = make([9, 9, 9, 9]);
    k.linearForward(out, make(X), make(WT), make(BIAS), 2, 3, 2, relu);
    expect(Array.from(out)).toEqual(OUT_EXPECTED); // [−1.5, 4.5, −1.5, 15]
    expect(Array.from(relu)).toEqual([0, 4.5, 0, 15]);
    expect(Object.is(relu[0], 0)).toBe(true);
  });

  it('forward with reluOut = out: out ends as relu(z)', () => {
    const out = make(4);
    k.linearForward(out, make(X), make(WT), make(BIAS), 2, 3, 2, out);
    expect(Array.from(out)).toEqual([0, 4.5, 0, 15]);
  });

  it('input with reluMaskZ: dx = z > 0 ? dout·w : +0 (0, −0 and NaN masked, a denormal passes)', () => {
    const dx = make(6);
    k.linearBackwardInput(dx, make(DOUT), make(W), 2, 3, 2, make([1, -1, 0, NaN, 2 ** -149, -0]));
    expect(Array.from(dx)).toEqual([-3, 0, 0, 0, 3, 0]); // DX_EXPECTED = [−3, −2, −2, 6.5, 3, 1]
    expect(Array.from(dx).every((v) => !Object.is(v, -0))).toBe(true);
  });
});

describe.each(ALLOCATORS)('fused ReLU = unfused op then `z > 0 ? v : 0`, bit for bit, on %s', (_name, alloc) => {
  const seeded = (n: number, rng: Rng) => fill(alloc(n), rng);

  it.each(SHAPES)('B=%i IN=%i OUT=%i: js and the oracle', (B, IN, OUT) => {
    const rng = createRng(B * 7907 + IN * 89 + OUT * 3 + 1);
    const x = seeded(B * IN, rng), wt = seeded(IN * OUT, rng), w = seeded(OUT * IN, rng);
    const b = seeded(OUT, rng), dout = seeded(B * OUT, rng), z = maskZ(alloc(B * IN), rng);

    for (const [k, mk] of [
      [jsKernel, alloc], [naiveKernel, (n: number) => new Float64Array(n)], [naiveKernel, alloc],
    ] as [Kernel<FloatArray>, (n: number) => FloatArray][]) {
      // forward: out identical to the unfused call, reluOut = relu(out)
      const zPlain = mk(B * OUT), zFused = mk(B * OUT), relu = mk(B * OUT).fill(-7.5);
      k.linearForward(zPlain, x, wt, b, B, IN, OUT);
      k.linearForward(zFused, x, wt, b, B, IN, OUT, relu);
      expect(wordsOf(zFused)).toEqual(wordsOf(zPlain));
      expect(wordsOf(relu)).toEqual(wordsOf(reluRef(zPlain, zPlain)));

      // dX: the unfused dX, masked by z > 0
      const dxPlain = mk(B * IN), dxFused = mk(B * IN).fill(-7.5);
      const zk = z instanceof Float32Array && mk(0) instanceof Float64Array ? Float64Array.from(z) : z;
      k.linearBackwardInput(dxPlain, dout, w, B, IN, OUT);
      k.linearBackwardInput(dxFused, dout, w, B, IN, OUT, zk);
      expect(wordsOf(dxFused)).toEqual(wordsOf(reluRef(dxPlain, zk)));
    }
  });
});


describe('fused ReLU forward on z = 0, NaN, ±∞ and ± denormals (js)', () => {
  it.each([...SHAPES, [6, 5, 23], [12, 7, 22], [24, 6, 40], [41, 3, 3], [37, 4, 1]])('B=%i IN=%i OUT=%i', (B, IN, OUT) => {
    const x = new Float32Array(B * IN), wt = new Float32Array(IN * OUT), b = new Float32Array(OUT);
    fillSpecialForward(x, wt, b, B, IN, OUT, createRng(B * 31 + IN * 17 + OUT));
    const zPlain = new Float32Array(B * OUT), zFused = new Float32Array(B * OUT), relu = new Float32Array(B * OUT).fill(-7.5);
    jsKernel.linearForward(zPlain, x, wt, b, B, IN, OUT);
    jsKernel.linearForward(zFused, x, wt, b, B, IN, OUT, relu);
    if (B * OUT >= 900) expectSpecials(zPlain);
    expect(canonicalBits(zFused)).toEqual(canonicalBits(zPlain));
    expect(wordsOf(relu)).toEqual(wordsOf(reluRef(zPlain, zPlain)));
  });
});

describe('naive oracle in float64', () => {
  it('keeps float64 precision on Float64Array (no rounding to float32 anywhere)', () => {
    const x = Float64Array.of(1, 2 ** -40), wt = Float64Array.of(1, 1), out = new Float64Array(1);
    naiveKernel.linearForward(out, x, wt, Float64Array.of(0), 1, 2, 1);
    expect(out[0]).toBe(1 + 2 ** -40);
  });
});
