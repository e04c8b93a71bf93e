// The classic worked example of backpropagation (a 2-2-2 sigmoid net, one input,
// squared error ½Σ(t − y)², one SGD step at learning rate 0.5), and the step-unit
// nets of the textbook: AND as one unit, XOR as two layers.

import { describe, expect, it } from 'vitest';
import { view } from '../src/model/layout.ts';
import type { ModelSpec } from '../src/model/spec.ts';
import { train } from '../src/api.ts';
import { classification, k64, regression, workspace64 } from './helpers/nets.ts';
import { forwardRows, refreshAllTransposed } from '../src/nn/mlp.ts';
import { Model } from '../src/model/model.ts';

const weights = [
  { w: [[0.15, 0.2], [0.25, 0.3]], b: [0.35, 0.35] },
  { w: [[0.4, 0.45], [0.5, 0.55]], b: [0.6, 0.6] },
];
const spec: ModelSpec = { inputs: 2, loss: 'mse', layers: [{ units: 2, activation: 'sigmoid' }, { units: 2, activation: 'sigmoid' }] };

describe('the 2-2-2 sigmoid worked example', () => {
  it('forward pass: outputs 0.75136507, 0.77292847 and loss 0.29837111', () => {
    const ws = workspace64(spec, 1, 'vector');
    weights.forEach((lw, l) => {
      view(ws.params, ws.layout.layers[l]!.w).set(lw.w.flat());
      view(ws.params, ws.layout.layers[l]!.b).set(lw.b);
    });
    ws.input.set([0.05, 0.1]);
    (ws.targets as { values: Float64Array }).values.set([0.01, 0.99]);
    refreshAllTransposed(ws, k64);
    forwardRows(ws, k64, 0, 1);
    expect(ws.a[1]![0]).toBeCloseTo(0.75136507, 8);
    expect(ws.a[1]![1]).toBeCloseTo(0.77292847, 8);
    const loss = 0.5 * ((0.01 - ws.a[1]![0]!) ** 2 + (0.99 - ws.a[1]![1]!) ** 2);
    expect(loss).toBeCloseTo(0.29837111, 8);
  });

  it('one SGD step at lr 0.5 gives the published w1..w8', async () => {
    const data = regression([[0.05, 0.1]], [[0.01, 0.99]]);
    const result = await train({
      model: { layers: spec.layers, loss: 'mse', weights }, data, epochs: 1, batchSize: 1, lr: 0.5, shuffle: false, threads: 1,
    });
    expect(result.history[0]!.loss).toBeCloseTo(0.29837111, 6);
    const m = result.model;
    const w0 = Array.from(view(m.params, m.layout.layers[0]!.w));
    const w1 = Array.from(view(m.params, m.layout.layers[1]!.w));
    const expectClose = (got: number[], want: number[]) => got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
    expectClose(w1, [0.35891648, 0.40866619, 0.51130127, 0.56137012]);
    expectClose(w0, [0.14978072, 0.19956143, 0.24975114, 0.29950229]);
  });
});

describe('step units with explicit weights', () => {
  const inputs = [[0, 0], [0, 1], [1, 0], [1, 1]];

  it('AND is one unit: weights 1, 1 firing when x1 + x2 ≥ 1.2', () => {
    const m = new Model({
      spec: { inputs: 2, loss: 'mse', layers: [{ units: 1, activation: 'step' }] },
      params: paddedParams([[1, 1], [-1.2]]), task: 'classification',
    });
    expect(Array.from(m.predict(Float32Array.from(inputs.flat()), 4))).toEqual([0, 0, 0, 1]);
  });

  it('XOR is two layers: hidden = AND, output fires when x1 + x2 − 2·hidden ≥ 0.6', async () => {
    // The hidden layer must see the inputs too: a 2-1 hidden layer then an output over
    // [hidden], which cannot see x. So the network is 2 → 3 (x1, x2 copies and AND) → 1.
    const m = await trainedXorByHand();
    expect(Array.from(m.predict(Float32Array.from(inputs.flat()), 4))).toEqual([0, 1, 1, 0]);
  });
});

/** Pack [W rows..., b] for a one-layer 2→1 net into the padded layout (W at 0, b at 16). */
function paddedParams(parts: number[][]): Float32Array {
  const p = new Float32Array(32);
  p.set(parts[0]!, 0);
  p.set(parts[1]!, 16);
  return p;
}

async function trainedXorByHand(): Promise<Model> {
  // Layer 0: three step units: x1 (fires when x1 ≥ 0.5), x2 (x2 ≥ 0.5), AND (x1 + x2 ≥ 1.2).
  // Layer 1: one step unit: x1 + x2 − 2·AND − 0.6 ≥ 0.
  const result = await train({
    model: {
      layers: [{ units: 3, activation: 'step' }, { units: 1, activation: 'step' }], loss: 'mse',
      weights: [
        { w: [[1, 0], [0, 1], [1, 1]], b: [-0.5, -0.5, -1.2] },
        { w: [[1, 1, -2]], b: [-0.6] },
      ],
    },
    data: classification([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0], 2),
    epochs: 1, batchSize: 4, lr: 1e-9, shuffle: false, threads: 1,
  });
  expect(result.history[0]!.accuracy).toBe(1);
  return result.model;
}
