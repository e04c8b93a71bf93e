// naive.ts — the float64 oracle: the textbook triple loops, each output element summed
// in a JS number (float64) and stored once. Works on Float32Array and Float64Array; it is
// what the fast kernels are tested against and what float64 gradient checks run on.
// Deliberately unblocked and unrounded: it shares no code or tricks with the kernels it checks.

import type { FloatArray, Kernel } from './kernel.ts';

export const naiveKernel: Kernel<FloatArray> = {
  name: 'naive',

  // x is (B, IN), wt is (IN, OUT), b is (OUT), out and reluOut are (B, OUT); units j in [j0, j1)
  linearForward(out, x, wt, b, B, IN, OUT, reluOut, j0 = 0, j1 = OUT) {
    for (let i = 0; i < B; i++) {
      for (let j = j0; j < j1; j++) {
        let s = 0;
        for (let k = 0; k < IN; k++) s += x[i * IN + k]! * wt[k * OUT + j]!;
        out[i * OUT + j] = s + b[j]!;
        if (reluOut !== undefined) {
          const z = out[i * OUT + j]!; // the stored z (rounded, if out is a Float32Array)
          reluOut[i * OUT + j] = z > 0 ? z : 0;
        }
      }
    }
  },

  // dout is (B, OUT), x is (B, IN), dw is (OUT, IN), db is (OUT); units j in [j0, j1)
  linearBackwardWeights(dw, db, dout, x, B, IN, OUT, j0, j1) {
    for (let j = j0; j < j1; j++) {
      for (let k = 0; k < IN; k++) {
        let s = 0;
        for (let i = 0; i < B; i++) s += dout[i * OUT + j]! * x[i * IN + k]!;
        dw[j * IN + k] = s;
      }
      let s = 0;
      for (let i = 0; i < B; i++) s += dout[i * OUT + j]!;
      db[j] = s;
    }
  },

  // dout is (B, OUT), w is (OUT, IN), dx and reluMaskZ are (B, IN)
  linearBackwardInput(dx, dout, w, B, IN, OUT, reluMaskZ) {
    for (let i = 0; i < B; i++) {
      for (let k = 0; k < IN; k++) {
        let s = 0;
        for (let j = 0; j < OUT; j++) s += dout[i * OUT + j]! * w[j * IN + k]!;
        dx[i * IN + k] = reluMaskZ === undefined || reluMaskZ[i * IN + k]! > 0 ? s : 0;
      }
    }
  },

  // w is (OUT, IN), wt is (IN, OUT); units j in [j0, j1)
  transposeUnits(wt, w, IN, OUT, j0, j1) {
    for (let j = j0; j < j1; j++) {
      for (let k = 0; k < IN; k++) wt[k * OUT + j] = w[j * IN + k]!;
    }
  },
};
