// Training behaviour on small problems: XOR learned by a 2-2-1 net, the perceptron and
// Adaline rules, batch sizes 1 / K / full, the stopping rules and early stopping with
// the best weights restored, determinism pinned to literal losses, and per-layer
// gradient norms that show a deep sigmoid net's vanishing gradients.

import { describe, expect, it } from 'vitest';
import { andDataset, sine, spirals, xorDataset } from '../src/data/synthetic.ts';
import { view } from '../src/model/layout.ts';
import { train } from '../src/api.ts';
import { classification } from './helpers/nets.ts';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('classic problems', () => {
  for (const activation of ['sigmoid', 'tanh'] as const) {
    it(`a 2-2-1 ${activation} net learns XOR to 100%`, async () => {
      const r = await train({
        model: { layers: [{ units: 2, activation }, { units: 1, activation }], loss: 'mse' },
        data: xorDataset(), epochs: 2000, batchSize: 4, lr: activation === 'sigmoid' ? 2 : 0.5, seed: 1, threads: 1,
        optimizer: { name: 'momentum', momentum: 0.9 }, stop: { lossBelow: 0.01 },
      });
      expect(r.stopReason).toBe('loss_below');
      expect(Array.from(r.model.predictClasses(xorDataset().x, 4))).toEqual([0, 1, 1, 0]);
    });
  }

  it('the perceptron rule learns AND with one step unit: w ← w + η(t − y)x', async () => {
    const r = await train({
      model: { layers: [{ units: 1, activation: 'step', init: 'zeros' }], loss: 'mse' },
      data: andDataset(), rule: 'perceptron', epochs: 50, batchSize: 1, lr: 0.1, shuffle: false, threads: 1, stop: { lossBelow: 1e-9 },
    });
    expect(r.history.at(-1)!.accuracy).toBe(1);
    expect(Array.from(r.model.predictClasses(andDataset().x, 4))).toEqual([0, 0, 0, 1]);
    // Worked by hand from zero weights, rows in order (0,0) (0,1) (1,0) (1,1), η = 0.1,
    // step(0) = 1: epoch 1 ends at w = (0.1, 0.1), b = −0.1 after four updates, …
    // the rule stops changing once every row is right; the final weights separate AND.
    const w = Array.from(view(r.model.params, r.model.layout.layers[0]!.w));
    const b = view(r.model.params, r.model.layout.layers[0]!.b)[0]!;
    expect(w[0]! + b).toBeLessThan(0);
    expect(w[1]! + b).toBeLessThan(0);
    expect(w[0]! + w[1]! + b).toBeGreaterThanOrEqual(0);
    expect(b).toBeLessThan(0);
  });

  it('the perceptron rule makes exactly the textbook updates on the first epoch', async () => {
    const r = await train({
      model: { layers: [{ units: 1, activation: 'step', init: 'zeros' }], loss: 'mse' },
      data: andDataset(), rule: 'perceptron', epochs: 1, batchSize: 1, lr: 0.1, shuffle: false, threads: 1,
    });
    // Row order of andDataset is (0,0) (0,1) (1,0) (1,1) with targets 0 0 0 1.
    // (0,0): y = step(0) = 1, t = 0 → b = −0.1.  (0,1): z = −0.1 → y = 0, right.
    // (1,0): z = −0.1 → right.  (1,1): z = −0.1 → y = 0, t = 1 → w = (0.1, 0.1), b = 0.
    expect(Array.from(andDataset().x)).toEqual([0, 0, 0, 1, 1, 0, 1, 1]);
    expect(Array.from(view(r.model.params, r.model.layout.layers[0]!.w))).toEqual([Math.fround(0.1), Math.fround(0.1)]);
    // b = f32(f32(0 − 0.1) + 0.1): float32 rounding leaves −1.49e−9, not 0.
    expect(view(r.model.params, r.model.layout.layers[0]!.b)[0]).toBe(Math.fround(Math.fround(-0.1) + 0.1));
  });

  it('the Adaline (LMS) rule fits a line: converges to the least-squares weights', async () => {
    // y = 2·x1 − 3·x2 + 0.5 exactly; LMS on the linear output must find it.
    const xs = [[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.2], [0.3, 0.9]];
    const ys = xs.map(([a, b]) => [2 * a! - 3 * b! + 0.5]);
    const r = await train({
      model: { layers: [{ units: 1, activation: 'identity', init: 'zeros' }], loss: 'mse' },
      data: { task: 'regression', n: 6, features: 2, x: Float32Array.from(xs.flat()), y: Float32Array.from(ys.flat()), targets: 1 },
      rule: 'adaline', epochs: 400, batchSize: 1, lr: 0.2, shuffle: false, threads: 1,
    });
    const w = view(r.model.params, r.model.layout.layers[0]!.w);
    expect(w[0]).toBeCloseTo(2, 3);
    expect(w[1]).toBeCloseTo(-3, 3);
    expect(view(r.model.params, r.model.layout.layers[0]!.b)[0]).toBeCloseTo(0.5, 3);
  });
});

describe('training options', () => {
  const data = spirals({ n: 200, noise: 0.05, seed: 2 });
  const model = { layers: [{ units: 12, activation: 'tanh' as const }, { units: 2, activation: 'softmax' as const }] };

  it('same seed ⇒ bitwise-equal weights; the first 10 epoch losses are pinned', async () => {
    const run = () => train({ model, data, epochs: 10, batchSize: 20, lr: 0.1, seed: 7, threads: 1 });
    const a = await run();
    const b = await run();
    expect(bits(a.model.params)).toEqual(bits(b.model.params));
    expect(a.history.map((h) => Number(h.loss.toPrecision(10)))).toEqual(PINNED_LOSSES);
  });

  it('batch size 1, K and the whole set give the expected number of steps', async () => {
    for (const [batchSize, steps] of [[1, 200], [64, 4], ['full', 1]] as const) {
      const r = await train({ model, data, epochs: 1, batchSize, lr: 0.05, threads: 1 });
      expect(r.history[0]!.step).toBe(steps);
    }
  });

  it('shuffle off keeps the data order, so the result differs from a shuffled run but is repeatable', async () => {
    const off1 = await train({ model, data, epochs: 2, batchSize: 10, lr: 0.1, shuffle: false, threads: 1 });
    const off2 = await train({ model, data, epochs: 2, batchSize: 10, lr: 0.1, shuffle: false, threads: 2 });
    const on = await train({ model, data, epochs: 2, batchSize: 10, lr: 0.1, threads: 1 });
    expect(bits(off1.model.params)).toEqual(bits(off2.model.params));
    expect(bits(off1.model.params)).not.toEqual(bits(on.model.params));
  });

  it('inverse-time decay α_k = c1/(k + c2) per step is the rate of the last step', async () => {
    const r = await train({ model, data, epochs: 2, batchSize: 50, lr: 1, threads: 1, schedule: { type: 'inverse_time', c1: 0.5, c2: 2 } });
    // 4 steps per epoch; the last step of epoch 2 is k = 7.
    expect(r.history[1]!.lr).toBeCloseTo(0.5 / (7 + 2), 12);
    expect(r.history[0]!.lr).toBeCloseTo(0.5 / (3 + 2), 12);
  });

  it('stops when the loss stops improving by minDelta for patience epochs', async () => {
    const r = await train({ model, data, epochs: 200, batchSize: 200, lr: 1e-6, threads: 1, stop: { patience: 3, minDelta: 1e-3 } });
    expect(r.stopReason).toBe('no_improvement');
    // Epoch 1 is the best; epochs 2, 3 and 4 fail to beat it by minDelta.
    expect(r.history.length).toBe(4);
  });

  it('early stopping on validation loss restores the best weights', async () => {
    const noisy = spirals({ n: 120, noise: 0.6, seed: 4 });
    const r = await train({
      model: { layers: [{ units: 64, activation: 'relu' }, { units: 2, activation: 'softmax' }] }, data: noisy,
      split: { validation: 0.3 }, epochs: 300, batchSize: 8, lr: 0.2, threads: 1, earlyStopping: { patience: 5 },
    });
    expect(r.stopReason).toBe('early_stopping');
    const bestLoss = Math.min(...r.history.map((h) => h.valLoss!));
    expect(r.bestEpoch).toBe(r.history.findIndex((h) => h.valLoss === bestLoss) + 1);
    expect(r.history.length).toBe(r.bestEpoch! + 5);
    expect(r.validation!.loss).toBe(bestLoss);
  });

  it('regression reports MSE, MAE and R² on the test split', async () => {
    const r = await train({
      model: { layers: [{ units: 24, activation: 'tanh' }, { units: 1, activation: 'identity' }] },
      data: sine({ n: 400, noise: 0.02, seed: 1 }), split: { test: 0.25 }, epochs: 300, batchSize: 16, lr: 0.05, threads: 1,
      optimizer: { name: 'adam' }, schedule: { type: 'constant' },
    });
    expect(r.test!.r2!).toBeGreaterThan(0.98);
    expect(r.test!.mse!).toBeCloseTo(2 * r.test!.loss, 10);
    expect(r.test!.mae!).toBeLessThan(0.1);
  });

  it('per-layer gradient norms show a deep sigmoid net\'s vanishing gradient', async () => {
    const layers = Array.from({ length: 8 }, () => ({ units: 16, activation: 'sigmoid' as const }));
    const r = await train({
      model: { layers: [...layers, { units: 2, activation: 'softmax' }] }, data, epochs: 1, batchSize: 50, lr: 0.01, threads: 2,
    });
    const norms = r.history[0]!.gradNorms!;
    expect(norms.length).toBe(9);
    expect(norms[0]! * 1000).toBeLessThan(norms[8]!);
  });

  it('classification with one sigmoid unit and bce', async () => {
    const xs = [[0, 0], [0, 1], [1, 0], [1, 1], [0.1, 0.2], [0.9, 0.8]];
    const r = await train({
      model: { layers: [{ units: 1, activation: 'sigmoid' }] }, data: classification(xs, [0, 0, 0, 1, 0, 1], 2),
      epochs: 500, batchSize: 6, lr: 1, threads: 1,
    });
    expect(r.options.optimizer.name).toBe('sgd');
    expect(r.history.at(-1)!.accuracy).toBe(1);
  });
});

// Regenerate only in a commit that says why the numbers changed.
const PINNED_LOSSES = [
  0.6695587405, 0.651801516, 0.6420536802, 0.6351570092, 0.6299915048, 0.626077009, 0.6243122428, 0.6245724079,
  0.6235777441, 0.6250960053,
];
