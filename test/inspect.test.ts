// threadtrain inspect: parameter counts and FLOPs against hand-worked values, the shared
// memory it reports against the WebAssembly.Memory a real training run of the same config
// allocates, a model file's metadata against what was trained, and the command's --json.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectConfig, inspectModel } from '../src/cli/inspect.ts';
import { loadModelFile } from '../src/cli/model_data.ts';
import { simdSupported } from '../src/kernels/select.ts';
import { flopsPerSample, layerFlops } from '../src/model/flops.ts';
import { paramLayout } from '../src/model/layout.ts';
import type { ModelSpec } from '../src/model/spec.ts';
import { loadConfigData, parseCommandLine, runOptionsOf } from '../src/options/parse.ts';
import { runTraining } from '../src/train/train.ts';
import { runCli, runMain, tableCell } from './helpers/cli.ts';

let dir: string;
const tmp = (name: string) => path.join(dir, name);

/** 40 rows, two named features, classes "small" and "large" (a fixed LCG, no randomness between runs). */
function pointsCsv(): string {
  let s = 7;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const lines = ['width,height,kind'];
  for (let i = 0; i < 40; i++) {
    const big = i % 2 === 1;
    lines.push(`${((big ? 3 : 1) + u()).toFixed(3)},${((big ? 30 : 10) + 5 * u()).toFixed(3)},${big ? 'large' : 'small'}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The 2-3-2 net: tanh hidden units, softmax output; adam keeps two state buffers in the plan. */
const CONFIG = {
  data: { csv: 'points.csv', label: 'kind' },
  split: { validation: 0.25 },
  scale: 'standard',
  model: { layers: [{ units: 3, activation: 'tanh' }, { units: 2, activation: 'softmax' }], loss: 'cross_entropy' },
  train: { epochs: 2, batchSize: 8, lr: 0.1, seed: 1, threads: 1, optimizer: { name: 'adam' } },
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-inspect-'));
  fs.writeFileSync(tmp('points.csv'), pointsCsv());
  fs.writeFileSync(tmp('net.json'), JSON.stringify(CONFIG));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('parameters and FLOPs per sample', () => {
  const spec: ModelSpec = { inputs: 2, layers: [{ units: 3, activation: 'tanh' }, { units: 2, activation: 'softmax' }], loss: 'cross_entropy' };

  it('2-3-2: 17 parameters; forward 29 FLOPs, forward + backward 70 (worked by hand)', () => {
    // Parameters: W0 3×2 + b0 3 = 9, W1 2×3 + b1 2 = 8.
    expect(paramLayout(spec).count).toBe(17);
    // Forward, per unit: IN products, IN sums, the bias add. Layer 0: 3 × (2 + 2 + 1) = 15;
    // layer 1: 2 × (3 + 3 + 1) = 14.
    // Backward, layer 1: dW 2·3·2 = 12, db 2, dX 2·3·2 = 12 → 26; layer 0: dW 2·2·3 = 12,
    // db 3, no dX → 15.
    expect(layerFlops(spec)).toEqual([{ forward: 15, backward: 15 }, { forward: 14, backward: 26 }]);
    expect(flopsPerSample(spec)).toEqual({ forward: 29, forwardBackward: 29 + 41 });
  });

  it('784-256-128-10 (the MNIST net): 235,146 parameters', () => {
    const mnist: ModelSpec = { inputs: 784, layers: [{ units: 256, activation: 'relu' }, { units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }], loss: 'cross_entropy' };
    // 784·256 + 256 + 256·128 + 128 + 128·10 + 10
    expect(paramLayout(mnist).count).toBe(200_960 + 32_896 + 1_290);
    // Forward: (2·784 + 1)·256 + (2·256 + 1)·128 + (2·128 + 1)·10.
    expect(flopsPerSample(mnist).forward).toBe(401_664 + 65_664 + 2_570);
  });

  it('a prelu layer counts its slopes as parameters', () => {
    const prelu: ModelSpec = { inputs: 2, layers: [{ units: 3, activation: 'prelu' }, { units: 1, activation: 'sigmoid' }], loss: 'bce' };
    expect(paramLayout(prelu).count).toBe(6 + 3 + 3 + 3 + 1);
  });
});

describe('inspect --config', () => {
  it('reports the layers, the plan, and exactly the shared memory a training run of the config allocates', async () => {
    const { report } = inspectConfig(tmp('net.json'), { threads: 2 });
    expect(report.parameters).toBe(17);
    expect(report.flopsPerSample).toEqual({ forward: 29, forwardBackward: 70 });
    expect(report.layers.map((l) => [l.inputs, l.units, l.activation, l.params])).toEqual([[2, 3, 'tanh', 9], [3, 2, 'softmax', 8]]);
    expect(report.kernel).toEqual({ requested: 'auto', runs: simdSupported() ? 'wasm' : 'js' });
    expect(report.run!.rows).toEqual({ train: 30, validation: 10, test: 0 });
    expect(report.run!.batchSize).toBe(8);
    expect(report.run!.stepsPerEpoch).toBe(4);
    expect(report.run!.threads).toBe(2);
    const m = report.run!.sharedMemory;
    expect(m.allocatedBytes).toBe(m.pages * 65536);
    expect(m.bytes).toBeGreaterThan((m.pages - 1) * 65536);
    expect(m.bytes).toBeLessThanOrEqual(m.allocatedBytes);
    // The whole run's plan, as train checks it: the shared pages, 2 worker isolates of 32 MiB
    // and 512 bytes per unit block (1 + 1) and 2 float64s of softmax scratch, and the 40 rows
    // of 2 float32 features and an int32 label outside the shared memory, twice (scale "standard": the caller's and the scaled copy).
    const perWorker = 32 * 2 ** 20 + 2 * 512 + 2 * 8;
    expect(report.run!.memory).toEqual({
      shared: m.allocatedBytes, workers: 2, perWorker, rows: 2 * 40 * 12, total: m.allocatedBytes + 2 * perWorker + 2 * 40 * 12, budget: { bytes: os.totalmem(), what: "this machine's memory" },
    });

    // The same config trained for real on 2 threads: the shared memory it allocates.
    const config = parseCommandLine(tmp('net.json'), [{ path: ['train', 'threads'], value: 2, flag: '--threads' }]);
    const Real = WebAssembly.Memory;
    const shared: number[] = [];
    WebAssembly.Memory = class extends Real {
      constructor(descriptor: WebAssembly.MemoryDescriptor) {
        super(descriptor);
        if (descriptor.shared) shared.push(this.buffer.byteLength);
      }
    } as typeof WebAssembly.Memory;
    try {
      const result = await runTraining(runOptionsOf(config, loadConfigData(config)));
      expect(result.threads).toBe(2);
    } finally {
      WebAssembly.Memory = Real;
    }
    expect(shared).toEqual([m.allocatedBytes]);
  });

  it('threads "auto": the count the engine plans from the step\'s work, and why', () => {
    const { report } = inspectConfig(tmp('net.json'), { threads: 'auto' });
    expect(report.run!.threadsRequested).toBe('auto');
    // 2-3-2 at batch 8 is far too little work a step to pay for a second thread's barriers.
    expect(report.run!.threads).toBe(1);
    expect(report.run!.threadsReason).toMatch(/^threads auto: 1\b/);
    expect(report.run!.threadsTrial).toBe(false);
    expect(inspectConfig(tmp('net.json'), { threads: 2 }).report.run).toMatchObject({ threads: 2, threadsRequested: 2, threadsTrial: false });
  });

  it('the plan grows with the optimizer\'s state: adam keeps two more parameter-sized buffers than sgd', () => {
    const sgd = { ...CONFIG, train: { ...CONFIG.train, optimizer: { name: 'sgd' } } };
    fs.writeFileSync(tmp('sgd.json'), JSON.stringify(sgd));
    const adamBytes = inspectConfig(tmp('net.json'), {}).report.run!.sharedMemory.bytes;
    const sgdBytes = inspectConfig(tmp('sgd.json'), {}).report.run!.sharedMemory.bytes;
    // paramLayout(2-3-2).size is 4 tensors × 16 floats (each padded to 64 bytes): 256 bytes a buffer.
    expect(adamBytes - sgdBytes).toBe(2 * 64 * 4);
  });
});

describe('inspect --model', () => {
  it('shows what the file holds: class and feature names, the scaling, the format version', async () => {
    const config = parseCommandLine(tmp('net.json'), []);
    const result = await runTraining(runOptionsOf(config, loadConfigData(config)));
    result.model.save(tmp('net.ttm'));
    const { model, formatVersion } = loadModelFile(tmp('net.ttm'));
    const report = inspectModel(tmp('net.ttm'), model, formatVersion);
    expect(report.parameters).toBe(17);
    expect(report.flopsPerSample).toEqual({ forward: 29, forwardBackward: 70 });
    expect(report.file).toEqual({
      formatVersion: 1, task: 'classification', classNames: ['small', 'large'], featureNames: ['width', 'height'],
      scaling: { method: 'standard', offset: Array.from(result.model.scaler!.offset), scale: Array.from(result.model.scaler!.scale) },
    });
    expect(report.run).toBeUndefined();
  });
});

describe('threadtrain inspect (the command)', () => {
  it('--json prints one JSON object and nothing else (a warning goes to stderr); the tables carry the same numbers', async () => {
    // More threads than the machine has cores (the most a run may ask for, 4 per core): planned, never started, and warned about.
    const many = 4 * os.availableParallelism();
    const json = await runCli(['inspect', '--config', tmp('net.json'), '--threads', String(many), '--json']);
    expect(json.stderr).toBe(`warning: threads ${many} is more than this machine's ${os.availableParallelism()} cores: threads will wait on each other at every barrier\n`);
    expect(json.code).toBe(0);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(json.stdout);
    expect(Object.keys(report)).toEqual(['source', 'inputs', 'layers', 'loss', 'parameters', 'flopsPerSample', 'kernel', 'run']);
    expect(report.parameters).toBe(17);
    expect(report.run.threads).toBe(many);
    expect(report.run.sharedMemory).toEqual(inspectConfig(tmp('net.json'), { threads: many }).report.run!.sharedMemory);

    const text = await runMain(['inspect', '--config', tmp('net.json'), '--threads', '2']);
    expect(text.code).toBe(0);
    const row = (name: string) => tableCell(text.stdout, name);
    expect(row('parameters')).toBe('17');
    expect(row('FLOPs per sample')).toBe('29 forward, 70 forward + backward');
    expect(row('threads')).toBe('2');
    expect(row('layers')).toBe('2-3-2 (tanh, softmax)');
    expect(row('shared memory')).toMatch(new RegExp(`^${report.run.sharedMemory.bytes.toLocaleString('en-US')} bytes`));
  });

  it('a model file\'s tables: format version, class and feature names, the scaling with its numbers', async () => {
    const r = await runMain(['inspect', '--model', tmp('net.ttm')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const row = (name: string) => tableCell(r.stdout, name);
    const { model } = loadModelFile(tmp('net.ttm'));
    expect(row('format version')).toBe('1');
    expect(row('classes')).toBe('2: small, large');
    expect(row('features')).toBe('2: width, height');
    expect(row('scaling')).toBe('standard: x\' = (x − offset) × scale');
    expect(row('offset')).toBe(Array.from(model.scaler!.offset, (v) => String(Number(v.toPrecision(7)))).join(', '));
    expect(row('parameters')).toBe('17');
  });

  it('a model file and a config are one or the other; neither is a usage error (exit 2)', async () => {
    const both = await runMain(['inspect', '--config', tmp('net.json'), '--model', tmp('net.ttm')]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^error: Arguments config and model are mutually exclusive$/m);
    const neither = await runMain(['inspect']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/^error: inspect: give --config FILE or --model FILE$/m);
    const missing = await runMain(['inspect', '--model', tmp('none.ttm')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: --model .*none\.ttm: expected a model file, found no such file$/m);
  });
});
