// The kernel contract: the three matrix products of a dense layer, as pure functions
// over typed arrays (row-major). Every implementation (the float64 naive oracle, the
// blocked TypeScript kernel, the WebAssembly SIMD kernel) has these signatures.
//
// Bit-for-bit contract for the float32 kernels (js and wasm): every output element is
// one sequential float32 sum over the reduction index in increasing order, starting
// from 0, each product rounded to float32 before it is added (no FMA):
//   acc = 0; for r = 0..R-1: acc = f32(acc + f32(a_r * b_r))
// and, for the forward pass only, the bias is added last: out = f32(acc + b[j]).
// Blocking and SIMD may change which elements are computed together, never the order
// of the sum inside one element. That is what makes js and wasm agree to the bit and
// makes results independent of how rows or units are split across threads.
//
// Fused ReLU (optional trailing arguments of linearForward and linearBackwardInput): an
// epilogue applied to each finished element, after the bias; the sums above are unchanged,
// so every call without the extra argument, and `out` in a fused forward, keep their bits.
// Both test `z > 0`, as the JS expression `z > 0 ? v : 0` does: NaN, −0 and +0 all give +0
// (a max(z, 0) would not: it keeps NaN, and an x86-style max such as wasm's pmax keeps −0).
// Denormals are not flushed: a positive denormal z passes.

export type FloatArray = Float32Array | Float64Array;

export interface Kernel<F extends FloatArray = Float32Array> {
  readonly name: string;
  /**
   * Forward: out = x · wᵀ + b, written (not accumulated).
   * x is (B, IN), wt is (IN, OUT) — the weights already transposed, kept in sync by the
   * caller — b is (OUT), out is (B, OUT).
   *
   * With `reluOut` ((B, OUT), like out), also writes reluOut[i, j] = z > 0 ? z : 0, z being
   * the final out[i, j]: out still receives z (the backward pass masks with it), with the
   * same bits as without reluOut. reluOut must not overlap x, wt or b; it may be `out`
   * itself (written last, so out then ends as relu(z) and z is gone), but not partly overlap it.
   *
   * With a unit range [j0, j1) (default: all OUT units), only those columns of out (and of
   * reluOut) are computed and written, each with the bits it has in a full call; the other
   * columns are not touched. A thread computes its share of a layer's units this way.
   */
  linearForward(out: F, x: F, wt: F, b: F, B: number, IN: number, OUT: number, reluOut?: F, j0?: number, j1?: number): void;
  /**
   * Weight gradients for output units j in [j0, j1), written (not accumulated):
   * dw[j, k] = Σ_i dout[i, j] · x[i, k] and db[j] = Σ_i dout[i, j], i in 0..B-1 in order.
   * dout is (B, OUT), x is (B, IN), dw is (OUT, IN), db is (OUT). Rows of dw and db
   * outside [j0, j1) are not touched.
   */
  linearBackwardWeights(dw: F, db: F, dout: F, x: F, B: number, IN: number, OUT: number, j0: number, j1: number): void;
  /**
   * Input gradient: dx = dout · w, written (not accumulated):
   * dx[i, k] = Σ_j dout[i, j] · w[j, k], j in 0..OUT-1 in order.
   * dout is (B, OUT), w is (OUT, IN), dx is (B, IN).
   *
   * With `reluMaskZ` ((B, IN), like dx: the pre-activations z of the ReLU layer below), writes
   * dx[i, k] = reluMaskZ[i, k] > 0 ? acc : 0 instead, acc being the sum above with unchanged
   * bits: the ReLU derivative applied in the epilogue, so dx is that layer's dZ. reluMaskZ
   * must not overlap dx (it is read while dx is written).
   */
  linearBackwardInput(dx: F, dout: F, w: F, B: number, IN: number, OUT: number, reluMaskZ?: F): void;
  /**
   * Refresh the transposed copy for units j in [j0, j1): wt[k, j] = w[j, k].
   * w is (OUT, IN), wt is (IN, OUT).
   */
  transposeUnits(wt: F, w: F, IN: number, OUT: number, j0: number, j1: number): void;
  /**
   * Optional fast path for the SGD family's update of params[lo, hi): bit for bit what
   * `applyUpdate` (optim/optimizers.ts) computes for kind 0 'sgd', 1 'momentum' and
   * 2 'nesterov' — every f32 promoted to f64, the same f64 operations in the same order,
   * one rounding on each store — so a run gives the same bits with or without it.
   * `buf` is the momentum buffer (unused for sgd).
   */
  sgdUpdate?(
    params: F, grads: F, buf: F | undefined, lo: number, hi: number,
    lr: number, gradScale: number, weightDecay: number, momentum: number, kind: 0 | 1 | 2,
  ): void;
}

/** Argument checks shared by the float32 kernels; `who` names the kernel in the message ("wasm kernel"). */
export function checkDims(who: string, op: string, B: number, IN: number, OUT: number): void {
  for (const [name, v] of [['B', B], ['IN', IN], ['OUT', OUT]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0x3fffffff) {
      throw new RangeError(`${who} ${op}: ${name} must be a non-negative integer, got ${String(v)}`);
    }
  }
}

export function checkUnits(who: string, op: string, j0: number, j1: number, OUT: number): void {
  if (!Number.isInteger(j0) || !Number.isInteger(j1) || j0 < 0 || j0 > j1 || j1 > OUT) {
    throw new RangeError(`${who} ${op}: units [j0, j1) must satisfy 0 <= j0 <= j1 <= OUT = ${OUT}, ` +
      `got [${String(j0)}, ${String(j1)})`);
  }
}
