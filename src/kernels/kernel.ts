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

export type FloatArray = Float32Array | Float64Array;

export interface Kernel<F extends FloatArray = Float32Array> {
  readonly name: string;
  /**
   * Forward: out = x · wᵀ + b, written (not accumulated).
   * x is (B, IN), wt is (IN, OUT) — the weights already transposed, kept in sync by the
   * caller — b is (OUT), out is (B, OUT).
   */
  linearForward(out: F, x: F, wt: F, b: F, B: number, IN: number, OUT: number): void;
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
   */
  linearBackwardInput(dx: F, dout: F, w: F, B: number, IN: number, OUT: number): void;
  /**
   * Refresh the transposed copy for units j in [j0, j1): wt[k, j] = w[j, k].
   * w is (OUT, IN), wt is (IN, OUT).
   */
  transposeUnits(wt: F, w: F, IN: number, OUT: number, j0: number, j1: number): void;
}
