// Finite-difference gradient checks in float64: central differences of the batch-mean
// loss against the analytic backward pass, for every activation in a hidden layer and
// every loss at the output, and through a deeper net. Float64 because in float32 the
// truncation and rounding errors of a difference quotient swamp the comparison.

import { describe, expect, it } from 'vitest';
import type { ActivationName, LayerSpec, LossName, ModelSpec } from '../src/model/spec.ts';
import { createRng } from '../src/rng.ts';
import { gradient, meanLoss, workspace64 } from './helpers/nets.ts';
import type { FloatArray } from '../src/kernels/kernel.ts';
import type { Workspace } from '../src/nn/mlp.ts';

const ROWS = 5;

function setup(spec: ModelSpec, targetKind: 'class' | 'vector', seed: number): Workspace<FloatArray> {
  const ws = workspace64(spec, ROWS, targetKind);
  const rng = createRng(seed);
  for (const t of ws.layout.tensors) {
    for (let i = 0; i < t.length; i++) ws.params[t.offset + i] = (rng.uniform() * 2 - 1) * 0.8;
    // prelu slopes in (0.05, 0.5) so both branches are exercised with a useful slope.
    if (t.name.startsWith('a')) for (let i = 0; i < t.length; i++) ws.params[t.offset + i] = 0.05 + 0.45 * rng.uniform();
  }
  for (let i = 0; i < ROWS * spec.inputs; i++) ws.input[i] = rng.uniform() * 2 - 1;
  const out = spec.layers[spec.layers.length - 1]!.units;
  const t = ws.targets;
  if (t.kind === 'class') for (let r = 0; r < ROWS; r++) t.labels[r] = out === 1 ? r % 2 : r % out;
  else for (let i = 0; i < ROWS * out; i++) t.values[i] = spec.layers[spec.layers.length - 1]!.activation === 'sigmoid' ? rng.uniform() : rng.uniform() * 2 - 1;
  return ws;
}

/** Largest relative error between analytic and central-difference gradients over every parameter. */
function check(spec: ModelSpec, targetKind: 'class' | 'vector', seed = 7): { worst: number; checked: number } {
  const ws = setup(spec, targetKind, seed);
  gradient(ws, ROWS);
  const analytic = Float64Array.from(ws.grads);
  const eps = 1e-6;
  let worst = 0;
  let checked = 0;
  for (const t of ws.layout.tensors) {
    for (let i = t.offset; i < t.offset + t.length; i++) {
      const keep = ws.params[i]!;
      ws.params[i] = keep + eps;
      const up = meanLoss(ws, ROWS);
      ws.params[i] = keep - eps;
      const down = meanLoss(ws, ROWS);
      ws.params[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const err = Math.abs(numeric - analytic[i]!) / Math.max(1e-7, Math.abs(numeric) + Math.abs(analytic[i]!));
      if (Math.abs(numeric - analytic[i]!) > 1e-9) worst = Math.max(worst, err);
      checked++;
    }
  }
  return { worst, checked };
}

const HIDDEN: ActivationName[] = ['identity', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'prelu', 'elu'];
const OUTPUTS: { loss: LossName; activation: ActivationName; units: number; targets: 'class' | 'vector' }[] = [
  { loss: 'mse', activation: 'identity', units: 3, targets: 'vector' },
  { loss: 'mse', activation: 'sigmoid', units: 3, targets: 'vector' },
  { loss: 'mse', activation: 'tanh', units: 3, targets: 'vector' },
  { loss: 'mse', activation: 'relu', units: 3, targets: 'vector' },
  { loss: 'mse', activation: 'leaky_relu', units: 3, targets: 'vector' },
  { loss: 'mse', activation: 'prelu', units: 3, targets: 'vector' },
  { loss: 'mse', activation: 'elu', units: 3, targets: 'vector' },
  { loss: 'mse', activation: 'softmax', units: 3, targets: 'class' },
  { loss: 'mse', activation: 'prelu', units: 1, targets: 'class' },
  { loss: 'mse', activation: 'prelu', units: 3, targets: 'class' },
  { loss: 'bce', activation: 'sigmoid', units: 1, targets: 'class' },
  { loss: 'bce', activation: 'sigmoid', units: 3, targets: 'vector' },
  { loss: 'cross_entropy', activation: 'softmax', units: 3, targets: 'class' },
];

describe('finite-difference gradient checks (float64, central differences)', () => {
  for (const hidden of HIDDEN) {
    for (const out of OUTPUTS) {
      it(`${hidden} hidden layer → ${out.units} ${out.activation} unit(s) with ${out.loss} on ${out.targets} targets`, () => {
        const layers: LayerSpec[] = [{ units: 4, activation: hidden }, { units: out.units, activation: out.activation }];
        const { worst, checked } = check({ inputs: 3, loss: out.loss, layers }, out.targets);
        expect(checked).toBe(3 * 4 + 4 + (hidden === 'prelu' ? 4 : 0) + 4 * out.units + out.units + (out.activation === 'prelu' ? out.units : 0));
        expect(worst).toBeLessThan(1e-5);
      });
    }
  }

  it('through a four-layer net of mixed activations', () => {
    const layers: LayerSpec[] = [
      { units: 6, activation: 'tanh' }, { units: 5, activation: 'prelu' }, { units: 4, activation: 'elu', alpha: 0.7 },
      { units: 3, activation: 'softmax' },
    ];
    const { worst } = check({ inputs: 4, loss: 'cross_entropy', layers }, 'class', 11);
    expect(worst).toBeLessThan(1e-5);
  });

  it('step and sign units pass zero gradient, matching their flat finite differences', () => {
    for (const act of ['step', 'sign'] as const) {
      const spec: ModelSpec = { inputs: 3, loss: 'mse', layers: [{ units: 4, activation: act }, { units: 2, activation: 'identity' }] };
      const ws = setup(spec, 'vector', 3);
      gradient(ws, ROWS);
      const w0 = ws.layout.layers[0]!.w;
      for (let i = w0.offset; i < w0.offset + w0.length; i++) expect(ws.grads[i]).toBe(0);
      const { worst } = check(spec, 'vector', 3);
      expect(worst).toBeLessThan(1e-5);
    }
  });
});
