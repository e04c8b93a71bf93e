// blocked_asm.ts — the float32 products of the TypeScript kernel, as JavaScript in the
// asm.js subset, kept as source text and compiled once per thread by blockedGemm().
//
// Why asm.js: V8 (Node 20) has no float32 arithmetic for ordinary JavaScript, so each
// Math.fround costs a float64→float32→float64 conversion pair, four per rounded multiply-add;
// written that way the 4×4 tile below ran at 3.0 GFLOP/s. V8 validates code in the asm.js
// subset and compiles it to WebAssembly, where `fround(x * y)` on float locals is one float32
// multiply, and the same tile runs about three times as fast (bench/RESULTS.md). The semantics
// are JavaScript's either way — asm.js is a subset, not a dialect — so where a runtime does not
// validate it, the same source runs as plain JS with the same bits, only slower.
//
// Why source text and not a TypeScript function: the transpilers that run this project's
// TypeScript (esbuild, under tsx and vitest) drop the 'use asm' directive and, under tsx,
// insert helper calls (`__name(...)`) into every function; either one fails validation. A
// string reaches V8 exactly as written here.
//
// The asm.js rules the source follows: integers are coerced with `| 0` (products with imul),
// floats with `fround`; every local is declared first with a literal; pointers and strides
// are byte offsets into the one heap, a Float32Array over an ArrayBuffer the caller owns.
//
// The bits: every output element is the contract's sequential sum (kernel.ts):
// acc = +0, then acc = f32(acc + f32(a·b)) for r = 0, 1, …, then + bias. A float64 product of
// two floats is exact and float64 has more than 2·24 + 2 bits, so rounding each float64 result
// to float32 once, as plain JS does, gives the correctly rounded float32 operation: the same
// bits as asm.js's float32 arithmetic and the wasm kernel's f32x4.mul / f32x4.add lanes.

/** The heap-relative products: see BLOCKED_GEMM_ASMJS. */
export interface BlockedGemm {
  /**
   * C[m, n] = Σ_r A[m, r] · B[r, n] (+ bias[n]) for m < M, n < N, r < K, written, with
   * A[m, r] at byte a + m·sam + r·sar, B[r, n] at b + r·ldb + 4n, C[m, n] at c + m·ldc + 4n
   * (all in bytes, in the heap). bias < 0 means no bias. E[m, n] at e + m·ldc + 4n (laid out
   * like C) takes the ReLU epilogue: mode 1 writes E = C > 0 ? C : 0 after C; mode 2 writes
   * C = E > 0 ? sum : 0; mode 0 leaves E alone. Either way the sums are the same.
   */
  gemm(c: number, ldc: number, a: number, sam: number, sar: number, b: number, ldb: number,
    M: number, N: number, K: number, bias: number, e: number, mode: number): void;
}

/**
 * The body of the asm.js module function (stdlib, foreign, heap). Tiles of 4 rows × 4
 * columns hold 16 independent sums in locals, so each loaded a and b is used four times and
 * the additions do not wait on one another; the edge tiles (4×1, 1×4, 1×1) keep each
 * element's sum in the same order. The epilogue works on a tile's finished sums: mode 2
 * before the stores, mode 1 after them (so E may be C itself). `z > 0 ? v : 0` is false for
 * NaN, −0 and +0, so all three give +0.
 */
export const BLOCKED_GEMM_ASMJS = `
  'use asm';
  var fround = stdlib.Math.fround;
  var imul = stdlib.Math.imul;
  var H = new stdlib.Float32Array(heap);

  function tile4x4(pc, ldc, pa, sam, sar, pb, ldb, K, pbias, pe, mode) {
    pc = pc | 0; ldc = ldc | 0; pa = pa | 0; sam = sam | 0; sar = sar | 0; pb = pb | 0; ldb = ldb | 0;
    K = K | 0; pbias = pbias | 0; pe = pe | 0; mode = mode | 0;
    var c00 = fround(0), c01 = fround(0), c02 = fround(0), c03 = fround(0);
    var c10 = fround(0), c11 = fround(0), c12 = fround(0), c13 = fround(0);
    var c20 = fround(0), c21 = fround(0), c22 = fround(0), c23 = fround(0);
    var c30 = fround(0), c31 = fround(0), c32 = fround(0), c33 = fround(0);
    var a0 = fround(0), a1 = fround(0), a2 = fround(0), a3 = fround(0);
    var b0 = fround(0), b1 = fround(0), b2 = fround(0), b3 = fround(0);
    var r = 0, sam2 = 0, sam3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    sam2 = (sam + sam) | 0;
    sam3 = (sam2 + sam) | 0;
    for (r = 0; (r | 0) < (K | 0); r = (r + 1) | 0) {
      a0 = fround(H[pa >> 2]); a1 = fround(H[(pa + sam) >> 2]); a2 = fround(H[(pa + sam2) >> 2]); a3 = fround(H[(pa + sam3) >> 2]);
      b0 = fround(H[pb >> 2]); b1 = fround(H[(pb + 4) >> 2]); b2 = fround(H[(pb + 8) >> 2]); b3 = fround(H[(pb + 12) >> 2]);
      c00 = fround(c00 + fround(a0 * b0)); c01 = fround(c01 + fround(a0 * b1)); c02 = fround(c02 + fround(a0 * b2)); c03 = fround(c03 + fround(a0 * b3));
      c10 = fround(c10 + fround(a1 * b0)); c11 = fround(c11 + fround(a1 * b1)); c12 = fround(c12 + fround(a1 * b2)); c13 = fround(c13 + fround(a1 * b3));
      c20 = fround(c20 + fround(a2 * b0)); c21 = fround(c21 + fround(a2 * b1)); c22 = fround(c22 + fround(a2 * b2)); c23 = fround(c23 + fround(a2 * b3));
      c30 = fround(c30 + fround(a3 * b0)); c31 = fround(c31 + fround(a3 * b1)); c32 = fround(c32 + fround(a3 * b2)); c33 = fround(c33 + fround(a3 * b3));
      pa = (pa + sar) | 0;
      pb = (pb + ldb) | 0;
    }
    if ((pbias | 0) >= 0) {
      b0 = fround(H[pbias >> 2]); b1 = fround(H[(pbias + 4) >> 2]); b2 = fround(H[(pbias + 8) >> 2]); b3 = fround(H[(pbias + 12) >> 2]);
      c00 = fround(c00 + b0); c01 = fround(c01 + b1); c02 = fround(c02 + b2); c03 = fround(c03 + b3);
      c10 = fround(c10 + b0); c11 = fround(c11 + b1); c12 = fround(c12 + b2); c13 = fround(c13 + b3);
      c20 = fround(c20 + b0); c21 = fround(c21 + b1); c22 = fround(c22 + b2); c23 = fround(c23 + b3);
      c30 = fround(c30 + b0); c31 = fround(c31 + b1); c32 = fround(c32 + b2); c33 = fround(c33 + b3);
    }
    q0 = pe; q1 = (q0 + ldc) | 0; q2 = (q1 + ldc) | 0; q3 = (q2 + ldc) | 0;
    if ((mode | 0) == 2) {
      c00 = fround(H[q0 >> 2]) > fround(0) ? c00 : fround(0); c01 = fround(H[(q0 + 4) >> 2]) > fround(0) ? c01 : fround(0);
      c02 = fround(H[(q0 + 8) >> 2]) > fround(0) ? c02 : fround(0); c03 = fround(H[(q0 + 12) >> 2]) > fround(0) ? c03 : fround(0);
      c10 = fround(H[q1 >> 2]) > fround(0) ? c10 : fround(0); c11 = fround(H[(q1 + 4) >> 2]) > fround(0) ? c11 : fround(0);
      c12 = fround(H[(q1 + 8) >> 2]) > fround(0) ? c12 : fround(0); c13 = fround(H[(q1 + 12) >> 2]) > fround(0) ? c13 : fround(0);
      c20 = fround(H[q2 >> 2]) > fround(0) ? c20 : fround(0); c21 = fround(H[(q2 + 4) >> 2]) > fround(0) ? c21 : fround(0);
      c22 = fround(H[(q2 + 8) >> 2]) > fround(0) ? c22 : fround(0); c23 = fround(H[(q2 + 12) >> 2]) > fround(0) ? c23 : fround(0);
      c30 = fround(H[q3 >> 2]) > fround(0) ? c30 : fround(0); c31 = fround(H[(q3 + 4) >> 2]) > fround(0) ? c31 : fround(0);
      c32 = fround(H[(q3 + 8) >> 2]) > fround(0) ? c32 : fround(0); c33 = fround(H[(q3 + 12) >> 2]) > fround(0) ? c33 : fround(0);
    }
    H[pc >> 2] = c00; H[(pc + 4) >> 2] = c01; H[(pc + 8) >> 2] = c02; H[(pc + 12) >> 2] = c03;
    pc = (pc + ldc) | 0;
    H[pc >> 2] = c10; H[(pc + 4) >> 2] = c11; H[(pc + 8) >> 2] = c12; H[(pc + 12) >> 2] = c13;
    pc = (pc + ldc) | 0;
    H[pc >> 2] = c20; H[(pc + 4) >> 2] = c21; H[(pc + 8) >> 2] = c22; H[(pc + 12) >> 2] = c23;
    pc = (pc + ldc) | 0;
    H[pc >> 2] = c30; H[(pc + 4) >> 2] = c31; H[(pc + 8) >> 2] = c32; H[(pc + 12) >> 2] = c33;
    if ((mode | 0) == 1) {
      H[q0 >> 2] = c00 > fround(0) ? c00 : fround(0); H[(q0 + 4) >> 2] = c01 > fround(0) ? c01 : fround(0);
      H[(q0 + 8) >> 2] = c02 > fround(0) ? c02 : fround(0); H[(q0 + 12) >> 2] = c03 > fround(0) ? c03 : fround(0);
      H[q1 >> 2] = c10 > fround(0) ? c10 : fround(0); H[(q1 + 4) >> 2] = c11 > fround(0) ? c11 : fround(0);
      H[(q1 + 8) >> 2] = c12 > fround(0) ? c12 : fround(0); H[(q1 + 12) >> 2] = c13 > fround(0) ? c13 : fround(0);
      H[q2 >> 2] = c20 > fround(0) ? c20 : fround(0); H[(q2 + 4) >> 2] = c21 > fround(0) ? c21 : fround(0);
      H[(q2 + 8) >> 2] = c22 > fround(0) ? c22 : fround(0); H[(q2 + 12) >> 2] = c23 > fround(0) ? c23 : fround(0);
      H[q3 >> 2] = c30 > fround(0) ? c30 : fround(0); H[(q3 + 4) >> 2] = c31 > fround(0) ? c31 : fround(0);
      H[(q3 + 8) >> 2] = c32 > fround(0) ? c32 : fround(0); H[(q3 + 12) >> 2] = c33 > fround(0) ? c33 : fround(0);
    }
  }

  // One column of four rows (rows m..m+3, column n): the right edge when N is not a multiple of 4.
  function tile4x1(pc, ldc, pa, sam, sar, pb, ldb, K, pbias, pe, mode) {
    pc = pc | 0; ldc = ldc | 0; pa = pa | 0; sam = sam | 0; sar = sar | 0; pb = pb | 0; ldb = ldb | 0;
    K = K | 0; pbias = pbias | 0; pe = pe | 0; mode = mode | 0;
    var c0 = fround(0), c1 = fround(0), c2 = fround(0), c3 = fround(0), b = fround(0);
    var r = 0, sam2 = 0, sam3 = 0, q1 = 0, q2 = 0, q3 = 0;
    sam2 = (sam + sam) | 0;
    sam3 = (sam2 + sam) | 0;
    for (r = 0; (r | 0) < (K | 0); r = (r + 1) | 0) {
      b = fround(H[pb >> 2]);
      c0 = fround(c0 + fround(fround(H[pa >> 2]) * b)); c1 = fround(c1 + fround(fround(H[(pa + sam) >> 2]) * b));
      c2 = fround(c2 + fround(fround(H[(pa + sam2) >> 2]) * b)); c3 = fround(c3 + fround(fround(H[(pa + sam3) >> 2]) * b));
      pa = (pa + sar) | 0;
      pb = (pb + ldb) | 0;
    }
    if ((pbias | 0) >= 0) {
      b = fround(H[pbias >> 2]);
      c0 = fround(c0 + b); c1 = fround(c1 + b); c2 = fround(c2 + b); c3 = fround(c3 + b);
    }
    q1 = (pe + ldc) | 0; q2 = (q1 + ldc) | 0; q3 = (q2 + ldc) | 0;
    if ((mode | 0) == 2) {
      c0 = fround(H[pe >> 2]) > fround(0) ? c0 : fround(0); c1 = fround(H[q1 >> 2]) > fround(0) ? c1 : fround(0);
      c2 = fround(H[q2 >> 2]) > fround(0) ? c2 : fround(0); c3 = fround(H[q3 >> 2]) > fround(0) ? c3 : fround(0);
    }
    H[pc >> 2] = c0; H[(pc + ldc) >> 2] = c1; H[(pc + ldc + ldc) >> 2] = c2; H[(pc + ldc + ldc + ldc) >> 2] = c3;
    if ((mode | 0) == 1) {
      H[pe >> 2] = c0 > fround(0) ? c0 : fround(0); H[q1 >> 2] = c1 > fround(0) ? c1 : fround(0);
      H[q2 >> 2] = c2 > fround(0) ? c2 : fround(0); H[q3 >> 2] = c3 > fround(0) ? c3 : fround(0);
    }
  }

  // One row of four columns: the bottom edge when M is not a multiple of 4.
  function tile1x4(pc, pa, sar, pb, ldb, K, pbias, pe, mode) {
    pc = pc | 0; pa = pa | 0; sar = sar | 0; pb = pb | 0; ldb = ldb | 0;
    K = K | 0; pbias = pbias | 0; pe = pe | 0; mode = mode | 0;
    var c0 = fround(0), c1 = fround(0), c2 = fround(0), c3 = fround(0), a = fround(0);
    var r = 0;
    for (r = 0; (r | 0) < (K | 0); r = (r + 1) | 0) {
      a = fround(H[pa >> 2]);
      c0 = fround(c0 + fround(a * fround(H[pb >> 2]))); c1 = fround(c1 + fround(a * fround(H[(pb + 4) >> 2])));
      c2 = fround(c2 + fround(a * fround(H[(pb + 8) >> 2]))); c3 = fround(c3 + fround(a * fround(H[(pb + 12) >> 2])));
      pa = (pa + sar) | 0;
      pb = (pb + ldb) | 0;
    }
    if ((pbias | 0) >= 0) {
      c0 = fround(c0 + fround(H[pbias >> 2])); c1 = fround(c1 + fround(H[(pbias + 4) >> 2]));
      c2 = fround(c2 + fround(H[(pbias + 8) >> 2])); c3 = fround(c3 + fround(H[(pbias + 12) >> 2]));
    }
    if ((mode | 0) == 2) {
      c0 = fround(H[pe >> 2]) > fround(0) ? c0 : fround(0); c1 = fround(H[(pe + 4) >> 2]) > fround(0) ? c1 : fround(0);
      c2 = fround(H[(pe + 8) >> 2]) > fround(0) ? c2 : fround(0); c3 = fround(H[(pe + 12) >> 2]) > fround(0) ? c3 : fround(0);
    }
    H[pc >> 2] = c0; H[(pc + 4) >> 2] = c1; H[(pc + 8) >> 2] = c2; H[(pc + 12) >> 2] = c3;
    if ((mode | 0) == 1) {
      H[pe >> 2] = c0 > fround(0) ? c0 : fround(0); H[(pe + 4) >> 2] = c1 > fround(0) ? c1 : fround(0);
      H[(pe + 8) >> 2] = c2 > fround(0) ? c2 : fround(0); H[(pe + 12) >> 2] = c3 > fround(0) ? c3 : fround(0);
    }
  }

  // The corner: one element.
  function tile1x1(pc, pa, sar, pb, ldb, K, pbias, pe, mode) {
    pc = pc | 0; pa = pa | 0; sar = sar | 0; pb = pb | 0; ldb = ldb | 0;
    K = K | 0; pbias = pbias | 0; pe = pe | 0; mode = mode | 0;
    var c = fround(0);
    var r = 0;
    for (r = 0; (r | 0) < (K | 0); r = (r + 1) | 0) {
      c = fround(c + fround(fround(H[pa >> 2]) * fround(H[pb >> 2])));
      pa = (pa + sar) | 0;
      pb = (pb + ldb) | 0;
    }
    if ((pbias | 0) >= 0) c = fround(c + fround(H[pbias >> 2]));
    if ((mode | 0) == 2) c = fround(H[pe >> 2]) > fround(0) ? c : fround(0);
    H[pc >> 2] = c;
    if ((mode | 0) == 1) H[pe >> 2] = c > fround(0) ? c : fround(0);
  }

  function gemm(c, ldc, a, sam, sar, b, ldb, M, N, K, bias, e, mode) {
    c = c | 0; ldc = ldc | 0; a = a | 0; sam = sam | 0; sar = sar | 0; b = b | 0; ldb = ldb | 0;
    M = M | 0; N = N | 0; K = K | 0; bias = bias | 0; e = e | 0; mode = mode | 0;
    var M4 = 0, N4 = 0, i = 0, j = 0, pa = 0, rowC = 0, rowE = 0, col = 0, pbias = -1;
    M4 = (M - ((M | 0) % 4 | 0)) | 0;
    N4 = (N - ((N | 0) % 4 | 0)) | 0;
    for (i = 0; (i | 0) < (M4 | 0); i = (i + 4) | 0) {
      pa = (a + imul(i, sam)) | 0;
      rowC = (c + imul(i, ldc)) | 0;
      rowE = (e + imul(i, ldc)) | 0;
      for (j = 0; (j | 0) < (N | 0); j = (j + 1) | 0) {
        col = j << 2;
        pbias = (bias | 0) < 0 ? -1 : (bias + col) | 0;
        if ((j | 0) < (N4 | 0)) {
          tile4x4((rowC + col) | 0, ldc, pa, sam, sar, (b + col) | 0, ldb, K, pbias, (rowE + col) | 0, mode);
          j = (j + 3) | 0;
        } else {
          tile4x1((rowC + col) | 0, ldc, pa, sam, sar, (b + col) | 0, ldb, K, pbias, (rowE + col) | 0, mode);
        }
      }
    }
    for (i = M4; (i | 0) < (M | 0); i = (i + 1) | 0) {
      pa = (a + imul(i, sam)) | 0;
      rowC = (c + imul(i, ldc)) | 0;
      rowE = (e + imul(i, ldc)) | 0;
      for (j = 0; (j | 0) < (N | 0); j = (j + 1) | 0) {
        col = j << 2;
        pbias = (bias | 0) < 0 ? -1 : (bias + col) | 0;
        if ((j | 0) < (N4 | 0)) {
          tile1x4((rowC + col) | 0, pa, sar, (b + col) | 0, ldb, K, pbias, (rowE + col) | 0, mode);
          j = (j + 3) | 0;
        } else {
          tile1x1((rowC + col) | 0, pa, sar, (b + col) | 0, ldb, K, pbias, (rowE + col) | 0, mode);
        }
      }
    }
  }

  return { gemm: gemm };
`;

/**
 * A fresh instance of the module on `heap` (an ArrayBuffer whose size is a power of two of
 * at least 4 KiB, as asm.js requires). V8 compiles the source once per thread and links each
 * new heap to that code. A SharedArrayBuffer links too, but then V8 runs the source as plain
 * JS (asm.js refuses shared heaps): same bits, about a third of the speed.
 */
export function blockedGemm(heap: ArrayBufferLike): BlockedGemm {
  return blockedGemmModule()({ Math, Float32Array }, null, heap);
}

type ModuleFunction = (stdlib: { Math: Math; Float32Array: Float32ArrayConstructor }, foreign: null, heap: ArrayBufferLike) => BlockedGemm;

let moduleFunction: ModuleFunction | undefined;

/** The module function made from the source, once per thread (the test asks V8 whether it validated). */
export function blockedGemmModule(): ModuleFunction {
  moduleFunction ??= compile();
  return moduleFunction;
}

function compile(): ModuleFunction {
  try {
    return new Function('stdlib', 'foreign', 'heap', BLOCKED_GEMM_ASMJS) as ModuleFunction;
  } catch (err) {
    throw new Error(`the js kernel could not compile its asm.js source: ${(err as Error).message}\n` +
      'hint: this runtime forbids code generation from strings (e.g. --disallow-code-generation-from-strings); ' +
      'use --kernel wasm', { cause: err });
  }
}
