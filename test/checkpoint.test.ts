// Checkpoints and exact resume: 4 epochs in one run equal 2 epochs, a stop, and 2
// resumed epochs — to the bit, with another thread count on resume — and the same when
// the stop falls mid-epoch. A resume with other settings or data is refused, and so is a
// format-1 checkpoint of an Adam run (whose update changed in format 2).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobs } from '../src/data/synthetic.ts';
import { ConfigError, ModelFileError } from '../src/errors.ts';
import { readEnvelopeFile, writeEnvelopeFile } from '../src/io/envelope.ts';
import { CHECKPOINT_FORMAT_VERSION, readCheckpoint } from '../src/train/checkpoint.ts';
import type { TrainOptions } from '../src/options/schema.ts';
import { train } from '../src/api.ts';

const data = blobs({ n: 230, classes: 3, features: 4, spread: 0.5, seed: 8 });
const base: TrainOptions = {
  model: { layers: [{ units: 10, activation: 'relu' }, { units: 3, activation: 'softmax' }] },
  data, split: { validation: 0.2 }, scale: 'standard', epochs: 4, batchSize: 17, lr: 0.05, seed: 3,
  optimizer: { name: 'adam' }, schedule: { type: 'plateau', patience: 1, factor: 0.5 },
};
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tt-ckpt-'));

describe('checkpoint and resume', () => {
  it('2 epochs, stop, 2 resumed epochs on another or the same thread count = 4 epochs in one run', async () => {
    const whole = await train({ ...base, threads: 2 });
    const file = path.join(tmp(), 'run.ckpt');
    const controller = new AbortController();
    const first = await train({ ...base, threads: 2, checkpoint: { path: file } }, {
      signal: controller.signal,
      onEpoch: (r) => r.epoch === 2 && controller.abort(),
    });
    expect(first.stopReason).toBe('interrupted');
    expect(first.position).toEqual({ epoch: 2, step: 0 });
    const ck = readCheckpoint(file);
    expect([ck.epoch, ck.step]).toEqual([2, 0]);
    const ran: number[] = [];
    const resumed = await train({ ...base, threads: 1, resume: file }, { onEpoch: (r) => ran.push(r.epoch) });
    // Only the last two epochs ran; a resume that started over would also run 1 and 2.
    expect(ran).toEqual([3, 4]);
    expect(bits(first.model.params)).not.toEqual(bits(whole.model.params));
    expect(bits(resumed.model.params)).toEqual(bits(whole.model.params));
    expect(resumed.history.map((h) => [h.loss, h.valLoss, h.lr])).toEqual(whole.history.map((h) => [h.loss, h.valLoss, h.lr]));
    // And with the thread count the checkpoint was written with.
    const same = await train({ ...base, threads: 2, resume: file });
    expect(bits(same.model.params)).toEqual(bits(whole.model.params));
  });

  // The kernels differ in how they update (the wasm kernel keeps layer 0's SGD weights in Wᵀ
  // during a command); a checkpoint holds the same state whichever kernel wrote it.
  it('a checkpoint of Adam written by the wasm kernel resumes under the js kernel, and the reverse, bit for bit', async () => {
    const whole = await train({ ...base, threads: 1, kernel: 'js' });
    const written: Float32Array[][] = [];
    for (const [writer, reader] of [['wasm', 'js'], ['js', 'wasm']] as const) {
      const file = path.join(tmp(), `${writer}.ckpt`);
      const controller = new AbortController();
      await train({ ...base, threads: 2, kernel: writer, checkpoint: { path: file } }, {
        signal: controller.signal,
        onEpoch: (r) => r.epoch === 2 && controller.abort(),
      });
      written.push(readCheckpoint(file).optState);
      const resumed = await train({ ...base, threads: 1, kernel: reader, resume: file });
      expect(bits(resumed.model.params)).toEqual(bits(whole.model.params));
    }
    // The same state, in the same layout, from either kernel.
    expect(written[0]!.map(bits)).toEqual(written[1]!.map(bits));
    expect(written[0]![0]!.some((x) => x !== 0)).toBe(true);
  });

  it('a stop in the middle of an epoch resumes at that step, bit for bit, on 3 threads', async () => {
    const whole = await train({ ...base, threads: 1 });
    const file = path.join(tmp(), 'mid.ckpt');
    const controller = new AbortController();
    const first = await train({ ...base, threads: 2, checkpoint: { path: file, everySteps: 4 } }, {
      signal: controller.signal, stepLogEvery: 3, onStep: (r) => r.step === 15 && controller.abort(),
    });
    // 184 training rows in batches of 17: 11 steps per epoch, so step 15 is step 4 of epoch 2.
    expect(first.position).toEqual({ epoch: 1, step: 4 });
    expect(readCheckpoint(file).step).toBe(4);
    const steps: number[] = [];
    const resumed = await train({ ...base, threads: 3, resume: file }, { stepLogEvery: 1, onStep: (r) => steps.push(r.step) });
    expect(steps[0]).toBe(16);
    expect(steps.length).toBe(4 * 11 - 15);
    expect(bits(resumed.model.params)).toEqual(bits(whole.model.params));
    expect(resumed.history.map((h) => h.loss)).toEqual(whole.history.map((h) => h.loss));
  });

  it('checkpoints every N epochs hold the weights of that epoch', async () => {
    const dir = tmp();
    const file = path.join(dir, 'every.ckpt');
    const seen: number[] = [];
    const run = await train({ ...base, epochs: 3, threads: 1, checkpoint: { path: file, everyEpochs: 1 } }, { onCheckpoint: (c) => seen.push(c.epoch) });
    expect(seen).toEqual([1, 2, 3]);
    expect(bits(readCheckpoint(file).params)).toEqual(bits(run.model.params));
    expect(fs.readdirSync(dir)).toEqual(['every.ckpt']);
  });

  it('refuses to resume with other settings or other data', async () => {
    const file = path.join(tmp(), 'a.ckpt');
    await train({ ...base, epochs: 1, threads: 1, checkpoint: { path: file } });
    await expect(train({ ...base, lr: 0.1, threads: 1, resume: file })).rejects.toThrow(/other settings: lr 0\.05 → 0\.1/);
    const other = blobs({ n: 230, classes: 3, features: 4, spread: 0.5, seed: 9 });
    const err = await train({ ...base, data: other, threads: 1, resume: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/different training data/);
  });

  it('reads a version-1 checkpoint of an SGD run, and refuses one of an Adam run (its update changed in version 2)', async () => {
    const dir = tmp();
    // A checkpoint as version 1 wrote it: the same payload under the old version number.
    const asVersion1 = async (optimizer: TrainOptions['optimizer']): Promise<string> => {
      const file = path.join(dir, `${String(optimizer?.name)}.ckpt`);
      await train({ ...base, optimizer, epochs: 1, threads: 1, checkpoint: { path: file } });
      const { version, payload } = readEnvelopeFile(file, 'checkpoint');
      expect(version).toBe(CHECKPOINT_FORMAT_VERSION);
      writeEnvelopeFile(file, 'checkpoint', 1, payload);
      return file;
    };
    const sgd = await asVersion1({ name: 'sgd' });
    expect(readCheckpoint(sgd).epoch).toBe(1);
    const resumed = await train({ ...base, optimizer: { name: 'sgd' }, epochs: 2, threads: 1, resume: sgd });
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2]);
    for (const name of ['adam', 'adamw'] as const) {
      const file = await asVersion1({ name });
      expect(() => readCheckpoint(file)).toThrow(ModelFileError);
      expect(() => readCheckpoint(file)).toThrow(new RegExp(`format version 1 of an ${name} run`));
    }
  });
});
