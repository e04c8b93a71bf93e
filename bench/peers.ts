// bench/peers.ts — threadtrain against TensorFlow.js's WebAssembly backend, in one run, on the
// same job: the MNIST MLP 784-256-128-10 (ReLU, softmax cross-entropy, plain SGD lr 0.05,
// batch 128) on the 22,699 training images, for the same number of epochs, then accuracy on
// the 10,000 t10k test images. Both start from the same initial weights (threadtrain's seeded
// He/Glorot init, copied into TF.js variables) and see the same batches in the same order
// (threadtrain's seeded shuffle), so their losses and accuracies should agree closely: a check
// that both trained the same model, before their speeds are compared.
//
//   npx tsx bench/peers.ts [--epochs 5] [--backend wasm|cpu] [--json FILE]     (npm run bench:peers)
//
// TF.js: tfjs-core ops (matMul + bias + relu, tf.losses.softmaxCrossEntropy, tf.train.sgd
// minimize), the batch gathered with tf.gather from the resident training tensor. The wasm
// backend runs on one core: its multithreaded build is not used in Node (the backend reports
// WASM_HAS_MULTITHREAD_SUPPORT false here; the label printed says so). threadtrain runs with all cores (its default) and, for a per-core view,
// with 1 thread. samples/s = median over the epochs after the first (warm-up) of rows / epoch
// wall time, plus the whole run's average; times exclude loading and test evaluation.
// If the wasm backend fails to start, the error is printed and the tfjs 'cpu' backend is
// used instead, labelled as such.

import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { paramLayout, view } from '../src/model/layout.ts';
import { initializeParams } from '../src/model/init.ts';
import type { ModelSpec } from '../src/model/spec.ts';
import { createRng } from '../src/rng.ts';
import { train } from '../src/api.ts';
import type { ClassificationDataset } from '../src/data/dataset.ts';
import { command, fixed, int, intList, JsonLines, load, loadMnist, machine, median, MNIST_LAYERS, MNIST_LR, parseFlags, revision, SEED, table } from './common.ts';

// tfjs-core's node bundle registers no gradients (the @tensorflow/tfjs bundle adds them). Its
// dist/register_all_gradients.js is ESM with extensionless imports, which Node's ESM loader
// rejects; required through tsx's CommonJS hook it loads, and registers into the registry
// tfjs keeps on globalThis, which the node bundle's engine reads.
createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients.js');

const USAGE = 'npx tsx bench/peers.ts [--epochs 5] [--backend wasm|cpu] [--json FILE]';
const BATCH = 128;
const SPEC: ModelSpec = { inputs: 784, layers: MNIST_LAYERS, loss: 'cross_entropy' };

interface PeerResult {
  name: string;
  epochSamplesPerSec: number[];
  epochLoss: number[];
  trainSeconds: number;
  testAccuracy: number;
}

/** Steady-state samples/s: the median of the epochs after the first (all of them if only one). */
const steady = (r: PeerResult) => median(r.epochSamplesPerSec.length > 1 ? r.epochSamplesPerSec.slice(1) : r.epochSamplesPerSec);
const overall = (r: PeerResult, n: number) => (n * r.epochSamplesPerSec.length) / r.trainSeconds;

async function runThreadtrain(trainSet: ClassificationDataset, testSet: ClassificationDataset, epochs: number, threads: number): Promise<PeerResult> {
  const r = await train({
    model: { layers: MNIST_LAYERS }, data: { train: trainSet, test: testSet }, epochs, batchSize: BATCH, lr: MNIST_LR, seed: SEED, threads,
  });
  const secs = r.history.reduce((s, h) => s + trainSet.n / h.samplesPerSec, 0);
  return {
    name: `threadtrain, ${threads} thread${threads === 1 ? '' : 's'} (${r.kernel} kernel)`,
    epochSamplesPerSec: r.history.map((h) => h.samplesPerSec), epochLoss: r.history.map((h) => h.loss),
    trainSeconds: secs, testAccuracy: r.test?.accuracy ?? NaN,
  };
}

/** Start a TF.js backend; returns its label, or throws. */
async function startBackend(name: 'wasm' | 'cpu'): Promise<string> {
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the .wasm files are read from the package's dist/ directory, as a file path.
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
  if (name === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    return `TF.js ${tf.version_core} wasm backend (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'})`;
  }
  return `TF.js ${tf.version_core} cpu backend (plain JS) — FALLBACK, not the wasm backend`;
}

function runTfjs(label: string, trainSet: ClassificationDataset, testSet: ClassificationDataset, epochs: number): PeerResult {
  // The same initial weights as threadtrain: its seeded init, W (OUT, IN) transposed to TF.js's (IN, OUT).
  const layout = paramLayout(SPEC);
  const params = new Float32Array(layout.size);
  initializeParams(SPEC, layout, params, createRng(SEED));
  const vars: tf.Variable[] = [];
  const layers = layout.layers.map((s, l) => {
    const w = tf.variable(tf.tidy(() => tf.transpose(tf.tensor2d(view(params, s.w), [s.units, s.inputs]))), true, `w${l}`);
    const b = tf.variable(tf.tensor1d(view(params, s.b)), true, `b${l}`);
    vars.push(w, b);
    return { w, b };
  });
  const logitsOf = (x: tf.Tensor2D): tf.Tensor2D => {
    let h = x;
    layers.forEach(({ w, b }, l) => {
      const z = tf.add(tf.matMul(h, w), b) as tf.Tensor2D;
      h = l < layers.length - 1 ? tf.relu(z) : z;
    });
    return h;
  };
  const xTrain = tf.tensor2d(trainSet.x, [trainSet.n, trainSet.features]);
  const yTrain = tf.tensor1d(trainSet.y, 'int32');
  const optimizer = tf.train.sgd(MNIST_LR);
  const perm = new Int32Array(trainSet.n);
  const shuffleRng = createRng(SEED + 1);
  const epochSamplesPerSec: number[] = [];
  const epochLoss: number[] = [];
  let trainSeconds = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < perm.length; i++) perm[i] = i;
    shuffleRng.shuffle(perm);
    let lossSum = 0;
    const t0 = performance.now();
    for (let start = 0; start < trainSet.n; start += BATCH) {
      const rows = perm.subarray(start, Math.min(trainSet.n, start + BATCH));
      const cost = tf.tidy((): tf.Scalar => {
        const idx = tf.tensor1d(rows, 'int32');
        const x = tf.gather(xTrain, idx) as tf.Tensor2D;
        const y = tf.oneHot(tf.gather(yTrain, idx), 10);
        const c = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, logitsOf(x)) as tf.Scalar, true, vars);
        if (!c) throw new Error('optimizer.minimize returned no cost');
        return c;
      });
      lossSum += cost.dataSync()[0]! * rows.length;
      cost.dispose();
    }
    const secs = (performance.now() - t0) / 1000;
    trainSeconds += secs;
    epochSamplesPerSec.push(trainSet.n / secs);
    epochLoss.push(lossSum / trainSet.n);
    process.stderr.write(`  ${label}: epoch ${epoch + 1} ${int(trainSet.n / secs)} samples/s, loss ${fixed(lossSum / trainSet.n, 4)}\n`);
  }
  const testAccuracy = tf.tidy(() => {
    const pred = tf.argMax(logitsOf(tf.tensor2d(testSet.x, [testSet.n, testSet.features])), 1);
    return tf.mean(tf.cast(tf.equal(pred, tf.tensor1d(testSet.y, 'int32')), 'float32')).dataSync()[0]!;
  });
  tf.dispose([xTrain, yTrain, ...vars]);
  optimizer.dispose();
  return { name: label, epochSamplesPerSec, epochLoss, trainSeconds, testAccuracy };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['epochs', 'backend', 'json'], USAGE);
  const epochs = intList(flags.epochs ?? '5', '--epochs')[0]!;
  const backend = flags.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu (got "${backend}")\nhint: ${USAGE}`);
  const json = new JsonLines(flags.json);
  const cmd = command('bench/peers.ts');
  const mach = machine();
  const loadStart = load();
  console.log(`threadtrain vs TensorFlow.js: MNIST MLP 784-256-128-10, ReLU, softmax cross-entropy, SGD lr ${MNIST_LR}, batch ${BATCH}, ${epochs} epochs`);
  console.log(`machine: ${mach}`);
  console.log(`command: ${cmd}`);
  console.log(`code: ${revision()}`);
  console.log(`load average at start (1/5/15 min): ${loadStart}\n`);

  const trainSet = loadMnist('train');
  const testSet = loadMnist('t10k');
  const cores = os.availableParallelism();

  let label: string;
  try {
    label = await startBackend(backend);
  } catch (error) {
    if (backend !== 'wasm') throw error;
    console.log(`TF.js wasm backend failed to start here: ${error instanceof Error ? error.message : String(error)}`);
    console.log('falling back to the tfjs cpu backend (plain JS), labelled as such below\n');
    label = await startBackend('cpu');
  }
  const results: PeerResult[] = [];
  results.push(await runThreadtrain(trainSet, testSet, epochs, cores));
  if (cores > 1) results.push(await runThreadtrain(trainSet, testSet, epochs, 1));
  results.push(runTfjs(label, trainSet, testSet, epochs));
  const loadEnd = load();

  const tfjs = results[results.length - 1]!;
  const rows = results.map((r) => [
    r.name, int(steady(r)), int(overall(r, trainSet.n)), `${fixed(steady(r) / steady(tfjs), 1)}×`, `${fixed(100 * r.testAccuracy, 2)}%`,
    r.epochLoss.map((l) => fixed(l, 4)).join(' '),
  ]);
  console.log(`\nsamples/s: median of epochs 2–${epochs} (epoch 1 is warm-up), and the average over all ${epochs} epochs; test accuracy on the`);
  console.log(`${int(testSet.n)} t10k images after ${epochs} epochs; mean training loss of each epoch (same initial weights, same batches).\n`);
  console.log(table(['trainer', 'samples/s', `all ${epochs} epochs`, 'vs TF.js', 'test accuracy', 'loss per epoch'], rows));
  console.log(`\nthreadtrain (${cores} threads) / ${tfjs.name}: ${fixed(steady(results[0]!) / steady(tfjs), 1)}× (target ≥ 12×)`);
  console.log(`load average at end (1/5/15 min): ${loadEnd}`);
  for (const r of results) {
    json.write({
      bench: 'peers', trainer: r.name, samplesPerSec: steady(r), samplesPerSecAllEpochs: overall(r, trainSet.n), ratioToTfjs: steady(r) / steady(tfjs),
      testAccuracy: r.testAccuracy, epochSamplesPerSec: r.epochSamplesPerSec, epochLoss: r.epochLoss, epochs, batch: BATCH, lr: MNIST_LR,
      loadStart, loadEnd, machine: mach, command: cmd, revision: revision(), date: new Date().toISOString(),
    });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
