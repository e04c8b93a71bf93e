// The wasm optimizer update (matmul.wat's update and updateUnits, via wasm.ts) against the
// TypeScript rule it stands in for (optim/optimizers.ts, applyRule): the same bits for every
// kind — sgd, momentum, Nesterov, Adam, AdamW, RMSprop — with weight decay and a clipping
// scale, over several steps, on ranges of any length and start (the four-float body, the
// pair and the single-float tails),
// on values that stress rounding (huge, tiny, denormal, zero of both signs); and the fused
// weights-plus-Wᵀ form against applyRule followed by the js kernel's transposeUnits.

import { describe, expect, it } from 'vitest';
import { jsKernel } from '../src/kernels/blocked.ts';
import { createWasmKernel } from '../src/kernels/wasm.ts';
import { resolveOptimizer } from '../src/options/parse.ts';
import type { OptimizerOptions } from '../src/options/schema.ts';
import { applyRule, stateBuffers, updateRule } from '../src/optim/optimizers.ts';
import { createRng } from '../src/rng.ts';

const N = 203;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Random values over 7 decades with specials mixed in (NaN left out: its payload is not part of the contract). */
function values(seed: number, n = N): Float32Array {
  const rng = createRng(seed);
  const special = [0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38, 1e-30, 1, -1];
  return Float32Array.from({ length: n }, (_, i) => (i % 17 === 3 ? special[i % special.length]! : (rng.uniform() * 2 - 1) * 10 ** (rng.int(7) - 3)));
}

const CASES: { name: string; opts: OptimizerOptions }[] = [
  { name: 'sgd', opts: { name: 'sgd' } },
  { name: 'sgd with weight decay', opts: { name: 'sgd', weightDecay: 0.01 } },
  { name: 'momentum', opts: { name: 'momentum', momentum: 0.9 } },
  { name: 'momentum with weight decay', opts: { name: 'momentum', momentum: 0.5, weightDecay: 0.001 } },
  { name: 'nesterov', opts: { name: 'nesterov', momentum: 0.9, weightDecay: 0.003 } },
  { name: 'adam', opts: { name: 'adam', weightDecay: 0.01 } },
  { name: 'adamw', opts: { name: 'adamw', beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 } },
  { name: 'rmsprop', opts: { name: 'rmsprop', alpha: 0.9, eps: 1e-8, weightDecay: 0.01 } },
];

describe('wasm update = applyRule, bit for bit', () => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const kernel = createWasmKernel(memory);
  const view = (i: number, n = N) => new Float32Array(memory.buffer, 16384 * i, n);

  for (const c of CASES) {
    it(`${c.name}: over several steps and uneven ranges`, () => {
      const cfg = resolveOptimizer(c.opts);
      const count = stateBuffers(cfg);
      const [pw, gw, s0w, s1w] = [view(0), view(1), view(2), view(3)];
      pw.set(values(1));
      s0w.set(values(3).map((v) => v * 0.1));
      s1w.set(values(4).map((v) => Math.abs(v) * 0.01));
      const pj = pw.slice(), s0j = s0w.slice(), s1j = s1w.slice();
      for (let step = 1; step <= 4; step++) {
        gw.set(values(10 + step));
        const rule = updateRule(cfg, 0.05, step, step === 2 ? 0.37 : 1);
        // Ranges as the engine hands them out: starts anywhere, lengths with every remainder mod 4.
        for (const [lo, hi] of [[0, 7], [7, 8], [8, 120], [120, 122], [122, 203]] as const) {
          kernel.update!(rule, pw, gw, count > 0 ? s0w : undefined, count > 1 ? s1w : undefined, lo, hi);
          applyRule(rule, pj, gw, count > 0 ? s0j : undefined, count > 1 ? s1j : undefined, lo, hi);
        }
        expect(bits(pw)).toEqual(bits(pj));
        if (count > 0) expect(bits(s0w)).toEqual(bits(s0j));
        if (count > 1) expect(bits(s1w)).toEqual(bits(s1j));
      }
      // The run did move the weights (a no-op would also be "equal").
      expect(bits(pw)).not.toEqual(bits(values(1)));
    });
  }

  it('writes nothing outside [lo, hi)', () => {
    const [pw, gw, bw] = [view(0), view(1), view(2)];
    pw.fill(1);
    gw.fill(1);
    bw.fill(1);
    kernel.update!(updateRule(resolveOptimizer({ name: 'momentum', momentum: 0.9 }), 0.5, 1, 1), pw, gw, bw, undefined, 5, 10);
    expect(Array.from(pw.subarray(0, 5))).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(pw.subarray(10, 15))).toEqual([1, 1, 1, 1, 1]);
    // Momentum by hand: b = 0.9·1 + 1 = 1.9, p = 1 − 0.5·1.9 = 0.05 (each rounded to float32 on store).
    expect(Array.from(pw.subarray(5, 10))).toEqual(new Array(5).fill(Math.fround(1 - 0.5 * 1.9)));
    expect(Array.from(bw.subarray(4, 11))).toEqual([1, 1.9, 1.9, 1.9, 1.9, 1.9, 1].map(Math.fround));
  });

  it('rejects a rule without its state buffers', () => {
    const rule = updateRule(resolveOptimizer({ name: 'adam' }), 0.01, 1, 1);
    expect(() => kernel.update!(rule, view(0), view(1), view(2), undefined, 0, 8)).toThrow(/update kind 3 needs 2 state buffers/);
  });
});

describe('wasm updateUnits = applyRule on the rows, then transposeUnits', () => {
  // A 13-input, 22-unit layer: IN and the unit ranges leave every remainder mod 4.
  const IN = 13, OUT = 22, n = IN * OUT;
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const kernel = createWasmKernel(memory);
  const view = (i: number) => new Float32Array(memory.buffer, 16384 * i, n);

  for (const c of CASES) {
    it(`${c.name}: weights, state and Wᵀ columns of unit blocks`, () => {
      const cfg = resolveOptimizer(c.opts);
      const count = stateBuffers(cfg);
      const [w, g, s0, s1, wt] = [view(0), view(1), view(2), view(3), view(4)];
      w.set(values(21, n));
      s0.set(values(22, n).map((v) => v * 0.1));
      s1.set(values(23, n).map((v) => Math.abs(v) * 0.01));
      jsKernel.transposeUnits(wt, w, IN, OUT, 0, OUT);
      const wj = w.slice(), s0j = s0.slice(), s1j = s1.slice(), wtj = wt.slice();
      for (let step = 1; step <= 3; step++) {
        g.set(values(30 + step, n));
        const rule = updateRule(cfg, 0.02, step, step === 3 ? 0.5 : 1);
        for (const [j0, j1] of [[0, 5], [5, 6], [6, 16], [16, 22]] as const) {
          kernel.updateUnits!(rule, w, g, count > 0 ? s0 : undefined, count > 1 ? s1 : undefined, wt, IN, OUT, j0, j1);
          applyRule(rule, wj, g, count > 0 ? s0j : undefined, count > 1 ? s1j : undefined, j0 * IN, j1 * IN);
          jsKernel.transposeUnits(wtj, wj, IN, OUT, j0, j1);
        }
        expect(bits(w)).toEqual(bits(wj));
        expect(bits(wt)).toEqual(bits(wtj));
        if (count > 0) expect(bits(s0)).toEqual(bits(s0j));
        if (count > 1) expect(bits(s1)).toEqual(bits(s1j));
      }
      expect(bits(w)).not.toEqual(bits(values(21, n)));
      // Wᵀ really is the transpose of the updated weights.
      for (let j = 0; j < OUT; j++) for (let k = 0; k < IN; k++) expect(Object.is(wt[k * OUT + j], w[j * IN + k])).toBe(true);
    });
  }
});

describe('wasm sgdUnitsTransposed = applyRule on the rows, then transposeUnits, writing only Wᵀ', () => {
  // IN = 37 and OUT = 22 leave every remainder of the 4 × 4 tiles, in inputs and in units; the
  // 784 × 40 layer runs the 16-input blocks as MNIST's first layer does.
  for (const [IN, OUT, ranges] of [[37, 22, [[0, 5], [5, 6], [6, 16], [16, 22]]], [784, 40, [[0, 16], [16, 32], [32, 40]]]] as const) {
    const n = IN * OUT;
    const memory = new WebAssembly.Memory({ initial: 8, maximum: 8, shared: true });
    const kernel = createWasmKernel(memory);
    const view = (i: number) => new Float32Array(memory.buffer, 4 * n * i, n);
    for (const c of CASES.filter((k) => k.opts.name === 'sgd')) {
      it(`${c.name}, ${IN} × ${OUT}: Wᵀ as the fused update leaves it, the (OUT, IN) weights untouched`, () => {
        const cfg = resolveOptimizer(c.opts);
        const [w, g, wt] = [view(0), view(1), view(2)];
        w.set(values(41, n));
        jsKernel.transposeUnits(wt, w, IN, OUT, 0, OUT);
        const before = w.slice(), wj = w.slice(), wtj = wt.slice(), wtBefore = wt.slice();
        for (let step = 1; step <= 3; step++) {
          g.set(values(50 + step, n));
          // Scale 1 and no decay take the plain p − lr·g path; 0.5 the full one.
          const rule = updateRule(cfg, 0.02, step, step === 3 ? 0.5 : 1);
          for (const [j0, j1] of ranges) {
            kernel.sgdUnitsTransposed!(rule, wt, g, IN, OUT, j0, j1);
            applyRule(rule, wj, g, undefined, undefined, j0 * IN, j1 * IN);
            jsKernel.transposeUnits(wtj, wj, IN, OUT, j0, j1);
          }
          expect(bits(wt)).toEqual(bits(wtj));
        }
        expect(bits(w)).toEqual(bits(before));
        expect(bits(wt)).not.toEqual(bits(wtBefore)); // the updates moved Wᵀ: the equalities above compare real steps
      });
    }
    it(`${IN} × ${OUT}: refuses a rule that is not SGD`, () => {
      const rule = updateRule(resolveOptimizer({ name: 'momentum', momentum: 0.9 }), 0.1, 1, 1);
      expect(() => kernel.sgdUnitsTransposed!(rule, view(2), view(1), IN, OUT, 0, OUT)).toThrow(/SGD only \(update kind 0\)/);
    });
  }
});
