// Layers against the float64 oracle: a whole forward and backward pass of an MLP with
// awkward widths (not multiples of any tile), run in float32 through the TypeScript and
// WebAssembly kernels, against the same pass in float64 through the naive kernel. Every
// activation, every delta and every parameter gradient must agree to float32 accuracy;
// js and wasm must agree to the bit.

import { describe, expect, it } from 'vitest';
import { jsKernel } from '../src/kernels/blocked.ts';
import type { FloatArray, Kernel } from '../src/kernels/kernel.ts';
import { createWasmKernel } from '../src/kernels/wasm.ts';
import { paramLayout } from '../src/model/layout.ts';
import type { ModelSpec } from '../src/model/spec.ts';
import { Arena } from '../src/nn/arena.ts';
import { allocateWorkspace, backwardRows, forwardRows, paramGradsUnits, refreshAllTransposed, type Workspace } from '../src/nn/mlp.ts';
import { createRng } from '../src/rng.ts';
import { k64 } from './helpers/nets.ts';

const spec: ModelSpec = {
  inputs: 7, loss: 'cross_entropy',
  layers: [
    { units: 13, activation: 'relu' }, { units: 5, activation: 'tanh' }, { units: 9, activation: 'prelu' },
    { units: 3, activation: 'softmax' },
  ],
};
const ROWS = 11;

function fill(ws: Workspace<FloatArray>, seed: number): void {
  const rng = createRng(seed);
  for (let i = 0; i < ws.params.length; i++) ws.params[i] = Math.fround(rng.uniform() * 2 - 1);
  for (let i = 0; i < ROWS * spec.inputs; i++) ws.input[i] = Math.fround(rng.uniform() * 2 - 1);
  const t = ws.targets;
  if (t.kind === 'class') for (let r = 0; r < ROWS; r++) t.labels[r] = r % 3;
}

function run(ws: Workspace<FloatArray>, kernel: Kernel<FloatArray>): void {
  refreshAllTransposed(ws, kernel);
  forwardRows(ws, kernel, 0, ROWS);
  backwardRows(ws, kernel, 0, ROWS, ROWS);
  ws.layout.layers.forEach((s, l) => paramGradsUnits(ws, kernel, ROWS, l, 0, s.units));
}

function maxRelErr(got: FloatArray, want: FloatArray): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(scale, 1e-30));
  return worst;
}

describe('MLP layers in float32 against the float64 oracle', () => {
  const layout = paramLayout(spec);
  const oracle = allocateWorkspace(new Arena(undefined), spec, layout, ROWS, 'class', 'backprop', true);
  fill(oracle, 5);
  run(oracle, k64);

  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const kernels: [string, () => { ws: Workspace<FloatArray>; kernel: Kernel<FloatArray> }][] = [
    ['js', () => ({ ws: allocateWorkspace(new Arena(undefined), spec, layout, ROWS, 'class'), kernel: jsKernel as unknown as Kernel<FloatArray> })],
    ['wasm', () => ({ ws: allocateWorkspace(new Arena(memory.buffer), spec, layout, ROWS, 'class'), kernel: createWasmKernel(memory) as unknown as Kernel<FloatArray> })],
  ];
  const results: Workspace<FloatArray>[] = [];
  for (const [name, make] of kernels) {
    it(`${name}: activations, deltas and gradients within float32 accuracy`, () => {
      const { ws, kernel } = make();
      fill(ws, 5);
      run(ws, kernel);
      results.push(ws);
      spec.layers.forEach((_, l) => {
        expect(maxRelErr(ws.z[l]!, oracle.z[l]!), `z${l}`).toBeLessThan(1e-5);
        expect(maxRelErr(ws.a[l]!, oracle.a[l]!), `a${l}`).toBeLessThan(1e-5);
        expect(maxRelErr(ws.delta[l]!, oracle.delta[l]!), `delta${l}`).toBeLessThan(1e-4);
      });
      for (const t of layout.tensors) {
        const g = ws.grads.subarray(t.offset, t.offset + t.length);
        const want = oracle.grads.subarray(t.offset, t.offset + t.length);
        expect(maxRelErr(g, want), `grad ${t.name}`).toBeLessThan(1e-4);
      }
      for (let r = 0; r < ROWS; r++) expect(ws.rowLoss[r]).toBeCloseTo(oracle.rowLoss[r]!, 5);
    });
  }

  it('js and wasm give the same bits for every buffer', () => {
    const [js, wasm] = results;
    const bits = (a: FloatArray) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
    expect(bits(wasm!.grads)).toEqual(bits(js!.grads));
    spec.layers.forEach((_, l) => {
      expect(bits(wasm!.a[l]!)).toEqual(bits(js!.a[l]!));
      expect(bits(wasm!.delta[l]!)).toEqual(bits(js!.delta[l]!));
    });
  });
});
