// Real data: configs/mnist.json (784-256-128-10 ReLU MLP, momentum SGD, batch 32, threads
// "auto": one per core, up to 4 at this batch) must reach ≥ 95% accuracy on the standard 10,000 MNIST test images within 5
// epochs. Needs ../shared/data/mnist beside the checkout; skipped with a message otherwise.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadConfigData, runOptionsOf } from '../src/options/parse.ts';
import { runTraining } from '../src/train/train.ts';

const mnistDir = fileURLToPath(new URL('../../shared/data/mnist', import.meta.url));
const present = fs.existsSync(`${mnistDir}/t10k-images-idx3-ubyte.gz`);
if (!present) console.warn(`skipping the MNIST test: ${mnistDir} is absent (it sits beside the checkout in CI)`);

describe('MNIST with configs/mnist.json', () => {
  it.skipIf(!present)('reaches ≥ 95% test accuracy within 5 epochs with the default thread count', async () => {
    const config = loadConfig(fileURLToPath(new URL('../configs/mnist.json', import.meta.url)));
    expect(config.train.epochs).toBeLessThanOrEqual(5);
    const result = await runTraining(runOptionsOf(config, loadConfigData(config)));
    expect(result.history.length).toBe(config.train.epochs);
    expect(result.test!.confusion!.flat().reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(result.test!.accuracy!).toBeGreaterThanOrEqual(0.95);
  }, 180_000);
});
