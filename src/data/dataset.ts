// The in-memory dataset every loader produces and every trainer consumes: inputs as one
// row-major Float32Array (n × features) plus targets, either class ids or float vectors.

export interface ClassificationDataset {
  readonly task: 'classification';
  readonly n: number;
  readonly features: number;
  /** (n, features), row-major. */
  readonly x: Float32Array;
  /** Class id of each row, 0..classes-1. */
  readonly y: Int32Array;
  readonly classes: number;
  /** Name of each class id, when the source had names (CSV strings); else "0", "1", …. */
  readonly classNames: readonly string[];
  readonly featureNames?: readonly string[];
}

export interface RegressionDataset {
  readonly task: 'regression';
  readonly n: number;
  readonly features: number;
  /** (n, features), row-major. */
  readonly x: Float32Array;
  /** (n, targets), row-major. */
  readonly y: Float32Array;
  readonly targets: number;
  readonly featureNames?: readonly string[];
  readonly targetNames?: readonly string[];
}

export type Dataset = ClassificationDataset | RegressionDataset;

/** Width of the network's output layer a dataset asks for by default. */
export function outputWidth(ds: Dataset): number {
  return ds.task === 'classification' ? ds.classes : ds.targets;
}

/** Rows `indices` of a dataset, copied into a new dataset of the same kind. */
export function selectRows<D extends Dataset>(ds: D, indices: ArrayLike<number>): D {
  const m = indices.length;
  const f = ds.features;
  const x = new Float32Array(m * f);
  for (let r = 0; r < m; r++) x.set(ds.x.subarray(indices[r]! * f, indices[r]! * f + f), r * f);
  if (ds.task === 'classification') {
    const y = new Int32Array(m);
    for (let r = 0; r < m; r++) y[r] = ds.y[indices[r]!]!;
    return { ...ds, n: m, x, y } as D;
  }
  const t = ds.targets;
  const y = new Float32Array(m * t);
  for (let r = 0; r < m; r++) y.set(ds.y.subarray(indices[r]! * t, indices[r]! * t + t), r * t);
  return { ...ds, n: m, x, y } as D;
}

/** What is wrong with a dataset: where (a path under it, e.g. ['y', 4]), and what was expected and found. */
export interface DatasetProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly hint: string;
}

const isCount = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isNumbers = (v: unknown): v is ArrayLike<number> => (ArrayBuffer.isView(v) && !(v instanceof DataView)) || Array.isArray(v);
const showNumber = (v: unknown): string => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : JSON.stringify(v) ?? String(v));

/**
 * The first value of `values` (rows of `width`) that is not a number once stored as float32
 * (NaN, ±Infinity, 1e39), named by index, row and column; `column` names a column for messages.
 */
export function nonFiniteValue(values: ArrayLike<number>, width: number, column: (c: number) => string): { index: number; message: string } | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // Math.fround: 1e39 is finite as a double but Infinity in the Float32Array it lands in.
    if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) {
      const shown = typeof v === 'number' && Number.isFinite(v) ? `${v} (Infinity as float32)` : showNumber(v);
      return { index: i, message: `row ${Math.floor(i / width)}, ${column(i % width)}: expected a finite number, found ${shown}` };
    }
  }
  return undefined;
}

/**
 * The first thing wrong with a dataset's shape or values, or undefined: counts that are
 * whole numbers, x of n × features finite numbers, y of n class ids in [0, classes) (or
 * n × targets finite numbers). The one check of a dataset that did not come from our loaders.
 */
export function datasetProblem(ds: Dataset): DatasetProblem | undefined {
  const shapeHint = 'x holds n rows of `features` numbers, row after row; y holds one class id per row (or `targets` numbers per row)';
  if (ds.task !== 'classification' && ds.task !== 'regression') {
    return { path: ['task'], message: `expected "classification" or "regression", found ${showNumber((ds as { task?: unknown }).task)}`, hint: 'builtinDataset, loadCsv and loadIdx set it' };
  }
  if (!isCount(ds.n, 0)) return { path: ['n'], message: `expected a whole number of rows, found ${showNumber(ds.n)}`, hint: shapeHint };
  if (!isCount(ds.features, 1)) return { path: ['features'], message: `expected a whole number ≥ 1, found ${showNumber(ds.features)}`, hint: shapeHint };
  if (!isNumbers(ds.x)) return { path: ['x'], message: `expected a Float32Array, found ${showNumber(ds.x)}`, hint: shapeHint };
  if (ds.x.length !== ds.n * ds.features) {
    return { path: ['x'], message: `expected n × features = ${ds.n} × ${ds.features} = ${ds.n * ds.features} numbers, found ${ds.x.length}`, hint: shapeHint };
  }
  if (!isNumbers(ds.y)) return { path: ['y'], message: `expected ${ds.task === 'classification' ? 'an Int32Array' : 'a Float32Array'}, found ${showNumber(ds.y)}`, hint: shapeHint };
  const names = ds.featureNames;
  const bad = nonFiniteValue(ds.x, ds.features, (f) => `feature ${f}${names?.[f] !== undefined ? ` (${names[f]})` : ''}`);
  if (bad) return { path: ['x', bad.index], message: bad.message, hint: 'fill in or drop rows with missing values; with scale "none" a NaN input is not divergence but bad data' };
  if (ds.task === 'regression') {
    if (!isCount(ds.targets, 1)) return { path: ['targets'], message: `expected a whole number ≥ 1, found ${showNumber(ds.targets)}`, hint: shapeHint };
    if (ds.y.length !== ds.n * ds.targets) {
      return { path: ['y'], message: `expected n × targets = ${ds.n} × ${ds.targets} = ${ds.n * ds.targets} numbers, found ${ds.y.length}`, hint: shapeHint };
    }
    const badY = nonFiniteValue(ds.y, ds.targets, (t) => `target ${t}`);
    return badY ? { path: ['y', badY.index], message: badY.message, hint: 'fill in or drop rows with missing targets' } : undefined;
  }
  if (!isCount(ds.classes, 1)) return { path: ['classes'], message: `expected a whole number ≥ 1, found ${showNumber(ds.classes)}`, hint: shapeHint };
  if (ds.y.length !== ds.n) return { path: ['y'], message: `expected n = ${ds.n} class ids, found ${ds.y.length}`, hint: shapeHint };
  for (let r = 0; r < ds.n; r++) {
    const c = ds.y[r]!;
    if (!Number.isInteger(c) || c < 0 || c >= ds.classes) {
      return { path: ['y', r], message: `expected a class id in 0..${ds.classes - 1} (classes: ${ds.classes}), found ${showNumber(c)}`, hint: 'class ids count from 0; set classes to the number of classes' };
    }
  }
  if (ds.classNames !== undefined && (!Array.isArray(ds.classNames) || ds.classNames.length !== ds.classes)) {
    return { path: ['classNames'], message: `expected ${ds.classes} names (one per class), found ${showNumber(ds.classNames)}`, hint: 'leave classNames out, or name every class' };
  }
  return undefined;
}

/** "y[4]" for ['y', 4], "x" for ['x']: a problem's path as an option path's tail. */
export function problemPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
