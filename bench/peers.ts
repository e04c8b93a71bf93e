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
//
// PyTorch, when a python3 with torch is found (`PYTHON`, then `python3`, then /usr/bin/python3;
// Debian's python3-torch, installed by hand on a benchmark machine, never by the project):
// the same net, data, initial weights and batch order (written to a temporary folder and read
// by bench/peers_torch.py) at batch 32, 128 and 512, interleaved round by round with
// threadtrain at 1 and 2 threads (all cores, if fewer). PyTorch runs three ways: 1 thread
// (torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1); "best layout" (set_num_threads(1) with
// OPENBLAS_NUM_THREADS = cores: only the BLAS calls run in parallel); and the obvious
// set_num_threads(cores) with OpenBLAS left to its default. Each PyTorch child runs with
// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (this environment may set them to keep old
// OpenBLAS builds correct; they would slow a current one), and reports the OpenBLAS core
// kernel and thread count it ran with. When that kernel is Prescott — what OpenBLAS falls
// back to on a CPU model it does not know, several times slower — every layout runs again
// with OPENBLAS_CORETYPE set to the newest kernel the CPU's flags allow, so that "PyTorch's
// best" is its best; its epoch-1 loss, equal to threadtrain's, shows that kernel computes
// right. samples/s: the median over rounds of each run's median over its epochs after the first.
//
// Every trainer in this part sees the first --torch-rows (6144) training images per epoch, so
// the whole comparison takes minutes; a PyTorch epoch that runs past --torch-max-seconds (3)
// is timed on the rows it did (oversubscribed layouts crawl), and its loss is not shown.
//
//   npx tsx bench/peers.ts --only pytorch [--rounds 3] [--torch-epochs 2] [--torch-rows 6144] [--torch-max-seconds 3] [--batches 32,128,512]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { paramLayout, view } from '../src/model/layout.ts';
import { initializeParams } from '../src/model/init.ts';
import type { ModelSpec } from '../src/model/spec.ts';
import { createRng } from '../src/rng.ts';
import { train } from '../src/api.ts';
import { selectRows, type ClassificationDataset } from '../src/data/dataset.ts';
import { command, fixed, int, intList, JsonLines, load, loadMnist, machine, median, MNIST_LAYERS, MNIST_LR, parseFlags, revision, SEED, table } from './common.ts';

// tfjs-core's node bundle registers no gradients (the @tensorflow/tfjs bundle adds them). Its
// dist/register_all_gradients.js is ESM with extensionless imports, which Node's ESM loader
// rejects; required through tsx's CommonJS hook it loads, and registers into the registry
// tfjs keeps on globalThis, which the node bundle's engine reads.
createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients.js');

const USAGE =
  'npx tsx bench/peers.ts [--only tfjs|pytorch] [--epochs 5] [--backend wasm|cpu] [--rounds 3] [--torch-epochs 2] [--torch-rows 6144] [--torch-max-seconds 3] [--batches 32,128,512] [--json FILE]';
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

async function runThreadtrain(trainSet: ClassificationDataset, testSet: ClassificationDataset, epochs: number, threads: number, batch = BATCH): Promise<PeerResult> {
  const r = await train({
    model: { layers: MNIST_LAYERS }, data: { train: trainSet, test: testSet }, epochs, batchSize: batch, lr: MNIST_LR, seed: SEED, threads,
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

/** The first python3 that imports torch, with torch's version; undefined when there is none. */
function findTorchPython(): { python: string; version: string } | undefined {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return undefined;
}

/**
 * What bench/peers_torch.py reads: threadtrain's float32 data, its seeded initial weights
 * and its seeded batch order for each epoch, as raw little-endian arrays.
 */
function writeTorchInputs(dir: string, trainSet: ClassificationDataset, testSet: ClassificationDataset, epochs: number): void {
  const layout = paramLayout(SPEC);
  const params = new Float32Array(layout.size);
  initializeParams(SPEC, layout, params, createRng(SEED));
  const bytes = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  writeFileSync(path.join(dir, 'params.f32'), bytes(Float32Array.from(layout.layers.flatMap((s) => [...view(params, s.w), ...view(params, s.b)]))));
  const perms = new Int32Array(epochs * trainSet.n);
  const shuffleRng = createRng(SEED + 1);
  for (let e = 0; e < epochs; e++) {
    const perm = perms.subarray(e * trainSet.n, (e + 1) * trainSet.n);
    for (let i = 0; i < perm.length; i++) perm[i] = i;
    shuffleRng.shuffle(perm);
  }
  writeFileSync(path.join(dir, 'perms.i32'), bytes(perms));
  writeFileSync(path.join(dir, 'x.f32'), bytes(trainSet.x));
  writeFileSync(path.join(dir, 'y.i32'), bytes(trainSet.y));
  writeFileSync(path.join(dir, 'xtest.f32'), bytes(testSet.x));
  writeFileSync(path.join(dir, 'ytest.i32'), bytes(testSet.y));
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({
    n: trainSet.n, features: trainSet.features, nTest: testSet.n, layers: layout.layers.map((s) => [s.units, s.inputs]),
  }));
}

interface TorchReport {
  torch: string;
  torchThreads: number;
  env: Record<string, string | null>;
  blas: { libraries: string[]; openblas_config?: string; openblas_corename?: string; openblas_threads?: number; openblas_error?: string };
  epochSamplesPerSec: number[];
  epochLoss: number[];
  epochRows: number[];
  testAccuracy: number;
}

/** One PyTorch layout: torch.set_num_threads, OPENBLAS_NUM_THREADS (undefined: OpenBLAS's default) and a forced OpenBLAS kernel, if any. */
interface TorchLayout {
  name: string;
  torchThreads: number;
  openblasThreads: number | undefined;
  coretype?: string;
}

/**
 * The OpenBLAS kernel PyTorch's BLAS picks by itself here, and the one to force when that
 * is the Prescott fallback OpenBLAS uses for a CPU model it does not know (0.3.21 does not
 * know Sapphire/Emerald Rapids): the newest kernel family whose instructions /proc/cpuinfo lists.
 */
function openblasKernels(python: string): { detected: string; forced: string | undefined } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const probe = [
    'import ctypes, torch',
    "libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l})",
    "ob = ctypes.CDLL(libs[0]) if libs else None",
    'if ob: ob.openblas_get_corename.restype = ctypes.c_char_p',
    "print(ob.openblas_get_corename().decode() if ob else 'not OpenBLAS')",
  ].join('\n');
  const r = spawnSync(python, ['-c', probe], { encoding: 'utf8', env });
  const detected = r.status === 0 ? r.stdout.trim() : `probe failed: ${r.stderr.trim().split('\n').pop()}`;
  if (detected.toLowerCase() !== 'prescott') return { detected, forced: undefined };
  let flags = '';
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    flags = '';
  }
  const has = (f: string) => flags.split(' ').includes(f);
  const forced = has('avx512_bf16') ? 'Cooperlake' : has('avx512f') ? 'SkylakeX' : has('avx2') ? 'Haswell' : undefined;
  return { detected, forced };
}

function runTorch(python: string, dir: string, layout: TorchLayout, batch: number, epochs: number, maxSeconds: number): TorchReport {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // This environment may pin OpenBLAS to an old core type for correctness elsewhere; the peer gets its own best kernel.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  delete env.OMP_NUM_THREADS;
  if (layout.coretype !== undefined) env.OPENBLAS_CORETYPE = layout.coretype;
  if (layout.openblasThreads === undefined) delete env.OPENBLAS_NUM_THREADS;
  else env.OPENBLAS_NUM_THREADS = String(layout.openblasThreads);
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers_torch.py');
  const args = [script, '--dir', dir, '--batch', String(batch), '--epochs', String(epochs), '--torch-threads', String(layout.torchThreads), '--lr', String(MNIST_LR),
    '--max-seconds', String(maxSeconds)];
  const r = spawnSync(python, args, { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${python} ${args.join(' ')} failed (status ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchReport;
}

const steadyOf = (perEpoch: readonly number[]) => median(perEpoch.length > 1 ? perEpoch.slice(1) : perEpoch);

/** threadtrain at 1 and 2 threads against PyTorch's three layouts, batch by batch, interleaved over rounds. */
async function pytorchSideBySide(
  fullTrainSet: ClassificationDataset, testSet: ClassificationDataset, batches: readonly number[], rounds: number, epochs: number, rowCount: number,
  maxSeconds: number, json: JsonLines,
): Promise<void> {
  // The first rowCount training images for every trainer: an epoch short enough that all layouts fit in a few minutes.
  const trainSet = selectRows(fullTrainSet, Array.from({ length: Math.min(rowCount, fullTrainSet.n) }, (_, i) => i));
  const found = findTorchPython();
  if (!found) {
    console.log('\nPyTorch: no python3 with torch found (tried $PYTHON, python3, /usr/bin/python3); skipped. Debian: apt-get install python3-torch');
    return;
  }
  const cores = os.availableParallelism();
  const ttThreads = [...new Set([1, Math.min(2, cores)])];
  const plain: TorchLayout[] = [
    { name: 'PyTorch, 1 thread', torchThreads: 1, openblasThreads: 1 },
    { name: `PyTorch, set_num_threads(1) + OPENBLAS_NUM_THREADS=${cores}`, torchThreads: 1, openblasThreads: cores },
    { name: `PyTorch, set_num_threads(${cores})`, torchThreads: cores, openblasThreads: undefined },
  ];
  const kernels = openblasKernels(found.python);
  console.log(`\nOpenBLAS kernel PyTorch gets with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset: ${kernels.detected}`);
  if (kernels.forced) console.log(`that is OpenBLAS's fallback for an unknown CPU, so every layout also runs with OPENBLAS_CORETYPE=${kernels.forced} (the newest kernel this CPU's flags allow)`);
  const layouts = kernels.forced
    ? [...plain, ...plain.map((l) => ({ ...l, name: `${l.name}, OPENBLAS_CORETYPE=${kernels.forced}`, coretype: kernels.forced }))]
    : plain;
  const loadStart = load();
  console.log(`\nthreadtrain vs PyTorch ${found.version} (${found.python}): MNIST MLP 784-256-128-10, SGD lr ${MNIST_LR}, batches ${batches.join(', ')}; ${rounds} rounds × ${epochs} epochs of the first ${int(trainSet.n)} training images per run (a PyTorch epoch stops after ${maxSeconds} s)`);
  console.log(`load average at start (1/5/15 min): ${loadStart}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'threadtrain-peers-torch-'));
  try {
    writeTorchInputs(dir, trainSet, testSet, epochs);
    type Cell = { sps: number[]; firstLoss: number[]; accuracy: number[]; report?: TorchReport; kernel?: string };
    const cells = new Map<string, Cell>();
    const cell = (batch: number, name: string): Cell => {
      const key = `${batch} ${name}`;
      if (!cells.has(key)) cells.set(key, { sps: [], firstLoss: [], accuracy: [] });
      return cells.get(key)!;
    };
    const ttName = (t: number) => `threadtrain, ${t} thread${t === 1 ? '' : 's'}`;
    for (let round = 0; round < rounds; round++) {
      for (const batch of batches) {
        for (const t of ttThreads) {
          const r = await runThreadtrain(trainSet, testSet, epochs, t, batch);
          const c = cell(batch, ttName(t));
          c.sps.push(steadyOf(r.epochSamplesPerSec));
          c.firstLoss.push(r.epochLoss[0]!);
          c.accuracy.push(r.testAccuracy);
          c.kernel = r.name.replace(/^.*\((.*)\)$/, '$1');
          process.stderr.write(`  round ${round + 1}, batch ${batch}, ${r.name}: ${int(steadyOf(r.epochSamplesPerSec))} samples/s\n`);
        }
        for (const layout of layouts) {
          const r = runTorch(found.python, dir, layout, batch, epochs, maxSeconds);
          const c = cell(batch, layout.name);
          c.sps.push(steadyOf(r.epochSamplesPerSec));
          // An epoch cut short by the time limit has a loss over fewer rows: not comparable, so not shown.
          c.firstLoss.push(r.epochRows[0] === trainSet.n ? r.epochLoss[0]! : NaN);
          c.accuracy.push(r.epochRows.every((k) => k === trainSet.n) ? r.testAccuracy : NaN);
          c.report = r;
          process.stderr.write(`  round ${round + 1}, batch ${batch}, ${layout.name}: ${int(steadyOf(r.epochSamplesPerSec))} samples/s\n`);
        }
      }
    }
    const loadEnd = load();
    const names = [...ttThreads.map(ttName), ...layouts.map((l) => l.name)];
    for (const batch of batches) {
      const best = Math.max(...layouts.map((l) => median(cell(batch, l.name).sps)));
      const bestName = layouts.find((l) => median(cell(batch, l.name).sps) === best)!.name;
      const rows = names.map((name) => {
        const c = cell(batch, name);
        const threads = c.report
          ? `torch ${c.report.torchThreads}, OpenBLAS ${c.report.blas.openblas_threads ?? '?'} (${c.report.blas.openblas_corename ?? c.report.blas.libraries.join(' ')})`
          : c.kernel ?? '';
        json.write({
          bench: 'peers-pytorch', batch, trainer: name, samplesPerSec: median(c.sps), perRound: c.sps, ratioToBestPytorch: median(c.sps) / best,
          firstEpochLoss: median(c.firstLoss), testAccuracy: median(c.accuracy), threads, rounds, epochs, lr: MNIST_LR, loadStart, loadEnd,
          machine: machine(), revision: revision(), date: new Date().toISOString(), blas: c.report?.blas, env: c.report?.env,
        });
        return [name, threads, int(median(c.sps)), c.sps.map(int).join(' '), `${fixed(median(c.sps) / best, 2)}×`, fixed(median(c.firstLoss), 4),
          Number.isNaN(median(c.accuracy)) ? '—' : `${fixed(100 * median(c.accuracy), 2)}%`];
      });
      console.log(`\nbatch ${batch}: PyTorch's best here: ${bestName}\n`);
      console.log(table(['trainer', 'threads (kernel)', 'samples/s', 'per round', 'vs PyTorch best', 'epoch-1 loss', `test acc. (${epochs} ep.)`], rows));
    }
    const anyReport = [...cells.values()].find((c) => c.report)?.report;
    if (anyReport) console.log(`\nPyTorch's BLAS: ${anyReport.blas.openblas_config ?? anyReport.blas.libraries.join(', ')}`);
    for (const l of layouts) {
      const r = cell(batches[0]!, l.name).report;
      if (r) console.log(`  ${l.name}: child environment ${JSON.stringify(r.env)}, OpenBLAS kernel ${r.blas.openblas_corename ?? '?'}, ${r.blas.openblas_threads ?? '?'} OpenBLAS threads, torch ${r.torchThreads}`);
    }
    console.log(`load average at end (1/5/15 min): ${loadEnd}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['only', 'epochs', 'backend', 'rounds', 'torch-epochs', 'torch-rows', 'torch-max-seconds', 'batches', 'json'], USAGE);
  const epochs = intList(flags.epochs ?? '5', '--epochs')[0]!;
  const backend = flags.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu (got "${backend}")\nhint: ${USAGE}`);
  const only = flags.only;
  if (only !== undefined && only !== 'tfjs' && only !== 'pytorch') throw new Error(`--only must be tfjs or pytorch (got "${only}")\nhint: ${USAGE}`);
  const rounds = intList(flags.rounds ?? '3', '--rounds')[0]!;
  const torchEpochs = intList(flags['torch-epochs'] ?? '2', '--torch-epochs')[0]!;
  const batches = intList(flags.batches ?? '32,128,512', '--batches');
  const torchRows = intList(flags['torch-rows'] ?? '6144', '--torch-rows')[0]!;
  const torchSeconds = intList(flags['torch-max-seconds'] ?? '3', '--torch-max-seconds')[0]!;
  const json = new JsonLines(flags.json);
  if (only === 'pytorch') {
    console.log(`machine: ${machine()}`);
    console.log(`command: ${command('bench/peers.ts')}`);
    console.log(`code: ${revision()}`);
    await pytorchSideBySide(loadMnist('train'), loadMnist('t10k'), batches, rounds, torchEpochs, torchRows, torchSeconds, json);
    return;
  }
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
  if (only !== 'tfjs') await pytorchSideBySide(trainSet, testSet, batches, rounds, torchEpochs, torchRows, torchSeconds, json);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
