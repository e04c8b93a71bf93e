// Hooks that throw and trainers left open: a throwing onProgress (it fires from a timer)
// rejects train() with its error like a throwing onEpoch, with every worker thread gone; and
// a spawnTrainer() whose train() settled — rejected or resolved — does not keep the process
// alive until close() (checked in child processes that never call close()).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Piscina } from 'piscina';
import { describe, expect, it } from 'vitest';
import { train } from '../src/api.ts';
import { spirals } from '../src/data/synthetic.ts';
import type { TrainOptions } from '../src/options/schema.ts';
import { REPO } from './helpers/cli.ts';

const options: TrainOptions = {
  model: { layers: [{ units: 16, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
  data: spirals({ n: 800, noise: 0.05, seed: 3 }), epochs: 200, batchSize: 8, lr: 0.05, seed: 9, threads: 2,
};

describe('hooks that throw', () => {
  for (const hook of ['onProgress', 'onEpoch'] as const) {
    it(`a throwing ${hook} rejects train() with its error, and the worker threads are gone`, async () => {
      let pool: Piscina | undefined;
      const boom = new Error(`${hook} failed`);
      const run = train(options, { onPool: (p) => (pool = p), [hook]: () => { throw boom; } });
      await expect(run).rejects.toBe(boom);
      expect(pool).toBeDefined();
      expect(pool!.threads).toHaveLength(0);
    });
  }
});

describe('spawnTrainer without close()', () => {
  it('a process whose spawnTrainer train() rejected, or resolved, exits by itself', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-hooks-'));
    try {
      const script = path.join(dir, 'left_open.mts');
      fs.writeFileSync(script, `
        import { spawnTrainer } from ${JSON.stringify(path.join(REPO, 'src/remote/spawn.ts'))};
        import { spirals } from ${JSON.stringify(path.join(REPO, 'src/data/synthetic.ts'))};
        const units = process.argv[2] === 'reject' ? 3 : 2;
        const trainer = spawnTrainer();
        try {
          const r = await trainer.train({ model: { layers: [{ units: 4, activation: 'tanh' }, { units, activation: 'softmax' }] },
            data: spirals({ n: 200, noise: 0.05, seed: 3 }), epochs: 2, batchSize: 16, lr: 0.1, threads: 2 }, { onEpoch: () => {} });
          console.log('resolved after ' + r.history.length + ' epochs');
        } catch (e) {
          console.log('rejected: ' + e.message.split('\\n')[0]);
        }
      `);
      for (const [mode, said] of [['reject', 'rejected: model.layers[1].units: expected 2 output units for data with 2 classes, found 3'], ['resolve', 'resolved after 2 epochs']]) {
        // Before the fix the thread held the process until killed: the 60 s limit is that kill.
        const run = spawnSync(process.execPath, ['--import', 'tsx', script, mode!], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
        expect(run.signal).toBeNull();
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        expect(run.stdout).toBe(`${said}\n`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 130_000);
});
