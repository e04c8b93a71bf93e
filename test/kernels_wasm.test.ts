// kernels_wasm.test.ts — the WebAssembly SIMD128 kernel (matmul.wat via wasm.ts): its
// committed bytes against a fresh wabt build, hand-worked cases, bit-equality with the js
// kernel and closeness to the float64 oracle on seeded random shapes (unaligned views, unit
// sub-ranges, guards around every output), the fused ReLU epilogues (bit for bit the unfused
// op followed by `z > 0 ? v : 0`, and equal to js, with masks holding 0, −0, NaN, ±∞ and
// denormals), argument errors, kernel selection, and the kernel running in a worker thread
// on the same shared memory.

import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import wabtInit from 'wabt';
import { ConfigError } from '../src/errors.ts';
import { jsKernel } from '../src/kernels/blocked.ts';
import { buildMatmulWasm } from '../src/kernels/build_wasm.ts';
import { MATMUL_WASM_BASE64 } from '../src/kernels/matmul_wasm.generated.ts';
import { naiveKernel } from '../src/kernels/naive.ts';
import { createKernel, SIMD_PROBE_BYTES, SIMD_PROBE_WAT, simdSupported } from '../src/kernels/select.ts';
import { createWasmKernel, kernelScratchBytes, matmulModule, PACK_CHUNK_ROWS, PACK_MIN_INPUTS, PACK_MIN_ROWS, PACK_MIN_UNITS } from '../src/kernels/wasm.ts';
import { createRng, type Rng } from '../src/rng.ts';
import { expectSpecials, fill, fillSpecialForward } from './helpers/kernel_inputs.ts';

const GUARD = 4; // floats of sentinel before and after every array
const SENTINEL = 0x7fc0dead; // a NaN no kernel computes

/**
 * A bump allocator over one shared memory; `misalign` shifts views off 16-byte boundaries.
 * Sized up front and never grown, like the engine's memory.
 */
class Arena {
  readonly memory: WebAssembly.Memory;
  private next = 64; // bytes; address 0 stays unused
  private readonly guards: [number, number][] = [];

  constructor(pages = 16) {
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true });
  }

  alloc(n: number, misalign = 0): Float32Array {
    const start = this.next + 4 * GUARD + 4 * misalign;
    const end = start + 4 * n;
    this.next = (end + 4 * GUARD + 63) & ~63;
    if (this.next > this.memory.buffer.byteLength) throw new Error('test arena too small: give it more pages');
    const u = new Uint32Array(this.memory.buffer);
    u.fill(SENTINEL, start / 4 - GUARD, start / 4);
    u.fill(SENTINEL, end / 4, end / 4 + GUARD);
    this.guards.push([start / 4 - GUARD, end / 4]);
    return new Float32Array(this.memory.buffer, start, n);
  }

  from(values: ArrayLike<number>, misalign = 0): Float32Array {
    const a = this.alloc(values.length, misalign);
    a.set(values);
    return a;
  }

  /** Every guard word still holds the sentinel: no kernel wrote outside its arrays. */
  guardsIntact(): boolean {
    const u = new Uint32Array(this.memory.buffer);
    return this.guards.every(([lo, hi]) =>
      u.subarray(lo, lo + GUARD).every((v) => v === SENTINEL) && u.subarray(hi, hi + GUARD).every((v) => v === SENTINEL));
  }
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.slice().buffer);

/**
 * The same bits in `got` as in `want`: a plain loop, where toEqual on two 200k-element arrays
 * costs seconds; a difference is reported by its first index and both values.
 */
function expectSameBits(got: Float32Array, want: Float32Array): void {
  const a = bits(got), b = bits(want);
  expect(a.length).toBe(b.length);
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  expect(i === a.length ? 'same bits' : `first difference at ${i}: ${got[i]} vs ${want[i]}`).toBe('same bits');
}

describe('the committed wasm bytes', () => {
  it('equal a fresh wabt build of matmul.wat', async () => {
    const fresh = await buildMatmulWasm();
    expect(Buffer.from(fresh).toString('base64')).toBe(MATMUL_WASM_BASE64);
  });

  it('import only the shared memory and export the six entry points', () => {
    const m = matmulModule();
    expect(WebAssembly.Module.imports(m)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(m).map((e) => e.name).sort()).toEqual(['colsum', 'gemm', 'sgdUnitsT', 'transpose', 'update', 'updateUnits']);
  });

  it('the SIMD probe in select.ts is SIMD_PROBE_WAT compiled, and validates here', async () => {
    const wabt = await wabtInit();
    const mod = wabt.parseWat('probe.wat', SIMD_PROBE_WAT, { simd: true, threads: true });
    try {
      expect(Array.from(mod.toBinary({}).buffer)).toEqual(Array.from(SIMD_PROBE_BYTES));
    } finally {
      mod.destroy();
    }
    expect(simdSupported()).toBe(true); // Node 20: SIMD128 and shared memory need no flags
  });
});

describe('wasm kernel: the hand-worked 2×3 layer (as in kernels.test.ts)', () => {
  const arena = new Arena();
  const k = createWasmKernel(arena.memory);
  const X = [1, 2, 3, 4, 5, 6], W = [1, 0, -1, 2, 1, 0.5], WT = [1, 2, 0, 1, -1, 0.5], DOUT = [1, -2, 0.5, 3];

  it('forward, weights, input and transpose', () => {
    const out = arena.alloc(4);
    k.linearForward(out, arena.from(X), arena.from(WT), arena.from([0.5, -1]), 2, 3, 2);
    expect(Array.from(out)).toEqual([-1.5, 4.5, -1.5, 15]);

    const dw = arena.from([9, 9, 9, 9, 9, 9]), db = arena.from([9, 9]);
    k.linearBackwardWeights(dw, db, arena.from(DOUT), arena.from(X), 2, 3, 2, 1, 2);
    expect(Array.from(dw)).toEqual([9, 9, 9, 10, 11, 12]);
    expect(Array.from(db)).toEqual([9, 1]);
    k.linearBackwardWeights(dw, db, arena.from(DOUT), arena.from(X), 2, 3, 2, 0, 2);
    expect(Array.from(dw)).toEqual([3, 4.5, 6, 10, 11, 12]);
    expect(Array.from(db)).toEqual([1.5, 1]);

    const dx = arena.alloc(6);
    k.linearBackwardInput(dx, arena.from(DOUT), arena.from(W), 2, 3, 2);
    expect(Array.from(dx)).toEqual([-3, -2, -2, 6.5, 3, 1]);

    const wt = arena.from([7, 7, 7, 7, 7, 7]);
    k.transposeUnits(wt, arena.from(W), 3, 2, 1, 2);
    expect(Array.from(wt)).toEqual([7, 2, 7, 1, 7, 0.5]);
    k.transposeUnits(wt, arena.from(W), 3, 2, 0, 1);
    expect(Array.from(wt)).toEqual(WT);
    expect(arena.guardsIntact()).toBe(true);
  });

  it('sums in order from +0 with rounded products, in the SIMD tiles and the edges', () => {
    // 1e8 + 1 − 1e8 = 0 in float32. B = 5 and OUT = 9 cover a 4-row tile, a leftover row,
    // an 8-wide tile and the shifted 4-wide tile.
    const B = 5, IN = 3, OUT = 9;
    const x = arena.from(Array.from({ length: B * IN }, (_, i) => [1e8, 1, -1e8][i % 3]!));
    const out = arena.alloc(B * OUT);
    k.linearForward(out, x, arena.from(new Array(IN * OUT).fill(1)), arena.from(new Array(OUT).fill(0.25)), B, IN, OUT);
    expect(Array.from(out)).toEqual(new Array(B * OUT).fill(0.25));

    const dout = arena.from(Array.from({ length: 3 * 6 }, (_, i) => [1e8, 1, -1e8][Math.floor(i / 6)]!));
    const dw = arena.alloc(6 * 9), db = arena.alloc(6);
    k.linearBackwardWeights(dw, db, dout, arena.from(new Array(3 * 9).fill(1)), 3, 9, 6, 0, 6);
    expect(Array.from(dw)).toEqual(new Array(54).fill(0));
    expect(Array.from(db)).toEqual(new Array(6).fill(0));
    const dx = arena.alloc(B * 9);
    k.linearBackwardInput(dx, x, arena.from(new Array(3 * 9).fill(1)), B, 9, 3);
    expect(Array.from(dx)).toEqual(new Array(B * 9).fill(0));

    // (1 + 2⁻¹²)² rounds to 1 + 2⁻¹¹ before the add, so the sum cancels to exactly 0
    // (a fused multiply-add would leave 2⁻²⁴); 8 rows × 8 units puts it in the 4×8 tiles.
    const e = 1 + 2 ** -12;
    const xr = arena.from(Array.from({ length: 16 }, (_, i) => (i % 2 ? e : 1)));
    const wr = arena.from(Array.from({ length: 16 }, (_, i) => (i < 8 ? -(1 + 2 ** -11) : e)));
    const o = arena.alloc(64);
    k.linearForward(o, xr, wr, arena.from(new Array(8).fill(0)), 8, 2, 8);
    expect(Array.from(o)).toEqual(new Array(64).fill(0));

    // A lone −0 product: +0 + −0 = +0.
    const z = arena.alloc(1);
    k.linearBackwardInput(z, arena.from([-1]), arena.from([0]), 1, 1, 1);
    expect(Object.is(z[0], 0)).toBe(true);
    expect(arena.guardsIntact()).toBe(true);
  });

  it('fused ReLU: forward keeps z in out and writes relu(z); dX masked by z > 0 (0, −0, NaN masked, a denormal passes)', () => {
    const out = arena.alloc(4), relu = arena.from([9, 9, 9, 9]);
    k.linearForward(out, arena.from(X), arena.from(WT), arena.from([0.5, -1]), 2, 3, 2, relu);
    expect(Array.from(out)).toEqual([-1.5, 4.5, -1.5, 15]);
    expect(Array.from(relu)).toEqual([0, 4.5, 0, 15]);
    k.linearForward(out, arena.from(X), arena.from(WT), arena.from([0.5, -1]), 2, 3, 2, out);
    expect(Array.from(out)).toEqual([0, 4.5, 0, 15]);

    const dx = arena.alloc(6);
    k.linearBackwardInput(dx, arena.from(DOUT), arena.from(W), 2, 3, 2, arena.from([1, -1, 0, NaN, 2 ** -149, -0]));
    expect(Array.from(dx)).toEqual([-3, 0, 0, 0, 3, 0]);
    expect(Array.from(dx).every((v) => !Object.is(v, -0))).toBe(true);
    expect(arena.guardsIntact()).toBe(true);
  });
});

// ---- seeded random shapes: wasm = js to the bit, both close to the float64 oracle ----

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [7, 13, 5], [3, 1, 9], [1, 17, 1], [2, 3, 4], [5, 9, 10], [4, 4, 4], [4, 8, 8], [6, 5, 3],
  [9, 11, 12], [8, 3, 17], [65, 49, 97], [33, 70, 31], [128, 784, 256],
];


/** γ(n+1)·Σ|terms| per element, as in kernels.test.ts (Higham §3.1). */
function worstOverBound(got: Float32Array, exact: Float64Array, absSum: Float64Array, n: number): number {
  const u = 2 ** -24, gamma = ((n + 1) * u) / (1 - (n + 1) * u);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    worst = Math.max(worst, Math.abs(got[i]! - exact[i]!) / (gamma * absSum[i]! * 1.000001 + Number.MIN_VALUE));
  }
  return worst;
}

const abs = (a: Float32Array): Float64Array => Float64Array.from(a, Math.abs);

/** Mask values that a max(z, 0) or a sloppy comparison would get wrong, and denormals (as in kernels.test.ts). */
const MASK_SPECIALS = [0, -0, NaN, 2 ** -149, -(2 ** -149), 2 ** -130, -(2 ** -130), Infinity, -Infinity, 2 ** -126];

/**
 * z for a mask: about half the elements (placed at random, so every row, column and tile
 * position meets them on the larger shapes) drawn from MASK_SPECIALS, the rest ±random.
 */
function maskZ(a: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < a.length; i++) {
    a[i] = rng.uniform() < 0.5 ? MASK_SPECIALS[rng.int(MASK_SPECIALS.length)]! : rng.uniform() * 2 - 1;
  }
  return a;
}


/** `z > 0 ? v : 0` element-wise: the unfused reference for both epilogues. */
function reluRef(v: Float32Array, z: Float32Array): Float32Array {
  const r = v.slice();
  for (let i = 0; i < r.length; i++) r[i] = z[i]! > 0 ? v[i]! : 0;
  return r;
}

/** Bits, with every NaN made the canonical one (wasm and js may differ in a NaN's sign or payload). */
function canonicalBits(a: Float32Array): Uint32Array {
  const u = bits(a);
  for (let i = 0; i < u.length; i++) if (Number.isNaN(a[i])) u[i] = 0x7fc00000;
  return u;
}

describe.each([0, 1, 3])('wasm vs js vs the float64 oracle, views misaligned by %i floats', (misalign) => {
  const arena = new Arena(misalign === 0 ? 320 : 64);
  const wasm = createWasmKernel(arena.memory);
  const big = (B: number, IN: number, OUT: number) => B * IN * OUT > 1e6;

  it.each(SHAPES.filter(([B, IN, OUT]) => misalign === 0 || !big(B, IN, OUT)))(
    'B=%i IN=%i OUT=%i', (B, IN, OUT) => {
      const rng = createRng(B * 7919 + IN * 131 + OUT * 7 + misalign);
      const seeded = (n: number) => fill(arena.alloc(n, misalign), rng);
      const x = seeded(B * IN), wt = seeded(IN * OUT), w = seeded(OUT * IN), b = seeded(OUT), dout = seeded(B * OUT);

      // forward
      const outW = arena.alloc(B * OUT, misalign), outJ = arena.alloc(B * OUT, misalign);
      wasm.linearForward(outW, x, wt, b, B, IN, OUT);
      jsKernel.linearForward(outJ, x, wt, b, B, IN, OUT);
      expectSameBits(outW, outJ);
      const exact = new Float64Array(B * OUT), bound = new Float64Array(B * OUT);
      naiveKernel.linearForward(exact, x, wt, b, B, IN, OUT);
      naiveKernel.linearForward(bound, abs(x), abs(wt), abs(b), B, IN, OUT);
      expect(worstOverBound(outW, exact, bound, IN + 1)).toBeLessThanOrEqual(1);

      // weights, for the full range and for a sub-range whose outside rows must stay put
      for (const [j0, j1] of [[0, OUT], [Math.min(1, OUT), Math.max(Math.min(1, OUT), OUT - 2)], [OUT, OUT]]) {
        const dwW = arena.alloc(OUT * IN, misalign).fill(-7.5), dbW = arena.alloc(OUT, misalign).fill(-7.5);
        const dwJ = arena.alloc(OUT * IN, misalign).fill(-7.5), dbJ = arena.alloc(OUT, misalign).fill(-7.5);
        wasm.linearBackwardWeights(dwW, dbW, dout, x, B, IN, OUT, j0!, j1!);
        jsKernel.linearBackwardWeights(dwJ, dbJ, dout, x, B, IN, OUT, j0!, j1!);
        expectSameBits(dwW, dwJ);
        expectSameBits(dbW, dbJ);
        const outside = [...dwW.subarray(0, j0! * IN), ...dwW.subarray(j1! * IN), ...dbW.subarray(0, j0!), ...dbW.subarray(j1!)];
        expect(outside.every((v) => v === -7.5)).toBe(true);
        const dwE = new Float64Array(OUT * IN), dbE = new Float64Array(OUT), dwB = new Float64Array(OUT * IN), dbB = new Float64Array(OUT);
        naiveKernel.linearBackwardWeights(dwE, dbE, dout, x, B, IN, OUT, j0!, j1!);
        naiveKernel.linearBackwardWeights(dwB, dbB, abs(dout), abs(x), B, IN, OUT, j0!, j1!);
        const rows = (a: Float32Array | Float64Array, n: number) => a.subarray(j0! * n, j1! * n);
        expect(worstOverBound(rows(dwW, IN) as Float32Array, rows(dwE, IN) as Float64Array, rows(dwB, IN) as Float64Array, B)).toBeLessThanOrEqual(1);
        expect(worstOverBound(rows(dbW, 1) as Float32Array, rows(dbE, 1) as Float64Array, rows(dbB, 1) as Float64Array, B)).toBeLessThanOrEqual(1);
      }

      // input
      const dxW = arena.alloc(B * IN, misalign), dxJ = arena.alloc(B * IN, misalign);
      wasm.linearBackwardInput(dxW, dout, w, B, IN, OUT);
      jsKernel.linearBackwardInput(dxJ, dout, w, B, IN, OUT);
      expectSameBits(dxW, dxJ);
      const dxE = new Float64Array(B * IN), dxB = new Float64Array(B * IN);
      naiveKernel.linearBackwardInput(dxE, dout, w, B, IN, OUT);
      naiveKernel.linearBackwardInput(dxB, abs(dout), abs(w), B, IN, OUT);
      expect(worstOverBound(dxW, dxE, dxB, OUT)).toBeLessThanOrEqual(1);

      // fused ReLU forward: out has the unfused bits, reluOut = relu(out); wasm = js
      const fzW = arena.alloc(B * OUT, misalign), reluW = arena.alloc(B * OUT, misalign).fill(-7.5);
      const fzJ = arena.alloc(B * OUT, misalign), reluJ = arena.alloc(B * OUT, misalign).fill(-7.5);
      wasm.linearForward(fzW, x, wt, b, B, IN, OUT, reluW);
      jsKernel.linearForward(fzJ, x, wt, b, B, IN, OUT, reluJ);
      expectSameBits(fzW, outW);
      expectSameBits(reluW, reluRef(outW, outW));
      expectSameBits(fzJ, outJ);
      expectSameBits(reluJ, reluW);
      // reluOut = out: out ends as relu(z)
      const inPlace = arena.alloc(B * OUT, misalign);
      wasm.linearForward(inPlace, x, wt, b, B, IN, OUT, inPlace);
      expectSameBits(inPlace, reluW);

      // forward over a unit range, as a thread computes its share of a layer: those columns get
      // the full call's bits (plain and fused, reluOut = out too), every other column keeps its
      // sentinel; two ranges that tile [0, OUT) give the full call
      const cut = Math.min(OUT, 4 * Math.ceil(OUT / 8) + 1);
      for (const [j0, j1] of [[Math.min(1, OUT), Math.max(Math.min(1, OUT), OUT - 2)], [0, cut], [cut, OUT], [OUT, OUT]]) {
        for (const kernel of [wasm, jsKernel]) {
          const sentinel = () => arena.alloc(B * OUT, misalign).fill(-7.5);
          const part = sentinel(), partZ = sentinel(), partRelu = sentinel(), partInPlace = sentinel();
          kernel.linearForward(part, x, wt, b, B, IN, OUT, undefined, j0, j1);
          kernel.linearForward(partZ, x, wt, b, B, IN, OUT, partRelu, j0, j1);
          kernel.linearForward(partInPlace, x, wt, b, B, IN, OUT, partInPlace, j0, j1);
          const expected = (full: Float32Array) => Float32Array.from(full, (v, k) => (k % OUT >= j0! && k % OUT < j1! ? v : -7.5));
          expectSameBits(part, expected(outW));
          expectSameBits(partZ, expected(outW));
          expectSameBits(partRelu, expected(reluW));
          expectSameBits(partInPlace, expected(reluW));
        }
      }
      const halves = arena.alloc(B * OUT, misalign).fill(-7.5);
      wasm.linearForward(halves, x, wt, b, B, IN, OUT, undefined, 0, cut);
      jsKernel.linearForward(halves, x, wt, b, B, IN, OUT, undefined, cut, OUT);
      expectSameBits(halves, outW);
      const naivePart = new Float64Array(B * OUT).fill(-7.5);
      naiveKernel.linearForward(naivePart, x, wt, b, B, IN, OUT, undefined, cut, OUT);
      const naiveWrong = naivePart.findIndex((v, k) => v !== (k % OUT >= cut ? exact[k] : -7.5));
      expect(naiveWrong).toBe(-1);

      // fused dX with a mask holding 0, −0, NaN, ±∞ and denormals: the unfused dX masked; wasm = js
      const z = maskZ(arena.alloc(B * IN, misalign), rng);
      const mdxW = arena.alloc(B * IN, misalign).fill(-7.5), mdxJ = arena.alloc(B * IN, misalign).fill(-7.5);
      wasm.linearBackwardInput(mdxW, dout, w, B, IN, OUT, z);
      jsKernel.linearBackwardInput(mdxJ, dout, w, B, IN, OUT, z);
      expectSameBits(mdxW, reluRef(dxW, z));
      expectSameBits(mdxJ, mdxW);

      // transpose, whole and in two pieces (as threads would split it), and a sub-range
      const tW = arena.alloc(IN * OUT, misalign).fill(3), tJ = arena.alloc(IN * OUT, misalign).fill(3);
      const h = Math.floor(OUT / 2);
      wasm.transposeUnits(tW, w, IN, OUT, 0, h);
      wasm.transposeUnits(tW, w, IN, OUT, h, OUT);
      naiveKernel.transposeUnits(tJ, w, IN, OUT, 0, OUT);
      expectSameBits(tW, tJ);
      const sW = arena.alloc(IN * OUT, misalign).fill(3), sJ = arena.alloc(IN * OUT, misalign).fill(3);
      wasm.transposeUnits(sW, w, IN, OUT, Math.min(1, OUT), OUT);
      jsKernel.transposeUnits(sJ, w, IN, OUT, Math.min(1, OUT), OUT);
      expectSameBits(sW, sJ);

      expect(arena.guardsIntact()).toBe(true);
    });
});

describe('fused ReLU forward on z = 0, NaN, ±∞ and ± denormals: wasm = js', () => {
  const arena = new Arena(64);
  const wasm = createWasmKernel(arena.memory);

  // Scattered zeros, NaNs, infinities and denormals in z (fillSpecialForward), on views
  // misaligned by one float; wasm's out must equal js's up to NaN payloads, relu to the bit.
  it.each([...SHAPES.filter(([B, IN, OUT]) => B * IN * OUT < 1e6), [6, 5, 23], [12, 7, 22], [24, 6, 40], [41, 3, 3], [37, 4, 1]])('B=%i IN=%i OUT=%i', (B, IN, OUT) => {
    const x = arena.alloc(B * IN, 1), wt = arena.alloc(IN * OUT, 1), b = arena.alloc(OUT, 1);
    fillSpecialForward(x, wt, b, B, IN, OUT, createRng(B * 31 + IN * 17 + OUT));
    const zW = arena.alloc(B * OUT, 1), zFused = arena.alloc(B * OUT, 1), reluW = arena.alloc(B * OUT, 1).fill(-7.5);
    const zJ = arena.alloc(B * OUT), reluJ = arena.alloc(B * OUT).fill(-7.5);
    wasm.linearForward(zW, x, wt, b, B, IN, OUT);
    wasm.linearForward(zFused, x, wt, b, B, IN, OUT, reluW);
    jsKernel.linearForward(zJ, x, wt, b, B, IN, OUT, reluJ);
    if (B * OUT >= 900) expectSpecials(zW);
    expect(canonicalBits(zFused)).toEqual(canonicalBits(zW));
    expect(canonicalBits(zJ)).toEqual(canonicalBits(zW));
    expectSameBits(reluW, reluRef(zW, zW));
    expectSameBits(reluJ, reluW);
    expect(arena.guardsIntact()).toBe(true);
  });
});

describe('dW with scratch: doutᵀ packed 16 units at a time (matmul.wat gemm), same bits as js', () => {
  const arena = new Arena(1024);
  // A chunk's scratch (256 rows of K), with guards on both sides like every array here.
  const scratch = arena.alloc(kernelScratchBytes(300, [{ inputs: PACK_MIN_INPUTS, units: PACK_MIN_UNITS }]) / 4);
  const packing = createWasmKernel(arena.memory, { scratch });
  const SCRATCH_MARK = 0x7fc0beef;
  const marked = () => new Uint32Array(scratch.buffer, scratch.byteOffset, scratch.length).fill(SCRATCH_MARK);
  const scratchUsed = () => !new Uint32Array(scratch.buffer, scratch.byteOffset, scratch.length).every((v) => v === SCRATCH_MARK);

  // [B, IN, OUT, j0, j1]: groups of 16, a last group of 4/8/12, M mod 4 rows left unpacked,
  // unit ranges not starting at 0, strides of 1024 and 2048 bytes, odd widths and batches.
  const CASES: [number, number, number, number, number][] = [
    [64, 64, 8, 0, 8], [128, 784, 256, 0, 256], [128, 784, 256, 16, 48], [100, 200, 37, 3, 30], [65, 67, 27, 0, 27],
    [300, 128, 512, 0, 23], [96, 96, 20, 1, 20], [64, 130, 13, 0, 13], [77, 512, 512, 500, 512], [256, 65, 100, 7, 99],
    // K in chunks of 256 (the last one short, or of one row), with N mod 4 columns run apart.
    [512, 512, 512, 0, 512], [257, 70, 33, 0, 33], [513, 131, 40, 4, 38], [700, 66, 17, 0, 17],
  ];
  it.each(CASES)('B=%i IN=%i OUT=%i units [%i, %i)', (B, IN, OUT, j0, j1) => {
    const rng = createRng(B * 31 + IN * 7 + OUT + j0);
    for (const misalign of [0, 1]) {
      const dout = fill(arena.alloc(B * OUT, misalign), rng), x = fill(arena.alloc(B * IN, misalign), rng);
      const dwW = arena.alloc(OUT * IN, misalign).fill(-7.5), dbW = arena.alloc(OUT).fill(-7.5);
      const dwJ = arena.alloc(OUT * IN, misalign).fill(-7.5), dbJ = arena.alloc(OUT).fill(-7.5);
      marked();
      packing.linearBackwardWeights(dwW, dbW, dout, x, B, IN, OUT, j0, j1);
      jsKernel.linearBackwardWeights(dwJ, dbJ, dout, x, B, IN, OUT, j0, j1);
      expectSameBits(dwW, dwJ);
      expectSameBits(dbW, dbJ);
      expect(scratchUsed()).toBe(true); // every case here is one gemm packs
    }
    expect(arena.guardsIntact()).toBe(true);
  });

  it('packs exactly where wasm.ts says it does (PACK_MIN_*, and a scratch large enough), and gives the same bits either way', () => {
    expect([PACK_MIN_UNITS, PACK_MIN_INPUTS, PACK_MIN_ROWS]).toEqual([8, 64, 64]);
    const run = (B: number, IN: number, OUT: number, kernel = packing) => {
      const rng = createRng(B + IN + OUT);
      const dout = fill(arena.alloc(B * OUT), rng), x = fill(arena.alloc(B * IN), rng);
      const dwW = arena.alloc(OUT * IN), dwJ = arena.alloc(OUT * IN), db = arena.alloc(OUT);
      marked();
      kernel.linearBackwardWeights(dwW, db, dout, x, B, IN, OUT, 0, OUT);
      jsKernel.linearBackwardWeights(dwJ, db, dout, x, B, IN, OUT, 0, OUT);
      expectSameBits(dwW, dwJ);
      return scratchUsed();
    };
    // Each threshold in terms of wasm.ts's constants, so that a constant changed on one side
    // only (wasm.ts or matmul.wat's literals) fails here.
    const [R, I, U] = [PACK_MIN_ROWS, PACK_MIN_INPUTS, PACK_MIN_UNITS];
    expect(run(R, I, U)).toBe(true);
    expect(run(R, I, U - 1)).toBe(false); // fewer units than PACK_MIN_UNITS
    expect(run(R, I - 1, U)).toBe(false); // fewer inputs than PACK_MIN_INPUTS
    expect(run(R - 1, I, U)).toBe(false); // fewer rows than PACK_MIN_ROWS
    expect(run(PACK_CHUNK_ROWS + 44, I, U)).toBe(true); // two chunks of K: PACK_CHUNK_ROWS rows, then 44
    // A scratch of 100 rows packs up to 100 rows of K, and then nothing (a chunk is PACK_CHUNK_ROWS rows).
    const small = createWasmKernel(arena.memory, { scratch: scratch.subarray(0, 16 * 100) });
    expect(run(100, I, U, small)).toBe(true);
    expect(run(101, I, U, small)).toBe(false);
    expect(run(PACK_CHUNK_ROWS + 44, I, U, small)).toBe(false);
    // The test's scratch is one chunk, the most kernelScratchBytes gives: the two-chunk case above reuses it.
    expect(scratch.byteLength).toBe(64 * PACK_CHUNK_ROWS);
    // A kernel without scratch never packs and gives the same bits.
    expect(run(128, 784, 64, createWasmKernel(arena.memory))).toBe(false);
    expect(arena.guardsIntact()).toBe(true);
  });

  it('kernelScratchBytes: 64 bytes a batch row, up to a chunk of 256 rows, where some layer packs, else none', () => {
    expect(PACK_CHUNK_ROWS).toBe(256);
    expect(kernelScratchBytes(100, [{ inputs: 784, units: 256 }, { inputs: 256, units: 10 }])).toBe(100 * 64);
    expect(kernelScratchBytes(4096, [{ inputs: 784, units: 256 }, { inputs: 256, units: 10 }])).toBe(256 * 64);
    expect(kernelScratchBytes(256, [{ inputs: 16, units: 128 }, { inputs: 128, units: 7 }])).toBe(0);
    expect(kernelScratchBytes(63, [{ inputs: 784, units: 256 }])).toBe(0);
  });

  it('refuses arrays that share a byte with the scratch, and a scratch outside its memory', () => {
    const inside = new Float32Array(scratch.buffer, scratch.byteOffset, 64 * 8);
    const x = arena.alloc(64 * 64), dw = arena.alloc(8 * 64), db = arena.alloc(8), dout = arena.alloc(64 * 8);
    expect(() => packing.linearBackwardWeights(inside, db, dout, x, 64, 64, 8, 0, 8)).toThrow(/linearBackwardWeights: dw overlaps the kernel's scratch/);
    expect(() => packing.linearBackwardWeights(dw, db, inside, x, 64, 64, 8, 0, 8)).toThrow(/dout overlaps the kernel's scratch/);
    expect(() => createWasmKernel(arena.memory, { scratch: new Float32Array(16) })).toThrow(/scratch must be a Float32Array view into the kernel's WebAssembly.Memory/);
  });
});

describe('wasm kernel argument checks', () => {
  const arena = new Arena();
  const k = createWasmKernel(arena.memory);
  const x = arena.alloc(6), wt = arena.alloc(6), b = arena.alloc(2), out = arena.alloc(4);

  it('rejects an array that is not a view into its memory', () => {
    expect(() => k.linearForward(new Float32Array(4), x, wt, b, 2, 3, 2)).toThrow(TypeError);
    expect(() => k.linearForward(out, x, wt, b, 2, 3, 2)).not.toThrow();
    const other = new Arena();
    expect(() => k.linearForward(out, other.alloc(6), wt, b, 2, 3, 2)).toThrow(/x must be a Float32Array view into the kernel's WebAssembly.Memory/);
    expect(() => k.linearBackwardInput(arena.alloc(6), arena.alloc(4), new Float32Array(6), 2, 3, 2)).toThrow(/w must be/);
    expect(() => createWasmKernel({} as WebAssembly.Memory)).toThrow(/expected a WebAssembly.Memory, got Object/);
    expect(() => createWasmKernel(new WebAssembly.Memory({ initial: 1 }))).toThrow(/the memory must be shared/);
  });

  it('still accepts views made before some shared memory grew (V8 then renews every memory.buffer)', () => {
    const before = arena.alloc(4);
    new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true }).grow(1);
    expect(before.buffer).not.toBe(arena.memory.buffer);
    expect(() => k.linearForward(before, x, wt, b, 2, 3, 2)).not.toThrow();
    expect(() => k.linearForward(new Float32Array(new SharedArrayBuffer(16)), x, wt, b, 2, 3, 2)).toThrow(TypeError);
  });

  it('rejects shapes larger than the arrays and unit ranges outside [0, OUT]', () => {
    expect(() => k.linearForward(out, x, wt, b, 3, 3, 2)).toThrow(/out has 4 floats, the shape needs 6/);
    expect(() => k.linearForward(out, x, wt, b, 2, 3.5, 2)).toThrow(RangeError);
    const dw = arena.alloc(6), db = arena.alloc(2), dout = arena.alloc(4);
    expect(() => k.linearBackwardWeights(dw, db, dout, x, 2, 3, 2, 1, 3)).toThrow(/0 <= j0 <= j1 <= OUT = 2, got \[1, 3\)/);
    expect(() => k.linearBackwardWeights(dw, db, dout, x, 2, 3, 2, 2, 1)).toThrow(RangeError);
    expect(() => k.transposeUnits(wt, arena.alloc(6), 3, 2, -1, 2)).toThrow(RangeError);
  });

  it('checks the fused ReLU arrays like the others, and rejects overlaps that would change the bits', () => {
    const relu = arena.alloc(4), dx = arena.alloc(6), dout = arena.alloc(4), w = arena.alloc(6), z = arena.alloc(6);
    expect(() => k.linearForward(out, x, wt, b, 2, 3, 2, relu)).not.toThrow();
    expect(() => k.linearForward(out, x, wt, b, 2, 3, 2, new Float32Array(4))).toThrow(/reluOut must be a Float32Array view/);
    expect(() => k.linearForward(out, x, wt, b, 2, 3, 2, arena.alloc(3))).toThrow(/reluOut has 3 floats, the shape needs 4/);
    expect(() => k.linearForward(out, x, wt, b, 2, 3, 2, out)).not.toThrow(); // out itself: allowed
    const both = arena.alloc(5);
    expect(() => k.linearForward(both.subarray(0, 4), x, wt, b, 2, 3, 2, both.subarray(1, 5))).toThrow(/reluOut overlaps out/);
    expect(() => k.linearForward(out, x, wt, b, 2, 3, 2, x.subarray(2, 6))).toThrow(/reluOut overlaps x/);
    expect(() => k.linearForward(out, x, wt, b, 2, 3, 2, wt.subarray(0, 4))).toThrow(/reluOut overlaps wt/);

    expect(() => k.linearBackwardInput(dx, dout, w, 2, 3, 2, z)).not.toThrow();
    expect(() => k.linearBackwardInput(dx, dout, w, 2, 3, 2, new Float32Array(6))).toThrow(/reluMaskZ must be a Float32Array view/);
    expect(() => k.linearBackwardInput(dx, dout, w, 2, 3, 2, arena.alloc(5))).toThrow(/reluMaskZ has 5 floats, the shape needs 6/);
    expect(() => k.linearBackwardInput(dx, dout, w, 2, 3, 2, dx)).toThrow(/reluMaskZ overlaps dx/);
    expect(() => k.linearBackwardInput(dx, dout, w, 2, 3, 2, w)).not.toThrow(); // read-only overlaps are fine
    // Empty shapes: nothing is touched, so nothing overlaps.
    expect(() => k.linearBackwardInput(dx, dout, w, 0, 3, 2, dx)).not.toThrow();
    expect(arena.guardsIntact()).toBe(true);
  });
});

describe('kernel selection', () => {
  it("'js' and 'auto' without a memory give the js kernel; 'auto' with one gives wasm", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    expect(createKernel('js')).toBe(jsKernel);
    expect(createKernel('auto')).toBe(jsKernel);
    expect(createKernel('auto', memory).name).toBe('wasm');
    expect(createKernel('wasm', memory).name).toBe('wasm');
  });

  it("'wasm' without a memory and unknown kinds are clear errors", () => {
    expect(() => createKernel('wasm')).toThrow(/needs the WebAssembly.Memory/);
    expect(() => createKernel('gpu' as 'js')).toThrow(ConfigError);
    expect(() => createKernel('gpu' as 'js')).toThrow(/unknown kernel "gpu"/);
  });

  it("'wasm' where SIMD is unsupported says to use --kernel js; 'auto' falls back to js", async () => {
    const spy = vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    try {
      vi.resetModules();
      const fresh = await import('../src/kernels/select.ts');
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
      expect(fresh.simdSupported()).toBe(false);
      expect(() => fresh.createKernel('wasm', memory)).toThrow(/hint: use --kernel js/);
      expect(fresh.createKernel('auto', memory).name).toBe('js');
    } finally {
      spy.mockRestore();
      vi.resetModules();
    }
  });
});

describe('wasm kernel in two threads on one shared memory', () => {
  it('a worker and the main thread each compute half of dW and of the forward rows; bits equal one thread', async () => {
    const arena = new Arena();
    const B = 24, IN = 37, OUT = 20, h = 9;
    const rng = createRng(2024);
    const x = fill(arena.alloc(B * IN), rng), wt = fill(arena.alloc(IN * OUT), rng), b = fill(arena.alloc(OUT), rng);
    const dout = fill(arena.alloc(B * OUT), rng);
    const out = arena.alloc(B * OUT), dw = arena.alloc(OUT * IN), db = arena.alloc(OUT);
    const at = (a: Float32Array) => ({ byteOffset: a.byteOffset, length: a.length });
    const job = { B, IN, OUT, h, x: at(x), wt: at(wt), b: at(b), dout: at(dout), out: at(out), dw: at(dw), db: at(db) };

    // The worker is plain CommonJS; tsx's require hook (which, unlike its ESM hooks,
    // reaches worker threads on Node 20) lets it load wasm.ts itself.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { createWasmKernel } = require(workerData.wasmPath);
      const { memory, job } = workerData;
      const v = (a) => new Float32Array(memory.buffer, a.byteOffset, a.length);
      const k = createWasmKernel(memory);
      const { B, IN, OUT, h } = job;
      const half = B / 2;
      k.linearForward(v(job.out).subarray(half * OUT), v(job.x).subarray(half * IN), v(job.wt), v(job.b), B - half, IN, OUT);
      k.linearBackwardWeights(v(job.dw), v(job.db), v(job.dout), v(job.x), B, IN, OUT, h, OUT);
      parentPort.postMessage('done');
    `;
    const worker = new Worker(code, {
      eval: true,
      execArgv: ['--require', 'tsx/cjs'],
      workerData: { memory: arena.memory, job, wasmPath: fileURLToPath(new URL('../src/kernels/wasm.ts', import.meta.url)) },
    });
    const done = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const k = createWasmKernel(arena.memory);
    k.linearForward(out.subarray(0, (B / 2) * OUT), x.subarray(0, (B / 2) * IN), wt, b, B / 2, IN, OUT);
    k.linearBackwardWeights(dw, db, dout, x, B, IN, OUT, 0, h);
    await done;
    await worker.terminate();

    const outJ = new Float32Array(B * OUT), dwJ = new Float32Array(OUT * IN), dbJ = new Float32Array(OUT);
    jsKernel.linearForward(outJ, x, wt, b, B, IN, OUT);
    jsKernel.linearBackwardWeights(dwJ, dbJ, dout, x, B, IN, OUT, 0, OUT);
    expectSameBits(out, outJ);
    expectSameBits(dw, dwJ);
    expectSameBits(db, dbJ);
    expect(arena.guardsIntact()).toBe(true);
  });
});
