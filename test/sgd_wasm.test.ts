// The wasm SGD-family update against the JavaScript optimizer it stands in for: the same
// bits for sgd, momentum and Nesterov, with weight decay and a clipping scale, on odd
// lengths and unaligned ranges, and on values that stress rounding (huge, tiny, denormal,
// zero of both signs, NaN).

import { describe, expect, it } from 'vitest';
import { createWasmKernel } from '../src/kernels/wasm.ts';
import { applyUpdate } from '../src/optim/optimizers.ts';
import { resolveOptimizer } from '../src/options/parse.ts';
import { createRng } from '../src/rng.ts';

const N = 203;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function values(seed: number): Float32Array {
  const rng = createRng(seed);
  const special = [0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38, 1e-30, NaN, 1, -1];
  return Float32Array.from({ length: N }, (_, i) => (i % 17 === 3 ? special[i % special.length]! : (rng.uniform() * 2 - 1) * 10 ** (rng.int(7) - 3)));
}

describe('wasm sgdUpdate', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const kernel = createWasmKernel(memory);
  const view = (i: number) => new Float32Array(memory.buffer, 4096 * i, N);
  const cases = [
    { name: 'sgd', kind: 0 as const, opts: { name: 'sgd' as const } },
    { name: 'sgd with weight decay', kind: 0 as const, opts: { name: 'sgd' as const, weightDecay: 0.01 } },
    { name: 'momentum', kind: 1 as const, opts: { name: 'momentum' as const, momentum: 0.9 } },
    { name: 'momentum with weight decay', kind: 1 as const, opts: { name: 'momentum' as const, momentum: 0.5, weightDecay: 0.001 } },
    { name: 'nesterov', kind: 2 as const, opts: { name: 'nesterov' as const, momentum: 0.9, weightDecay: 0.003 } },
  ];
  for (const c of cases) {
    it(`${c.name}: the same bits as applyUpdate over several steps and uneven ranges`, () => {
      const cfg = resolveOptimizer(c.opts);
      const [pw, gw, bw] = [view(0), view(1), view(2)];
      pw.set(values(1));
      bw.set(values(3).map((v) => v * 0.1));
      const pj = pw.slice();
      const bj = bw.slice();
      for (let step = 1; step <= 4; step++) {
        gw.set(values(10 + step));
        const scale = step === 2 ? 0.37 : 1;
        // Ranges as the engine hands them out: starts anywhere, odd and even lengths.
        for (const [lo, hi] of [[0, 7], [7, 8], [8, 120], [120, 203]] as const) {
          kernel.sgdUpdate!(pw, gw, bw, lo, hi, 0.05, scale, cfg.weightDecay, cfg.momentum, c.kind);
          applyUpdate(cfg, pj, gw, [bj], lo, hi, 0.05, step, scale);
        }
        expect(bits(pw)).toEqual(bits(pj));
        if (c.kind > 0) expect(bits(bw)).toEqual(bits(bj));
      }
      // The run did move the weights (a no-op would also be "equal").
      expect(bits(pw)).not.toEqual(bits(Float32Array.from(values(1))));
    });
  }

  it('writes nothing outside [lo, hi)', () => {
    const [pw, gw, bw] = [view(0), view(1), view(2)];
    pw.fill(1);
    gw.fill(1);
    bw.fill(1);
    kernel.sgdUpdate!(pw, gw, bw, 5, 10, 0.5, 1, 0, 0.9, 1);
    expect(Array.from(pw.subarray(0, 5))).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(pw.subarray(10, 15))).toEqual([1, 1, 1, 1, 1]);
    // Momentum by hand: b = 0.9·1 + 1 = 1.9, p = 1 − 0.5·1.9 = 0.05 (each rounded to float32 on store).
    expect(Array.from(pw.subarray(5, 10))).toEqual(new Array(5).fill(Math.fround(1 - 0.5 * 1.9)));
    expect(Array.from(bw.subarray(4, 11))).toEqual([1, 1.9, 1.9, 1.9, 1.9, 1.9, 1].map(Math.fround));
  });
});
