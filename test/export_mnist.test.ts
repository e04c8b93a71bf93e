// A model trained on real data travels: a small MNIST MLP (one epoch on 3,000 images,
// min-max scaling) is exported to ONNX and TensorFlow.js, both runtimes reproduce its
// predictions on 500 held-out images within 1e-5 relative and agree on every class, and
// its safetensors export imports back to the same bits. Needs ../shared/data/mnist beside
// the checkout; skipped with a message otherwise.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { selectRows } from '../src/data/dataset.ts';
import { loadIdx } from '../src/data/idx.ts';
import { exportModel } from '../src/io/export.ts';
import { weightsFromSafetensors } from '../src/io/safetensors.ts';
import { initializeParams } from '../src/model/init.ts';
import { createRng } from '../src/rng.ts';
import { train } from '../src/api.ts';
import { maxRelativeError } from './helpers/models.ts';
import { loadTfjs, runOnnx, runTfjs } from './helpers/runtimes.ts';

const mnistDir = fileURLToPath(new URL('../../shared/data/mnist', import.meta.url));
const present = fs.existsSync(`${mnistDir}/t10k-images-idx3-ubyte.gz`);
if (!present) console.warn(`skipping the MNIST export test: ${mnistDir} is absent (it sits beside the checkout in CI)`);

describe('a model trained on MNIST, exported', () => {
  it.skipIf(!present)('ONNX and TF.js reproduce its predictions; safetensors imports back to the same bits', async () => {
    const all = loadIdx(`${mnistDir}/t10k-images-idx3-ubyte.gz`, `${mnistDir}/t10k-labels-idx1-ubyte.gz`, { scale: 1 });
    const trainRows = selectRows(all, Array.from({ length: 3000 }, (_, i) => i));
    const held = selectRows(all, Array.from({ length: 500 }, (_, i) => 5000 + i));
    const { model } = await train({
      model: { layers: [{ units: 32, activation: 'relu' }, { units: 10, activation: 'softmax' }] },
      data: trainRows, split: { validation: 0, test: 0 }, scale: 'minmax', epochs: 1, batchSize: 32, lr: 0.1, threads: 1,
    });
    const expected = model.predict(held.x, held.n);
    const classes = model.predictClasses(held.x, held.n);
    const accuracy = classes.reduce((n, c, r) => n + (c === held.y[r] ? 1 : 0), 0) / held.n;
    expect(accuracy).toBeGreaterThan(0.75);

    const onnx = await runOnnx(exportModel(model, 'onnx')[0]!.bytes, held.x, held.n, 784);
    expect(maxRelativeError(onnx, expected, 0.1)).toBeLessThan(1e-5);
    const { model: tfjs } = await loadTfjs(exportModel(model, 'tfjs'));
    const tf = await runTfjs(tfjs, held.x, held.n, 784);
    expect(maxRelativeError(tf, expected, 0.1)).toBeLessThan(1e-5);
    for (const out of [onnx, tf]) {
      for (let r = 0; r < held.n; r++) {
        const row = Array.from(out.subarray(r * 10, r * 10 + 10));
        expect(row.indexOf(Math.max(...row))).toBe(classes[r]);
      }
    }

    const weights = weightsFromSafetensors(exportModel(model, 'safetensors')[0]!.bytes, 'mnist.safetensors', model.spec.layers, 784);
    const params = new Float32Array(model.params.length);
    initializeParams(model.spec, model.layout, params, createRng(5), weights);
    expect(Buffer.from(params.buffer).equals(Buffer.from(model.params.buffer))).toBe(true);
  }, 60_000);
});
