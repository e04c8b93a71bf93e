// The data-parallel engine: threads 1..4 give bitwise-identical weights (batch sizes
// the thread count does not divide, a last partial batch every epoch), sharded
// evaluation equals the in-process numbers, a failing worker stops the run with its
// error and leaves no thread behind, divergence names the step, and a stop request
// ends the run at a step boundary.

import { describe, expect, it } from 'vitest';
import type { Piscina } from 'piscina';
import { blobs } from '../src/data/synthetic.ts';
import { splitDataset } from '../src/data/split.ts';
import { TrainingError } from '../src/errors.ts';
import { train } from '../src/api.ts';
import type { TrainResult } from '../src/train/train.ts';
import { paramLayout } from '../src/model/layout.ts';
import { assignBlocks, unitBlocks } from '../src/engine/partition.ts';
import type { TrainOptions } from '../src/options/schema.ts';
import { layoutShared } from '../src/engine/plan.ts';
import { kernelScratchBytes } from '../src/kernels/wasm.ts';
import { planMemory } from '../src/train/train.ts';

const data = blobs({ n: 203, classes: 3, features: 5, spread: 0.4, seed: 5 });

function options(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    model: { layers: [{ units: 13, activation: 'tanh' }, { units: 7, activation: 'prelu' }, { units: 3, activation: 'softmax' }] },
    data, split: { validation: 0.15, test: 0.15 }, epochs: 3, batchSize: 37, lr: 0.1, seed: 42, ...extra,
  };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('data-parallel engine', () => {
  it('threads 1, 2, 3 and 4 give bitwise-identical weights and metrics', async () => {
    const results: TrainResult[] = [];
    for (const threads of [1, 2, 3, 4]) results.push(await train(options({ threads })));
    const ref = results[0]!;
    // 203 rows → 142 train rows: batches of 37 leave a partial batch of 31 every epoch.
    expect(ref.history.length).toBe(3);
    for (const r of results.slice(1)) {
      expect(bits(r.model.params)).toEqual(bits(ref.model.params));
      expect(r.history.map((h) => [h.loss, h.accuracy, h.valLoss, h.valAccuracy])).toEqual(
        ref.history.map((h) => [h.loss, h.accuracy, h.valLoss, h.valAccuracy]),
      );
      expect(r.test).toEqual(ref.test);
    }
  });

  it('the same bits when the first layer is split across threads by units: ReLU (fused), sigmoid, and a softmax output', async () => {
    // 40 and 36 units are 3 blocks of 16: threads 2 and 3 each compute part of layer 0's
    // columns over all rows, and the activation (fused for ReLU, a pass over the thread's
    // rows otherwise; softmax needs a whole row) runs once every column is in.
    // The softmax-only net has 20 classes: blocks of 16 and 4 units.
    const twenty = blobs({ n: 260, classes: 20, features: 5, spread: 0.4, seed: 6 });
    const cases: Partial<TrainOptions>[] = [
      { model: { layers: [{ units: 40, activation: 'relu' }, { units: 3, activation: 'softmax' }] } },
      { model: { layers: [{ units: 36, activation: 'sigmoid' }, { units: 3, activation: 'softmax' }] } },
      { model: { layers: [{ units: 20, activation: 'softmax' }] }, data: twenty, split: { validation: 0.1, test: 0.1, stratify: false } },
    ];
    for (const c of cases) {
      const runs: TrainResult[] = [];
      for (const threads of [1, 2, 3]) runs.push(await train(options({ ...c, threads, epochs: 2 })));
      for (const r of runs.slice(1)) {
        expect(bits(r.model.params)).toEqual(bits(runs[0]!.model.params));
        expect(r.history.map((h) => h.loss)).toEqual(runs[0]!.history.map((h) => h.loss));
      }
    }
  });

  it('the same bits with the js and the wasm kernel, with Adam and clipping, and with Nesterov momentum', async () => {
    const adam = { optimizer: { name: 'adam', clipNorm: 0.5 } as const, lr: 0.01 };
    const js = await train(options({ threads: 2, kernel: 'js', ...adam }));
    const wasm = await train(options({ threads: 1, kernel: 'wasm', ...adam }));
    expect(bits(js.model.params)).toEqual(bits(wasm.model.params));
    const nesterov = { optimizer: { name: 'nesterov', momentum: 0.9, weightDecay: 1e-3 } as const };
    const jsN = await train(options({ threads: 3, kernel: 'js', ...nesterov }));
    const wasmN = await train(options({ threads: 2, kernel: 'wasm', ...nesterov }));
    expect(bits(jsN.model.params)).toEqual(bits(wasmN.model.params));
  });

  // The wasm kernel updates each block with its fused update (weights and Wᵀ in one call;
  // for plain SGD, layer 0 in Wᵀ only, its weights copied back at the end of each command);
  // the js kernel runs applyRule and transposeUnits. Every optimizer, with weight decay and
  // clipping, must give the same bits both ways and on 1 or 2 threads.
  for (const optimizer of [
    { name: 'sgd' },
    { name: 'sgd', weightDecay: 1e-3, clipNorm: 0.3 },
    { name: 'momentum', momentum: 0.8, clipNorm: 0.3 },
    { name: 'nesterov', momentum: 0.9, weightDecay: 1e-3, clipNorm: 0.3 },
    { name: 'adam', weightDecay: 1e-3, clipNorm: 0.3 },
    { name: 'adamw', weightDecay: 0.05 },
    { name: 'rmsprop', weightDecay: 1e-3, clipNorm: 0.3 },
  ] as const) {
    it(`${JSON.stringify(optimizer)}: js on 1 thread = wasm on 2 threads, bit for bit`, async () => {
      const o = { optimizer, lr: optimizer.name.startsWith('adam') || optimizer.name === 'rmsprop' ? 0.01 : 0.1, epochs: 2 };
      const js = await train(options({ threads: 1, kernel: 'js', ...o }));
      const wasm = await train(options({ threads: 2, kernel: 'wasm', ...o }));
      expect(bits(wasm.model.params)).toEqual(bits(js.model.params));
      expect(wasm.history.map((h) => h.loss)).toEqual(js.history.map((h) => h.loss));
      // Training moved the weights (equal bits of untouched weights would prove nothing).
      expect(js.history[1]!.loss).toBeLessThan(js.history[0]!.loss);
    });
  }

  it('a net whose dW packs doutᵀ into each rank\'s kernel scratch: wasm on 1, 2 and 3 threads = js, bit for bit', async () => {
    // 70 features and 24 units: layer 0's dW is one gemm packs (wasm.ts PACK_MIN_*) at batches
    // of 96; 202 training rows leave a last batch of 10, which runs unpacked.
    const wide = blobs({ n: 260, classes: 3, features: 70, spread: 0.5, seed: 8 });
    const o = { data: wide, split: { validation: 0.1, test: 0.1 }, model: { layers: [{ units: 24, activation: 'relu' }, { units: 3, activation: 'softmax' }] }, batchSize: 96, epochs: 2 } as const;
    expect(kernelScratchBytes(256, [{ inputs: 70, units: 24 }])).toBeGreaterThan(0);
    const views = layoutShared(undefined, planMemory({ inputs: 70, ...o.model, loss: 'cross_entropy' }, { batchSize: 96, rule: 'backprop', optimizer: { name: 'sgd' } as never }, 'classification', [202, 26, 26], 3)).views;
    expect(views.kernelScratch.length).toBe(3);
    const js = await train(options({ ...o, threads: 1, kernel: 'js' }));
    for (const threads of [1, 2, 3]) {
      const wasm = await train(options({ ...o, threads, kernel: 'wasm' }));
      expect(bits(wasm.model.params)).toEqual(bits(js.model.params));
    }
    expect(js.history[1]!.loss).toBeLessThan(js.history[0]!.loss);
  });

  it('sharded evaluation gives the numbers the trained model gives in-process', async () => {
    const r = await train(options({ threads: 3, scale: 'standard' }));
    // The same split train() made (splits draw from seed + 2), evaluated in-process by the Model.
    const split = splitDataset(data, { validation: 0.15, test: 0.15, seed: 44 });
    expect(r.model.evaluate(split.test!)).toEqual(r.test);
    expect(r.model.evaluate(split.validation!)).toEqual(r.validation);
    expect(r.test!.accuracy).toBeGreaterThan(0.6);
  });

  it('sharded evaluation of splits larger than one block is exact on every run (regression: eval row race)', async () => {
    const big = blobs({ n: 2000, classes: 3, features: 5, spread: 0.6, seed: 6 });
    const split = splitDataset(big, { validation: 0.35, test: 0.35, seed: 44 });
    for (let run = 0; run < 3; run++) {
      const r = await train({ ...options({ threads: 3, epochs: 1 }), data: big, split: { validation: 0.35, test: 0.35 } });
      // 700 rows per split: two full blocks of 256 and a last one of 188, split differently per thread count.
      expect(r.model.evaluate(split.test!)).toEqual(r.test);
      expect(r.model.evaluate(split.validation!)).toEqual(r.validation);
    }
  });

  it('a worker that throws ends the run with its error and step, and no thread remains', async () => {
    let pool: Piscina | undefined;
    // 4 steps an epoch: step 6 fails in epoch 2, two steps after epoch 1 ends.
    let epochOneEnded = 0;
    const error = await train(options({ threads: 3, epochs: 5 }), {
      failAt: { rank: 1, step: 6 }, onPool: (p) => (pool = p), onEpoch: (r) => r.epoch === 1 && (epochOneEnded = Date.now()),
    }).catch((e: unknown) => e);
    const ended = Date.now();
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as TrainingError).message).toMatch(/worker thread 1 failed at step 6: injected test failure in thread 1 at step 6/);
    expect((error as TrainingError).step).toBe(6);
    expect(epochOneEnded).toBeGreaterThan(0);
    // From the last epoch boundary (two tiny steps before the failure) to the rejection, pool torn down.
    expect(ended - epochOneEnded).toBeLessThan(1000);
    expect(pool).toBeDefined();
    expect(pool!.threads.length).toBe(0);
  });

  it('a loss that becomes NaN or infinite stops the run naming the step and suggesting a lower rate', async () => {
    const error = await train(options({ threads: 2, lr: 1e30, epochs: 5 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as Error).message).toMatch(/training diverged at step \d+ \(epoch \d\)/);
    expect((error as Error).message).toMatch(/hint: lower the learning rate \(now 1e\+30\)/);
  });

  it('an abort signal stops at a step boundary and returns the model trained so far', async () => {
    const controller = new AbortController();
    const r = await train(options({ threads: 2, epochs: 50, batchSize: 4 }), {
      signal: controller.signal,
      onEpoch: (rec) => {
        if (rec.epoch === 2) controller.abort();
      },
    });
    expect(r.stopReason).toBe('interrupted');
    expect(r.history.length).toBe(2);
  });
});

describe('work split', () => {
  it('every unit block goes to exactly one rank, each layer is shared out, and loads balance', () => {
    const layout = paramLayout({ inputs: 784, loss: 'cross_entropy', layers: [{ units: 256, activation: 'relu' }, { units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }] });
    const blocks = unitBlocks(layout);
    expect(blocks.map((b) => b.j1 - b.j0)).toEqual([...new Array(16).fill(16), ...new Array(8).fill(16), 10]);
    for (const threads of [1, 2, 3, 5, 16]) {
      const owned = assignBlocks(blocks, threads);
      expect(owned.flat().sort((a, b) => a - b)).toEqual(blocks.map((_, i) => i));
      const loads = owned.map((list) => list.reduce((s, b) => s + blocks[b]!.cost, 0));
      const maxBlock = Math.max(...blocks.map((b) => b.cost));
      expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(maxBlock);
      if (threads === 2) {
        // Both ranks get a share of the first and of the second layer.
        for (const list of owned) {
          expect(list.some((b) => blocks[b]!.layer === 0)).toBe(true);
          expect(list.some((b) => blocks[b]!.layer === 1)).toBe(true);
        }
      }
    }
  });
});
