import { spawnTrainer } from './dist/src/remote/spawn.js';
const xor = { data: { x: new Float32Array([0,0,0,1,1,0,1,1]), y: new Int32Array([0,1,1,0]), n: 4, features: 2, task: 'classification', classes: 2 }, model: { layers: [{ units: 2, activation: 'tanh' }, { units: 2, activation: 'softmax' }] }, epochs: 1, threads: 1 };
for (let i = 0; i < 3; i++) {
  const A = spawnTrainer();
  let t = performance.now();
  await A.train(xor);
  const first = performance.now() - t;
  t = performance.now();
  await A.train(xor);
  console.log('spawn + first tiny run', first.toFixed(0), 'ms; second', (performance.now() - t).toFixed(0), 'ms');
  await A.close();
}
