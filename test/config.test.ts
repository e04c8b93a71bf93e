// Config files: loading, path resolution from the config's directory, command-line
// values on top (derived flags, --set, --data), loading the data with the run's split, and
// every message a bad config can get (one test each), checked for the file, the field path
// and a hint.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassificationDataset } from '../src/data/dataset.ts';
import { loadData, type DataSplits } from '../src/data/load.ts';
import { splitDataset } from '../src/data/split.ts';
import { builtinDataset } from '../src/data/synthetic.ts';
import { ConfigError, displayPath } from '../src/errors.ts';
import { closestName } from '../src/options/closest_name.ts';
import { commandLineValues } from '../src/options/flags.ts';
import { loadConfig, loadConfigData, parseCommandLine, parseConfig, type Config } from '../src/options/parse.ts';

const repo = path.resolve(import.meta.dirname, '..');
let dir: string;

const MODEL = { layers: [{ units: 4, activation: 'tanh' }, { units: 2, activation: 'softmax' }] };
const BASE = { data: { builtin: 'spirals', n: 200 }, model: MODEL };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-config-'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'train.csv'), 'x1,x2,colour\n0,0,red\n1,0,blue\n0,1,red\n1,1,blue\n2,2,green\n3,3,green\n');
  // The held-out file meets "green" first: its ids must still be the training file's.
  fs.writeFileSync(path.join(dir, 'data', 'test.csv'), 'x1,x2,colour\n2,3,green\n1,0,blue\n0,0,red\n');
  fs.writeFileSync(path.join(dir, 'data', 'reg.csv'), 'a,b,t\n0,1,0.5\n1,2,1.5\n2,3,2.5\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Write `content` (an object, or raw text) as a config file in the temp dir; returns its path. */
function writeConfig(content: unknown): string {
  const file = path.join(dir, `c${counter++}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** The ConfigError a config gets; asserts that it names the file and carries a hint. */
function configError(content: unknown): ConfigError {
  const file = writeConfig(content);
  try {
    loadConfig(file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.message.startsWith(`${file}`)).toBe(true);
    expect(e.hint).toBeTruthy();
    expect(e.message).toContain(`\nhint: ${e.hint}`);
    return e;
  }
  throw new Error(`expected ${JSON.stringify(content)} to be rejected`);
}

/** The first line of the message with the file name taken off. */
function firstLine(e: Error): string {
  return e.message.split('\n')[0]!.replace(/^\S+\.json:? ?/, '');
}

describe('loadConfig: a valid file', () => {
  it('reads every section into train options, with paths resolved from the config directory', () => {
    const file = writeConfig({
      description: 'all sections',
      data: { csv: 'data/train.csv', label: 'colour', header: true, testCsv: 'data/test.csv' },
      split: { validation: 0.25, stratify: false },
      scale: 'minmax',
      model: { layers: [{ units: 3, activation: 'relu', init: 'he_normal' }, { units: 3, activation: 'softmax' }], loss: 'cross_entropy' },
      train: {
        epochs: 7, batchSize: 'full', lr: 0.2, shuffle: false, seed: 9, threads: 1, kernel: 'js', rule: 'backprop',
        optimizer: { name: 'adam', beta1: 0.8 }, schedule: { type: 'cosine', warmupSteps: 2 },
        stop: { lossBelow: 0.01, patience: 3, minDelta: 0.001 }, earlyStopping: { patience: 4, minDelta: 0, restoreBest: false },
        checkpoint: { path: 'runs/a.ckpt', everyEpochs: 2, everySteps: 50 },
      },
      out: 'models/run.ttm',
      log: 'logs/run.jsonl',
    });
    const c = loadConfig(file);
    expect(c.file).toBe(file);
    expect(c.baseDir).toBe(dir);
    expect(c.description).toBe('all sections');
    expect(c.data).toEqual({ kind: 'csv', path: path.join(dir, 'data/train.csv'), label: 'colour', header: true, testPath: path.join(dir, 'data/test.csv') });
    expect(c.out).toBe(path.join(dir, 'models/run.ttm'));
    expect(c.log).toBe(path.join(dir, 'logs/run.jsonl'));
    expect(c.model).toEqual({ layers: [{ units: 3, activation: 'relu', init: 'he_normal' }, { units: 3, activation: 'softmax' }], loss: 'cross_entropy' });
    expect(c.split).toEqual({ validation: 0.25, test: 0, stratify: false });
    expect(c.scale).toBe('minmax');
    // The optimizer and schedule come out resolved: every field the engine reads, defaults filled.
    expect(c.train).toEqual({
      epochs: 7, batchSize: 'full', lr: 0.2, shuffle: false, seed: 9, threads: 1, kernel: 'js', rule: 'backprop',
      optimizer: { name: 'adam', momentum: 0.9, beta1: 0.8, beta2: 0.999, eps: 1e-8, alpha: 0.99, weightDecay: 0, clipNorm: 0 },
      schedule: { type: 'cosine', warmupSteps: 2, minLr: 0 },
      stop: { lossBelow: 0.01, patience: 3, minDelta: 0.001 }, earlyStopping: { patience: 4, minDelta: 0, restoreBest: false },
      checkpoint: { path: path.join(dir, 'runs/a.ckpt'), everyEpochs: 2, everySteps: 50 },
    });
  });

  it('fills every unset field with the schema\'s default and needs no train section', () => {
    const c = loadConfig(writeConfig(BASE));
    expect(c.train).toEqual({
      epochs: 10, batchSize: 32, lr: 0.01, shuffle: true, seed: 1, threads: 'auto', kernel: 'auto', rule: 'backprop',
      optimizer: { name: 'sgd', momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, alpha: 0.99, weightDecay: 0, clipNorm: 0 },
      schedule: { type: 'constant' },
    });
    expect(c.model).toEqual({ ...MODEL, loss: 'cross_entropy' });
    expect(c.split).toEqual({ validation: 0, test: 0 });
    expect(c.scale).toBe('none');
    expect(c.data).toEqual({ kind: 'builtin', name: 'spirals', n: 200, seed: 1 });
    expect(c.out).toBeUndefined();
  });

  it('takes its own JSON Schema\'s name in "$schema"', () => {
    expect(loadConfig(writeConfig({ $schema: '../configs/threadtrain.schema.json', ...BASE })).$schema).toBe('../configs/threadtrain.schema.json');
  });

  it('resolves paths from the config directory whatever the current directory is', () => {
    const file = writeConfig({ data: { csv: 'data/train.csv' }, model: { layers: [{ units: 3, activation: 'softmax' }] } });
    const cwd = process.cwd();
    process.chdir(os.tmpdir());
    try {
      const c = loadConfig(path.relative(os.tmpdir(), file));
      expect(c.data).toMatchObject({ path: path.join(dir, 'data/train.csv') });
      expect((loadConfigData(c) as ClassificationDataset).n).toBe(6);
    } finally {
      process.chdir(cwd);
    }
  });

  it('reads a file that starts with a byte-order mark', () => {
    expect(loadConfig(writeConfig(`\ufeff${JSON.stringify(BASE)}`)).data).toMatchObject({ kind: 'builtin', name: 'spirals' });
  });

  const sharedMnist = fs.existsSync(path.resolve(repo, '../shared/data/mnist/train-images-idx3-ubyte.gz'));
  if (!sharedMnist) console.warn('config.test: ../shared/data/mnist is absent, so mnist.json is only checked for its missing-file error');

  it('accepts every config in configs/ (mnist.json when ../shared/data is present)', () => {
    const files = fs.readdirSync(path.join(repo, 'configs')).filter((f) => f.endsWith('.json') && f !== 'threadtrain.schema.json');
    expect(files.sort()).toEqual(['default.json', 'mnist.json', 'parabola-lesson-shuffled.json', 'parabola-lesson-unshuffled.json', 'parabola.json', 'spirals.json', 'xor.json']);
    for (const f of files) {
      if (f === 'mnist.json' && !sharedMnist) continue;
      expect(() => loadConfig(path.join(repo, 'configs', f))).not.toThrow();
    }
  });

  it.skipIf(!sharedMnist)('mnist.json finds the shared MNIST files from the repository', () => {
    const mnist = loadConfig(path.join(repo, 'configs', 'mnist.json'));
    expect(mnist.data).toMatchObject({ kind: 'idx', images: path.resolve(repo, '../shared/data/mnist/train-images-idx3-ubyte.gz') });
  });

  it.skipIf(sharedMnist)('mnist.json without ../shared/data says which file is missing', () => {
    expect(() => loadConfig(path.join(repo, 'configs', 'mnist.json'))).toThrow(/train-images-idx3-ubyte\.gz/);
  });
});

describe('loadData', () => {
  it('splits a built-in dataset exactly as train() would (seed + 2, stratified)', () => {
    const c = loadConfig(writeConfig({ ...BASE, split: { validation: 0.1, test: 0.2 }, train: { seed: 5 } }));
    const got = loadConfigData(c) as DataSplits;
    const want = splitDataset(builtinDataset('spirals', { seed: 1, n: 200 }), { validation: 0.1, test: 0.2, seed: 7 });
    expect([got.train.n, got.validation!.n, got.test!.n]).toEqual([140, 20, 40]);
    expect(got.train.x).toEqual(want.train.x);
    expect(got.test!.y).toEqual(want.test!.y);
  });

  it('returns the plain dataset when nothing is held out', () => {
    const ds = loadConfigData(loadConfig(writeConfig({ data: { builtin: 'blobs', n: 30, classes: 3, seed: 4 }, model: { layers: [{ units: 3, activation: 'softmax' }] } })));
    expect(ds).toEqual(builtinDataset('blobs', { n: 30, classes: 3, seed: 4 }));
  });

  it('gives held-out CSV files the training file\'s class ids', () => {
    const c = loadConfig(writeConfig({ data: { csv: 'data/train.csv', testCsv: 'data/test.csv' }, model: { layers: [{ units: 3, activation: 'softmax' }] } }));
    const { train, test } = loadConfigData(c) as { train: ClassificationDataset; test: ClassificationDataset };
    expect(train.classNames).toEqual(['red', 'blue', 'green']);
    expect(test.classNames).toEqual(['red', 'blue', 'green']);
    expect(Array.from(test.y)).toEqual([2, 1, 0]);
  });

  it('carves a validation split off the training rows when the test rows come from a file', () => {
    const c = loadConfig(writeConfig({ data: { csv: 'data/train.csv', testCsv: 'data/test.csv' }, split: { validation: 0.5 }, model: { layers: [{ units: 3, activation: 'softmax' }] } }));
    const s = loadConfigData(c) as DataSplits;
    expect([s.train.n, s.validation!.n, s.test!.n]).toEqual([3, 3, 3]);
  });

  it('reads regression targets', () => {
    const ds = loadData({ kind: 'csv', path: path.join(dir, 'data/reg.csv'), task: 'regression' });
    expect(ds).toMatchObject({ task: 'regression', n: 3, features: 2, targets: 1 });
  });
});

describe('command-line values on top of a config', () => {
  const base = () => writeConfig({ ...BASE, train: { epochs: 3, lr: 0.1, batchSize: 8, seed: 1, threads: 1 }, out: 'a.ttm' });
  const withFlags = (file: string | undefined, args: Record<string, unknown>): Config => parseCommandLine(file, commandLineValues(args));

  it('replaces the fields it is given and keeps the rest', () => {
    const c = withFlags(base(), { epochs: '9', lr: '0.5', threads: '2', kernel: 'js' });
    expect(c.train).toMatchObject({ epochs: 9, lr: 0.5, batchSize: 8, seed: 1, threads: 2, kernel: 'js' });
    expect(c.out).toBe(path.join(dir, 'a.ttm'));
  });

  it('takes numbers as the shell gives them, and "full" for the batch size', () => {
    const c = withFlags(base(), { epochs: '4', lr: '1e-2', seed: '0', 'batch-size': 'full' });
    expect(c.train).toMatchObject({ epochs: 4, lr: 0.01, seed: 0, batchSize: 'full' });
  });

  it('has a flag for every option: the optimizer and schedule by name, their fields by their own', () => {
    const c = withFlags(base(), { optimizer: 'adam', beta2: '0.99', schedule: 'cosine', 'warmup-steps': '100', 'early-stopping': '3', 'validation-split': '0.2', scale: 'standard' });
    expect(c.train.optimizer).toMatchObject({ name: 'adam', beta2: 0.99 });
    expect(c.train.schedule).toEqual({ type: 'cosine', warmupSteps: 100, minLr: 0 });
    expect(c.train.earlyStopping).toEqual({ patience: 3, minDelta: 0, restoreBest: true });
    expect(c.split).toEqual({ validation: 0.2, test: 0 });
    expect(c.scale).toBe('standard');
  });

  it('a new optimizer name drops the config\'s fields for the old one', () => {
    const file = writeConfig({ ...BASE, train: { optimizer: { name: 'momentum', momentum: 0.5 } } });
    expect(withFlags(file, { optimizer: 'adam' }).train.optimizer).toMatchObject({ name: 'adam', beta1: 0.9 });
    expect(withFlags(file, { optimizer: 'momentum' }).train.optimizer).toMatchObject({ name: 'momentum', momentum: 0.5 });
  });

  it('--set reaches any field by its path, its value read as JSON where it parses', () => {
    const c = withFlags(base(), { set: ['train.optimizer.name=adam', 'train.optimizer.beta2=0.99', 'model.layers.0.units=7', 'description=a b'] });
    expect(c.train.optimizer).toMatchObject({ name: 'adam', beta2: 0.99 });
    expect(c.model.layers[0]!.units).toBe(7);
    expect(c.description).toBe('a b');
  });

  it('--data replaces the config\'s data, and with --layers no config is needed', () => {
    const c = withFlags(undefined, { data: 'builtin:blobs,n=30,classes=3', layers: '[{"units":3,"activation":"softmax"}]' });
    expect(c.file).toBeUndefined();
    expect(c.data).toEqual({ kind: 'builtin', name: 'blobs', n: 30, classes: 3, seed: 1 });
    expect(c.model.loss).toBe('cross_entropy');
    const csv = withFlags(base(), { data: path.relative(process.cwd(), path.join(dir, 'data/train.csv')), label: 'colour' });
    expect(csv.data).toEqual({ kind: 'csv', path: path.join(dir, 'data/train.csv'), label: 'colour' });
    const idx = withFlags(base(), { data: `idx:${path.join(dir, 'data/train.csv')},${path.join(dir, 'data/test.csv')}` });
    expect(idx.data).toEqual({ kind: 'idx', images: path.join(dir, 'data/train.csv'), labels: path.join(dir, 'data/test.csv') });
  });

  it('without a config file, a missing section names the flags that give it', () => {
    expect(() => withFlags(undefined, { data: 'builtin:xor' })).toThrow('model (--layers, --loss, --init-from): expected an object, found nothing\nhint: e.g.');
    expect(() => withFlags(undefined, { layers: '[{"units":1,"activation":"sigmoid"}]' })).toThrow('data (--data): expected an object, found nothing\nhint: e.g.');
  });

  it('resolves --out, --log, --checkpoint and --resume from the current directory, not the config directory', () => {
    const c = withFlags(base(), { out: 'm.ttm', log: 'run.jsonl', checkpoint: 'run.ckpt', resume: path.relative(process.cwd(), path.join(dir, 'data/train.csv')) });
    expect(c.out).toBe(path.resolve('m.ttm'));
    expect(c.log).toBe(path.resolve('run.jsonl'));
    expect(c.train.checkpoint).toEqual({ path: path.resolve('run.ckpt'), everyEpochs: 0, everySteps: 0 });
    expect(c.train.resume).toBe(path.join(dir, 'data/train.csv'));
  });

  it('--checkpoint keeps the cadence the config gives', () => {
    const file = writeConfig({ ...BASE, train: { checkpoint: { path: 'a.ckpt', everyEpochs: 3 } } });
    expect(withFlags(file, { checkpoint: 'b.ckpt' }).train.checkpoint).toEqual({ path: path.resolve('b.ckpt'), everyEpochs: 3, everySteps: 0 });
  });

  it.each([
    [{ epochs: 'abc' }, '--epochs: expected a positive integer, found "abc"'],
    [{ epochs: '0' }, '--epochs: expected a positive integer, found 0'],
    [{ 'batch-size': '2.5' }, '--batch-size: expected a positive integer or "full", found 2.5'],
    [{ threads: '0' }, '--threads: expected a positive integer or "auto", found 0'],
    [{ lr: '-1' }, '--lr: expected a number > 0, found -1'],
    [{ seed: '1.5' }, '--seed: expected an integer in [0, 4294967295], found 1.5'],
    [{ kernel: 'gpu' }, '--kernel: expected one of auto, wasm, js, found "gpu"'],
    [{ optimizer: 'adma' }, '--optimizer: expected one of sgd, momentum, nesterov, adam, adamw, rmsprop, found "adma"; did you mean "adam"?'],
    [{ optimizer: 'sgd', beta1: '0.9' }, '--beta1: unknown option'],
    [{ out: '' }, '--out: expected a non-empty string, found ""'],
    [{ resume: 'no/such.ckpt' }, `--resume: expected an existing file, found no file at ${path.join('no', 'such.ckpt')}`],
    [{ 'checkpoint-every-steps': '3' }, 'train.checkpoint.path: expected a non-empty string, found nothing'],
    [{ set: 'train.optimzer.name=adam' }, '--set train.optimzer.name: unknown option; did you mean train.optimizer?'],
    [{ set: 'train.lr' }, '--set train.lr: expected PATH=VALUE with a dotted config path, found "train.lr"'],
    [{ data: 'builtin:spirals,n=abc' }, '--data: expected a positive integer, found "abc"'],
    [{ data: 'builtin:spiral' }, '--data: expected one of xor, and, spirals, blobs, sine, parabola, found "spiral"; did you mean "spirals"?'],
    [{ label: 'colour' }, '--label: unknown option'],
  ])('rejects %j: %s', (args, message) => {
    const file = base();
    let error: unknown;
    try {
      withFlags(file, args);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split('\n')[0]!.replace(`${file}: `, '')).toBe(message);
    expect((error as ConfigError).hint).toBeTruthy();
  });
});

describe('closestName', () => {
  it('suggests across case, separators, swapped letters and prefixes, and stays quiet otherwise', () => {
    const keys = ['epochs', 'batchSize', 'lr', 'earlyStopping'];
    expect(closestName('batch_size', keys)).toBe('batchSize');
    expect(closestName('epcohs', keys)).toBe('epochs');
    expect(closestName('learning_rate', keys)).toBe('lr');
    expect(closestName('early', keys)).toBe('earlyStopping');
    expect(closestName('momentum', keys)).toBeUndefined();
  });
});

describe('loadConfig: messages', () => {
  it('a missing file', () => {
    const file = path.join(dir, 'nope.json');
    expect(() => loadConfig(file)).toThrow(`${file}: expected a readable config file, found ENOENT\nhint: check the path`);
  });

  it('a JSON syntax error names the line and column of the bad token, in one line and a hint', () => {
    const e = configError('{\n  "data": { "builtin": "xor" },\n  "model": { "layers": [] },\n}\n');
    expect(firstLine(e)).toBe('line 4, column 1: expected a key in double quotes, found "}"');
    expect(e.hint).toBe('JSON allows no comma before }: remove the last comma');
  });

  it.each([
    ['a trailing comma in a list', '{\n  "split": { "test": 0.1 },\n  "layers": [1, 2,\n  ]\n}', 'line 4, column 3: expected a value, found "]"', 'JSON allows no comma before ]: remove the last comma'],
    ['NaN', '{\n  "train": { "lr": NaN }\n}', 'line 2, column 20: expected a value, found NaN', 'JSON has no NaN or Infinity: write a number, or leave the field out'],
    ['-Infinity', '{ "lr": -Infinity }', 'line 1, column 9: expected a value, found -Infinity', 'JSON has no NaN or Infinity: write a number, or leave the field out'],
    ['tru for true', '{\n  "train": {\n    "shuffle": tru\n  }\n}', 'line 3, column 16: expected a value, found tru', 'the bare words JSON knows are true, false and null; text needs double quotes'],
    ['a missing comma', '{ "a": 1\n  "b": 2 }', "line 2, column 3: expected ',' or '}', found the string \"b\"", 'a comma goes between the fields of an object'],
    ['single quotes', "{ 'a': 1 }", 'line 1, column 3: expected a key in double quotes, found "\'"', 'JSON has no comments or trailing commas, and needs double quotes around every key and string'],
    ['a file cut short', '{\n  "data": ', 'line 2, column 11: expected a value, found the end of the file', 'JSON has no comments or trailing commas, and needs double quotes around every key and string'],
  ])('%s', (_, text, line, hint) => {
    const e = configError(text);
    expect(firstLine(e)).toBe(line);
    expect(e.hint).toBe(hint);
    expect(e.message.split('\n')).toHaveLength(2);
  });

  const cases: [string, unknown, string][] = [
    ['the root is not an object', [1, 2], 'the config: expected an object, found [1,2]'],
    ['an unknown top-level key, with a suggestion', { ...BASE, trian: {} }, 'trian: unknown option; did you mean train?'],
    ['an unknown top-level key, without one', { ...BASE, banana: 1 }, 'banana: unknown option'],
    ['data missing', { model: MODEL }, 'data: expected an object, found nothing'],
    ['data not an object', { data: 'spirals', model: MODEL }, 'data: expected an object, found "spirals"'],
    ['data naming no source', { data: { bultin: 'xor' }, model: MODEL }, 'data: expected exactly one of builtin, idx, dataset, csv, found only bultin; did you mean data.builtin?'],
    ['data naming two sources', { data: { builtin: 'xor', csv: 'data/train.csv' }, model: MODEL }, 'data: expected exactly one of builtin, idx, dataset, csv, found builtin and csv'],
    ['an unknown built-in dataset', { data: { builtin: 'spiral' }, model: MODEL }, 'data.builtin: expected one of xor, and, spirals, blobs, sine, parabola, found "spiral"; did you mean "spirals"?'],
    ['an option the built-in dataset ignores', { data: { builtin: 'xor', n: 10 }, model: MODEL }, 'data.n: unknown option'],
    ['an unknown key in a built-in source', { data: { builtin: 'spirals', nosie: 0.1 }, model: MODEL }, 'data.nosie: unknown option; did you mean data.noise?'],
    ['data.n', { data: { builtin: 'spirals', n: 0 }, model: MODEL }, 'data.n: expected a positive integer, found 0'],
    ['data.noise', { data: { builtin: 'spirals', noise: -1 }, model: MODEL }, 'data.noise: expected a number \u2265 0, found -1'],
    ['data.turns', { data: { builtin: 'spirals', turns: 0 }, model: MODEL }, 'data.turns: expected a number > 0, found 0'],
    ['data.classes', { data: { builtin: 'blobs', classes: 1 }, model: MODEL }, 'data.classes: expected an integer \u2265 2, found 1'],
    ['data.spread', { data: { builtin: 'blobs', spread: 'wide' }, model: MODEL }, 'data.spread: expected a number \u2265 0, found "wide"'],
    ['data.seed', { data: { builtin: 'spirals', seed: -2 }, model: MODEL }, 'data.seed: expected an integer in [0, 4294967295], found -2'],
    ['data.csv not a string', { data: { csv: 3 }, model: MODEL }, 'data.csv: expected a non-empty string, found 3'],
    ['a CSV file that does not exist', { data: { csv: 'data/missing.csv' }, model: MODEL }, 'data.csv: expected an existing file, found no file at'],
    ['data.task', { data: { csv: 'data/train.csv', task: 'regresion' }, model: MODEL }, 'data.task: expected one of classification, regression, found "regresion"; did you mean "regression"?'],
    ['data.label of the wrong type', { data: { csv: 'data/train.csv', label: true }, model: MODEL }, 'data.label: expected a non-empty string or an integer or a non-empty list, found true'],
    ['several labels for classification', { data: { csv: 'data/train.csv', label: ['a', 'b'] }, model: MODEL }, 'data.label: lists 2 columns, but classification takes one label column'],
    ['data.header', { data: { csv: 'data/train.csv', header: 'yes' }, model: MODEL }, 'data.header: expected true or false, found "yes"'],
    ['data.delimiter', { data: { csv: 'data/train.csv', delimiter: ',,' }, model: MODEL }, 'data.delimiter: expected one character, found ",,"'],
    ['a missing held-out CSV', { data: { csv: 'data/train.csv', testCsv: 'data/nope.csv' }, model: MODEL }, 'data.testCsv: expected an existing file, found no file at'],
    ['an unknown key in a CSV source', { data: { csv: 'data/train.csv', lable: 'colour' }, model: MODEL }, 'data.lable: unknown option; did you mean data.label?'],
    ['data.idx not an object', { data: { idx: 'mnist' }, model: MODEL }, 'data.idx: expected an object, found "mnist"'],
    ['data.idx without labels', { data: { idx: { images: 'data/train.csv' } }, model: MODEL }, 'data.idx.labels: expected a non-empty string, found nothing'],
    ['idx test images without their labels', { data: { idx: { images: 'data/train.csv', labels: 'data/train.csv', testImages: 'data/test.csv' } }, model: MODEL }, 'data.idx.testLabels: expected the test set\'s testLabels beside its testImages, found none'],
    ['an unknown key in data.idx', { data: { idx: { image: 'a', labels: 'b' } }, model: MODEL }, 'data.idx.image: unknown option; did you mean data.idx.images?'],
    ['split not an object', { ...BASE, split: 0.1 }, 'split: expected an object, found 0.1'],
    ['a split fraction out of range', { ...BASE, split: { validation: 1 } }, 'split.validation: expected a number in [0, 1), found 1'],
    ['split fractions leaving no training rows', { ...BASE, split: { validation: 0.5, test: 0.5 } }, 'split: validation + test must be below 1 (found 0.5 + 0.5)'],
    ['split.stratify', { ...BASE, split: { stratify: 1 } }, 'split.stratify: expected true or false, found 1'],
    ['stratifying a regression task', { data: { builtin: 'sine' }, model: MODEL, split: { test: 0.2, stratify: true } }, 'split.stratify: is true, but the data is a regression task with no classes to stratify by'],
    ['split.test beside a test file', { data: { csv: 'data/train.csv', testCsv: 'data/test.csv' }, model: MODEL, split: { test: 0.2 } }, 'split.test: is 0.2, but the test rows already come from data.testCsv'],
    ['split.validation beside a validation file', { data: { csv: 'data/train.csv', validationCsv: 'data/test.csv' }, model: MODEL, split: { validation: 0.2 } }, 'split.validation: is 0.2, but the validation rows already come from data.validationCsv'],
    ['an unknown split key', { ...BASE, split: { valdation: 0.1 } }, 'split.valdation: unknown option; did you mean split.validation?'],
    ['scale', { ...BASE, scale: 'Standard' }, 'scale: expected one of standard, minmax, none, found "Standard"; did you mean "standard"?'],
    ['model missing', { data: BASE.data }, 'model: expected an object, found nothing'],
    ['model not an object', { ...BASE, model: [] }, 'model: expected an object, found []'],
    ['an unknown model key', { ...BASE, model: { ...MODEL, layer: [] } }, 'model.layer: unknown option; did you mean model.layers?'],
    ['no layers', { ...BASE, model: { layers: [] } }, 'model.layers: expected a non-empty list, found []'],
    ['a layer\'s units', { ...BASE, model: { layers: [{ units: 0, activation: 'relu' }] } }, 'model.layers[0].units: expected a positive integer, found 0'],
    ['a layer\'s activation', { ...BASE, model: { layers: [{ units: 2, activation: 'ReLU' }] } }, 'model.layers[0].activation: expected one of identity, step, sign, sigmoid, tanh, relu, leaky_relu, prelu, elu, softmax, found "ReLU"; did you mean "relu"?'],
    ['softmax on a hidden layer', { ...BASE, model: { layers: [{ units: 2, activation: 'softmax' }, { units: 2, activation: 'softmax' }] } }, 'model.layers[0].activation: softmax is only supported on the output layer (found on layer 0 of 2)'],
    ['an unknown layer key', { ...BASE, model: { layers: [{ units: 2, activation: 'softmax', activaton: 'relu' }] } }, 'model.layers[0].activaton: unknown option; did you mean model.layers[0].activation?'],
    ['a loss that does not fit the output layer', { ...BASE, model: { ...MODEL, loss: 'bce' } }, 'model.loss: "bce" needs a sigmoid output layer (the output layer is softmax)'],
    ['train not an object', { ...BASE, train: 5 }, 'train: expected an object, found 5'],
    ['an unknown train key', { ...BASE, train: { batch_size: 8 } }, 'train.batch_size: unknown option; did you mean train.batchSize?'],
    ['train.epochs', { ...BASE, train: { epochs: 2.5 } }, 'train.epochs: expected a positive integer, found 2.5'],
    ['train.batchSize', { ...BASE, train: { batchSize: 0 } }, 'train.batchSize: expected a positive integer or "full", found 0'],
    ['train.lr', { ...BASE, train: { lr: 0 } }, 'train.lr: expected a number > 0, found 0'],
    ['train.shuffle', { ...BASE, train: { shuffle: 'no' } }, 'train.shuffle: expected true or false, found "no"'],
    ['train.seed', { ...BASE, train: { seed: 1.5 } }, 'train.seed: expected an integer in [0, 4294967295], found 1.5'],
    ['train.threads', { ...BASE, train: { threads: -1 } }, 'train.threads: expected a positive integer or "auto", found -1'],
    ['train.kernel', { ...BASE, train: { kernel: 'wsam' } }, 'train.kernel: expected one of auto, wasm, js, found "wsam"; did you mean "wasm"?'],
    ['train.rule', { ...BASE, train: { rule: 'delta' } }, 'train.rule: expected one of backprop, perceptron, adaline, found "delta"'],
    ['an optimizer option', { ...BASE, train: { optimizer: { name: 'sgd', momentum: 0.9 } } }, 'train.optimizer.momentum: unknown option'],
    ['a schedule option', { ...BASE, train: { schedule: { type: 'step', stepSize: 0, gamma: 0.5 } } }, 'train.schedule.stepSize: expected a positive integer, found 0'],
    ['an unknown stop key', { ...BASE, train: { stop: { patence: 3 } } }, 'train.stop.patence: unknown option; did you mean train.stop.patience?'],
    ['train.stop.lossBelow', { ...BASE, train: { stop: { lossBelow: 'low' } } }, 'train.stop.lossBelow: expected a finite number, found "low"'],
    ['early stopping without patience', { ...BASE, train: { earlyStopping: { minDelta: 0.01 } } }, 'train.earlyStopping.patience: expected a positive integer, found nothing'],
    ['train.checkpoint without a path', { ...BASE, train: { checkpoint: { everyEpochs: 1 } } }, 'train.checkpoint.path: expected a non-empty string, found nothing'],
    ['train.checkpoint.everySteps', { ...BASE, train: { checkpoint: { path: 'a.ckpt', everySteps: 0 } } }, 'train.checkpoint.everySteps: expected a positive integer, found 0'],
    ['train.earlyStopping.restoreBest', { ...BASE, train: { earlyStopping: { patience: 2, restoreBest: 'yes' } } }, 'train.earlyStopping.restoreBest: expected true or false, found "yes"'],
    ['out', { ...BASE, out: 42 }, 'out: expected a non-empty string, found 42'],
    ['description', { ...BASE, description: ['a'] }, 'description: expected a non-empty string, found ["a"]'],
  ];

  it.each(cases)('%s', (_what, content, message) => {
    const e = configError(content);
    const line = firstLine(e);
    if (message.endsWith('found no file at')) expect(line.startsWith(message)).toBe(true);
    else expect(line).toBe(message);
  });

  it('a missing data file says where relative paths resolve from', () => {
    const e = configError({ data: { csv: 'train.csv' }, model: MODEL });
    expect(firstLine(e)).toBe(`data.csv: expected an existing file, found no file at ${displayPath(path.join(dir, 'train.csv'))}`);
    expect(e.hint).toContain('relative to the config file\'s directory');
  });

  it('parseConfig checks an object in memory under the name it is given', () => {
    expect(() => parseConfig({ data: { builtin: 'xor' } }, 'inline', dir)).toThrow('inline: model: expected an object, found nothing');
  });
});
