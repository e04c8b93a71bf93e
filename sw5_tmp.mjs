import { sweep } from './dist/src/sweep/sweep.js';
import fs from 'node:fs';
const config = {
  data: { builtin: 'blobs', n: 50000, classes: 26, features: 16, spread: 1, seed: 1 },
  split: { validation: 0.1 },
  model: { layers: [{ units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }, { units: 26, activation: 'softmax' }] },
  train: { epochs: 1, batchSize: 32, lr: 0.05, seed: 1, kernel: 'wasm' },
  sweep: { grid: { 'train.lr': [0.01, 0.02, 0.05, 0.1] }, seeds: 4 },
};
for (let rep = 0; rep < 3; rep++) {
  const out = fs.mkdtempSync('/tmp/swb-');
  const t0 = performance.now();
  const ev = [];
  await sweep({ config, file: 'x', out }, {
    onProgress: (p) => { if (ev.length < 3) ev.push(`${((performance.now() - t0)).toFixed(0)}ms running=${p.running}`); },
    onRunEnd: (r) => ev.push(`end#${r.index}@${((performance.now() - t0)).toFixed(0)} (${(r.seconds*1000).toFixed(0)})`),
  });
  console.log(`total ${((performance.now() - t0)).toFixed(0)} ms:`, ev.join(' '));
}
