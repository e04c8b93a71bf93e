// Output paths: one rule for every file the CLI writes (io/output_path.ts) — missing folders
// are created, everything else that cannot be written is refused before any work starts —
// and a run whose writes fail at the end (the model's path, a full disk under the log) still
// keeps its trained model and says where.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OutputError } from '../src/errors.ts';
import { prepareOutput } from '../src/io/output_path.ts';
import { Model } from '../src/model/model.ts';
import { cli, runMain } from './helpers/cli.ts';

let dir: string;
const tmp = (...names: string[]) => path.join(dir, ...names);
const XOR = ['--data', 'builtin:xor', '--layers', '[{"units":2,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]', '--epochs', '2', '--threads', '1', '--batch-size', 'full'];
const WHERE = 'expected a file path in a writable folder, found';

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-outputs-'));
  fs.writeFileSync(tmp('plain.txt'), 'a file, not a folder\n');
  fs.mkdirSync(tmp('folder'));
  fs.writeFileSync(tmp('run.jsonl'), `${JSON.stringify({ type: 'epoch', epoch: 1, step: 1, loss: 0.5, lr: 0.1, samplesPerSec: 1, time: 1 })}\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('prepareOutput: the one output-path rule', () => {
  it('creates missing folders and returns the absolute path', () => {
    const target = tmp('a', 'b', 'c', 'model.ttm');
    expect(prepareOutput(path.relative(process.cwd(), target), '--out')).toBe(target);
    expect(fs.statSync(tmp('a', 'b', 'c')).isDirectory()).toBe(true);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('refuses a directory, a file used as a folder, a device for an atomic write, and a folder that is a file', () => {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(OutputError);
        return (e as Error).message;
      }
      throw new Error('expected an OutputError');
    };
    expect(message(() => prepareOutput(tmp('folder'), '--out'))).toBe(
      `--out ${tmp('folder')}: ${WHERE} a directory\nhint: give a file name inside it, e.g. ${tmp('folder', 'model.ttm')}`);
    expect(message(() => prepareOutput(tmp('plain.txt', 'sub', 'm.ttm'), 'train.checkpoint.path'))).toBe(
      `train.checkpoint.path ${tmp('plain.txt', 'sub', 'm.ttm')}: ${WHERE} that ${tmp('plain.txt')} is a file, not a folder\nhint: choose a path whose folders are folders, or move ${tmp('plain.txt')} away`);
    expect(message(() => prepareOutput('/dev/null', '--out'))).toBe(
      `--out /dev/null: ${WHERE} a device, pipe or socket, not a regular file\nhint: this file is replaced atomically (temp file + rename); give the path of a regular file`);
    expect(message(() => prepareOutput(tmp('plain.txt'), '--out', 'folder'))).toBe(
      `--out ${tmp('plain.txt')}: expected a writable folder, found a file\nhint: choose a path whose folders are folders, or move ${tmp('plain.txt')} away`);
    // An appended log may be a device: nothing is renamed over it.
    expect(prepareOutput('/dev/null', 'log', 'append')).toBe('/dev/null');
  });

  it('refuses a folder that is not writable (run as an unprivileged user when the tests run as root)', () => {
    const ro = tmp('readonly');
    fs.mkdirSync(ro, { mode: 0o755 });
    fs.chmodSync(ro, 0o555);
    fs.chmodSync(dir, 0o755);
    const script = `import('${path.resolve('src/io/output_path.ts')}').then((m) => { try { m.prepareOutput(process.argv[1], '--out'); console.log('accepted'); } catch (e) { console.log(e.message); } })`;
    const root = process.getuid?.() === 0;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, path.join(ro, 'sub', 'm.ttm')], {
      encoding: 'utf8', ...(root ? { uid: 65534, gid: 65534 } : {}), env: { ...process.env, TSX_TSCONFIG_PATH: '' },
    });
    fs.chmodSync(ro, 0o755);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(
      `--out ${path.join(ro, 'sub', 'm.ttm')}: ${WHERE} that the folder ${path.join(ro, 'sub')} cannot be created (EACCES)\nhint: choose a folder you can write to, or change its permissions`);
  });
});

describe('every command checks its output paths before it works', () => {
  const refused = async (args: string[], first: string) => {
    const run = await runMain(args);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toBe(`error: ${first}`);
    expect(run.stderr).toMatch(/\nhint: .+\n$/);
    expect(run.stderr.trim().split('\n')).toHaveLength(2);
  };

  it('train: --out a directory, --checkpoint through a file, --log through a file — before the data loads (nothing printed)', async () => {
    await refused(['train', ...XOR, '--out', tmp('folder')], `out ${tmp('folder')}: ${WHERE} a directory`);
    await refused(['train', ...XOR, '--checkpoint', tmp('plain.txt', 'x.ckpt')], `train.checkpoint.path ${tmp('plain.txt', 'x.ckpt')}: ${WHERE} that ${tmp('plain.txt')} is a file, not a folder`);
    await refused(['train', ...XOR, '--log', tmp('plain.txt', 'x.jsonl')], `log ${tmp('plain.txt', 'x.jsonl')}: ${WHERE} that ${tmp('plain.txt')} is a file, not a folder`);
  });

  it('predict, plot, export, bench --plot and sweep --out refuse the same way', async () => {
    const model = tmp('xor.ttm');
    expect((await runMain(['train', ...XOR, '--out', model])).code).toBe(0);
    await refused(['predict', '--model', model, '--data', 'builtin:xor', '--out', tmp('folder')], `--out ${tmp('folder')}: ${WHERE} a directory`);
    await refused(['plot', tmp('run.jsonl'), '--out', tmp('plain.txt', 'c.svg')], `--out ${tmp('plain.txt', 'c.svg')}: ${WHERE} that ${tmp('plain.txt')} is a file, not a folder`);
    await refused(['export', '--model', model, '--format', 'onnx', '--out', tmp('folder')], `export --out ${tmp('folder')}: ${WHERE} a directory`);
    await refused(['export', '--model', model, '--format', 'tfjs', '--out', tmp('plain.txt')], `export --out ${tmp('plain.txt')}: expected a writable folder, found a file`);
    await refused(['bench', '--config', 'configs/xor.json', '--threads', '1', '--plot', tmp('folder')], `--plot ${tmp('folder')}: ${WHERE} a directory`);
    const sweepConfig = tmp('sweep.json');
    fs.writeFileSync(sweepConfig, JSON.stringify({ ...JSON.parse(fs.readFileSync('configs/xor.json', 'utf8')), $schema: undefined, sweep: { grid: { 'train.lr': [0.1, 0.2] } } }));
    await refused(['sweep', '--config', sweepConfig, '--out', tmp('plain.txt')], `--out ${tmp('plain.txt')}: expected a writable folder, found a file`);
  });

  it('missing folders are created for the model, checkpoint and log alike', async () => {
    const run = await runMain(['train', ...XOR, '--out', tmp('new1', 'm.ttm'), '--checkpoint', tmp('new2', 'c.ckpt'), '--log', tmp('new3', 'l.jsonl')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(Model.load(tmp('new1', 'm.ttm')).spec.layers.map((l) => l.units)).toEqual([2, 1]);
    expect(fs.statSync(tmp('new2', 'c.ckpt')).size).toBeGreaterThan(0);
    expect(fs.readFileSync(tmp('new3', 'l.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});

describe('writes that fail at the end keep the trained model', () => {
  it('a model save that fails after training goes to a fallback beside the checkpoint, and the error says where', async () => {
    const out = tmp('late', 'final.ttm');
    const open = fs.openSync;
    // Fail the model's own temp file the way a disk error would; every other file opens normally.
    vi.spyOn(fs, 'openSync').mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
      if (path.basename(String(p)).startsWith('.final.ttm.')) throw Object.assign(new Error('EIO: i/o error, open'), { code: 'EIO' });
      return (open as (...a: unknown[]) => number)(p, ...rest);
    }) as never);
    let run;
    try {
      run = await runMain(['train', ...XOR, '--out', out, '--checkpoint', tmp('ck', 'run.ckpt')]);
    } finally {
      vi.restoreAllMocks();
    }
    const fallback = tmp('ck', `final.recovered-${process.pid}.ttm`);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot save the model to ${out} (cannot write ${out}: EIO: i/o error, open); the trained model was saved to ${fallback} instead\n` +
      'hint: move the saved model where you want it; check the path, its permissions and the free disk space\n');
    expect(fs.existsSync(out)).toBe(false);
    expect(Model.load(fallback).spec.layers.map((l) => l.units)).toEqual([2, 1]);
  });

  it('a full disk under --log --log-every-steps 1 (/dev/full): one error line, training stops, the model is saved', async () => {
    const out = tmp('full', 'm.ttm');
    const run = await runMain(['train', ...XOR, '--epochs', '50', '--log', '/dev/full', '--log-every-steps', '1', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot append to the log /dev/full: ENOSPC: no space left on device, write; training stopped after epoch 1 and the model trained so far is in ${out}\n` +
      'hint: the disk is full: free some space or log elsewhere; the log keeps every complete line written before\n');
    expect(run.stdout).toContain('stopped: the log could not be written');
    expect(run.stdout).toContain(`saved model to ${out}`);
    expect(Model.load(out).params.every(Number.isFinite)).toBe(true);
  });

  it('the same without --out: the model goes beside the checkpoint', async () => {
    const run = await runMain(['train', ...XOR, '--epochs', '50', '--log', '/dev/full', '--log-every-steps', '1', '--checkpoint', tmp('full2', 'run.ckpt')]);
    const fallback = tmp('full2', `model.recovered-${process.pid}.ttm`);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(
      `error: cannot append to the log /dev/full: ENOSPC: no space left on device, write; training stopped after epoch 1 and the trained model was saved to ${fallback} instead`);
    expect(Model.load(fallback).spec.layers.map((l) => l.units)).toEqual([2, 1]);
  });
});

describe('a child process', () => {
  it('train --out onto a directory exits 1 with one error line and no stack trace', async () => {
    const run = await cli(['train', ...XOR, '--out', tmp('folder')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`error: out ${tmp('folder')}: ${WHERE} a directory\nhint: give a file name inside it, e.g. ${tmp('folder', 'model.ttm')}\n`);
  });
});
