// Seeded toy datasets for tests, examples and smoke runs: the logic gates, two spirals,
// Gaussian blobs, a noisy sine for regression, and points on a parabola against uniform
// noise. Each draws only from createRng(seed), so a seed names one exact dataset.
// Generated rows are shuffled, so a plain head/tail split still sees every class; only
// parabola's `order` can ask for the classes in blocks instead (the seeds' shuffle lesson).

import { ConfigError, DataError, describe } from '../errors.ts';
import { checkMemory } from '../limits.ts';
import { createRng } from '../rng.ts';
import { nonFiniteValue, type ClassificationDataset, type Dataset, type RegressionDataset } from './dataset.ts';
import { permutation } from './split.ts';

// errors.describe prints NaN and ±Infinity as null (JSON); numbers read better as themselves.

export interface SpiralsOptions {
  /** Total points, split evenly between the two arms. */
  readonly n: number;
  /** Standard deviation of the Gaussian noise added to each coordinate (arm radius is 1). */
  readonly noise: number;
  readonly seed: number;
  /** Turns each arm makes around the origin; default 1.5. */
  readonly turns?: number;
}

export interface BlobsOptions {
  readonly n: number;
  readonly classes: number;
  readonly features: number;
  /** Standard deviation of each blob; centres are uniform in [-1, 1]^features. */
  readonly spread: number;
  readonly seed: number;
}

export interface SineOptions {
  readonly n: number;
  readonly noise: number;
  readonly seed: number;
}

/**
 * Row order of `parabola`: interleaved, or the two classes in blocks — the seeds' lesson
 * that training without shuffling on data sorted by class learns mostly the last block.
 */
export const PARABOLA_ORDERS = ['shuffled', 'random-first', 'parabola-first'] as const;
export type ParabolaOrder = (typeof PARABOLA_ORDERS)[number];

/**
 * Where `parabola` puts its points. "unit": x in [-1, 1], y = x² + noise, the random points
 * in the curve points' bounding box. "lecture": the seeds' lecture, x in [0, 100], y = x² +
 * noise, the random points uniform in the box [0, 100] × [0, 10,000].
 */
export const PARABOLA_GEOMETRIES = ['unit', 'lecture'] as const;
export type ParabolaGeometry = (typeof PARABOLA_GEOMETRIES)[number];

export interface ParabolaOptions {
  /** Default 10,000; the parabola gets the extra point when n is odd. */
  readonly n?: number;
  /** Standard deviation of the vertical noise on the parabola points, in units of y. */
  readonly noise: number;
  readonly seed: number;
  /** Default "shuffled". */
  readonly order?: ParabolaOrder;
  /** Default "unit". */
  readonly geometry?: ParabolaGeometry;
}

/** Options for `builtinDataset`; each generator reads the ones it uses. */
export interface BuiltinOptions {
  readonly seed: number;
  readonly n?: number;
  readonly noise?: number;
  readonly turns?: number;
  readonly classes?: number;
  readonly features?: number;
  readonly spread?: number;
  readonly order?: ParabolaOrder;
  readonly geometry?: ParabolaGeometry;
}

export const BUILTIN_DATASETS = ['xor', 'and', 'spirals', 'blobs', 'sine', 'parabola'] as const;
export type BuiltinName = (typeof BUILTIN_DATASETS)[number];

function checkCount(what: string, name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${what}: ${name} must be an integer ≥ ${min}, found ${describe(value)}`);
  }
}

function checkNonNegative(what: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${what}: ${name} must be a finite number ≥ 0, found ${describe(value)}`);
  }
}

function checkOneOf(name: string, value: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(value as string)) {
    throw new ConfigError(`parabola: ${name} must be one of ${allowed.map((a) => describe(a)).join(', ')}, found ${describe(value)}`);
  }
}

function checkSeed(what: string, seed: number): void {
  if (!Number.isFinite(seed)) {
    throw new ConfigError(`${what}: seed must be a finite number, found ${describe(seed)}`, 'any integer works, e.g. seed: 1');
  }
}

/**
 * Refuse a size the generator cannot hold before it allocates or draws anything: `bytes`
 * counts its arrays (rows, labels, row order, staging). Without this, spirals with n = 1e9
 * ran silently for minutes while memory grew.
 */
function checkSize(what: string, size: string, bytes: number): void {
  checkMemory(`${what} (${size})`, bytes, 'use a smaller n or fewer features: every row of a run is held in one shared memory');
}

const classNames = (k: number) => Array.from({ length: k }, (_, i) => String(i));

function gate(outputs: readonly number[]): ClassificationDataset {
  return {
    task: 'classification',
    n: 4,
    features: 2,
    x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]),
    y: Int32Array.from(outputs),
    classes: 2,
    classNames: ['0', '1'],
    featureNames: ['x1', 'x2'],
  };
}

/** The four points of XOR: (0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0. */
export function xorDataset(): ClassificationDataset {
  return gate([0, 1, 1, 0]);
}

/** The four points of AND: only (1,1)→1. */
export function andDataset(): ClassificationDataset {
  return gate([0, 0, 0, 1]);
}

/**
 * Two interleaved spirals in the plane: arm k at parameter t ∈ [0, 1) sits at radius t and
 * angle 2π·turns·t + kπ, plus Gaussian noise. Classes 0 and 1 get ⌈n/2⌉ and ⌊n/2⌋ points.
 */
export function spirals(options: SpiralsOptions): ClassificationDataset {
  const { n, noise, seed } = options;
  const turns = options.turns ?? 1.5;
  checkCount('spirals', 'n', n, 2);
  checkNonNegative('spirals', 'noise', noise);
  checkNonNegative('spirals', 'turns', turns);
  checkSeed('spirals', seed);
  checkSize('spirals', `n ${n}`, n * (2 * 4 + 4 + 4));
  const rng = createRng(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  // Point i lands in row slot[i], so the classes come out interleaved.
  const slot = permutation(n, rng);
  for (let i = 0; i < n; i++) {
    const k = i % 2;
    const t = rng.uniform();
    const angle = 2 * Math.PI * turns * t + k * Math.PI;
    const r = slot[i]!;
    x[2 * r] = t * Math.cos(angle) + noise * rng.normal();
    x[2 * r + 1] = t * Math.sin(angle) + noise * rng.normal();
    y[r] = k;
  }
  return { task: 'classification', n, features: 2, x, y, classes: 2, classNames: ['0', '1'], featureNames: ['x1', 'x2'] };
}

/**
 * Isotropic Gaussian blobs: one centre per class, uniform in [-1, 1]^features, points at
 * centre + spread·N(0, I). Row i of the unshuffled set has class i mod classes, so class
 * sizes differ by at most one.
 */
export function blobs(options: BlobsOptions): ClassificationDataset {
  const { n, classes, features, spread, seed } = options;
  checkCount('blobs', 'classes', classes, 1);
  checkCount('blobs', 'n', n, classes);
  checkCount('blobs', 'features', features, 1);
  checkNonNegative('blobs', 'spread', spread);
  checkSeed('blobs', seed);
  checkSize('blobs', `n ${n} × features ${features}`, n * features * 4 + n * (4 + 4) + classes * features * 8);
  const rng = createRng(seed);
  const centres = new Float64Array(classes * features);
  for (let i = 0; i < centres.length; i++) centres[i] = 2 * rng.uniform() - 1;
  const x = new Float32Array(n * features);
  const y = new Int32Array(n);
  // Point i lands in row slot[i], so the classes come out interleaved.
  const slot = permutation(n, rng);
  for (let i = 0; i < n; i++) {
    const k = i % classes;
    const r = slot[i]!;
    for (let f = 0; f < features; f++) x[r * features + f] = centres[k * features + f]! + spread * rng.normal();
    y[r] = k;
  }
  return {
    task: 'classification',
    n,
    features,
    x,
    y,
    classes,
    classNames: classNames(classes),
    featureNames: Array.from({ length: features }, (_, f) => `x${f + 1}`),
  };
}

/** Regression: x uniform in [-π, π], y = sin(x) + noise·N(0, 1). */
export function sine(options: SineOptions): RegressionDataset {
  const { n, noise, seed } = options;
  checkCount('sine', 'n', n, 1);
  checkNonNegative('sine', 'noise', noise);
  checkSeed('sine', seed);
  checkSize('sine', `n ${n}`, n * (4 + 4));
  const rng = createRng(seed);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Math.PI * (2 * rng.uniform() - 1);
    x[i] = v;
    y[i] = Math.sin(v) + noise * rng.normal();
  }
  return { task: 'regression', n, features: 1, x, y, targets: 1, featureNames: ['x'], targetNames: ['y'] };
}

/**
 * Binary classification of "on the curve" vs "anywhere": ⌈n/2⌉ points (x, x² + noise·N)
 * labelled 1 and ⌊n/2⌋ points uniform in a box around them labelled 0, placed as `geometry`
 * says. `order` "shuffled" interleaves the rows; "random-first" puts the random points
 * first, then the curve points; "parabola-first" the other way round.
 */
export function parabolaVsRandom(options: ParabolaOptions): ClassificationDataset {
  const { noise, seed } = options;
  const n = options.n ?? 10_000;
  const order = options.order ?? 'shuffled';
  const geometry = options.geometry ?? 'unit';
  checkCount('parabola', 'n', n, 2);
  checkNonNegative('parabola', 'noise', noise);
  checkSeed('parabola', seed);
  checkOneOf('order', order, PARABOLA_ORDERS);
  checkOneOf('geometry', geometry, PARABOLA_GEOMETRIES);
  checkSize('parabola', `n ${n}`, n * (8 + 8 + 4 + 2 * 4 + 4));
  const rng = createRng(seed);
  const onCurve = Math.ceil(n / 2);
  const [xMin, xMax] = geometry === 'lecture' ? [0, 100] : [-1, 1];
  // float64 staging: the unit box must be the true range of the curve points, before rounding.
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  let yMin = Infinity;
  let yMax = -Infinity;
  for (let i = 0; i < onCurve; i++) {
    const u = xMin + (xMax - xMin) * rng.uniform();
    const v = u * u + noise * rng.normal();
    px[i] = u;
    py[i] = v;
    if (v < yMin) yMin = v;
    if (v > yMax) yMax = v;
  }
  if (geometry === 'lecture') [yMin, yMax] = [0, xMax * xMax];
  for (let i = onCurve; i < n; i++) {
    px[i] = xMin + (xMax - xMin) * rng.uniform();
    py[i] = yMin + (yMax - yMin) * rng.uniform();
  }
  // Point i lands in row slot[i]: a seeded permutation interleaves the classes; the block
  // orders keep each class's points in the order they were drawn.
  const slot = order === 'shuffled' ? permutation(n, rng) : new Int32Array(n);
  if (order === 'parabola-first') for (let i = 0; i < n; i++) slot[i] = i;
  if (order === 'random-first') for (let i = 0; i < n; i++) slot[i] = i < onCurve ? n - onCurve + i : i - onCurve;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = slot[i]!;
    x[2 * r] = px[i]!;
    x[2 * r + 1] = py[i]!;
    y[r] = i < onCurve ? 1 : 0;
  }
  return { task: 'classification', n, features: 2, x, y, classes: 2, classNames: ['0', '1'], featureNames: ['x1', 'x2'] };
}

/**
 * A generator by name, with defaults for what `options` leaves out: spirals n 1000,
 * noise 0.05; blobs n 1000, 3 classes, 2 features, spread 0.15; sine n 1000, noise 0.1;
 * parabola n 10,000, noise 0.02, order "shuffled", geometry "unit".
 */
export function builtinDataset(name: string, options: BuiltinOptions): Dataset {
  const ds = generate(name, options);
  // Finite options can still overflow float32 (noise 1e39): refused like a CSV cell of 1e39.
  const bad = nonFiniteValue(ds.x, ds.features, (f) => `feature ${f}`) ?? (ds.task === 'regression' ? nonFiniteValue(ds.y, ds.targets, (t) => `target ${t}`) : undefined);
  if (bad) {
    const given = (['noise', 'spread'] as const).filter((k) => options[k] !== undefined).map((k) => `${k} ${options[k]}`);
    throw new DataError(`builtin ${name}${given.length ? ` (${given.join(', ')})` : ''}: ${bad.message.replace('expected a finite number', 'expected a finite float32')}`, 'use a noise or spread within float32\'s range (a few units, e.g. 0.1)');
  }
  return ds;
}

function generate(name: string, options: BuiltinOptions): Dataset {
  const { seed } = options;
  const size = builtinShape(name, options);
  switch (name) {
    case 'xor':
      return xorDataset();
    case 'and':
      return andDataset();
    case 'spirals':
      return spirals({ n: size.n, noise: options.noise ?? 0.05, seed, ...(options.turns !== undefined ? { turns: options.turns } : {}) });
    case 'blobs':
      return blobs({ n: size.n, classes: size.outputs, features: size.features, spread: options.spread ?? 0.15, seed });
    case 'sine':
      return sine({ n: size.n, noise: options.noise ?? 0.1, seed });
    default:
      return parabolaVsRandom({
        n: size.n, noise: options.noise ?? 0.02, seed,
        ...(options.order !== undefined ? { order: options.order } : {}),
        ...(options.geometry !== undefined ? { geometry: options.geometry } : {}),
      });
  }
}

/** The shape a generator makes for `options` (the defaults above filled in), known before generating: to plan a run's memory first. */
export function builtinShape(name: string, options: Omit<BuiltinOptions, 'seed'>): { n: number; features: number; task: Dataset['task']; outputs: number } {
  switch (name) {
    case 'xor':
    case 'and':
      return { n: 4, features: 2, task: 'classification', outputs: 2 };
    case 'spirals':
      return { n: options.n ?? 1000, features: 2, task: 'classification', outputs: 2 };
    case 'blobs':
      return { n: options.n ?? 1000, features: options.features ?? 2, task: 'classification', outputs: options.classes ?? 3 };
    case 'sine':
      return { n: options.n ?? 1000, features: 1, task: 'regression', outputs: 1 };
    case 'parabola':
      return { n: options.n ?? 10_000, features: 2, task: 'classification', outputs: 2 };
    default:
      throw new DataError(
        `unknown built-in dataset ${describe(name)}; expected one of ${BUILTIN_DATASETS.map((d) => describe(d)).join(', ')}`,
        'built-in names are lower case; data in a file needs the CSV or IDX loader',
      );
  }
}
