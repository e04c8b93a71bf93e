// blocked.ts — the plain TypeScript float32 kernel: the reference for the wasm kernel's
// bits and the fallback where WebAssembly SIMD is unavailable.
//
// Every product and every sum goes through Math.fround, in the contract's order (kernel.ts):
// per element, acc starts at +0 and takes f32(acc + f32(a·b)) for r = 0, 1, … . A float64
// product of two floats is exact and float64 has more than 2·24 + 2 bits, so rounding the
// float64 result to float32 once gives the correctly rounded float32 operation: the same
// bits as the wasm f32x4.mul / f32x4.add lanes.
//
// All three products are one strided GEMM (see gemm below), as in matmul.wat. Tiles of
// 4 rows × 4 columns hold 16 independent sums in locals, so each loaded a and b is used
// four times and the additions do not wait on one another. On V8 each Math.fround costs a
// float64→float32→float64 conversion pair, and those conversions, not the arithmetic,
// bound this kernel's speed.

import type { Kernel } from './kernel.ts';

const fr = Math.fround;

/** gemm's epilogue modes, as in matmul.wat: none; E = relu(C) after C (forward); C = E > 0 ? C : +0 (dX). */
const NONE = 0, RELU_OUT = 1, RELU_MASK = 2;
type Mode = typeof NONE | typeof RELU_OUT | typeof RELU_MASK;

/**
 * C[m, n] = Σ_r A[m, r] · B[r, n] (+ bias[n]) for m < M, n < N, r < K, written, with
 * A[m, r] = A[a0 + m·sam + r·sar], B[r, n] = Bm[b0 + r·ldb + n], C[m, n] = C[c0 + m·ldc + n]
 * (indices in floats). bias is null for no bias. E[m, n] = E[e0 + m·ldc + n] (laid out like
 * C) takes the ReLU epilogue: RELU_OUT writes E = C > 0 ? C : 0 after C; RELU_MASK writes
 * C = E > 0 ? sum : 0. Either way the sums are the same; E is null for NONE.
 */
function gemm(
  C: Float32Array, c0: number, ldc: number,
  A: Float32Array, a0: number, sam: number, sar: number,
  Bm: Float32Array, b0: number, ldb: number,
  M: number, N: number, K: number,
  bias: Float32Array | null, bias0: number,
  E: Float32Array | null, e0: number, mode: Mode,
): void {
  const M4 = M - (M % 4), N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const pa0 = a0 + i * sam;
    for (let j = 0; j < N4; j += 4) {
      tile4x4(C, c0 + i * ldc + j, ldc, A, pa0, sam, sar, Bm, b0 + j, ldb, K, bias, bias0 + j, E, e0 + i * ldc + j, mode);
    }
    for (let j = N4; j < N; j++) {
      tile4x1(C, c0 + i * ldc + j, ldc, A, pa0, sam, sar, Bm, b0 + j, ldb, K, bias, bias0 + j, E, e0 + i * ldc + j, mode);
    }
  }
  for (let i = M4; i < M; i++) {
    const pa = a0 + i * sam;
    for (let j = 0; j < N4; j += 4) {
      tile1x4(C, c0 + i * ldc + j, A, pa, sar, Bm, b0 + j, ldb, K, bias, bias0 + j, E, e0 + i * ldc + j, mode);
    }
    for (let j = N4; j < N; j++) {
      tile1x1(C, c0 + i * ldc + j, A, pa, sar, Bm, b0 + j, ldb, K, bias, bias0 + j, E, e0 + i * ldc + j, mode);
    }
  }
}

// The epilogue works on the tile's finished sums in locals: RELU_MASK before the stores,
// RELU_OUT after them (so E may be C itself). `z > 0 ? v : 0` is false for NaN, −0 and +0.

function tile4x4(
  C: Float32Array, pc: number, ldc: number, A: Float32Array, pa: number, sam: number, sar: number,
  Bm: Float32Array, pb: number, ldb: number, K: number, bias: Float32Array | null, pbias: number,
  E: Float32Array | null, pe: number, mode: Mode,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const sam2 = 2 * sam, sam3 = 3 * sam;
  for (let r = 0; r < K; r++) {
    const a0 = A[pa]!, a1 = A[pa + sam]!, a2 = A[pa + sam2]!, a3 = A[pa + sam3]!;
    const b0 = Bm[pb]!, b1 = Bm[pb + 1]!, b2 = Bm[pb + 2]!, b3 = Bm[pb + 3]!;
    c00 = fr(c00 + fr(a0 * b0)); c01 = fr(c01 + fr(a0 * b1)); c02 = fr(c02 + fr(a0 * b2)); c03 = fr(c03 + fr(a0 * b3));
    c10 = fr(c10 + fr(a1 * b0)); c11 = fr(c11 + fr(a1 * b1)); c12 = fr(c12 + fr(a1 * b2)); c13 = fr(c13 + fr(a1 * b3));
    c20 = fr(c20 + fr(a2 * b0)); c21 = fr(c21 + fr(a2 * b1)); c22 = fr(c22 + fr(a2 * b2)); c23 = fr(c23 + fr(a2 * b3));
    c30 = fr(c30 + fr(a3 * b0)); c31 = fr(c31 + fr(a3 * b1)); c32 = fr(c32 + fr(a3 * b2)); c33 = fr(c33 + fr(a3 * b3));
    pa += sar;
    pb += ldb;
  }
  if (bias !== null) {
    const b0 = bias[pbias]!, b1 = bias[pbias + 1]!, b2 = bias[pbias + 2]!, b3 = bias[pbias + 3]!;
    c00 = fr(c00 + b0); c01 = fr(c01 + b1); c02 = fr(c02 + b2); c03 = fr(c03 + b3);
    c10 = fr(c10 + b0); c11 = fr(c11 + b1); c12 = fr(c12 + b2); c13 = fr(c13 + b3);
    c20 = fr(c20 + b0); c21 = fr(c21 + b1); c22 = fr(c22 + b2); c23 = fr(c23 + b3);
    c30 = fr(c30 + b0); c31 = fr(c31 + b1); c32 = fr(c32 + b2); c33 = fr(c33 + b3);
  }
  if (mode === RELU_MASK) {
    const Z = E!, q0 = pe, q1 = pe + ldc, q2 = q1 + ldc, q3 = q2 + ldc;
    c00 = Z[q0]! > 0 ? c00 : 0; c01 = Z[q0 + 1]! > 0 ? c01 : 0; c02 = Z[q0 + 2]! > 0 ? c02 : 0; c03 = Z[q0 + 3]! > 0 ? c03 : 0;
    c10 = Z[q1]! > 0 ? c10 : 0; c11 = Z[q1 + 1]! > 0 ? c11 : 0; c12 = Z[q1 + 2]! > 0 ? c12 : 0; c13 = Z[q1 + 3]! > 0 ? c13 : 0;
    c20 = Z[q2]! > 0 ? c20 : 0; c21 = Z[q2 + 1]! > 0 ? c21 : 0; c22 = Z[q2 + 2]! > 0 ? c22 : 0; c23 = Z[q2 + 3]! > 0 ? c23 : 0;
    c30 = Z[q3]! > 0 ? c30 : 0; c31 = Z[q3 + 1]! > 0 ? c31 : 0; c32 = Z[q3 + 2]! > 0 ? c32 : 0; c33 = Z[q3 + 3]! > 0 ? c33 : 0;
  }
  C[pc] = c00; C[pc + 1] = c01; C[pc + 2] = c02; C[pc + 3] = c03;
  pc += ldc;
  C[pc] = c10; C[pc + 1] = c11; C[pc + 2] = c12; C[pc + 3] = c13;
  pc += ldc;
  C[pc] = c20; C[pc + 1] = c21; C[pc + 2] = c22; C[pc + 3] = c23;
  pc += ldc;
  C[pc] = c30; C[pc + 1] = c31; C[pc + 2] = c32; C[pc + 3] = c33;
  if (mode === RELU_OUT) {
    const R = E!, q0 = pe, q1 = pe + ldc, q2 = q1 + ldc, q3 = q2 + ldc;
    R[q0] = c00 > 0 ? c00 : 0; R[q0 + 1] = c01 > 0 ? c01 : 0; R[q0 + 2] = c02 > 0 ? c02 : 0; R[q0 + 3] = c03 > 0 ? c03 : 0;
    R[q1] = c10 > 0 ? c10 : 0; R[q1 + 1] = c11 > 0 ? c11 : 0; R[q1 + 2] = c12 > 0 ? c12 : 0; R[q1 + 3] = c13 > 0 ? c13 : 0;
    R[q2] = c20 > 0 ? c20 : 0; R[q2 + 1] = c21 > 0 ? c21 : 0; R[q2 + 2] = c22 > 0 ? c22 : 0; R[q2 + 3] = c23 > 0 ? c23 : 0;
    R[q3] = c30 > 0 ? c30 : 0; R[q3 + 1] = c31 > 0 ? c31 : 0; R[q3 + 2] = c32 > 0 ? c32 : 0; R[q3 + 3] = c33 > 0 ? c33 : 0;
  }
}

function tile4x1(
  C: Float32Array, pc: number, ldc: number, A: Float32Array, pa: number, sam: number, sar: number,
  Bm: Float32Array, pb: number, ldb: number, K: number, bias: Float32Array | null, pbias: number,
  E: Float32Array | null, pe: number, mode: Mode,
): void {
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  const sam2 = 2 * sam, sam3 = 3 * sam;
  for (let r = 0; r < K; r++) {
    const b = Bm[pb]!;
    c0 = fr(c0 + fr(A[pa]! * b)); c1 = fr(c1 + fr(A[pa + sam]! * b));
    c2 = fr(c2 + fr(A[pa + sam2]! * b)); c3 = fr(c3 + fr(A[pa + sam3]! * b));
    pa += sar;
    pb += ldb;
  }
  if (bias !== null) {
    const b = bias[pbias]!;
    c0 = fr(c0 + b); c1 = fr(c1 + b); c2 = fr(c2 + b); c3 = fr(c3 + b);
  }
  if (mode === RELU_MASK) {
    const Z = E!;
    c0 = Z[pe]! > 0 ? c0 : 0; c1 = Z[pe + ldc]! > 0 ? c1 : 0;
    c2 = Z[pe + 2 * ldc]! > 0 ? c2 : 0; c3 = Z[pe + 3 * ldc]! > 0 ? c3 : 0;
  }
  C[pc] = c0; C[pc + ldc] = c1; C[pc + 2 * ldc] = c2; C[pc + 3 * ldc] = c3;
  if (mode === RELU_OUT) {
    const R = E!;
    R[pe] = c0 > 0 ? c0 : 0; R[pe + ldc] = c1 > 0 ? c1 : 0;
    R[pe + 2 * ldc] = c2 > 0 ? c2 : 0; R[pe + 3 * ldc] = c3 > 0 ? c3 : 0;
  }
}

function tile1x4(
  C: Float32Array, pc: number, A: Float32Array, pa: number, sar: number,
  Bm: Float32Array, pb: number, ldb: number, K: number, bias: Float32Array | null, pbias: number,
  E: Float32Array | null, pe: number, mode: Mode,
): void {
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  for (let r = 0; r < K; r++) {
    const a = A[pa]!;
    c0 = fr(c0 + fr(a * Bm[pb]!)); c1 = fr(c1 + fr(a * Bm[pb + 1]!));
    c2 = fr(c2 + fr(a * Bm[pb + 2]!)); c3 = fr(c3 + fr(a * Bm[pb + 3]!));
    pa += sar;
    pb += ldb;
  }
  if (bias !== null) {
    c0 = fr(c0 + bias[pbias]!); c1 = fr(c1 + bias[pbias + 1]!);
    c2 = fr(c2 + bias[pbias + 2]!); c3 = fr(c3 + bias[pbias + 3]!);
  }
  if (mode === RELU_MASK) {
    const Z = E!;
    c0 = Z[pe]! > 0 ? c0 : 0; c1 = Z[pe + 1]! > 0 ? c1 : 0; c2 = Z[pe + 2]! > 0 ? c2 : 0; c3 = Z[pe + 3]! > 0 ? c3 : 0;
  }
  C[pc] = c0; C[pc + 1] = c1; C[pc + 2] = c2; C[pc + 3] = c3;
  if (mode === RELU_OUT) {
    const R = E!;
    R[pe] = c0 > 0 ? c0 : 0; R[pe + 1] = c1 > 0 ? c1 : 0; R[pe + 2] = c2 > 0 ? c2 : 0; R[pe + 3] = c3 > 0 ? c3 : 0;
  }
}

function tile1x1(
  C: Float32Array, pc: number, A: Float32Array, pa: number, sar: number,
  Bm: Float32Array, pb: number, ldb: number, K: number, bias: Float32Array | null, pbias: number,
  E: Float32Array | null, pe: number, mode: Mode,
): void {
  let c = 0;
  for (let r = 0; r < K; r++) {
    c = fr(c + fr(A[pa]! * Bm[pb]!));
    pa += sar;
    pb += ldb;
  }
  if (bias !== null) c = fr(c + bias[pbias]!);
  if (mode === RELU_MASK) c = E![pe]! > 0 ? c : 0;
  C[pc] = c;
  if (mode === RELU_OUT) E![pe] = c > 0 ? c : 0;
}

export const jsKernel: Kernel<Float32Array> = {
  name: 'js',

  // x is (B, IN), wt is (IN, OUT), b is (OUT), out and reluOut are (B, OUT): A = x, B = wt
  linearForward(out, x, wt, b, B, IN, OUT, reluOut) {
    if (reluOut === undefined) gemm(out, 0, OUT, x, 0, IN, 1, wt, 0, OUT, B, OUT, IN, b, 0, null, 0, NONE);
    else gemm(out, 0, OUT, x, 0, IN, 1, wt, 0, OUT, B, OUT, IN, b, 0, reluOut, 0, RELU_OUT);
  },

  // dout is (B, OUT), x is (B, IN), dw is (OUT, IN), db is (OUT): dw[j0:j1] = doutᵀ · x
  linearBackwardWeights(dw, db, dout, x, B, IN, OUT, j0, j1) {
    gemm(dw, j0 * IN, IN, dout, j0, 1, OUT, x, 0, IN, j1 - j0, IN, B, null, 0, null, 0, NONE);
    // Four units at a time, so four independent sums share each pass down the rows.
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = j; p < B * OUT; p += OUT) {
        s0 = fr(s0 + dout[p]!); s1 = fr(s1 + dout[p + 1]!); s2 = fr(s2 + dout[p + 2]!); s3 = fr(s3 + dout[p + 3]!);
      }
      db[j] = s0; db[j + 1] = s1; db[j + 2] = s2; db[j + 3] = s3;
    }
    for (; j < j1; j++) {
      let s = 0;
      for (let p = j; p < B * OUT; p += OUT) s = fr(s + dout[p]!);
      db[j] = s;
    }
  },

  // dout is (B, OUT), w is (OUT, IN), dx and reluMaskZ are (B, IN): A = dout, B = w
  linearBackwardInput(dx, dout, w, B, IN, OUT, reluMaskZ) {
    if (reluMaskZ === undefined) gemm(dx, 0, IN, dout, 0, OUT, 1, w, 0, IN, B, IN, OUT, null, 0, null, 0, NONE);
    else gemm(dx, 0, IN, dout, 0, OUT, 1, w, 0, IN, B, IN, OUT, null, 0, reluMaskZ, 0, RELU_MASK);
  },

  // w is (OUT, IN), wt is (IN, OUT); units j in [j0, j1). 16 k's at a time across all the
  // units, so the 16 rows of wt being written (OUT floats apart, often a power of two that
  // crowds a few cache sets) stay in cache until they are full, as in matmul.wat.
  transposeUnits(wt, w, IN, OUT, j0, j1) {
    for (let k0 = 0; k0 < IN; k0 += 16) {
      const kend = Math.min(k0 + 16, IN);
      for (let j = j0; j < j1; j++) {
        for (let k = k0, p = j * IN + k0, q = k0 * OUT + j; k < kend; k++, p++, q += OUT) wt[q] = w[p]!;
      }
    }
  },
};
