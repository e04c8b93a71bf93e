// Bad input values, refused with one clear line before anything runs: numbers that become
// Infinity as float32, NaN rows, labels the model has no class for, one-class data, and
// datasets whose shape does not add up. Each test asserts the message: where, what was
// expected, what was found, and the hint.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCsv } from '../src/data/csv.ts';
import { datasetProblem, type ClassificationDataset } from '../src/data/dataset.ts';
import { loadIdx } from '../src/data/idx.ts';
import { DataError, displayPath } from '../src/errors.ts';
import { randomModel } from './helpers/models.ts';
import { runMain } from './helpers/cli.ts';

let dir = '';
const at = (name: string) => path.join(dir, name);
const write = (name: string, data: string | Uint8Array) => {
  fs.writeFileSync(at(name), data);
  return at(name);
};

/** An IDX file by hand: 0, 0, type 0x08, ndims, big-endian dims, the bytes. */
function idx(dims: number[], data: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/** A 2-feature, 3-class softmax model with named features, saved to `name`. */
function savedModel(name: string, classNames = ['a', 'b', 'c']): string {
  const model = randomModel({
    inputs: 2, layers: [{ units: 3, activation: 'softmax' }], loss: 'cross_entropy', classNames, featureNames: ['x1', 'x2'],
  });
  model.save(at(name));
  return at(name);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-inputs-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('values that overflow float32 (item 7)', () => {
  it('a CSV cell of 1e39 or -1e999 is refused with its line and column, on the fast and the general path', () => {
    // 3.4028235e38 is float32's largest; 3.5e38 and up round to Infinity.
    expect(parseCsv('a,b,y\n3.4028235e38,1,p\n', { file: 'ok.csv' }).x[0]).toBe(Math.fround(3.4028235e38));
    const fast = () => parseCsv('a,b,y\n1,2,p\n3,1e39,q\n', { file: 'big.csv' });
    expect(fast).toThrow(DataError);
    expect(fast).toThrow('big.csv line 3, column "b" (2 of 3): expected a number within float32\'s range, found "1e39" (Infinity as float32)\nhint: values must fit float32');
    // A quoted line takes the general path; the message is the same.
    const general = () => parseCsv('a,b,y\n"-1e999",2,"p"\n', { file: 'big.csv' });
    expect(general).toThrow('big.csv line 2, column "a" (1 of 3): expected a number within float32\'s range, found "-1e999" (-Infinity as float32)');
  });

  it('a regression target of 1e39 is refused the same way', () => {
    expect(() => parseCsv('a,t\n1,2\n2,1e39\n', { file: 'r.csv', task: 'regression' })).toThrow(
      'r.csv line 3, target column "t" (2 of 2): expected a number within float32\'s range, found "1e39"',
    );
  });

  it('a built-in dataset whose noise overflows float32 is refused, naming the option, row and feature', async () => {
    const { builtinDataset } = await import('../src/data/synthetic.ts');
    expect(() => builtinDataset('spirals', { seed: 1, n: 10, noise: 1e39 })).toThrow(
      /^builtin spirals \(noise 1e\+39\): row 0, feature 0: expected a finite float32, found -?Infinity\nhint: use a noise or spread within float32's range/,
    );
    expect(() => builtinDataset('sine', { seed: 1, n: 10, noise: 1e300 })).toThrow(/^builtin sine \(noise 1e\+300\): row 0, target 0: expected a finite float32, found -?Infinity/);
  });

  it('an IDX scale that sends 255 to Infinity is refused before decoding', () => {
    const images = write('s-images', idx([1, 1, 1], [255]));
    const labels = write('s-labels', idx([1], [0]));
    expect(() => loadIdx(images, labels, { scale: 1e37, cache: false })).toThrow("IDX scale: expected a number that keeps 255 × scale within float32's range, found 1e+37");
  });

  it('Model.predict refuses a row with NaN or a value that overflows, naming row and feature', () => {
    const model = randomModel({ inputs: 2, layers: [{ units: 3, activation: 'softmax' }], loss: 'cross_entropy', featureNames: ['x1', 'x2'] });
    const x = Float32Array.from([0.5, 0.25, 1, Number.NaN]);
    expect(() => model.predict(x, 2)).toThrow(DataError);
    expect(() => model.predict(x, 2)).toThrow('predict: x[3], row 1, feature 1 (x2): expected a finite number, found NaN\nhint: fill in or drop rows');
    // predictClasses on a NaN row is an error, not class 0 (item 12).
    expect(() => model.predictClasses(x, 2)).toThrow('predict: x[3], row 1, feature 1 (x2): expected a finite number, found NaN');
    expect(() => model.predict(Float32Array.from([Infinity, 0]), 1)).toThrow('x[0], row 0, feature 0 (x1): expected a finite number, found Infinity');
    expect(() => model.predict(Float32Array.from([1, 2, 3]), 2)).toThrow('predict: expected 2 rows of 2 features (4 numbers in a Float32Array), found 3 numbers');
    // Finite rows still predict: a softmax row sums to 1.
    const p = model.predict(Float32Array.from([0.5, 0.25]), 1);
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 6);
  });

  it('evaluate and predict on a CSV with 1e39 exit 1 with the line and column', async () => {
    const modelFile = savedModel('m7.ttm');
    const csv = write('big.csv', 'x1,x2,y\n1,2,a\n1e39,0,b\n');
    for (const cmd of ['evaluate', 'predict']) {
      const r = await runMain([cmd, '--model', modelFile, '--data', csv]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`line 3, column "x1" (1 of 3): expected a number within float32's range, found "1e39" (Infinity as float32)`);
      expect(r.stderr.trim().split('\n')).toHaveLength(2); // error: and hint:
    }
  });
});

describe('labels outside the model\'s classes via IDX (item 8)', () => {
  it('evaluate and predict refuse label 255, and label 3 for a 3-class model, naming the labels file and the entry', async () => {
    const modelFile = savedModel('m8.ttm');
    // 2 images of 1 × 2 pixels: the model's two features.
    const images = write('i-images', idx([2, 1, 2], [0, 255, 128, 64]));
    for (const [name, bad] of [['l255', 255], ['l3', 3]] as const) {
      const labels = write(name, idx([2], [0, bad]));
      for (const cmd of ['evaluate', 'predict']) {
        const r = await runMain([cmd, '--model', modelFile, '--data', `idx:${images},${labels}`]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`error: ${displayPath(labels)} label 1: expected a class in 0..2 (the model ${modelFile} has 3 classes), found ${bad}`);
        expect(r.stderr).toContain('hint: use labels of the classes the model was trained on');
      }
    }
    // In range: evaluate runs and shows a 3 × 3 confusion matrix, not one of 256 classes.
    const ok = write('l-ok', idx([2], [0, 2]));
    const r = await runMain(['evaluate', '--model', modelFile, '--data', `idx:${images},${ok}`]);
    expect(r.code).toBe(0);
  });

  it('Model.evaluate refuses a class id the model has no output for', () => {
    const model = randomModel({ inputs: 2, layers: [{ units: 3, activation: 'softmax' }], loss: 'cross_entropy' });
    const ds: ClassificationDataset = { task: 'classification', n: 2, features: 2, x: new Float32Array(4), y: Int32Array.from([0, 10]), classes: 11, classNames: Array.from({ length: 11 }, (_, i) => String(i)) };
    expect(() => model.evaluate(ds)).toThrow("evaluate: data.y[1]: expected a class id in 0..2 (the model's 3 classes), found 10");
  });
});

describe('predict reads the feature columns it is given (item 13)', () => {
  it('an unseen class in the label column predict ignores is fine', async () => {
    const modelFile = savedModel('m13.ttm');
    const csv = write('unseen.csv', 'x1,x2,y\n1,2,a\n0,1,never-seen\n');
    const r = await runMain(['predict', '--model', modelFile, '--data', csv]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('a header that differs names every feature column it found, with or without a label column', async () => {
    const modelFile = savedModel('m13b.ttm');
    const noLabel = write('other.csv', 'u,v\n1,2\n');
    const r1 = await runMain(['predict', '--model', modelFile, '--data', noLabel]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain(`the feature columns are u, v, but the model ${modelFile} was trained on x1, x2`);
    const labelFirst = write('label-first.csv', 'y,u,v\na,1,2\n');
    const r2 = await runMain(['predict', '--model', modelFile, '--data', labelFirst, '--label', 'y']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('the feature columns are u, v, but the model');
  });
});

describe('datasetProblem: the one check of a dataset (item 10)', () => {
  const base = (): ClassificationDataset => ({
    task: 'classification', n: 3, features: 2, x: new Float32Array(6), y: Int32Array.from([0, 1, 1]), classes: 2, classNames: ['0', '1'],
  });
  it('accepts a well-formed dataset', () => expect(datasetProblem(base())).toBeUndefined());
  it.each([
    ['x too short', { x: new Float32Array(5) }, ['x'], 'expected n × features = 3 × 2 = 6 numbers, found 5'],
    ['y too short', { y: Int32Array.from([0, 1]) }, ['y'], 'expected n = 3 class ids, found 2'],
    ['a label of 5 with 2 classes', { y: Int32Array.from([0, 5, 1]) }, ['y', 1], 'expected a class id in 0..1 (classes: 2), found 5'],
    ['a label of -1', { y: Int32Array.from([0, -1, 1]) }, ['y', 1], 'expected a class id in 0..1 (classes: 2), found -1'],
    ['n of 1e6 over 3 rows', { n: 1e6 }, ['x'], 'expected n × features = 1000000 × 2 = 2000000 numbers, found 6'],
    ['a NaN input', { x: Float32Array.from([0, 0, 0, NaN, 0, 0]) }, ['x', 3], 'row 1, feature 1: expected a finite number, found NaN'],
    ['n not whole', { n: 2.5 }, ['n'], 'expected a whole number of rows, found 2.5'],
  ] as const)('refuses %s', (_, change, where, message) => {
    expect(datasetProblem({ ...base(), ...change } as ClassificationDataset)).toEqual(expect.objectContaining({ path: where, message }));
  });
  it('refuses a regression target of Infinity', () => {
    const p = datasetProblem({ task: 'regression', n: 2, features: 1, x: new Float32Array(2), y: Float32Array.from([1, Infinity]), targets: 1 });
    expect(p).toEqual(expect.objectContaining({ path: ['y', 1], message: 'row 1, target 0: expected a finite number, found Infinity' }));
  });
});

describe('train() checks a Dataset through the option schema before anything runs (items 10, 12)', () => {
  const layers = [{ units: 2, activation: 'softmax' as const }];
  const two = (over: Partial<ClassificationDataset> = {}): ClassificationDataset => ({
    task: 'classification', n: 3, features: 2, x: Float32Array.from([0, 1, 1, 0, 1, 1]), y: Int32Array.from([0, 1, 1]), classes: 2, classNames: ['0', '1'], ...over,
  });
  const refused = async (options: unknown) => {
    const { train } = await import('../src/api.ts');
    return train(options as never).then(() => undefined, (e: Error) => e);
  };
  it.each([
    ['x shorter than n × features', { data: two({ x: new Float32Array(5) }) }, 'data.x: expected n × features = 3 × 2 = 6 numbers, found 5'],
    ['y shorter than n', { data: two({ y: Int32Array.from([0, 1]) }) }, 'data.y: expected n = 3 class ids, found 2'],
    ['a label of 5 with classes 2', { data: two({ y: Int32Array.from([0, 5, 1]) }) }, 'data.y[1]: expected a class id in 0..1 (classes: 2), found 5'],
    ['a label of -1', { data: two({ y: Int32Array.from([-1, 0, 1]) }) }, 'data.y[0]: expected a class id in 0..1 (classes: 2), found -1'],
    ['n: 1e6 over 3 rows', { data: two({ n: 1e6 }) }, 'data.x: expected n × features = 1000000 × 2 = 2000000 numbers, found 6'],
    ['NaN inputs with scale "none"', { data: two({ x: Float32Array.from([0, 1, NaN, 0, 1, 1]) }), scale: 'none' }, 'data.x[2]: row 1, feature 0: expected a finite number, found NaN'],
    ['NaN in an explicit test split', { data: { train: two(), test: two({ n: 1, x: Float32Array.from([NaN, 1]), y: Int32Array.from([0]) }) } }, 'data.test.x[0]: row 0, feature 0: expected a finite number, found NaN'],
  ] as const)('refuses %s as a DataError naming the index', async (_, options, message) => {
    const error = await refused({ model: { layers }, threads: 1, epochs: 1, ...options });
    expect(error).toBeInstanceOf(DataError);
    expect(error!.message.split('\n')[0]).toBe(message);
    expect(error!.message.split('\n')[1]).toMatch(/^hint: /);
  });
  it('train(undefined) and an unknown option key are ConfigErrors, not TypeErrors', async () => {
    expect((await refused(undefined))!.message).toBe('train(options): expected an options object with model and data, found nothing\nhint: call train({ model: { layers: [...] }, data })');
    const unknown = await refused({ model: { layers }, data: two(), epoch: 3 });
    expect(unknown!.name).toBe('ConfigError');
    expect(unknown!.message.split('\n')[0]).toBe('epoch: unknown option; did you mean epochs?');
  });
});

describe('messages that used to mislead (item 13)', () => {
  it('a resume refused for another activation names the activations, not two equal unit lists', async () => {
    const { train } = await import('../src/api.ts');
    const { xorDataset } = await import('../src/data/synthetic.ts');
    const ckpt = at('act.ckpt');
    const base = { data: xorDataset(), epochs: 1, batchSize: 4, threads: 1, seed: 3 } as const;
    await train({ ...base, model: { layers: [{ units: 8, activation: 'tanh' }, { units: 2, activation: 'softmax' }] }, checkpoint: { path: ckpt } });
    const error = await train({ ...base, epochs: 2, model: { layers: [{ units: 8, activation: 'relu' }, { units: 2, activation: 'softmax' }] }, resume: ckpt }).then(
      () => undefined, (e: Error) => e,
    );
    expect(error!.message).toBe(`${ckpt}: the checkpoint is of another model than the config: layer 0 activation "tanh" → "relu"\nhint: resume with the config the checkpoint was made with`);
  });

  it('a system error shows its code once', async () => {
    const { readEnvelopeFile } = await import('../src/io/envelope.ts');
    const missing = at('absent.ttm');
    expect(() => readEnvelopeFile(missing, 'model')).toThrow(`cannot read model file ${missing}: ENOENT: no such file or directory, open '${missing}'`);
    const r = await runMain(['plot', at('absent.jsonl'), '--out', at('p.svg')]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/ENOENT: ENOENT/);
    expect(r.stderr).toContain(`ENOENT: no such file or directory`);
  });
});

describe('limits refused up front (items 2, 3)', () => {
  it('threads above 4 × cores are a clear error before anything loads, from a flag and from train()', async () => {
    const cores = os.availableParallelism();
    const r = await runMain(['train', '--config', 'configs/xor.json', '--threads', '1000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(''); // refused before the settings table
    expect(r.stderr).toBe(
      `error: --threads: expected at most ${4 * cores} threads (4 × this machine's ${cores} cores), found 1000\n` +
        `hint: threads beyond the cores only wait on each other at every step; use "auto" (${cores} here)\n`,
    );
    const { train } = await import('../src/api.ts');
    const { xorDataset } = await import('../src/data/synthetic.ts');
    const error = await train({ model: { layers: [{ units: 2, activation: 'softmax' }] }, data: xorDataset(), threads: 4 * cores + 1 }).then(() => undefined, (e: Error) => e);
    expect(error!.message.split('\n')[0]).toBe(`threads: expected at most ${4 * cores} threads (4 × this machine's ${cores} cores), found ${4 * cores + 1}`);
  });

  it('built-in generators refuse sizes they cannot hold before generating anything', async () => {
    const { builtinDataset } = await import('../src/data/synthetic.ts');
    const started = performance.now();
    // 16 bytes per spiral point: x (2 floats), the label and the row order.
    expect(() => builtinDataset('spirals', { seed: 1, n: 1e9 })).toThrow(
      /^spirals \(n 1000000000\): needs 16,000,000,000 bytes \(14\.90 GiB\), over the limit of [\d,]+ bytes \([\d.]+ GiB\) \((WebAssembly's limit for one shared memory|this machine's memory)\)\nhint: use a smaller n/,
    );
    // blobs: 10,000 rows × 1,000,000 features × 4 bytes, + labels and order, + 3 float64 centres of 1e6.
    expect(() => builtinDataset('blobs', { seed: 1, n: 10_000, features: 1_000_000 })).toThrow(
      /^blobs \(n 10000 × features 1000000\): needs 40,024,080,000 bytes \(37\.28 GiB\), over the limit/,
    );
    expect(performance.now() - started).toBeLessThan(1000); // refused, not generated (85 s before)
  });
});

describe('runs that cannot fit are refused by the plan, before the engine starts (item 3)', () => {
  const xorRun = async (layers: unknown, extra: Record<string, unknown> = {}) => {
    const { train } = await import('../src/api.ts');
    const { xorDataset } = await import('../src/data/synthetic.ts');
    return train({ model: { layers } as never, data: xorDataset(), epochs: 1, threads: 1, ...extra }).then(() => undefined, (e: Error) => e);
  };
  it('a layer of 1e9 units is a ConfigError with the bytes needed and the limit, not a RangeError', async () => {
    const started = performance.now();
    const error = await xorRun([{ units: 1e9, activation: 'relu' }, { units: 2, activation: 'softmax' }]);
    expect(error!.name).toBe('ConfigError');
    // 5e9 parameters (2e9 + 1e9 biases + 2e9 + 2): weights, gradients, Wᵀ copies and the workspace of 256 rows, in float32.
    expect(error!.message).toMatch(
      /^the run's shared memory \(5,000,000,002 parameters with gradients and optimizer state, 4 rows of 2 features, a batch workspace of 256 rows\): needs [\d,]+ bytes \([\d.]+ TiB\), over the limit of [\d,]+ bytes \([\d.]+ GiB\) \((WebAssembly's limit for one shared memory|this machine's memory)\)\nhint: use fewer or narrower layers/,
    );
    expect(performance.now() - started).toBeLessThan(2000); // measured, not allocated
  });
  it('two layers of 100,000 units: refused with the same plan inspect reports', async () => {
    const { sharedMemorySize } = await import('../src/engine/plan.ts');
    const layers = [{ units: 100_000, activation: 'relu' as const }, { units: 100_000, activation: 'relu' as const }, { units: 2, activation: 'softmax' as const }];
    const error = await xorRun(layers);
    const bytes = sharedMemorySize({ spec: { inputs: 2, layers, loss: 'cross_entropy' }, rule: 'backprop', targetKind: 'class', maxRows: 256, optimizerBuffers: 0, splitRows: [4, 0, 0], threads: 1 }).allocatedBytes;
    expect(bytes).toBeGreaterThan(4 * 2 ** 30);
    expect(error!.message).toContain(`needs ${bytes.toLocaleString('en-US')} bytes`);
  });
  it('the CLI exits 1 with one error line and a hint, no stack trace', async () => {
    const r = await runMain(['train', '--data', 'builtin:xor', '--layers', '[{"units":1000000000,"activation":"relu"},{"units":2,"activation":"softmax"}]']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: the run's shared memory \(5,000,000,002 parameters.*\nhint: use fewer or narrower layers.*\n$/);
  });
});

describe('classes the model cannot have (items 8, 9)', () => {
  it('a one-class CSV says classification needs 2 classes, and suggests no output width', async () => {
    const csv = write('one.csv', 'a,b,y\n1,2,yes\n3,4,yes\n5,6,yes\n');
    for (const layers of ['[{"units":1,"activation":"sigmoid"}]', '[{"units":2,"activation":"softmax"}]']) {
      const r = await runMain(['train', '--data', csv, '--layers', layers, '--epochs', '1']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'error: data: expected at least 2 classes for classification, found 1 (every row is "yes")\n' +
          'hint: a classifier needs rows of two or more classes; for a numeric label column use task "regression"\n',
      );
    }
  });
  it('training on IDX labels the model has no output for names the rows in the hint', async () => {
    const images = write('t-images', idx([3, 1, 2], [0, 1, 2, 3, 4, 5]));
    const labels = write('t-labels', idx([3], [0, 255, 1]));
    const r = await runMain(['train', '--data', `idx:${images},${labels}`, '--layers', '[{"units":10,"activation":"softmax"}]', '--epochs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: model.layers[0].units: expected 256 output units for data with 256 classes, found 10\n' +
        'hint: 1 row has a class id ≥ 10 (the first: row 1, class "255"); fix those labels, or use 256 output units\n',
    );
  });
});

describe('the oversubscription warning comes before training (item 2)', () => {
  it('onWarning is called before the first epoch, and the CLI prints it then', async () => {
    const { train } = await import('../src/api.ts');
    const { xorDataset } = await import('../src/data/synthetic.ts');
    const events: string[] = [];
    const threads = os.availableParallelism() + 1;
    const result = await train(
      { model: { layers: [{ units: 2, activation: 'softmax' }] }, data: xorDataset(), epochs: 2, threads, batchSize: 4 },
      { onWarning: (w) => events.push(`warning: ${w}`), onEpoch: (r) => events.push(`epoch ${r.epoch}`) },
    );
    const warning = `warning: threads ${threads} is more than this machine's ${os.availableParallelism()} cores: threads will wait on each other at every barrier`;
    expect(events).toEqual([warning, 'epoch 1', 'epoch 2']);
    expect(result.warnings).toEqual([warning.slice('warning: '.length)]);
  });
});

describe('a built-in dataset too big for its run is refused before it is generated (item 3)', () => {
  it('blobs with 1,000,000 features: the plan from the config sizes, not from generated rows', async () => {
    const started = performance.now();
    const r = await runMain(['train', '--data', 'builtin:blobs,features=1000000', '--layers', '[{"units":16,"activation":"relu"},{"units":3,"activation":"softmax"}]']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(''); // before the settings table: nothing was generated
    expect(r.stderr).toMatch(
      /^error: the run's shared memory \(16,000,067 parameters with gradients and optimizer state, 1,000 rows of 1,000,000 features, a batch workspace of 256 rows\): needs [\d,]+ bytes \(5\.\d\d GiB\), over the limit/,
    );
    expect(performance.now() - started).toBeLessThan(5000); // generating took 85 s
  });
});
