// The option schema as a whole: the shipped JSON Schema is what zod generates and every
// shipped config passes a real JSON Schema validator (ajv) against it; every option field
// has exactly one CLI flag; every optimizer and schedule name has its schema member; and
// train()'s own messages (no options, an unknown key, a model that does not fit its data).

import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { train } from '../src/api.ts';
import { builtinDataset } from '../src/data/synthetic.ts';
import { ConfigError } from '../src/errors.ts';
import { OPTIMIZERS } from '../src/optim/optimizers.ts';
import { SCHEDULES } from '../src/optim/schedules.ts';
import { DATA_SOURCES } from '../src/options/data_source.ts';
import { FLAGS } from '../src/options/flags.ts';
import { configJsonSchema, configJsonSchemaText } from '../src/options/json_schema.ts';
import { parseTrainOptions, resolveOptimizer, resolveSchedule } from '../src/options/parse.ts';
import { SCHEMA_FILE } from '../src/options/schema.ts';

const repo = path.resolve(import.meta.dirname, '..');
const configs = path.join(repo, 'configs');
const configFiles = fs.readdirSync(configs).filter((f) => f.endsWith('.json') && f !== SCHEMA_FILE).sort();

describe('the shipped JSON Schema', () => {
  it('is what the zod schema generates (run `npm run schema` after changing an option)', () => {
    expect(fs.readFileSync(path.join(configs, SCHEMA_FILE), 'utf8')).toBe(configJsonSchemaText());
  });

  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(configJsonSchema());

  it.each(configFiles)('%s names the schema in "$schema" and is valid against it', (file) => {
    const config = JSON.parse(fs.readFileSync(path.join(configs, file), 'utf8'));
    expect(config.$schema).toBe(`./${SCHEMA_FILE}`);
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects what the zod schema rejects: an unknown key, a wrong type, an unknown optimizer', () => {
    const base = JSON.parse(fs.readFileSync(path.join(configs, 'xor.json'), 'utf8'));
    expect(validate({ ...base, trian: {} })).toBe(false);
    expect(validate({ ...base, train: { ...base.train, epochs: 0 } })).toBe(false);
    expect(validate({ ...base, train: { ...base.train, optimizer: { name: 'adma' } } })).toBe(false);
    expect(validate({ ...base, train: { ...base.train, optimizer: { name: 'sgd', beta1: 0.9 } } })).toBe(false);
    expect(validate({ ...base, data: { builtin: 'xor', n: 10 } })).toBe(false);
    expect(validate({ ...base, data: { csv: 'a.csv', label: 'y' } })).toBe(true);
  });
});

describe('flags derived from the schema', () => {
  it('give every option field one flag, and no flag twice', () => {
    const names = FLAGS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    const byPath = Object.fromEntries(FLAGS.map((f) => [f.path.join('.'), f.name]));
    expect(byPath).toMatchObject({
      'train.epochs': 'epochs', 'train.batchSize': 'batch-size', 'train.optimizer.name': 'optimizer', 'train.optimizer.momentum': 'momentum',
      'train.optimizer.beta2': 'beta2', 'train.schedule.type': 'schedule', 'train.schedule.warmupSteps': 'warmup-steps',
      'train.schedule.patience': 'plateau-patience', 'train.stop.patience': 'stop-patience', 'train.earlyStopping.patience': 'early-stopping',
      'train.checkpoint.path': 'checkpoint', 'train.checkpoint.everyEpochs': 'checkpoint-every', 'train.checkpoint.everySteps': 'checkpoint-every-steps',
      'train.resume': 'resume', 'model.layers': 'layers', 'model.loss': 'loss', 'split.validation': 'validation-split', scale: 'scale',
      out: 'out', log: 'log', logEverySteps: 'log-every-steps',
    });
    // The data section has its own grammar (--data), one entry per source kind.
    expect(FLAGS.some((f) => f.path[0] === 'data')).toBe(false);
    expect(DATA_SOURCES.keys).toEqual(['builtin', 'idx', 'dataset', 'csv']);
  });
});

describe('optimizer and schedule members', () => {
  it('every optimizer name the engine knows parses, with PyTorch defaults', () => {
    for (const name of OPTIMIZERS) expect(resolveOptimizer({ name }).name).toBe(name);
    expect(resolveOptimizer({ name: 'adamw' }).weightDecay).toBe(0.01);
  });

  it('every schedule name the engine knows parses', () => {
    const required: Record<string, object> = { inverse_time: { c1: 1, c2: 1 }, step: { stepSize: 1, gamma: 0.5 }, exponential: { gamma: 0.5 } };
    for (const type of SCHEDULES) expect(resolveSchedule({ type, ...required[type] } as never).type).toBe(type);
  });
});

describe('train() options', () => {
  const data = builtinDataset('blobs', { seed: 1, n: 30, classes: 3 });
  const model = { layers: [{ units: 3, activation: 'softmax' as const }] };

  const rejects = async (options: unknown, message: string, hint: string) => {
    let error: unknown;
    try {
      await train(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split('\n')[0]).toBe(message);
    expect((error as ConfigError).hint).toEqual(hint);
  };

  it('train(undefined) is a ConfigError, not a TypeError', () =>
    rejects(undefined, 'train(options): expected an options object with model and data, found nothing', 'call train({ model: { layers: [...] }, data })'));

  it('an unknown key is rejected like a config\'s, with the nearest name', () =>
    rejects({ model, data, epoch: 3 }, 'epoch: unknown option; did you mean epochs?', expect.stringContaining('options takes model, data, split, scale, epochs') as never));

  it('a field is checked under its option path', () =>
    rejects({ model: { layers: [{ units: 0, activation: 'relu' }] }, data }, 'model.layers[0].units: expected a positive integer, found 0', 'the number of units in this layer, e.g. 16'));

  it('data that is not a dataset', () =>
    rejects({ model, data: { rows: [] } }, 'data: expected a dataset (an object with n, features, x and y) or { train, validation?, test? } of them, found {"rows":[]}', expect.any(String) as never));

  it('an output layer that does not fit the data', () =>
    rejects({ model: { layers: [{ units: 2, activation: 'softmax' }] }, data, threads: 1 }, 'model.layers[0].units: expected 3 output units for data with 3 classes, found 2', 'use 3 output units'));

  it('a classification loss on a regression task', () =>
    rejects({ model: { layers: [{ units: 1, activation: 'sigmoid' }], loss: 'bce' }, data: builtinDataset('sine', { seed: 1, n: 20 }), threads: 1 }, 'model.loss: expected "mse" for a regression task, found "bce" (a classification loss)', 'use loss "mse"'));

  it('perceptron and adaline on a deep net', () =>
    rejects({ model: { layers: [{ units: 4, activation: 'tanh' }, { units: 3, activation: 'softmax' }] }, data, rule: 'perceptron', threads: 1 }, 'model.layers: expected one layer for rule "perceptron" (it trains single-layer nets), found 2', 'use one layer, or rule "backprop"'));

  it('resolves every default in one place: the schema', () => {
    const o = parseTrainOptions({ model, data });
    expect(o).toMatchObject({ epochs: 10, batchSize: 32, lr: 0.01, shuffle: true, seed: 1, threads: 'auto', kernel: 'auto', rule: 'backprop', scale: 'none', split: { validation: 0, test: 0 } });
    expect(o.model.loss).toBe('cross_entropy');
    expect(o.data).toBe(data);
  });
});
