// Models with seeded random parameters (no training needed) for the tests of the weight
// accessors and the export formats, plus a float64 forward pass written from the math in
// the README, used as the independent reference for what a layer computes.

import type { Scaler } from '../../src/data/scaling.ts';
import { initializeParams } from '../../src/model/init.ts';
import { Model, type ModelLayer } from '../../src/model/model.ts';
import { paramLayout, view } from '../../src/model/layout.ts';
import { layerAlpha, type LayerSpec, type LossName } from '../../src/model/spec.ts';
import { createRng } from '../../src/rng.ts';

export interface RandomModelOptions {
  readonly inputs: number;
  readonly layers: readonly LayerSpec[];
  readonly loss?: LossName;
  readonly seed?: number;
  readonly scaler?: Scaler;
  readonly classNames?: readonly string[];
  readonly featureNames?: readonly string[];
}

/** A model with initializer weights, and biases and prelu slopes drawn too (so none are 0 or 0.25). */
export function randomModel(o: RandomModelOptions): Model {
  const spec = { inputs: o.inputs, layers: o.layers, loss: o.loss ?? 'mse' };
  const layout = paramLayout(spec);
  const params = new Float32Array(layout.size);
  const rng = createRng(o.seed ?? 7);
  initializeParams(spec, layout, params, rng);
  for (const slots of layout.layers) {
    const b = view(params, slots.b);
    for (let j = 0; j < b.length; j++) b[j] = rng.uniform() - 0.5;
    if (slots.a) {
      const a = view(params, slots.a);
      for (let j = 0; j < a.length; j++) a[j] = 0.05 + 0.5 * rng.uniform();
    }
  }
  const last = o.layers[o.layers.length - 1]!;
  return new Model({
    spec, params, task: last.activation === 'softmax' ? 'classification' : 'regression',
    classNames: o.classNames, featureNames: o.featureNames, scaler: o.scaler,
  });
}

/** n rows of `features` uniform numbers in [lo, hi). */
export function randomRows(n: number, features: number, seed: number, lo = -3, hi = 3): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n * features);
  for (let i = 0; i < x.length; i++) x[i] = lo + (hi - lo) * rng.uniform();
  return x;
}

/** The network's outputs for raw rows, in float64 from `layers()`: (x − offset)·scale, then z = W·h + b and f(z) per layer. */
export function forward64(layers: readonly ModelLayer[], scaler: Scaler | undefined, x: Float32Array, n: number): Float64Array {
  const d = layers[0]!.inputs;
  let h = Float64Array.from(x, (v, i) => (scaler ? (v - scaler.offset[i % d]!) * scaler.scale[i % d]! : v));
  for (const layer of layers) {
    const { inputs: IN, units: OUT } = layer;
    const out = new Float64Array(n * OUT);
    const alpha = layerAlpha(layer.spec);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < OUT; j++) {
        let z = layer.biases[j]!;
        for (let k = 0; k < IN; k++) z += layer.weights[j * IN + k]! * h[r * IN + k]!;
        out[r * OUT + j] = act(layer.spec.activation, z, layer.slopes ? layer.slopes[j]! : alpha);
      }
      if (layer.spec.activation === 'softmax') {
        const row = out.subarray(r * OUT, (r + 1) * OUT);
        const m = Math.max(...row);
        let s = 0;
        for (let j = 0; j < OUT; j++) s += (row[j] = Math.exp(row[j]! - m));
        for (let j = 0; j < OUT; j++) row[j]! /= s;
      }
    }
    h = out;
  }
  return h;
}

function act(name: LayerSpec['activation'], z: number, alpha: number): number {
  switch (name) {
    case 'identity': case 'softmax': return z;
    case 'step': return z >= 0 ? 1 : 0;
    case 'sign': return z >= 0 ? 1 : -1;
    case 'sigmoid': return 1 / (1 + Math.exp(-z));
    case 'tanh': return Math.tanh(z);
    case 'relu': return Math.max(0, z);
    case 'leaky_relu': case 'prelu': return z > 0 ? z : alpha * z;
    case 'elu': return z > 0 ? z : alpha * Math.expm1(z);
  }
}

/** Largest |a − b| / max(|b|, floor) over all entries. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), floor));
  return worst;
}
