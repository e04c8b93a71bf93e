// A checkpoint that cannot be written during training (its folder replaced by a file, a full
// disk) stops the run there without losing anything: its state goes to a recovery file
// (NAME.recovered-PID.ckpt beside the checkpoint, else in the current folder, else in the
// temp folder), train() rejects with a CheckpointWriteError carrying the model trained so
// far, and a resume from the recovery file ends with the same bits as an uninterrupted run.
// The CLI saves the model (to --out, else a recovery file), prints how to resume, and exits
// 1 with one error line and a hint.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { train } from '../src/api.ts';
import { blobs } from '../src/data/synthetic.ts';
import { displayPath } from '../src/errors.ts';
import { Model } from '../src/model/model.ts';
import type { TrainOptions } from '../src/options/schema.ts';
import { readCheckpoint } from '../src/train/checkpoint.ts';
import { CheckpointWriteError } from '../src/train/train.ts';
import { runMain } from './helpers/cli.ts';

const data = blobs({ n: 96, classes: 3, features: 4, spread: 0.5, seed: 8 });
// 96 rows in batches of 12: 8 steps an epoch.
const base: TrainOptions = {
  model: { layers: [{ units: 8, activation: 'tanh' }, { units: 3, activation: 'softmax' }] },
  data, scale: 'standard', epochs: 5, batchSize: 12, lr: 0.05, seed: 3, optimizer: { name: 'adam' },
};
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

let dir: string;
let home: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tt-ckwrite-'));
  // Recovery files may land in the current folder: keep them out of the repository.
  home = process.cwd();
  fs.mkdirSync(path.join(dir, 'cwd'));
  process.chdir(path.join(dir, 'cwd'));
});
afterEach(() => {
  process.chdir(home);
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Replace `folder` (and the checkpoints in it) by a plain file: every later write into it fails. */
function replaceByFile(folder: string): void {
  fs.rmSync(folder, { recursive: true, force: true });
  fs.writeFileSync(folder, 'not a folder any more\n');
}

/** Why train() rejected. */
async function rejection(run: Promise<unknown>): Promise<CheckpointWriteError> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(CheckpointWriteError);
  return error as CheckpointWriteError;
}

describe('train(): a checkpoint that cannot be written mid-run', () => {
  it('its folder replaced by a file after epoch 2: stops after epoch 3, state in the current folder, resume = uninterrupted bits', async () => {
    const whole = await train({ ...base, threads: 2 });
    const folder = path.join(dir, 'ck');
    const target = path.join(folder, 'run.ckpt');
    const seen: string[] = [];
    const error = await rejection(train({ ...base, threads: 2, checkpoint: { path: target, everyEpochs: 1 } }, {
      onCheckpoint: (info) => {
        seen.push(`${info.path}@${info.epoch}:${info.step}`);
        if (info.epoch === 2) replaceByFile(folder);
      },
    }));
    const recovered = path.join(dir, 'cwd', `run.recovered-${process.pid}.ckpt`);
    expect(error.message).toBe(
      `cannot write ${target}: EEXIST: file already exists, mkdir '${folder}'; training stopped after epoch 3 and its checkpoint was written to ${recovered} instead\n` +
        `hint: the model trained so far is in this error's result; continue the run with resume: ${JSON.stringify(recovered)} once ${folder} can be written (check it, its permissions and the free disk space)`,
    );
    expect(error.recovered).toBe(recovered);
    // onCheckpoint names the file that holds each state, the recovery file last.
    expect(seen).toEqual([`${target}@1:0`, `${target}@2:0`, `${recovered}@3:0`]);
    const { result } = error;
    expect(result.stopReason).toBe('interrupted');
    expect(result.position).toEqual({ epoch: 3, step: 0 });
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    const state = readCheckpoint(recovered);
    expect([state.epoch, state.step]).toEqual([3, 0]);
    expect(bits(state.params)).toEqual(bits(result.model.params));
    // Nothing lost: the two remaining epochs from the recovery file end where the whole run did.
    const ran: number[] = [];
    const resumed = await train({ ...base, threads: 1, resume: recovered }, { onEpoch: (r) => ran.push(r.epoch) });
    expect(ran).toEqual([4, 5]);
    expect(bits(resumed.model.params)).toEqual(bits(whole.model.params));
  });

  it('a step checkpoint mid-epoch: stops at that step, and the resume continues from it', async () => {
    const whole = await train({ ...base, threads: 1 });
    const folder = path.join(dir, 'steps');
    const target = path.join(folder, 'mid.ckpt');
    const error = await rejection(train({ ...base, threads: 2, checkpoint: { path: target, everySteps: 3 } }, {
      // Steps 3 and 6 of epoch 1 are written; the folder goes before step 9 (epoch 2, step 1).
      onCheckpoint: (info) => info.step === 6 && replaceByFile(folder),
    }));
    const recovered = path.join(dir, 'cwd', `mid.recovered-${process.pid}.ckpt`);
    expect(error.message.split('\n')[0]).toBe(
      `cannot write ${target}: EEXIST: file already exists, mkdir '${folder}'; training stopped in epoch 2, after step 1 and its checkpoint was written to ${recovered} instead`,
    );
    expect(error.result.position).toEqual({ epoch: 1, step: 1 });
    expect(error.result.history).toHaveLength(1);
    const state = readCheckpoint(recovered);
    expect([state.epoch, state.step]).toEqual([1, 1]);
    const resumed = await train({ ...base, threads: 2, resume: recovered });
    expect(bits(resumed.model.params)).toEqual(bits(whole.model.params));
  });

  it('the last epoch\'s checkpoint: the run is complete ("ended"), with its test metrics, and the state is recovered', async () => {
    const folder = path.join(dir, 'end');
    const target = path.join(folder, 'end.ckpt');
    fs.writeFileSync(folder, 'a file where the folder should be\n');
    const options = { ...base, epochs: 2, split: { test: 0.25 }, threads: 1, checkpoint: { path: target } };
    const error = await rejection(train(options));
    const recovered = path.join(dir, 'cwd', `end.recovered-${process.pid}.ckpt`);
    expect(error.message.split('\n')[0]).toBe(
      `cannot write ${target}: EEXIST: file already exists, mkdir '${folder}'; training ended after epoch 2 and its checkpoint was written to ${recovered} instead`,
    );
    expect(error.result.stopReason).toBe('epochs');
    expect(error.result.test?.accuracy).toBeGreaterThan(0);
    const plain = await train({ ...base, epochs: 2, split: { test: 0.25 }, threads: 1 });
    expect(bits(error.result.model.params)).toEqual(bits(plain.model.params));
    expect(error.result.test).toEqual(plain.test);
  });

  it('no place takes the state: the error lists every place tried, and the model is still in the result', async () => {
    const open = fs.openSync;
    // Every checkpoint file fails the way a full disk does; other files open normally.
    vi.spyOn(fs, 'openSync').mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
      if (/\.ckpt\.\d+\.[a-z0-9]+\.tmp$/.test(String(p))) throw Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });
      return (open as (...a: unknown[]) => number)(p, ...rest);
    }) as never);
    const target = path.join(dir, 'full', 'run.ckpt');
    const error = await rejection(train({ ...base, threads: 1, checkpoint: { path: target, everyEpochs: 1 } }));
    const name = `run.recovered-${process.pid}.ckpt`;
    const tried = [path.join(dir, 'full', name), path.join(dir, 'cwd', name), path.join(os.tmpdir(), name)];
    expect(error.message).toBe(
      `cannot write ${target}: ENOSPC: no space left on device, open; training stopped after epoch 1 and its checkpoint could not be written anywhere (also tried ${tried.join(', ')})\n` +
        `hint: the model trained so far is in this error's result; free some disk space or fix ${path.join(dir, 'full')}, then start again (or resume from an earlier checkpoint)`,
    );
    expect(error.recovered).toBeUndefined();
    expect(error.result.position).toEqual({ epoch: 1, step: 0 });
    expect(error.result.model.params.every(Number.isFinite)).toBe(true);
    for (const file of tried) expect(fs.existsSync(file)).toBe(false);
    // No temp file is left behind by the failed writes.
    expect(fs.readdirSync(path.join(dir, 'full'))).toEqual([]);
  });
});

describe('threadtrain train: a checkpoint that cannot be written mid-run', () => {
  const XOR = ['--data', 'builtin:xor', '--layers', '[{"units":3,"activation":"tanh"},{"units":2,"activation":"softmax"}]', '--epochs', '4', '--threads', '1', '--batch-size', '2', '--lr', '0.1'];

  it('a full disk at the second checkpoint: the model is saved, the state recovered beside the checkpoint, exit 1, and the resume matches', async () => {
    const ck = path.join(dir, 'ck', 'run.ckpt');
    const out = path.join(dir, 'model.ttm');
    const open = fs.openSync;
    let writes = 0;
    // The checkpoint's own temp file fails from its second write on; the recovery file (another name) and the model open normally.
    vi.spyOn(fs, 'openSync').mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
      if (path.basename(String(p)).startsWith('.run.ckpt.') && ++writes >= 2) {
        throw Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });
      }
      return (open as (...a: unknown[]) => number)(p, ...rest);
    }) as never);
    let run;
    try {
      run = await runMain(['train', ...XOR, '--checkpoint', ck, '--checkpoint-every', '1', '--out', out]);
    } finally {
      vi.restoreAllMocks();
    }
    const recovered = path.join(dir, 'ck', `run.recovered-${process.pid}.ckpt`);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot write ${ck}: ENOSPC: no space left on device, open; training stopped after epoch 2 and its checkpoint was written to ${recovered} instead; the model trained so far is in ${displayPath(out)}\n` +
        `hint: continue with --resume ${displayPath(recovered)} once ${displayPath(path.join(dir, 'ck'))} can be written: check it, its permissions and the free disk space\n`,
    );
    expect(run.stdout).toContain('stopped: the checkpoint could not be written\ntrained 2 epochs in');
    // The CLI shows paths relative to the current folder where that is shorter.
    expect(run.stdout).toContain(`saved model to ${displayPath(out)} (2-3-2 (tanh, softmax), 17 parameters, as trained when stopped)`);
    expect(run.stdout).toContain(`checkpoint: ${displayPath(recovered)} (epoch 2, step 0)\nresume with: threadtrain train`);
    expect(run.stdout).toContain(`--resume ${displayPath(recovered)}\n`);
    // The first checkpoint is still in place, unchanged by the failed write.
    expect(readCheckpoint(ck).epoch).toBe(1);
    expect(bits(Model.load(out).params)).toEqual(bits(readCheckpoint(recovered).params));

    const whole = path.join(dir, 'whole.ttm');
    expect((await runMain(['train', ...XOR, '--out', whole])).code).toBe(0);
    const resumed = path.join(dir, 'resumed.ttm');
    const again = await runMain(['train', ...XOR, '--resume', recovered, '--out', resumed]);
    expect(again.stderr).toBe('');
    expect(bits(Model.load(resumed).params)).toEqual(bits(Model.load(whole).params));
  });

  it('its folder replaced by a file during the run, without --out: state and model both go to the current folder', async () => {
    const folder = path.join(dir, 'gone');
    const ck = path.join(folder, 'run.ckpt');
    const open = fs.openSync;
    let replaced = false;
    // The output-path check passes (the folder exists then); the first checkpoint finds a file in its place.
    vi.spyOn(fs, 'openSync').mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
      if (!replaced && path.basename(String(p)).startsWith('.run.ckpt.')) {
        replaced = true;
        replaceByFile(folder);
      }
      return (open as (...a: unknown[]) => number)(p, ...rest);
    }) as never);
    let run;
    try {
      run = await runMain(['train', ...XOR, '--checkpoint', ck, '--checkpoint-every', '1']);
    } finally {
      vi.restoreAllMocks();
    }
    const recovered = path.join(dir, 'cwd', `run.recovered-${process.pid}.ckpt`);
    const model = path.join(dir, 'cwd', `model.recovered-${process.pid}.ttm`);
    expect(run.code).toBe(1);
    const [error, hint, ...rest] = run.stderr.split('\n');
    expect(error).toMatch(new RegExp(`^error: cannot write ${ck}: ENOTDIR: not a directory, open '${folder}/\\.run\\.ckpt\\.${process.pid}\\.[a-z0-9]+\\.tmp'; ` +
      `training stopped after epoch 1 and its checkpoint was written to ${recovered} instead; the trained model was saved to ${displayPath(model)} instead$`));
    expect(hint).toBe(`hint: continue with --resume ${displayPath(recovered)} once ${displayPath(folder)} can be written: check it, its permissions and the free disk space`);
    expect(rest).toEqual(['']);
    expect(readCheckpoint(recovered).epoch).toBe(1);
    expect(bits(Model.load(model).params)).toEqual(bits(readCheckpoint(recovered).params));
  });
});
