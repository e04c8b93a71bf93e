// Errors of a trainer thread (spawnTrainer) reach the caller as the same errors: a thrown
// Error crosses a thread as its message only, so train()'s error travels as data
// (remote_error.ts) and is made again on the caller's side — its class, its hint, a
// TrainingError's step, and a CheckpointWriteError's recovery file and the model trained so
// far, bit for bit, so nothing a caller acts on is lost on the way.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { train } from '../src/api.ts';
import { blobs } from '../src/data/synthetic.ts';
import { ConfigError, DataError, ExportError, ModelFileError, OutputError, ThreadtrainError, TrainingError } from '../src/errors.ts';
import type { TrainOptions } from '../src/options/schema.ts';
import { localError, remoteError } from '../src/remote/remote_error.ts';
import { spawnTrainer } from '../src/remote/spawn.ts';
import { CheckpointWriteError } from '../src/train/train.ts';

/** What the caller gets for `error` thrown in a trainer thread: out as data, cloned as postMessage would, and made again. */
const acrossThreads = (error: unknown): Error => localError(structuredClone(remoteError(error)));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tt-remote-error-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('an error from a trainer thread', () => {
  it('keeps its class, message and hint, for every ThreadtrainError class', () => {
    for (const Class of [ThreadtrainError, ConfigError, DataError, ModelFileError, ExportError, OutputError]) {
      const original = new Class('cfg.json: train.lr: expected a number > 0, found -1', 'the learning rate must be positive');
      const got = acrossThreads(original);
      expect(got).toBeInstanceOf(Class);
      expect(got.constructor).toBe(Class);
      expect(got.name).toBe(Class.name);
      expect(got.message).toBe(original.message);
      expect((got as ThreadtrainError).hint).toBe('the learning rate must be positive');
    }
    const noHint = acrossThreads(new DataError('data.csv line 3: expected 4 cells, found 3'));
    expect(noHint).toBeInstanceOf(DataError);
    expect(noHint.message).toBe('data.csv line 3: expected 4 cells, found 3');
    expect((noHint as DataError).hint).toBeUndefined();
  });

  it('a TrainingError keeps its step; any other error its name and message', () => {
    const diverged = acrossThreads(new TrainingError('the loss became NaN at step 17', 'lower the learning rate', 17));
    expect(diverged).toBeInstanceOf(TrainingError);
    expect((diverged as TrainingError).step).toBe(17);
    expect(diverged.message).toBe('the loss became NaN at step 17\nhint: lower the learning rate');
    const other = acrossThreads(new RangeError('Invalid typed array length: -1'));
    expect(other).not.toBeInstanceOf(ThreadtrainError);
    expect(other.name).toBe('Error');
    expect(other.message).toBe('Invalid typed array length: -1');
    expect(acrossThreads('a thrown string').message).toBe('a thrown string');
  });

  it('a CheckpointWriteError keeps its recovery file and the model trained so far, bit for bit', async () => {
    const folder = path.join(dir, 'ck');
    const options: TrainOptions = {
      model: { layers: [{ units: 6, activation: 'tanh' }, { units: 3, activation: 'softmax' }] },
      data: blobs({ n: 60, classes: 3, features: 4, spread: 0.5, seed: 2 }), epochs: 4, batchSize: 10, lr: 0.05, seed: 4, threads: 1,
      checkpoint: { path: path.join(folder, 'run.ckpt'), everyEpochs: 1 },
    };
    const thrown = await train(options, {
      // After the first checkpoint the folder becomes a file: the second cannot be written.
      onCheckpoint: (info) => {
        if (info.epoch === 1) {
          fs.rmSync(folder, { recursive: true, force: true });
          fs.writeFileSync(folder, 'not a folder\n');
        }
      },
    }).then(() => undefined, (e: unknown) => e);
    expect(thrown).toBeInstanceOf(CheckpointWriteError);
    const original = thrown as CheckpointWriteError;
    const got = acrossThreads(original);
    expect(got).toBeInstanceOf(CheckpointWriteError);
    const back = got as CheckpointWriteError;
    expect(back.message).toBe(original.message);
    expect(back.hint).toBe(original.hint);
    expect(back.recovered).toBe(original.recovered);
    expect(back.recovered).toMatch(/run\.recovered-\d+\.ckpt$/);
    expect(back.result.position).toEqual({ epoch: 2, step: 0 });
    expect(back.result.model.params).toEqual(original.result.model.params);
    expect(Buffer.from(back.result.model.params.buffer).equals(Buffer.from(original.result.model.params.buffer))).toBe(true);
    expect(back.result.history).toEqual(original.result.history);
    expect(back.result.model.predict(Float32Array.of(0.1, -0.2, 0.3, 0.4), 1)).toEqual(original.result.model.predict(Float32Array.of(0.1, -0.2, 0.3, 0.4), 1));
    if (original.recovered) fs.rmSync(original.recovered, { force: true });
  });

  it('through a real trainer thread: a bad option rejects with the ConfigError and hint that train() gives here', async () => {
    const bad = { model: { layers: [{ units: 2, activation: 'softmax' }] }, data: blobs({ n: 20, classes: 2, features: 2, spread: 0.5, seed: 1 }), lr: -1 } as TrainOptions;
    const here = await train(bad).then(() => undefined, (e: unknown) => e);
    expect(here).toBeInstanceOf(ConfigError);
    const trainer = spawnTrainer();
    try {
      const there = await trainer.train(bad).then(() => undefined, (e: unknown) => e);
      expect(there).toBeInstanceOf(ConfigError);
      expect((there as ConfigError).message).toBe((here as ConfigError).message);
      expect((there as ConfigError).hint).toBe((here as ConfigError).hint);
      expect((there as ConfigError).hint).toBeTruthy();
    } finally {
      await trainer.close();
    }
  }, 60_000);
});
