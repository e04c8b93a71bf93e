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
   * Optional fast path for the optimizer update (optim/optimizers.ts, applyRule) of
   * params[lo, hi): bit for bit what applyRule computes for every rule kind — every float32
   * promoted to a double, the same double operations in the same order, one rounding to
   * float32 on each store. s0 and s1 are the rule's state buffers (undefined where it has fewer).
   */
  update?(rule: UpdateRule, params: F, grads: F, s0: F | undefined, s1: F | undefined, lo: number, hi: number): void;
  /**
   * `update` of the weights of units [j0, j1) of a layer — w, grads, s0, s1 and wt are that
   * tensor's views, w (OUT, IN) and wt (IN, OUT) — fused with the refresh of their Wᵀ
   * columns (transposeUnits), so each block's weights are written and transposed in one pass.
   */
  updateUnits?(
    rule: UpdateRule, w: F, grads: F, s0: F | undefined, s1: F | undefined, wt: F, IN: number, OUT: number, j0: number, j1: number,
  ): void;
  /**
   * SGD (UPDATE_SGD only, decay and clip scale included) on the weights of units [j0, j1) held in wt's columns — wt
   * (IN, OUT) is the copy updated, the (OUT, IN) tensor is neither read nor written — from
   * grads in (OUT, IN) layout: wt[k, j] gets what applyRule gives w[j, k], bit for bit. For a
   * layer whose (OUT, IN) copy is not needed during training (the first: it computes no dX),
   * this moves half the bytes of updateUnits; the caller brings w up to date before it is read.
   */
  sgdUnitsTransposed?(rule: UpdateRule, wt: F, grads: F, IN: number, OUT: number, j0: number, j1: number): void;
}

/**
 * An optimizer update as the kernels run it: the rule's kind and its constants (doubles), at
 * the U_* slots of `c` (optim/optimizers.ts, updateRule, builds it; applyRule is its
 * reference). AdamW is UPDATE_ADAM with no L2 term and a shrink factor.
 */
export interface UpdateRule {
  readonly kind: UpdateKind;
  readonly c: Float64Array;
}
export const UPDATE_SGD = 0, UPDATE_MOMENTUM = 1, UPDATE_NESTEROV = 2, UPDATE_ADAM = 3, UPDATE_RMSPROP = 4;
export type UpdateKind = typeof UPDATE_SGD | typeof UPDATE_MOMENTUM | typeof UPDATE_NESTEROV | typeof UPDATE_ADAM | typeof UPDATE_RMSPROP;
/** Slots of UpdateRule.c: lr, gradient scale, L2 weight decay, p's shrink factor, eps, then per kind μ / β1 / α (DECAY), 1−β1 / 1−α (GAIN), β2, 1−β2 and Adam's step lr/(1−β1^t) and 1/√(1−β2^t). */
export const U_LR = 0, U_SCALE = 1, U_L2 = 2, U_SHRINK = 3, U_EPS = 4, U_DECAY = 5, U_GAIN = 6, U_DECAY2 = 7, U_GAIN2 = 8,
  U_STEP = 9, U_RSQRT_BC2 = 10, UPDATE_CONSTANTS = 11;

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
