// blocked.ts — the plain TypeScript float32 kernel: the reference for the wasm kernel's
// bits and the fallback where WebAssembly SIMD is unavailable.
//
// Every product and every sum goes through Math.fround, in the contract's order (kernel.ts):
// per element, acc starts at +0 and takes f32(acc + f32(a·b)) for r = 0, 1, … . A float64
// product of two floats is exact and float64 has more than 2·24 + 2 bits, so rounding the
// float64 result to float32 once gives the correctly rounded float32 operation: the same
// bits as the wasm f32x4.mul / f32x4.add lanes.
//
// The products run in blocked_asm.ts: a 4×4 register tile written in the asm.js subset, which
// V8 compiles with float32 arithmetic, about three times the speed of the same loop as
// ordinary JavaScript (see that file for why). asm.js computes on a private heap, an
// ArrayBuffer: V8 refuses a SharedArrayBuffer there, so the operands are staged — copied
// into this thread's heap, multiplied, and the results copied back. The copies are
// O(inputs + outputs) against the product's O(B·IN·OUT). Column sums and the transpose have
// no rounded products worth the trip and run in place on the caller's arrays.

import { blockedGemm, type BlockedGemm } from './blocked_asm.ts';
import { checkDims, checkUnits, type Kernel } from './kernel.ts';

const KERNEL = 'js kernel';

const fr = Math.fround;

/** gemm's epilogue modes, as in matmul.wat: none; E = relu(C) after C (forward); C = E > 0 ? C : +0 (dX). */
const NONE = 0, RELU_OUT = 1, RELU_MASK = 2;

/** gemm's "no bias" pointer: no float starts at a negative address. */
const NO_BIAS = -1;

// ---- staging: the operands' trip through this thread's private heap ----

/** The smallest heap: asm.js heaps are powers of two of at least 4 KiB (V8 also takes multiples of 16 MiB). */
const MIN_HEAP_BYTES = 1 << 20;

let heapF32: Float32Array = new Float32Array(0);
let asm: BlockedGemm | undefined;
let top = 0;

/** Start placing a call's operands: make room for `floats` floats in all, from heap offset 0. */
function stageBegin(floats: number): void {
  if (floats * 4 > heapF32.byteLength || asm === undefined) {
    let bytes = Math.max(MIN_HEAP_BYTES, heapF32.byteLength);
    while (bytes < floats * 4) bytes *= 2;
    const heap = new ArrayBuffer(bytes);
    heapF32 = new Float32Array(heap);
    asm = blockedGemm(heap);
  }
  top = 0;
}

/** Room for n floats; its byte offset. Rounded up to 4 floats (callers count that slack) to keep each operand 16-byte aligned. */
function stageSlot(n: number): number {
  const at = top;
  top += (n + 3) & ~3;
  return at * 4;
}

/** Copy the first n floats of `a` into the heap; their byte offset. */
function stageIn(a: Float32Array, n: number): number {
  const at = stageSlot(n);
  heapF32.set(n === a.length ? a : a.subarray(0, n), at >> 2);
  return at;
}

/** Copy n floats at heap byte offset `at` out to a[from, from + n). */
function stageOut(a: Float32Array, from: number, at: number, n: number): void {
  a.set(heapF32.subarray(at >> 2, (at >> 2) + n), from);
}

/** Copy columns [j0, j1) of the (rows, width) matrix `a` into the heap, packed (j1 − j0 wide); their byte offset. */
function stageInColumns(a: Float32Array, rows: number, width: number, j0: number, j1: number): number {
  if (j0 === 0 && j1 === width) return stageIn(a, rows * width);
  const units = j1 - j0, at = stageSlot(rows * units);
  for (let i = 0, p = j0, q = at >> 2; i < rows; i++, p += width, q += units) heapF32.set(a.subarray(p, p + units), q);
  return at;
}

/** Copy a packed (rows, j1 − j0) matrix at heap byte offset `at` out to columns [j0, j1) of the (rows, width) matrix `a`. */
function stageOutColumns(a: Float32Array, at: number, rows: number, width: number, j0: number, j1: number): void {
  const units = j1 - j0;
  if (units === width) {
    stageOut(a, 0, at, rows * width);
    return;
  }
  for (let i = 0, p = j0, q = at; i < rows; i++, p += width, q += 4 * units) stageOut(a, p, q, units);
}

// ---- the kernel ----

function need(op: string, name: string, a: Float32Array, n: number): void {
  if (!(a instanceof Float32Array)) {
    throw new TypeError(`${KERNEL} ${op}: ${name} must be a Float32Array, got ${a === null ? 'null' : typeof a === 'object' ? (a as object).constructor?.name : typeof a}`);
  }
  if (a.length < n) {
    throw new RangeError(`${KERNEL} ${op}: ${name} has ${a.length} floats, the shape needs ${n}\n` +
      'hint: check B, IN and OUT against the arrays passed');
  }
}

export const jsKernel: Kernel<Float32Array> = {
  name: 'js',

  // x is (B, IN), wt is (IN, OUT), b is (OUT), out and reluOut are (B, OUT): A = x, B = wt.
  // Units [j0, j1): the product runs on those columns of wt, and only they are copied back.
  linearForward(out, x, wt, b, B, IN, OUT, reluOut, j0 = 0, j1 = OUT) {
    const op = 'linearForward';
    checkDims(KERNEL, op, B, IN, OUT);
    checkUnits(KERNEL, op, j0, j1, OUT);
    need(op, 'out', out, B * OUT); need(op, 'x', x, B * IN); need(op, 'wt', wt, IN * OUT); need(op, 'b', b, OUT);
    if (reluOut !== undefined) need(op, 'reluOut', reluOut, B * OUT);
    if (j1 === j0) return;
    // Only the unit range's columns of wt, b and out go through the heap, packed (units wide).
    const units = j1 - j0;
    stageBegin(B * IN + IN * units + units + 2 * B * units + 20);
    const xp = stageIn(x, B * IN), wtp = stageInColumns(wt, IN, OUT, j0, j1), bp = stageIn(b.subarray(j0, j1), units);
    const outp = stageSlot(B * units), ep = reluOut === undefined ? 0 : stageSlot(B * units);
    asm!.gemm(outp, units * 4, xp, IN * 4, 4, wtp, units * 4, B, units, IN, bp, ep, reluOut === undefined ? NONE : RELU_OUT);
    stageOutColumns(out, outp, B, OUT, j0, j1);
    // Last, so that reluOut === out leaves relu(z) there, as the contract says.
    if (reluOut !== undefined) stageOutColumns(reluOut, ep, B, OUT, j0, j1);
  },

  // dout is (B, OUT), x is (B, IN), dw is (OUT, IN), db is (OUT): dw[j0:j1] = doutᵀ · x.
  linearBackwardWeights(dw, db, dout, x, B, IN, OUT, j0, j1) {
    const op = 'linearBackwardWeights';
    checkDims(KERNEL, op, B, IN, OUT);
    checkUnits(KERNEL, op, j0, j1, OUT);
    need(op, 'dw', dw, OUT * IN); need(op, 'db', db, OUT); need(op, 'dout', dout, B * OUT); need(op, 'x', x, B * IN);
    if (j1 === j0) return;
    const units = j1 - j0;
    stageBegin(B * OUT + B * IN + units * IN + 12);
    const doutp = stageIn(dout, B * OUT), xp = stageIn(x, B * IN), dwp = stageSlot(units * IN);
    asm!.gemm(dwp, IN * 4, doutp + j0 * 4, 4, OUT * 4, xp, IN * 4, units, IN, B, NO_BIAS, 0, NONE);
    stageOut(dw, j0 * IN, dwp, units * IN);
    columnSums(db, dout, B, OUT, j0, j1);
  },

  // dout is (B, OUT), w is (OUT, IN), dx and reluMaskZ are (B, IN): A = dout, B = w.
  linearBackwardInput(dx, dout, w, B, IN, OUT, reluMaskZ) {
    const op = 'linearBackwardInput';
    checkDims(KERNEL, op, B, IN, OUT);
    need(op, 'dx', dx, B * IN); need(op, 'dout', dout, B * OUT); need(op, 'w', w, OUT * IN);
    if (reluMaskZ !== undefined) need(op, 'reluMaskZ', reluMaskZ, B * IN);
    stageBegin(B * OUT + OUT * IN + 2 * B * IN + 16);
    const doutp = stageIn(dout, B * OUT), wp = stageIn(w, OUT * IN);
    const ep = reluMaskZ === undefined ? 0 : stageIn(reluMaskZ, B * IN), dxp = stageSlot(B * IN);
    asm!.gemm(dxp, IN * 4, doutp, OUT * 4, 4, wp, IN * 4, B, IN, OUT, NO_BIAS, ep, reluMaskZ === undefined ? NONE : RELU_MASK);
    stageOut(dx, 0, dxp, B * IN);
  },

  // w is (OUT, IN), wt is (IN, OUT); units j in [j0, j1). 16 k's at a time across all the
  // units, so the 16 rows of wt being written (OUT floats apart, often a power of two that
  // crowds a few cache sets) stay in cache until they are full, as in matmul.wat. No
  // arithmetic, so it runs in place on the views, shared memory included.
  transposeUnits(wt, w, IN, OUT, j0, j1) {
    const op = 'transposeUnits';
    checkDims(KERNEL, op, 1, IN, OUT);
    checkUnits(KERNEL, op, j0, j1, OUT);
    need(op, 'wt', wt, IN * OUT); need(op, 'w', w, OUT * IN);
    for (let k0 = 0; k0 < IN; k0 += 16) {
      const kend = Math.min(k0 + 16, IN);
      for (let j = j0; j < j1; j++) {
        for (let k = k0, p = j * IN + k0, q = k0 * OUT + j; k < kend; k++, p++, q += OUT) wt[q] = w[p]!;
      }
    }
  },
};

/** db[j] = Σ_i dout[i, j] for j in [j0, j1), i in order: B·units additions, run in place. */
function columnSums(db: Float32Array, dout: Float32Array, B: number, OUT: number, j0: number, j1: number): void {
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
}
