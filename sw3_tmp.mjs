import { spawnTrainer } from './dist/src/remote/spawn.js';
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
const A = spawnTrainer(), B = spawnTrainer();
const opt = (i) => runTrainOptions(ex.runs[i].raw, rows[i], 1);
await Promise.all([A.train(opt(0)), B.train(opt(1))]);
const time = async (f) => { const t = performance.now(); await f(); return (performance.now() - t) / 1000; };
for (let rep = 0; rep < 4; rep++) {
  const main = await time(async () => { for (let i = 0; i < 2; i++) await train(opt(i)); });
  const alone = await time(async () => { for (let i = 0; i < 2; i++) await A.train(opt(i)); });
  const pair = await time(() => Promise.all([(async () => { for (let i = 0; i < 2; i++) await A.train(opt(i)); })(), (async () => { for (let i = 2; i < 4; i++) await B.train(opt(i)); })()]));
  console.log(`main thread 2 runs ${main.toFixed(2)} s | one trainer 2 runs ${alone.toFixed(2)} s | two trainers 2+2 runs ${pair.toFixed(2)} s -> throughput ratio vs main ${(2 * main / pair).toFixed(2)}`);
}
await A.close(); await B.close();
