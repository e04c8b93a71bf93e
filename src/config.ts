// Config files: one JSON file names the data, the model and the training settings of a
// run, so that a run can be repeated from the file alone. This is the edge where a
// person's typing meets the library, so every field is checked here, before any data is
// read or thread started: unknown keys are errors (a misspelt "bacthSize" silently
// falling back to the default would waste a whole run), and every message names the
// file and the field's path and ends in a hint. Relative paths in a config resolve from
// the config file's directory, so a config means the same run from any working directory.

import fs from 'node:fs';
import path from 'node:path';
import type { ClassificationDataset, Dataset } from './data/dataset.ts';
import { loadCsv, type CsvOptions } from './data/csv.ts';
import { loadIdx } from './data/idx.ts';
import { splitForRun } from './data/split.ts';
import { BUILTIN_DATASETS, builtinDataset, type BuiltinName, type BuiltinOptions } from './data/synthetic.ts';
import { SCALER_METHODS } from './data/scaling.ts';
import { ConfigError, describe } from './errors.ts';
import { resolveOptimizer } from './optim/optimizers.ts';
import { resolveLoss, validateLayers, type DataSplitsInput, type TrainOptions } from './train/options.ts';
import { resolveSchedule } from './optim/schedules.ts';

/** A built-in generated dataset; `seed` is the dataset's own (default 1), not the run's. */
export interface BuiltinSource extends Partial<BuiltinOptions> {
  readonly kind: 'builtin';
  readonly name: BuiltinName;
}

export interface CsvSource {
  readonly kind: 'csv';
  readonly path: string;
  readonly label?: string | number | readonly (string | number)[];
  readonly header?: boolean;
  readonly task?: 'classification' | 'regression';
  readonly delimiter?: string;
  /** Held-out rows in files of their own; they take the training file's class ids. */
  readonly testPath?: string;
  readonly validationPath?: string;
}

export interface IdxSource {
  readonly kind: 'idx';
  readonly images: string;
  readonly labels: string;
  readonly testImages?: string;
  readonly testLabels?: string;
}

export type DataSource = BuiltinSource | CsvSource | IdxSource;

/** The options of `train()` but the data, which a config names instead of holding. */
export type TrainSettings = Omit<TrainOptions, 'data'>;

export interface Config {
  /** The config file as it was named, for messages. */
  readonly file: string;
  /** Absolute directory of the config file. */
  readonly baseDir: string;
  readonly description?: string;
  /** Paths in it are absolute. */
  readonly data: DataSource;
  readonly train: TrainSettings;
  /** Absolute path of the model file to write. */
  readonly out?: string;
  /** Absolute path of the JSON Lines epoch log to write. */
  readonly log?: string;
  /** Also log a step record (last batch's loss, learning rate, per-layer gradient norms) every N updates. */
  readonly logEverySteps?: number;
}

/** Command-line values that replace config fields; validated here, as they come from a shell. */
export interface Overrides {
  readonly epochs?: unknown;
  readonly lr?: unknown;
  readonly batchSize?: unknown;
  readonly seed?: unknown;
  readonly threads?: unknown;
  readonly kernel?: unknown;
  /** Relative paths resolve from the current directory. */
  readonly out?: unknown;
  readonly log?: unknown;
  /** Where to write checkpoints (keeping the config's cadence, if it has one). */
  readonly checkpoint?: unknown;
  /** A checkpoint to continue from. */
  readonly resume?: unknown;
  /** Checkpoint cadence in epochs and in updates (0 = off). */
  readonly checkpointEvery?: unknown;
  readonly checkpointEverySteps?: unknown;
  readonly logEverySteps?: unknown;
}

/** How `loadData` carves held-out rows off the training data (through `splitForRun`, as `train` does). */
export interface SplitRequest {
  readonly validation?: number;
  readonly test?: number;
  readonly stratify?: boolean | undefined;
  /** The run's seed (splitForRun derives the split's stream from it). */
  readonly seed: number;
}

const TOP_KEYS = ['description', 'data', 'split', 'scale', 'model', 'train', 'out', 'log', 'logEverySteps'] as const;
const TRAIN_KEYS = [
  'epochs', 'batchSize', 'lr', 'shuffle', 'seed', 'threads', 'kernel', 'rule', 'optimizer', 'schedule', 'stop', 'earlyStopping', 'checkpoint',
] as const;
const CHECKPOINT_KEYS = ['path', 'everyEpochs', 'everySteps'] as const;
const SPLIT_KEYS = ['validation', 'test', 'stratify'] as const;
const MODEL_KEYS = ['layers', 'loss'] as const;
const LAYER_KEYS = ['units', 'activation', 'alpha', 'init'] as const;
const STOP_KEYS = ['lossBelow', 'patience', 'minDelta'] as const;
const EARLY_KEYS = ['patience', 'minDelta', 'restoreBest'] as const;
const CSV_KEYS = ['csv', 'label', 'header', 'task', 'delimiter', 'testCsv', 'validationCsv'] as const;
const IDX_KEYS = ['images', 'labels', 'testImages', 'testLabels'] as const;
const BUILTIN_KEYS = ['builtin', 'n', 'noise', 'turns', 'classes', 'features', 'spread', 'seed'] as const;
// Which generator options each built-in dataset reads; one it ignores is a mistake, not a no-op.
const BUILTIN_OPTIONS: Record<BuiltinName, readonly string[]> = {
  xor: [],
  and: [],
  spirals: ['n', 'noise', 'turns', 'seed'],
  blobs: ['n', 'classes', 'features', 'spread', 'seed'],
  sine: ['n', 'noise', 'seed'],
  parabola: ['n', 'noise', 'seed'],
};
const KERNELS = ['auto', 'wasm', 'js'] as const;
const RULES = ['backprop', 'perceptron', 'adaline'] as const;
const TASKS = ['classification', 'regression'] as const;
// Names people reach for that no edit distance links to ours.
const ALIASES: Record<string, string> = { learningrate: 'lr', rate: 'lr', iterations: 'epochs', batch: 'batchSize', minibatch: 'batchSize' };

type Obj = Record<string, unknown>;

/** A path shown in messages: relative to the current directory when that is shorter. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && rel.length < p.length ? rel : p;
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name `word` was probably meant to be, if one is close enough to say so. */
export function closestName(word: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_\-\s]/g, '');
  const w = norm(word);
  const alias = ALIASES[w];
  if (alias && known.includes(alias)) return alias;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const c = norm(k);
    // Case and separator differences (batch_size, BatchSize) count as exact; a prefix of
    // three letters or more (earlyStop) as close, but less close than one typo.
    const prefix = Math.min(w.length, c.length) >= 3 && (c.startsWith(w) || w.startsWith(c));
    const score = c === w ? 0 : Math.min(editDistance(w, c), prefix ? 1.5 : Infinity);
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return best !== undefined && bestScore <= Math.max(1.5, Math.floor(w.length / 3)) ? best : undefined;
}

/**
 * A ConfigError from a library validator, re-issued with the config file in front. Data
 * errors are left alone: they already name the data file, which is what needs fixing.
 */
function inFile(file: string, error: unknown): unknown {
  if (!(error instanceof ConfigError)) return error;
  const suffix = error.hint === undefined ? '' : `\nhint: ${error.hint}`;
  const message = error.message.endsWith(suffix) ? error.message.slice(0, error.message.length - suffix.length) : error.message;
  if (message.startsWith(`${file}: `)) return error;
  return new ConfigError(`${file}: ${message}`, error.hint);
}

/** Run `fn`, re-issuing its ConfigErrors as errors of the config file `file`. */
export function withConfigFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw inFile(file, error);
  }
}

/** Field checks that put the file and the field path in every message. */
class Checker {
  constructor(readonly file: string, readonly baseDir: string) {}

  fail(message: string, hint?: string): never {
    throw new ConfigError(`${this.file}: ${message}`, hint);
  }

  object(value: unknown, field: string, example: string): Obj {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(`${field} must be an object (got ${describe(value)})`, `write e.g. ${example}`);
    }
    return value as Obj;
  }

  keys(obj: Obj, field: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (known.includes(key)) continue;
      const at = field === '' ? key : `${field}.${key}`;
      const guess = closestName(key, known);
      this.fail(
        `unknown field ${at}${guess ? `; did you mean ${field === '' ? guess : `${field}.${guess}`}?` : ''}`,
        `${field === '' ? 'the top level' : field} takes ${known.join(', ')}`,
      );
    }
  }

  positiveInt(value: unknown, field: string, hint: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) this.fail(`${field} must be a positive integer (got ${describe(value)})`, hint);
    return value;
  }

  number(value: unknown, field: string, range: { min?: number; minOpen?: boolean; max?: number; maxOpen?: boolean }, hint: string): number {
    const { min = -Infinity, minOpen = false, max = Infinity, maxOpen = false } = range;
    const ok = typeof value === 'number' && Number.isFinite(value) && (minOpen ? value > min : value >= min) && (maxOpen ? value < max : value <= max);
    if (!ok) {
      const lo = min === -Infinity ? '' : `${minOpen ? '>' : '≥'} ${min}`;
      const hi = max === Infinity ? '' : `${maxOpen ? '<' : '≤'} ${max}`;
      const rule = lo && hi ? `a number in ${minOpen ? '(' : '['}${min}, ${max}${maxOpen ? ')' : ']'}` : lo || hi ? `a number ${lo || hi}` : 'a finite number';
      this.fail(`${field} must be ${rule} (got ${describe(value)})`, hint);
    }
    return value as number;
  }

  boolean(value: unknown, field: string, hint: string): boolean {
    if (typeof value !== 'boolean') this.fail(`${field} must be true or false (got ${describe(value)})`, hint);
    return value;
  }

  string(value: unknown, field: string, hint: string): string {
    if (typeof value !== 'string' || value === '') this.fail(`${field} must be a non-empty string (got ${describe(value)})`, hint);
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      const guess = typeof value === 'string' ? closestName(value, allowed) : undefined;
      this.fail(
        `${field} must be one of ${allowed.join(', ')} (got ${describe(value)})${guess ? `; did you mean "${guess}"?` : ''}`,
        `names are lower case, e.g. "${allowed[0]}"`,
      );
    }
    return value as T;
  }

  /** A data file: resolved from the config's directory, and it must exist. */
  inputFile(value: unknown, field: string): string {
    const p = this.string(value, field, 'give a path relative to the config file, e.g. "data/train.csv"');
    const abs = path.resolve(this.baseDir, p);
    if (!fs.existsSync(abs)) {
      this.fail(
        `${field}: no such file ${displayPath(abs)}`,
        `paths in a config file are relative to the config file's directory (${displayPath(this.baseDir) || '.'}), not to the current directory`,
      );
    }
    return abs;
  }

  outputPath(value: unknown, field: string): string {
    return path.resolve(this.baseDir, this.string(value, field, 'a file path relative to the config file, e.g. "model.ttm"'));
  }
}

function parseData(c: Checker, value: unknown): DataSource {
  const example = '{ "builtin": "spirals" }, { "csv": "data.csv", "label": "species" } or { "idx": { "images": "...", "labels": "..." } }';
  if (value === undefined) c.fail('data is missing', `name the training data, e.g. ${example}`);
  const d = c.object(value, 'data', example);
  const kinds = (['builtin', 'csv', 'idx'] as const).filter((k) => d[k] !== undefined);
  if (kinds.length !== 1) {
    if (kinds.length === 0) {
      const guess = Object.keys(d).map((k) => closestName(k, ['builtin', 'csv', 'idx'])).find((g) => g !== undefined);
      c.fail(`data must have exactly one of builtin, csv or idx (found ${Object.keys(d).length ? Object.keys(d).join(', ') : 'none'})${guess ? `; did you mean data.${guess}?` : ''}`, `e.g. ${example}`);
    }
    c.fail(`data must have exactly one of builtin, csv or idx (found ${kinds.join(' and ')})`, 'train on one source; held-out files go in testCsv/validationCsv or idx.testImages/testLabels');
  }
  const kind = kinds[0]!;

  if (kind === 'builtin') {
    c.keys(d, 'data', BUILTIN_KEYS);
    const name = c.oneOf(d.builtin, 'data.builtin', BUILTIN_DATASETS);
    const source: { -readonly [K in keyof BuiltinSource]: BuiltinSource[K] } = { kind, name };
    for (const key of BUILTIN_KEYS) {
      if (key === 'builtin' || d[key] === undefined) continue;
      if (!BUILTIN_OPTIONS[name].includes(key)) {
        c.fail(
          `data.${key} is not an option of the "${name}" dataset`,
          BUILTIN_OPTIONS[name].length ? `"${name}" takes ${BUILTIN_OPTIONS[name].join(', ')}` : `"${name}" is a fixed set of 4 points and takes no options`,
        );
      }
    }
    if (d.n !== undefined) source.n = c.positiveInt(d.n, 'data.n', 'the number of rows to generate, e.g. 2000');
    if (d.noise !== undefined) source.noise = c.number(d.noise, 'data.noise', { min: 0 }, 'the standard deviation of the added noise, e.g. 0.1');
    if (d.turns !== undefined) source.turns = c.number(d.turns, 'data.turns', { min: 0, minOpen: true }, 'turns of each spiral arm, e.g. 1.5');
    if (d.classes !== undefined) {
      source.classes = c.positiveInt(d.classes, 'data.classes', 'the number of blobs, e.g. 3');
      if (source.classes < 2) c.fail(`data.classes must be at least 2 (got ${source.classes})`, 'one class leaves nothing to classify');
    }
    if (d.features !== undefined) source.features = c.positiveInt(d.features, 'data.features', 'the input dimension, e.g. 2');
    if (d.spread !== undefined) source.spread = c.number(d.spread, 'data.spread', { min: 0 }, 'the standard deviation of each blob, e.g. 0.15');
    if (d.seed !== undefined) {
      if (typeof d.seed !== 'number' || !Number.isInteger(d.seed) || d.seed < 0 || d.seed > 0xffffffff) {
        c.fail(`data.seed must be an integer in [0, 4294967295] (got ${describe(d.seed)})`, 'the seed the dataset is generated from, e.g. 1');
      }
      source.seed = d.seed;
    }
    return source;
  }

  if (kind === 'csv') {
    c.keys(d, 'data', CSV_KEYS);
    const source: { -readonly [K in keyof CsvSource]: CsvSource[K] } = { kind, path: c.inputFile(d.csv, 'data.csv') };
    if (d.task !== undefined) source.task = c.oneOf(d.task, 'data.task', TASKS);
    if (d.label !== undefined) {
      const labels = Array.isArray(d.label) ? d.label : [d.label];
      const okOne = (l: unknown) => (typeof l === 'string' && l !== '') || (typeof l === 'number' && Number.isInteger(l));
      if (labels.length === 0 || !labels.every(okOne)) {
        c.fail(`data.label must be a column name, a 0-based column index, or (for regression) a list of them (got ${describe(d.label)})`, 'e.g. "species", or -1 for the last column');
      }
      if (Array.isArray(d.label) && labels.length > 1 && source.task !== 'regression') {
        c.fail(`data.label lists ${labels.length} columns, but classification takes one label column`, 'several target columns need "task": "regression"');
      }
      source.label = d.label as CsvSource['label'];
    }
    if (d.header !== undefined) source.header = c.boolean(d.header, 'data.header', 'true when line 1 names the columns; leave it out to detect it');
    if (d.delimiter !== undefined) {
      if (typeof d.delimiter !== 'string' || d.delimiter.length !== 1 || d.delimiter === '"' || d.delimiter === '\n' || d.delimiter === '\r') {
        c.fail(`data.delimiter must be one character other than a quote or a newline (got ${describe(d.delimiter)})`, 'e.g. ",", ";", "\\t" or "|"');
      }
      source.delimiter = d.delimiter;
    }
    if (d.testCsv !== undefined) source.testPath = c.inputFile(d.testCsv, 'data.testCsv');
    if (d.validationCsv !== undefined) source.validationPath = c.inputFile(d.validationCsv, 'data.validationCsv');
    return source;
  }

  c.keys(d, 'data', ['idx']);
  const idx = c.object(d.idx, 'data.idx', '{ "images": "train-images-idx3-ubyte.gz", "labels": "train-labels-idx1-ubyte.gz" }');
  c.keys(idx, 'data.idx', IDX_KEYS);
  if (idx.images === undefined || idx.labels === undefined) {
    c.fail(`data.idx needs both images and labels (missing ${idx.images === undefined ? 'images' : 'labels'})`, 'e.g. { "images": "train-images-idx3-ubyte.gz", "labels": "train-labels-idx1-ubyte.gz" }');
  }
  if ((idx.testImages === undefined) !== (idx.testLabels === undefined)) {
    c.fail(`data.idx.${idx.testImages === undefined ? 'testLabels' : 'testImages'} is given without data.idx.${idx.testImages === undefined ? 'testImages' : 'testLabels'}`, 'a test set needs both its images and its labels file');
  }
  return {
    kind,
    images: c.inputFile(idx.images, 'data.idx.images'),
    labels: c.inputFile(idx.labels, 'data.idx.labels'),
    ...(idx.testImages !== undefined ? { testImages: c.inputFile(idx.testImages, 'data.idx.testImages'), testLabels: c.inputFile(idx.testLabels, 'data.idx.testLabels') } : {}),
  };
}

function isRegression(source: DataSource): boolean {
  return (source.kind === 'builtin' && source.name === 'sine') || (source.kind === 'csv' && source.task === 'regression');
}

function hasTestFile(source: DataSource): boolean {
  return (source.kind === 'csv' && source.testPath !== undefined) || (source.kind === 'idx' && source.testImages !== undefined);
}

function parseSplit(c: Checker, value: unknown, source: DataSource): NonNullable<TrainOptions['split']> {
  const s = c.object(value, 'split', '{ "validation": 0.1, "test": 0.2 }');
  c.keys(s, 'split', SPLIT_KEYS);
  const out: { validation?: number; test?: number; stratify?: boolean } = {};
  const hint = 'a fraction of the rows in [0, 1), e.g. 0.1 for 10%';
  if (s.validation !== undefined) out.validation = c.number(s.validation, 'split.validation', { min: 0, max: 1, maxOpen: true }, hint);
  if (s.test !== undefined) out.test = c.number(s.test, 'split.test', { min: 0, max: 1, maxOpen: true }, hint);
  if ((out.validation ?? 0) + (out.test ?? 0) >= 1) {
    c.fail(`split.validation + split.test must be below 1 (got ${out.validation} + ${out.test})`, 'rows must remain for training, e.g. 0.1 and 0.2 train on 70%');
  }
  if (s.stratify !== undefined) {
    out.stratify = c.boolean(s.stratify, 'split.stratify', 'true splits each class separately (the default for classification)');
    if (out.stratify && isRegression(source)) c.fail('split.stratify is true, but the data is a regression task with no classes to stratify by', 'leave stratify out for regression');
  }
  if ((out.test ?? 0) > 0 && hasTestFile(source)) {
    c.fail(`split.test is ${out.test}, but the test rows already come from ${source.kind === 'csv' ? 'data.testCsv' : 'data.idx.testImages'}`, 'remove split.test, or the test file');
  }
  if ((out.validation ?? 0) > 0 && source.kind === 'csv' && source.validationPath !== undefined) {
    c.fail(`split.validation is ${out.validation}, but the validation rows already come from data.validationCsv`, 'remove split.validation, or the validation file');
  }
  return out;
}

function parseModel(c: Checker, value: unknown): TrainSettings['model'] {
  const example = '{ "layers": [{ "units": 16, "activation": "tanh" }, { "units": 2, "activation": "softmax" }] }';
  if (value === undefined) c.fail('model is missing', `describe the network, e.g. ${example}`);
  const m = c.object(value, 'model', example);
  c.keys(m, 'model', MODEL_KEYS);
  if (Array.isArray(m.layers)) {
    m.layers.forEach((layer: unknown, i) => {
      if (layer !== null && typeof layer === 'object' && !Array.isArray(layer)) c.keys(layer as Obj, `model.layers[${i}]`, LAYER_KEYS);
    });
  }
  return withConfigFile(c.file, () => {
    const layers = validateLayers(m.layers, 'model.layers');
    const loss = resolveLoss(layers, m.loss);
    return { layers, ...(m.loss !== undefined ? { loss } : {}) };
  });
}

function parseTrain(c: Checker, value: unknown): Omit<TrainSettings, 'model' | 'split' | 'scale'> {
  const t = c.object(value ?? {}, 'train', '{ "epochs": 20, "batchSize": 32, "lr": 0.1 }');
  c.keys(t, 'train', TRAIN_KEYS);
  const out: { -readonly [K in keyof TrainSettings]?: TrainSettings[K] } = {};
  if (t.epochs !== undefined) out.epochs = c.positiveInt(t.epochs, 'train.epochs', 'the number of passes over the training data, e.g. 20');
  if (t.batchSize !== undefined) {
    out.batchSize = t.batchSize === 'full' ? 'full' : c.positiveInt(t.batchSize, 'train.batchSize', 'rows per step: 1 for online SGD, e.g. 32 for mini-batches, or "full" for the whole training set');
  }
  if (t.lr !== undefined) out.lr = c.number(t.lr, 'train.lr', { min: 0, minOpen: true }, 'the learning rate; a typical one is 0.001–0.5');
  if (t.shuffle !== undefined) out.shuffle = c.boolean(t.shuffle, 'train.shuffle', 'false keeps the data order in every epoch');
  if (t.seed !== undefined) {
    if (typeof t.seed !== 'number' || !Number.isInteger(t.seed) || t.seed < 0 || t.seed > 0xffffffff) {
      c.fail(`train.seed must be an integer in [0, 4294967295] (got ${describe(t.seed)})`, 'any whole number works, e.g. 1');
    }
    out.seed = t.seed;
  }
  if (t.threads !== undefined) out.threads = c.positiveInt(t.threads, 'train.threads', 'worker threads; at most the number of cores, e.g. 2');
  if (t.kernel !== undefined) out.kernel = c.oneOf(t.kernel, 'train.kernel', KERNELS);
  if (t.rule !== undefined) out.rule = c.oneOf(t.rule, 'train.rule', RULES);
  if (t.optimizer !== undefined) {
    out.optimizer = t.optimizer as TrainSettings['optimizer'];
    withConfigFile(c.file, () => resolveOptimizer(t.optimizer as never, 'train.optimizer'));
  }
  if (t.schedule !== undefined) {
    out.schedule = t.schedule as TrainSettings['schedule'];
    withConfigFile(c.file, () => resolveSchedule(t.schedule as never, 'train.schedule'));
  }
  if (t.stop !== undefined) {
    const s = c.object(t.stop, 'train.stop', '{ "lossBelow": 0.01, "patience": 5 }');
    c.keys(s, 'train.stop', STOP_KEYS);
    out.stop = {
      ...(s.lossBelow !== undefined ? { lossBelow: c.number(s.lossBelow, 'train.stop.lossBelow', {}, 'stop once the training loss is below this, e.g. 0.01') } : {}),
      ...(s.patience !== undefined ? { patience: c.positiveInt(s.patience, 'train.stop.patience', 'epochs to wait for a lower training loss, e.g. 5') } : {}),
      ...(s.minDelta !== undefined ? { minDelta: c.number(s.minDelta, 'train.stop.minDelta', { min: 0 }, 'the smallest drop that counts as an improvement, e.g. 1e-4') } : {}),
    };
  }
  if (t.earlyStopping !== undefined) {
    const e = c.object(t.earlyStopping, 'train.earlyStopping', '{ "patience": 5 }');
    c.keys(e, 'train.earlyStopping', EARLY_KEYS);
    if (e.patience === undefined) c.fail('train.earlyStopping.patience is missing', 'epochs to wait for a lower validation loss, e.g. 5');
    out.earlyStopping = {
      patience: c.positiveInt(e.patience, 'train.earlyStopping.patience', 'epochs to wait for a lower validation loss, e.g. 5'),
      ...(e.minDelta !== undefined ? { minDelta: c.number(e.minDelta, 'train.earlyStopping.minDelta', { min: 0 }, 'the smallest drop that counts as an improvement, e.g. 1e-4') } : {}),
      ...(e.restoreBest !== undefined ? { restoreBest: c.boolean(e.restoreBest, 'train.earlyStopping.restoreBest', 'true puts back the weights of the best validation epoch') } : {}),
    };
  }
  if (t.checkpoint !== undefined) {
    const k = c.object(t.checkpoint, 'train.checkpoint', '{ "path": "run.ckpt", "everyEpochs": 1 }');
    c.keys(k, 'train.checkpoint', CHECKPOINT_KEYS);
    if (k.path === undefined) c.fail('train.checkpoint.path is missing', 'the file to write checkpoints to, relative to the config file, e.g. "run.ckpt"');
    out.checkpoint = {
      path: c.outputPath(k.path, 'train.checkpoint.path'),
      ...(k.everyEpochs !== undefined ? { everyEpochs: c.positiveInt(k.everyEpochs, 'train.checkpoint.everyEpochs', 'write a checkpoint every N epochs, e.g. 1') } : {}),
      ...(k.everySteps !== undefined ? { everySteps: c.positiveInt(k.everySteps, 'train.checkpoint.everySteps', 'write a checkpoint every N updates, e.g. 1000') } : {}),
    };
  }
  return out;
}

/** Check a parsed config object; `file` names it in messages, relative paths resolve from `baseDir`. */
export function parseConfig(value: unknown, file: string, baseDir: string): Config {
  const c = new Checker(file, path.resolve(baseDir));
  const root = c.object(value, 'the config', '{ "data": { "builtin": "xor" }, "model": { "layers": [...] } }');
  c.keys(root, '', TOP_KEYS);
  const data = parseData(c, root.data);
  const model = parseModel(c, root.model);
  const train: { -readonly [K in keyof TrainSettings]: TrainSettings[K] } = { model, ...parseTrain(c, root.train) };
  if (root.split !== undefined) train.split = parseSplit(c, root.split, data);
  if (root.scale !== undefined) train.scale = c.oneOf(root.scale, 'scale', SCALER_METHODS);
  return {
    file,
    baseDir: c.baseDir,
    ...(root.description !== undefined ? { description: c.string(root.description, 'description', 'a line saying what this run is for') } : {}),
    data,
    train,
    ...(root.out !== undefined ? { out: c.outputPath(root.out, 'out') } : {}),
    ...(root.log !== undefined ? { log: c.outputPath(root.log, 'log') } : {}),
    ...(root.logEverySteps !== undefined ? { logEverySteps: c.positiveInt(root.logEverySteps, 'logEverySteps', 'write a step record every N updates, e.g. 100') } : {}),
  };
}

/** 1-based line and column of character `offset` in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: Math.min(offset, text.length) - start + 1 };
}

/** Read, parse and check a config file. Errors name `file` as given. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `${file}: cannot read the config file (${code ?? (error as Error).message})`,
      code === 'ENOENT' ? 'check the path; the configs/ directory has examples such as configs/default.json' : 'check that the path is a readable file',
    );
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = (error as Error).message;
    const at = /at position (\d+)/.exec(detail);
    const { line, column } = lineColumn(text, at ? Number(at[1]) : text.length);
    throw new ConfigError(
      `${file} line ${line}, column ${column}: not valid JSON: ${detail.replace(/ in JSON at position \d+.*$/, '').replace(/ in JSON$/, '')}`,
      'JSON has no comments or trailing commas, and needs double quotes around every key and string',
    );
  }
  return parseConfig(value, file, path.dirname(path.resolve(file)));
}

/** `config` with command-line values in place of its own; the flags are named in messages. */
export function applyOverrides(config: Config, o: Overrides): Config {
  const fail = (flag: string, rule: string, value: unknown, hint: string): never => {
    throw new ConfigError(`--${flag} must be ${rule} (got ${describe(value)})`, hint);
  };
  const int = (flag: string, value: unknown, hint: string): number => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) fail(flag, 'a positive integer', value, hint);
    return n as number;
  };
  const train: { -readonly [K in keyof TrainSettings]: TrainSettings[K] } = { ...config.train };
  if (o.epochs !== undefined) train.epochs = int('epochs', o.epochs, 'the number of passes over the training data, e.g. 20');
  if (o.batchSize !== undefined) train.batchSize = o.batchSize === 'full' ? 'full' : int('batch-size', o.batchSize, 'rows per step, e.g. 32, or "full"');
  if (o.threads !== undefined) train.threads = int('threads', o.threads, 'worker threads; at most the number of cores');
  if (o.lr !== undefined) {
    const lr = typeof o.lr === 'string' && o.lr.trim() !== '' ? Number(o.lr) : o.lr;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) fail('lr', 'a number > 0', o.lr, 'a typical learning rate is 0.001–0.5');
    train.lr = lr as number;
  }
  if (o.seed !== undefined) {
    const seed = typeof o.seed === 'string' && o.seed.trim() !== '' ? Number(o.seed) : o.seed;
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) fail('seed', 'an integer in [0, 4294967295]', o.seed, 'any whole number works, e.g. 1');
    train.seed = seed as number;
  }
  if (o.kernel !== undefined) {
    if (typeof o.kernel !== 'string' || !(KERNELS as readonly string[]).includes(o.kernel)) fail('kernel', `one of ${KERNELS.join(', ')}`, o.kernel, '"auto" picks wasm where SIMD works');
    train.kernel = o.kernel as (typeof KERNELS)[number];
  }
  const outPath = (flag: string, value: unknown): string => {
    if (typeof value !== 'string' || value === '') fail(flag, 'a file path', value, 'relative paths resolve from the current directory');
    return path.resolve(value as string);
  };
  if (o.checkpoint !== undefined) train.checkpoint = { ...train.checkpoint, path: outPath('checkpoint', o.checkpoint) };
  for (const [flag, value, key] of [['checkpoint-every', o.checkpointEvery, 'everyEpochs'], ['checkpoint-every-steps', o.checkpointEverySteps, 'everySteps']] as const) {
    if (value === undefined) continue;
    if (!train.checkpoint) {
      throw new ConfigError(`--${flag} needs a checkpoint file`, 'add --checkpoint FILE (or train.checkpoint.path in the config)');
    }
    train.checkpoint = { ...train.checkpoint, [key]: int(flag, value, key === 'everyEpochs' ? 'e.g. 1 for every epoch' : 'e.g. 1000') };
  }
  if (o.resume !== undefined) {
    const from = outPath('resume', o.resume);
    if (!fs.existsSync(from)) {
      throw new ConfigError(`--resume: no such checkpoint file ${displayPath(from)}`, 'checkpoints are written by train --checkpoint FILE (or the config\'s train.checkpoint)');
    }
    train.resume = from;
  }
  return {
    ...config,
    train,
    ...(o.out !== undefined ? { out: outPath('out', o.out) } : {}),
    ...(o.log !== undefined ? { log: outPath('log', o.log) } : {}),
    ...(o.logEverySteps !== undefined ? { logEverySteps: int('log-every-steps', o.logEverySteps, 'write a step record every N updates, e.g. 100') } : {}),
  };
}

function resolveIn(baseDir: string, p: string): string {
  return displayPath(path.resolve(baseDir, p));
}

/**
 * Load a source's rows. Held-out files (testCsv, idx test images) become the test or
 * validation split; the fractions in `split` are carved from the training rows with the
 * same seeded split `train()` would use, so a config run and a library run of the same
 * options see the same rows. Returns a plain dataset when nothing is held out.
 */
export function loadData(source: DataSource, baseDir: string = process.cwd(), split?: SplitRequest): Dataset | DataSplitsInput {
  let all: Dataset;
  let test: Dataset | undefined;
  let validation: Dataset | undefined;
  if (source.kind === 'builtin') {
    const { kind: _kind, name, ...options } = source;
    all = builtinDataset(name, { ...options, seed: options.seed ?? 1 });
  } else if (source.kind === 'csv') {
    const options: CsvOptions = {
      ...(source.label !== undefined ? { label: source.label } : {}),
      ...(source.header !== undefined ? { header: source.header } : {}),
      ...(source.task !== undefined ? { task: source.task } : {}),
      ...(source.delimiter !== undefined ? { delimiter: source.delimiter } : {}),
    };
    all = loadCsv(resolveIn(baseDir, source.path), options);
    // Held-out files must map labels to the training file's ids: "setosa" may come first
    // in one file and second in another.
    const heldOut = all.task === 'classification' ? { ...options, classNames: (all as ClassificationDataset).classNames } : options;
    if (source.testPath !== undefined) test = loadCsv(resolveIn(baseDir, source.testPath), heldOut);
    if (source.validationPath !== undefined) validation = loadCsv(resolveIn(baseDir, source.validationPath), heldOut);
  } else {
    all = loadIdx(resolveIn(baseDir, source.images), resolveIn(baseDir, source.labels));
    if (source.testImages !== undefined && source.testLabels !== undefined) {
      test = loadIdx(resolveIn(baseDir, source.testImages), resolveIn(baseDir, source.testLabels));
    }
  }
  const fractions = { validation: validation ? 0 : (split?.validation ?? 0), test: test ? 0 : (split?.test ?? 0) };
  if (fractions.validation === 0 && fractions.test === 0) {
    return test || validation ? { train: all, validation, test } : all;
  }
  const parts = splitForRun(all, { ...fractions, stratify: split?.stratify }, split?.seed ?? 1);
  return { train: parts.train, validation: validation ?? parts.validation, test: test ?? parts.test };
}

/** The rows of a config's data, split as its `split` section says. */
export function loadConfigData(config: Config): Dataset | DataSplitsInput {
  const s = config.train.split;
  return withConfigFile(config.file, () =>
    loadData(config.data, config.baseDir, {
      ...(s?.validation !== undefined ? { validation: s.validation } : {}),
      ...(s?.test !== undefined ? { test: s.test } : {}),
      stratify: s?.stratify,
      seed: config.train.seed ?? 1,
    }),
  );
}
