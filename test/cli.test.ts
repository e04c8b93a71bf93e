// The command line, run as a child process the way a person runs it, on tiny data the
// test writes to a temp directory: what train prints, that evaluate and predict agree
// with it to the last digit, exit codes, error output without stack traces, and Ctrl-C.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/commands.ts';
import { Model } from '../src/model/model.ts';
import { readCheckpoint } from '../src/train/checkpoint.ts';
import { cli, tableCell, type Run } from './helpers/cli.ts';

const repo = path.resolve(import.meta.dirname, '..');
let dir: string;

const tmp = (name: string) => path.join(dir, name);

/** Three overlapping Gaussian-ish clusters named by colour, from a fixed LCG. */
function clustersCsv(n: number, seed: number, withLabel = true): string {
  let s = seed;
  const uniform = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const names = ['red', 'green', 'blue'];
  const centres = [[0, 0], [1.5, 0], [0, 1.5]];
  const lines = [withLabel ? 'x1,x2,colour' : 'x1,x2'];
  for (let i = 0; i < n; i++) {
    // The test file starts with "blue": its ids must still be the training file's.
    const k = (i + seed) % 3;
    const noise = () => (uniform() + uniform() + uniform() - 1.5) * 1.2;
    const cells = [(centres[k]![0]! + noise()).toFixed(4), (centres[k]![1]! + noise()).toFixed(4)];
    if (withLabel) cells.push(names[k]!);
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}

function writeJson(name: string, value: unknown): string {
  fs.writeFileSync(tmp(name), JSON.stringify(value, null, 2));
  return tmp(name);
}

const TINY = {
  data: { csv: 'train.csv', label: 'colour', testCsv: 'test.csv' },
  split: { validation: 0.2 },
  scale: 'standard',
  model: { layers: [{ units: 8, activation: 'tanh' }, { units: 3, activation: 'softmax' }] },
  train: { epochs: 4, batchSize: 16, lr: 0.1, seed: 3, threads: 2, optimizer: { name: 'momentum' } },
};

const EPOCH_LINE = /^epoch (\d+)\/(\d+) \| loss [\d.e-]+ \| acc \d+\.\d\d% \| val_loss [\d.e-]+ \| val_acc \d+\.\d\d% \| [\d.]+[kM]? samples\/s$/;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-cli-'));
  fs.writeFileSync(tmp('train.csv'), clustersCsv(240, 0));
  fs.writeFileSync(tmp('test.csv'), clustersCsv(90, 2));
  fs.writeFileSync(tmp('features.csv'), clustersCsv(25, 5, false));
  writeJson('tiny.json', TINY);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('threadtrain train / evaluate / predict / plot', () => {
  let trained: Run;
  beforeAll(async () => {
    trained = await cli(['train', '--config', tmp('tiny.json'), '--out', tmp('model.ttm'), '--log', tmp('run.jsonl')]);
  });

  it('train prints the resolved config table, one line per epoch and the test results, and exits 0', () => {
    expect(trained.stderr).toBe('');
    expect(trained.code).toBe(0);
    const lines = trained.stdout.split('\n');
    expect(lines[0]).toMatch(/^\+-+\+-+\+$/);
    expect(lines[1]).toMatch(/^\| Parameter +\| Value +\|$/);
    const row = (name: string) => tableCell(trained.stdout, name);
    expect(row('data')).toContain('csv');
    expect(row('task')).toBe('classification, 3 classes (red, green, blue)');
    expect(row('rows')).toBe('train 192, validation 48, test 90');
    expect(row('layers')).toBe('2-8-3 (tanh, softmax)');
    expect(row('loss')).toBe('cross_entropy');
    expect(row('epochs')).toBe('4');
    expect(row('batch size')).toBe('16');
    expect(row('learning rate')).toBe('0.1');
    expect(row('optimizer')).toBe('momentum (momentum 0.9)');
    expect(row('schedule')).toBe('constant');
    expect(row('seed')).toBe('3');
    expect(row('threads')).toMatch(/^2 \(of \d+ cores\)$/);
    expect(row('kernel')).toMatch(/^auto \((wasm|js)\)$/);
    const epochs = lines.filter((l) => l.startsWith('epoch '));
    expect(epochs).toHaveLength(4);
    epochs.forEach((l, i) => {
      expect(l).toMatch(EPOCH_LINE);
      expect(l.startsWith(`epoch ${i + 1}/4 |`)).toBe(true);
    });
    expect(trained.stdout).toContain('stopped: all 4 epochs done');
    expect(trained.stdout).toMatch(/^test: loss [\d.]+ \| acc \d+\.\d\d% \(\d+\/90\)$/m);
    expect(trained.stdout).toMatch(/^actual \\ predicted +red +green +blue$/m);
    expect(trained.stdout).toContain(`saved model to ${tmp('model.ttm')}`);
  });

  it('--log writes one JSON record per epoch, matching the printed lines', () => {
    const records = fs.readFileSync(tmp('run.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
    const first = trained.stdout.split('\n').find((l) => l.startsWith('epoch 1/4'))!;
    expect(first).toContain(`acc ${(records[0].accuracy * 100).toFixed(2)}%`);
  });

  it('evaluate on the test file reproduces the test loss and accuracy that train printed', async () => {
    const run = await cli(['evaluate', '--model', tmp('model.ttm'), '--data', tmp('test.csv')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const trainTest = /^test: (.*)$/m.exec(trained.stdout)![1];
    const evaluated = /^evaluate: (.*)$/m.exec(run.stdout)![1];
    expect(evaluated).toBe(trainTest);
    const accuracy = Number(/acc (\d+\.\d\d)%/.exec(evaluated!)![1]);
    expect(accuracy).toBeGreaterThan(60);
    expect(accuracy).toBeLessThan(100);
    // The confusion matrices agree too.
    const matrix = (text: string) => text.split('\n').filter((l) => /^(red|green|blue) /.test(l));
    expect(matrix(run.stdout)).toEqual(matrix(trained.stdout));
  });

  it('predict --out writes a row per input row: the class and a probability per class', async () => {
    const run = await cli(['predict', '--model', tmp('model.ttm'), '--data', tmp('test.csv'), '--out', tmp('pred.csv')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`wrote 90 predictions`);
    const [header, ...rows] = fs.readFileSync(tmp('pred.csv'), 'utf8').trim().split('\n');
    expect(header).toBe('prediction,p_red,p_green,p_blue');
    expect(rows).toHaveLength(90);
    const truth = fs.readFileSync(tmp('test.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[2]);
    let correct = 0;
    rows.forEach((line, i) => {
      const [label, ...p] = line.split(',');
      const probs = p.map(Number);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(label).toBe(['red', 'green', 'blue'][probs.indexOf(Math.max(...probs))]);
      if (label === truth[i]) correct++;
    });
    expect(run.stderr).toBe('');
    expect(trained.stdout).toContain(`(${correct}/90)`);
  });

  it('predict reads a features-only CSV and writes to stdout without --out', async () => {
    const run = await cli(['predict', '--model', tmp('model.ttm'), '--data', tmp('features.csv')]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('prediction,p_red,p_green,p_blue');
    expect(lines).toHaveLength(26);
  });

  it('plot draws the epoch log as an SVG file', async () => {
    const run = await cli(['plot', tmp('run.jsonl'), '--out', tmp('curves.svg')]);
    expect(run.code).toBe(0);
    expect(fs.readFileSync(tmp('curves.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });

  it('a corrupted model file: exit 1, one error naming the file, no stack trace', async () => {
    const bytes = fs.readFileSync(tmp('model.ttm'));
    bytes[bytes.length >> 1]! ^= 0x40;
    fs.writeFileSync(tmp('corrupt.ttm'), bytes);
    const run = await cli(['evaluate', '--model', tmp('corrupt.ttm'), '--data', tmp('test.csv')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.startsWith(`error: ${tmp('corrupt.ttm')}: `)).toBe(true);
    expect(run.stderr).toContain('\nhint: ');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('threadtrain train: checkpoint and step-log cadence flags', () => {
  it('--checkpoint-every, --checkpoint-every-steps and --log-every-steps write what they say', async () => {
    // 192 training rows in batches of 16: 12 steps an epoch, 48 in 4 epochs.
    const run = await cli([
      'train', '--config', tmp('tiny.json'), '--checkpoint', tmp('cad.ckpt'), '--checkpoint-every', '2',
      '--log', tmp('cad.jsonl'), '--log-every-steps', '5',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\| checkpoint +\| .*cad\.ckpt \(every 2 epochs/m);
    const records = fs.readFileSync(tmp('cad.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step: number; gradNorms?: number[] });
    const steps = records.filter((r) => r.type === 'step');
    expect(steps.map((r) => r.step)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45]);
    for (const r of steps) expect(r.gradNorms).toHaveLength(2);
    expect(records.filter((r) => r.type === 'epoch').map((r) => r.step)).toEqual([12, 24, 36, 48]);
    const ck = readCheckpoint(tmp('cad.ckpt'));
    expect([ck.epoch, ck.step]).toEqual([4, 0]);

    const bad = await cli(['train', '--config', tmp('tiny.json'), '--checkpoint-every-steps', '3']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${tmp('tiny.json')}: train.checkpoint.path: expected a non-empty string, found nothing\nhint: the file to write checkpoints to, e.g. "runs/mnist.ckpt" (--checkpoint FILE on the command line)`);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('threadtrain errors and usage', () => {
  it('a bad config field: exit 1, naming the file and the field, no stack trace', async () => {
    const file = writeJson('bad.json', { ...TINY, train: { ...TINY.train, batchSize: 0 } });
    const run = await cli(['train', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`error: ${file}: train.batchSize: expected a positive integer or "full", found 0\nhint: rows per step: 1 for online SGD, e.g. 32 for mini-batches, or "full" for the whole training set\n`);
  });

  it('a config that does not fit its data: exit 1, the field named with the file', async () => {
    const file = writeJson('mismatch.json', { ...TINY, model: { layers: [{ units: 2, activation: 'softmax' }] } });
    const run = await cli(['train', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(`error: ${file}: model.layers[0].units: expected 3 output units for data with 3 classes, found 2`);
  });

  it('an unknown flag or a missing command is a usage error: exit 2 and the usage', async () => {
    const flag = await cli(['train', '--config', tmp('tiny.json'), '--epoch', '3']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('threadtrain train');
    expect(flag.stderr).toContain('--batch-size');
    expect(flag.stderr.trim().split('\n').at(-1)).toBe('error: Unknown argument: epoch; did you mean --epochs?');
    const none = await cli([]);
    expect(none.code).toBe(2);
    // Every command is named, in --help's order.
    const names = COMMANDS.map((c) => c.command.split(' ')[0]!);
    expect(names).toEqual(expect.arrayContaining(['train', 'sweep', 'evaluate', 'predict', 'export', 'plot', 'inspect', 'bench', 'datasets']));
    expect(none.stderr.trim().split('\n').at(-1)).toBe(`error: give a command: ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`);
  });

  it('train runs from flags alone: --data, --layers and the optimizer by name, no config file', async () => {
    const run = await cli([
      'train', '--data', 'builtin:xor', '--layers', '[{"units":2,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]',
      '--optimizer', 'momentum', '--momentum', '0.5', '--batch-size', 'full', '--lr', '0.5', '--epochs', '3', '--threads', '1', '--set', 'train.seed=4',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const row = (name: string) => tableCell(run.stdout, name);
    expect(row('config')).toBe('none (flags only)');
    expect(row('data')).toBe('builtin xor');
    expect(row('loss')).toBe('bce');
    expect(row('optimizer')).toBe('momentum (momentum 0.5)');
    expect(row('seed')).toBe('4');
    expect(run.stdout).toContain('stopped: all 3 epochs done');
  });

  it('a bad --data names the flag, for train and evaluate alike', async () => {
    const trained = await cli(['train', '--config', tmp('tiny.json'), '--data', 'builtin:spiral']);
    expect(trained.code).toBe(1);
    expect(trained.stderr.split('\n')[0]).toBe('error: --data: expected one of xor, and, spirals, blobs, sine, parabola, found "spiral"; did you mean "spirals"?');
    const evaluated = await cli(['evaluate', '--model', tmp('model.ttm'), '--data', 'idx:only-one.gz']);
    expect(evaluated.code).toBe(1);
    expect(evaluated.stderr.split('\n')[0]).toBe('error: --data idx.labels: expected a non-empty string, found nothing');
  });

  it('--help lists every command, and a command\'s --help every flag with its default', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['train', 'evaluate', 'predict', 'plot <log>', 'datasets <action> [name]']) expect(top.stdout).toContain(`threadtrain ${command} `);
    const train = await cli(['train', '--help']);
    for (const flag of ['--config', '--data', '--set', '--epochs', '--lr', '--batch-size', '--seed', '--threads', '--kernel', '--out', '--log', '--optimizer', '--warmup-steps', '--schedule']) {
      expect(train.stdout).toContain(flag);
    }
    expect(train.stdout.match(/\[default: /g)!.length).toBeGreaterThanOrEqual(8);
  });

  it('regression: train and evaluate print MSE, MAE and R²; predict writes the target values', async () => {
    const file = writeJson('sine.json', {
      data: { builtin: 'sine', n: 300, seed: 4 },
      split: { test: 0.3 },
      model: { layers: [{ units: 12, activation: 'tanh' }, { units: 1, activation: 'identity' }] },
      train: { epochs: 3, batchSize: 8, lr: 0.05, threads: 1 },
    });
    const run = await cli(['train', '--config', file, '--out', tmp('sine.ttm')]);
    expect(run.code).toBe(0);
    const line = /^test: (loss [\d.e-]+ \| mse [\d.e-]+ \| mae [\d.e-]+ \| r2 -?\d\.\d{4})$/m.exec(run.stdout);
    expect(line).not.toBeNull();
    const evaluated = await cli(['evaluate', '--model', tmp('sine.ttm'), '--data', 'builtin:sine,n=300,seed=4']);
    expect(evaluated.code).toBe(0);
    expect(evaluated.stdout).toMatch(/^evaluate: loss [\d.e-]+ \| mse [\d.e-]+ \| mae [\d.e-]+ \| r2 -?\d\.\d{4}$/m);
    expect(evaluated.stdout).toContain('data: builtin sine,n=300,seed=4 (300 rows)');
    const predicted = await cli(['predict', '--model', tmp('sine.ttm'), '--data', 'builtin:sine,n=7']);
    expect(predicted.stdout.trim().split('\n')).toHaveLength(8);
    expect(predicted.stdout.startsWith('prediction\n')).toBe(true);
  });
});

describe('threadtrain interrupted', () => {
  it('Ctrl-C stops at the next step, saves the model and a checkpoint, exits 130; --resume continues from there', async () => {
    const file = writeJson('long.json', {
      data: { builtin: 'spirals', n: 20000 },
      model: { layers: [{ units: 32, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
      train: { epochs: 100000, batchSize: 16, lr: 0.05, threads: 2 },
      out: 'long.ttm',
    });
    let sent = false;
    const run = await cli(['train', '--config', file, '--checkpoint', tmp('long.ckpt')], {
      onStdout: (text, child) => {
        if (!sent && text.includes('\nepoch 1/100000 |')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(130);
    expect(run.stderr).toContain('interrupt: stopping at the next step');
    expect(run.stdout).toMatch(/^stopped: interrupted/m);
    expect(run.stdout).toContain(`saved model to ${tmp('long.ttm')}`);
    const model = Model.load(tmp('long.ttm'));
    expect(model.spec.layers.map((l) => l.units)).toEqual([32, 2]);
    expect(model.params.every(Number.isFinite)).toBe(true);

    expect(run.stdout).toMatch(new RegExp(`^checkpoint: ${tmp('long.ckpt')} \\(epoch \\d+, step \\d+\\)$`, 'm'));
    expect(run.stdout).toContain(`resume with: threadtrain train --config ${file} --resume ${tmp('long.ckpt')}`);
    const stopped = Number(/^checkpoint: .* \(epoch (\d+), step \d+\)$/m.exec(run.stdout)![1]);
    const resumed = await cli(['train', '--config', file, '--resume', tmp('long.ckpt'), '--epochs', String(stopped + 1), '--out', tmp('resumed.ttm')]);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^\| resume from +\| .*long\.ckpt +\|$/m);
    expect(resumed.stdout).toMatch(new RegExp(`^epoch ${stopped + 1}/${stopped + 1} \\|`, 'm'));
    expect(resumed.stdout).not.toMatch(/^epoch 1\//m);
  });
});

describe('src/bin.js', () => {
  it('is executable and runs the CLI through tsx without a build', async () => {
    expect(fs.statSync(path.join(repo, 'src/bin.js')).mode & 0o111).not.toBe(0);
    expect(fs.readFileSync(path.join(repo, 'src/bin.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const run = await cli(['evaluate', '--model', tmp('model.ttm'), '--data', tmp('test.csv')], { entry: ['src/bin.js'] });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^evaluate: loss/m);
  });
});
