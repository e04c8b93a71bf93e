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
