// A seeded fuzz of every input edge: config objects and config text, CSV and IDX bytes,
// train() option objects, and truncated or flipped model and checkpoint files. Every
// outcome must be a result or one of our errors (a ThreadtrainError: one message line and
// at most a hint line, no stack trace), never an uncaught TypeError or RangeError. The
// cases are drawn from fixed seeds, so a failure names a case that reproduces; the
// whole file runs in a few seconds (nothing here trains more than one tiny epoch).

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadCsv, parseCsv } from '../src/data/csv.ts';
import { loadIdx } from '../src/data/idx.ts';
import { xorDataset } from '../src/data/synthetic.ts';
import { ThreadtrainError } from '../src/errors.ts';
import { Model } from '../src/model/model.ts';
import { findJsonSyntaxError } from '../src/options/json_error.ts';
import { parseConfig, parseTrainOptions, readConfigJson } from '../src/options/parse.ts';
import { createRng, type Rng } from '../src/rng.ts';
import { readCheckpoint } from '../src/train/checkpoint.ts';
import { planRun, prepareData } from '../src/train/train.ts';
import { randomModel } from './helpers/models.ts';

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-fuzz-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What a fuzz case ended in: a value, or one of our errors in its one-line form. Anything else fails the test with the case named. */
function outcome<T>(what: string, fn: () => T): T | ThreadtrainError {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof ThreadtrainError)) {
      throw new Error(`${what}: expected a result or a ThreadtrainError, got ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
    }
    const lines = error.message.split('\n');
    if (lines.length > 2 || (lines.length === 2 && !lines[1]!.startsWith('hint: ')) || /\n\s+at /.test(error.message)) {
      throw new Error(`${what}: expected one error line and a hint, got:\n${error.message}`);
    }
    return error;
  }
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)]!;

/** Values of every JSON type and the edge cases of each. */
function randomValue(rng: Rng, depth = 0): unknown {
  const scalars = [0, -1, 1, 0.5, 1e39, -1e308, 2 ** 32, 1e9, 3, 16, '', 'auto', 'relu', 'softmax', 'x', 'full', true, false, null];
  const k = rng.int(depth > 2 ? 1 : 4);
  if (k === 0) return pick(rng, scalars);
  if (k === 1) return Array.from({ length: rng.int(3) }, () => randomValue(rng, depth + 1));
  if (k === 2) return Object.fromEntries(Array.from({ length: rng.int(3) }, () => [pick(rng, ['units', 'activation', 'name', 'type', 'lr', 'n', 'builtin', 'csv', 'path', 'zz']), randomValue(rng, depth + 1)]));
  return rng.int(1000) - 500;
}

/** `base` with one to three random edits: a field replaced, removed, or added under a random key. */
function mutate(rng: Rng, base: unknown): unknown {
  const copy = structuredClone(base) as Record<string, unknown>;
  for (let edits = 1 + rng.int(3); edits > 0; edits--) {
    let node: Record<string, unknown> = copy;
    for (let depth = 0; depth < 4; depth++) {
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = pick(rng, keys);
      const child = node[key];
      if (child === null || typeof child !== 'object' || rng.int(3) === 0) break;
      node = child as Record<string, unknown>;
    }
    const keys = Object.keys(node);
    const action = rng.int(3);
    if (action === 0 && keys.length > 0) delete node[pick(rng, keys)];
    else if (action === 1 && keys.length > 0) node[pick(rng, keys)] = randomValue(rng);
    else node[pick(rng, ['epoch', 'extra', '0', 'units', 'lr', 'threads', 'batchSize'])] = randomValue(rng);
  }
  return copy;
}

const CONFIG = {
  data: { builtin: 'spirals', n: 40, noise: 0.1, seed: 2 },
  split: { validation: 0.2, test: 0.2 },
  scale: 'standard',
  model: { layers: [{ units: 4, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
  train: { epochs: 1, batchSize: 8, lr: 0.1, threads: 1, optimizer: { name: 'adam' }, schedule: { type: 'cosine', warmupSteps: 2 } },
};

describe('fuzz: configs', () => {
  it('300 mutated config objects parse or fail with one of our errors', () => {
    const rng = createRng(11);
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const value = mutate(rng, CONFIG);
      const r = outcome(`config case ${i} ${JSON.stringify(value)}`, () => parseConfig(value, 'fuzz.json', dir));
      if (r instanceof ThreadtrainError) refused++;
    }
    // The fuzz reaches both sides: some mutants are valid, most are not.
    expect(refused).toBeGreaterThan(100);
    expect(refused).toBeLessThan(300);
  });

  it('300 cut or garbled config texts: a syntax error is found exactly when JSON.parse fails, and named in one line', () => {
    const rng = createRng(12);
    const text = JSON.stringify(CONFIG, null, 2);
    const noise = ['', ',', '}', ']', '"', 'NaN', 'tru', "'", '\n', ':', '1e', '-', '{', '[', ' '];
    for (let i = 0; i < 300; i++) {
      const at = rng.int(text.length + 1);
      const garbled = rng.int(4) === 0 ? text.slice(0, at) : text.slice(0, at) + pick(rng, noise) + text.slice(at + rng.int(3));
      let valid = true;
      try {
        JSON.parse(garbled);
      } catch {
        valid = false;
      }
      expect(findJsonSyntaxError(garbled) === undefined, `case ${i}: ${JSON.stringify(garbled)}`).toBe(valid);
      const file = path.join(dir, 'garbled.json');
      fs.writeFileSync(file, garbled);
      outcome(`config text case ${i}`, () => readConfigJson(file));
    }
  });
});

describe('fuzz: data files', () => {
  it('300 random CSV texts load or fail with one of our errors; what loads is finite, with labels in range', () => {
    const rng = createRng(13);
    const alphabet = ['0', '1', '9', '.', '-', '+', 'e', 'E', ',', ',', ',', '\n', '\n', '"', ' ', 'a', 'b', '\r', '\t', '1e39', '1e999', 'NaN', 'Infinity', 'é', '\ufeff', ';', 'x'];
    for (let i = 0; i < 300; i++) {
      const text = Array.from({ length: 1 + rng.int(60) }, () => pick(rng, alphabet)).join('');
      const task = rng.int(3) === 0 ? 'regression' : 'classification';
      const header = pick(rng, [undefined, true, false]);
      const options = { file: `fuzz${i}.csv`, task, ...(header === undefined ? {} : { header }) } as const;
      const r = outcome(`csv case ${i} ${JSON.stringify(text)}`, () => parseCsv(text, options));
      if (!(r instanceof ThreadtrainError)) {
        expect(r.x.every((v) => Number.isFinite(v)), `csv case ${i}: non-finite x`).toBe(true);
        if (r.task === 'classification') expect(r.y.every((c) => c >= 0 && c < r.classes)).toBe(true);
        else expect(r.y.every((v) => Number.isFinite(v))).toBe(true);
      }
      if (i % 10 === 0) {
        // The streamed reader (a file, tiny chunks) agrees with parseCsv on the outcome.
        const file = path.join(dir, `fuzz${i}.csv`);
        fs.writeFileSync(file, text);
        const s = outcome(`csv file case ${i}`, () => loadCsv(file, { task, ...(header === undefined ? {} : { header }), cache: false }));
        expect(s instanceof ThreadtrainError, `csv case ${i}: file and text disagree`).toBe(r instanceof ThreadtrainError);
      }
    }
  });

  it('200 random, truncated or garbled IDX pairs load or fail with one of our errors', () => {
    const rng = createRng(14);
    const images = path.join(dir, 'fuzz-images');
    const labels = path.join(dir, 'fuzz-labels');
    const idx = (dims: number[], bytes: number, type = 8) => {
      const header = Buffer.alloc(4 + 4 * dims.length);
      header[2] = type;
      header[3] = dims.length;
      dims.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
      return Buffer.concat([header, Buffer.from(Array.from({ length: bytes }, () => rng.int(256)))]);
    };
    for (let i = 0; i < 200; i++) {
      const n = rng.int(4);
      const [r, c] = [rng.int(3), 1 + rng.int(3)];
      let img = idx(pick(rng, [[n, r, c], [n], [n, r]]), n * r * c + pick(rng, [0, 0, 0, -1, 1]), pick(rng, [8, 8, 8, 9, 13]));
      let lab = idx(pick(rng, [[n], [n], [n + 1], [n, 1]]), n + pick(rng, [0, 0, 0, -1, 2]));
      if (rng.int(4) === 0) img = img.subarray(0, rng.int(img.length + 1));
      if (rng.int(4) === 0) lab = lab.subarray(0, rng.int(lab.length + 1));
      if (rng.int(5) === 0) img = gzipSync(img).subarray(0, rng.int(2) === 0 ? undefined : 12);
      fs.writeFileSync(images, img);
      fs.writeFileSync(labels, lab);
      const result = outcome(`idx case ${i}`, () => loadIdx(images, labels, { cache: false }));
      if (!(result instanceof ThreadtrainError)) expect(result.x.every(Number.isFinite) && result.y.every((y) => y < result.classes)).toBe(true);
    }
  });
});

describe('fuzz: train() options', () => {
  it('300 mutated option objects parse and plan (no threads start) or fail with one of our errors', () => {
    const rng = createRng(15);
    const base = {
      model: { layers: [{ units: 3, activation: 'relu' }, { units: 2, activation: 'softmax' }] },
      split: { validation: 0.25 }, scale: 'minmax', epochs: 1, batchSize: 2, lr: 0.1, threads: 1, optimizer: { name: 'momentum', momentum: 0.5 },
    };
    let planned = 0;
    for (let i = 0; i < 300; i++) {
      const options = { ...(mutate(rng, base) as object), data: rng.int(8) === 0 ? mutate(rng, { n: 4, features: 2, x: [0, 0, 0, 1, 1, 0, 1, 1], y: [0, 1, 1, 0] }) : xorDataset() };
      const r = outcome(`options case ${i} ${JSON.stringify(options)}`, () => {
        const { data, model, resume: _resume, ...opts } = parseTrainOptions(options);
        return planRun(model, opts, prepareData(data, opts));
      });
      if (!(r instanceof ThreadtrainError)) planned++;
    }
    expect(planned).toBeGreaterThan(0);
    expect(planned).toBeLessThan(300);
  });
});

describe('fuzz: model and checkpoint files', () => {
  it('200 truncations and byte flips of a model and a checkpoint are each refused by our errors (or load intact)', async () => {
    const rng = createRng(16);
    const modelFile = path.join(dir, 'fuzz.ttm');
    randomModel({ inputs: 2, layers: [{ units: 3, activation: 'tanh' }, { units: 2, activation: 'softmax' }], loss: 'cross_entropy' }).save(modelFile);
    const ckptFile = path.join(dir, 'fuzz.ckpt');
    const { train } = await import('../src/api.ts');
    await train({ model: { layers: [{ units: 2, activation: 'softmax' }] }, data: xorDataset(), epochs: 1, threads: 1, checkpoint: { path: ckptFile } });
    for (const [file, read] of [[modelFile, (f: string) => Model.load(f)], [ckptFile, (f: string) => readCheckpoint(f)]] as const) {
      const good = fs.readFileSync(file);
      const target = `${file}.fuzz`;
      let refused = 0;
      for (let i = 0; i < 100; i++) {
        const bytes = Buffer.from(good);
        const damaged = rng.int(2) === 0 ? bytes.subarray(0, rng.int(bytes.length)) : bytes;
        if (damaged === bytes) for (let k = 1 + rng.int(3); k > 0; k--) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
        fs.writeFileSync(target, damaged);
        if (outcome(`${path.basename(file)} case ${i}`, () => read(target)) instanceof ThreadtrainError) refused++;
      }
      // Every change is caught: a truncation by the length, a flip by the SHA-256.
      expect(refused).toBe(100);
    }
  });
});
