import { loadSweep, sweepRunData } from './dist/src/sweep/sweep.js';
import { runTrainOptions } from './dist/src/sweep/run_config.js';
import { train } from './dist/src/api.js';
const config = {
  data: { builtin: 'blobs', n: 50000, classes: 26, features: 16, spread: 1, seed: 1 },
  split: { validation: 0.1 },
  model: { layers: [{ units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }, { units: 26, activation: 'softmax' }] },
  train: { epochs: 1, batchSize: 32, lr: 0.05, seed: 1, kernel: 'wasm' },
  sweep: { grid: { 'train.lr': [0.01, 0.02, 0.05, 0.1] }, seeds: 4 },
};
const ex = loadSweep({ config, file: 'x' });
const rows = ex.runs.map((r) => sweepRunData(r));
const opt = (i) => runTrainOptions(ex.runs[i].raw, rows[i], 1);
await train(opt(0));
const out = [];
for (let rep = 0; rep < 6; rep++) { const t = performance.now(); await train(opt(rep % 4)); out.push(((performance.now() - t) / 1000).toFixed(2)); }
console.log(process.argv[2], out.join(' '));
