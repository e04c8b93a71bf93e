// spawnTrainer(): training on a thread of its own through comlink gives the same bits
// as train() on the caller's thread, reports every epoch through a proxy callback, and
// cancel() stops it at a step boundary.

import { describe, expect, it } from 'vitest';
import { spawnTrainer } from '../src/remote/spawn.ts';
import { spirals } from '../src/data/synthetic.ts';
import { train } from '../src/api.ts';
import type { TrainOptions } from '../src/options/schema.ts';

const options: TrainOptions = {
  model: { layers: [{ units: 16, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
  data: spirals({ n: 300, noise: 0.05, seed: 3 }), split: { test: 0.2 }, epochs: 4, batchSize: 16, lr: 0.1, seed: 9, threads: 2,
};

describe('spawnTrainer', () => {
  it('trains off the main thread with per-epoch progress and the same bits as train()', async () => {
    const trainer = spawnTrainer();
    try {
      const epochs: number[] = [];
      const remote = await trainer.train(options, { onEpoch: (r) => epochs.push(r.epoch) });
      const local = await train(options);
      expect(epochs).toEqual([1, 2, 3, 4]);
      expect(Array.from(remote.model.params)).toEqual(Array.from(local.model.params));
      expect(remote.test).toEqual(local.test);
      expect(remote.position).toEqual({ epoch: 4, step: 0 });
      expect(remote.model.predictClasses(spirals({ n: 10, noise: 0, seed: 1 }).x, 10)).toEqual(
        local.model.predictClasses(spirals({ n: 10, noise: 0, seed: 1 }).x, 10),
      );
    } finally {
      await trainer.close();
    }
  });

  it('cancel() stops the run at a step boundary and train() resolves with the model so far', async () => {
    const trainer = spawnTrainer();
    try {
      const done = trainer.train({ ...options, epochs: 500, batchSize: 2 }, {
        onEpoch: (r) => {
          if (r.epoch === 1) void trainer.cancel();
        },
      });
      const r = await done;
      expect(r.stopReason).toBe('interrupted');
      expect(r.history.length).toBeGreaterThanOrEqual(1);
      expect(r.history.length).toBeLessThan(500);
    } finally {
      await trainer.close();
    }
  });
});
