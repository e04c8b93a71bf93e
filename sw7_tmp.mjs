import { spawnTrainer } from './dist/src/remote/spawn.js';
import { loadSweep, sweepRunData } from './dist/src/sweep/sweep.js';
import { runTrainOptions } from './dist/src/sweep/run_config.js';
const config = {
  data: { builtin: 'blobs', n: 50000, classes: 26, features: 16, spread: 1, seed: 1 },
  split: { validation: 0.1 },
  model: { layers: [{ units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }, { units: 26, activation: 'softmax' }] },
  train: { epochs: 1, batchSize: 32, lr: 0.05, seed: 1, kernel: 'wasm' },
  sweep: { grid: { 'train.lr': [0.01] }, seeds: 1 },
};
const ex = loadSweep({ config, file: 'x' });
const rows = sweepRunData(ex.runs[0]);
const out = [];
for (let i = 0; i < 3; i++) {
  const A = spawnTrainer();
  const ts = [];
  for (let k = 0; k < 3; k++) { const t = performance.now(); await A.train(runTrainOptions(ex.runs[0].raw, rows, 1)); ts.push((performance.now() - t).toFixed(0)); }
  out.push(ts.join('/'));
  await A.close();
}
console.log(process.execArgv.join(' ') || 'default', out.join('  '));
