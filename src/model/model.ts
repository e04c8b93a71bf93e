// A trained model: the spec, the parameters, and what is needed to use it on raw data —
// the input scaling fitted on the training split and the class names. It predicts
// in-process with the TypeScript kernel (bit-identical to the wasm one), and saves to a
// msgpackr file with a format version and a SHA-256 checksum.

import { datasetProblem, nonFiniteValue, problemPath, type Dataset } from '../data/dataset.ts';
import type { Scaler } from '../data/scaling.ts';
import { ConfigError, DataError, ModelFileError, describe } from '../errors.ts';
import { readEnvelopeFile, writeEnvelopeFile } from '../io/envelope.ts';
import { jsKernel } from '../kernels/blocked.ts';
import { Arena } from '../nn/arena.ts';
import { allocateWorkspace, forwardRows, refreshAllTransposed, type Workspace } from '../nn/mlp.ts';
import { computeMetrics, outputsFromLogits, predictedClasses, type Metrics } from './metrics.ts';
import { paramLayout, view, type ParamLayout } from './layout.ts';
import { ACTIVATIONS, LOSSES, type LayerSpec, type LossName, type ModelSpec } from './spec.ts';

export const MODEL_FORMAT_VERSION = 1;

export interface ModelInfo {
  readonly spec: ModelSpec;
  /** Flat parameters in `paramLayout(spec)` order (padding included). */
  readonly params: Float32Array;
  readonly task: 'classification' | 'regression';
  readonly classNames?: readonly string[] | undefined;
  readonly featureNames?: readonly string[] | undefined;
  readonly scaler?: Scaler | undefined;
}

/**
 * One dense layer with its numbers in the open: `weights` is OUT rows of IN floats
 * (row-major, as the layer computes z = x·Wᵀ + b), `biases` OUT floats and, for prelu,
 * `slopes` OUT floats. Arrays returned by `model.layers()` are copies.
 */
export interface ModelLayer {
  readonly spec: LayerSpec;
  readonly inputs: number;
  readonly units: number;
  readonly weights: Float32Array;
  readonly biases: Float32Array;
  readonly slopes?: Float32Array | undefined;
}

/** Everything about a model besides its layers, for `Model.fromLayers`. */
export interface ModelAbout {
  readonly loss: LossName;
  readonly task: 'classification' | 'regression';
  readonly classNames?: readonly string[] | undefined;
  readonly featureNames?: readonly string[] | undefined;
  readonly scaler?: Scaler | undefined;
}

const PREDICT_BLOCK = 256;

export class Model implements ModelInfo {
  readonly spec: ModelSpec;
  readonly params: Float32Array;
  readonly layout: ParamLayout;
  readonly task: 'classification' | 'regression';
  readonly classNames: readonly string[] | undefined;
  readonly featureNames: readonly string[] | undefined;
  readonly scaler: Scaler | undefined;
  private ws: Workspace<Float32Array> | undefined;

  constructor(info: ModelInfo) {
    this.spec = info.spec;
    this.layout = paramLayout(info.spec);
    if (info.params.length !== this.layout.size) {
      throw new RangeError(`model parameters: expected ${this.layout.size} floats for this layer spec, found ${info.params.length}`);
    }
    this.params = info.params;
    this.task = info.task;
    this.classNames = info.classNames;
    this.featureNames = info.featureNames;
    this.scaler = info.scaler;
  }

  get inputs(): number {
    return this.spec.inputs;
  }

  get outputs(): number {
    return this.spec.layers[this.spec.layers.length - 1]!.units;
  }

  /** Classes a classification model tells apart: its class names, else its output units (2 for one unit). */
  get classes(): number {
    return this.classNames?.length ?? (this.outputs === 1 ? 2 : this.outputs);
  }

  /** Rows `x` checked before they reach the network: n × inputs numbers, each finite as float32 (a NaN row has no class). */
  private checkRows(what: string, x: Float32Array, n: number): void {
    const d = this.inputs;
    if (!Number.isInteger(n) || n < 0 || !(x instanceof Float32Array) || x.length !== n * d) {
      throw new DataError(
        `${what}: expected ${n} rows of ${d} features (${Number.isInteger(n) && n >= 0 ? n * d : '?'} numbers in a Float32Array), found ${x instanceof Float32Array ? `${x.length} numbers` : describe(x)}`,
        'x holds the rows one after another, each with the model\'s features in order',
      );
    }
    const names = this.featureNames;
    const bad = nonFiniteValue(x, d, (f) => `feature ${f}${names?.[f] !== undefined ? ` (${names[f]})` : ''}`);
    if (bad) throw new DataError(`${what}: x[${bad.index}], ${bad.message}`, 'fill in or drop rows with missing values: a row with NaN or Infinity has no prediction');
  }

  /** Apply the saved scaling to raw feature rows (n × inputs). */
  scaleInputs(x: Float32Array): Float32Array {
    const s = this.scaler;
    if (!s || s.method === 'none') return x;
    const d = this.inputs;
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = (x[i]! - s.offset[i % d]!) * s.scale[i % d]!;
    return out;
  }

  /** Output pre-activations for already-scaled rows. */
  logits(xScaled: Float32Array, n: number): Float32Array {
    const d = this.inputs;
    if (xScaled.length !== n * d) throw new RangeError(`predict: expected ${n} rows of ${d} features (${n * d} numbers), found ${xScaled.length}`);
    if (!this.ws) {
      this.ws = allocateWorkspace(new Arena(undefined), this.spec, this.layout, PREDICT_BLOCK, 'class') as Workspace<Float32Array>;
      this.ws.params.set(this.params);
      refreshAllTransposed(this.ws, jsKernel);
    }
    const ws = this.ws;
    const out = this.outputs;
    const L = this.spec.layers.length;
    const z = new Float32Array(n * out);
    for (let start = 0; start < n; start += PREDICT_BLOCK) {
      const rows = Math.min(PREDICT_BLOCK, n - start);
      ws.input.set(xScaled.subarray(start * d, (start + rows) * d));
      forwardRows(ws, jsKernel, 0, rows);
      z.set(ws.z[L - 1]!.subarray(0, rows * out), start * out);
    }
    return z;
  }

  /** Network outputs (after the output activation) for raw feature rows. */
  predict(x: Float32Array, n: number): Float32Array {
    this.checkRows('predict', x, n);
    return outputsFromLogits(this.spec, this.layout, this.params, this.logits(this.scaleInputs(x), n), n);
  }

  /** Predicted class ids for raw feature rows (classification models). */
  predictClasses(x: Float32Array, n: number): Int32Array {
    if (this.task !== 'classification') throw new ConfigError('predictClasses: this is a regression model, which has no classes', 'use predict(x, n) for its target values');
    return predictedClasses(this.spec, this.predict(x, n), n);
  }

  /** Metrics on a raw (unscaled) dataset. */
  evaluate(ds: Dataset): Metrics {
    const problem = datasetProblem(ds);
    if (problem) throw new DataError(`evaluate: data.${problemPath(problem.path)}: ${problem.message}`, problem.hint);
    if (ds.features !== this.inputs) {
      throw new DataError(`evaluate: data.features: expected the model's ${this.inputs} features, found ${ds.features}`, 'evaluate on data with the columns the model was trained on');
    }
    if (ds.task !== this.task) throw new DataError(`evaluate: data.task: expected ${this.task} data (the model's task), found ${ds.task}`, 'evaluate on data of the kind the model was trained on');
    if (ds.task === 'classification') {
      const r = ds.y.findIndex((c) => c >= this.classes);
      if (r >= 0) {
        throw new DataError(
          `evaluate: data.y[${r}]: expected a class id in 0..${this.classes - 1} (the model's ${this.classes} classes), found ${ds.y[r]}`,
          'the model can only be evaluated on the classes it was trained on',
        );
      }
    } else if (ds.targets !== this.outputs) {
      throw new DataError(`evaluate: data.targets: expected the model's ${this.outputs} targets, found ${ds.targets}`, 'evaluate on data with the targets the model was trained on');
    }
    return computeMetrics(this.spec, this.layout, this.params, this.logits(this.scaleInputs(ds.x), ds.n), ds);
  }

  /** Each layer's spec, weights (OUT×IN), biases and prelu slopes, as fresh Float32Arrays. */
  layers(): ModelLayer[] {
    return this.spec.layers.map((spec, l) => {
      const slots = this.layout.layers[l]!;
      return {
        spec, inputs: slots.inputs, units: slots.units,
        weights: view(this.params, slots.w).slice(),
        biases: view(this.params, slots.b).slice(),
        ...(slots.a ? { slopes: view(this.params, slots.a).slice() } : {}),
      };
    });
  }

  /**
   * A model from layers as `layers()` returns them (the arrays are copied into one flat
   * buffer, so `Model.fromLayers(m.layers(), about)` has the same bits as `m`). Shapes are
   * checked: each layer's inputs must be the previous layer's units, and every array must
   * hold exactly the numbers its shape asks for.
   */
  static fromLayers(layers: readonly ModelLayer[], about: ModelAbout): Model {
    const bad = (what: string, expected: string, found: string) =>
      new ConfigError(`Model.fromLayers: ${what} should be ${expected}, found ${found}`,
        'pass the layers as model.layers() returns them: weights OUT×IN row-major, biases and prelu slopes OUT long');
    if (layers.length === 0) throw bad('layers', 'at least one layer', 'none');
    if (!Number.isInteger(layers[0]!.inputs) || layers[0]!.inputs < 1) throw bad('layers[0].inputs', 'a positive integer', describe(layers[0]!.inputs));
    layers.forEach((layer, l) => {
      if (layer.units !== layer.spec.units) throw bad(`layers[${l}].units`, `spec.units (${layer.spec.units})`, String(layer.units));
      if (l > 0 && layer.inputs !== layers[l - 1]!.units) {
        throw bad(`layers[${l}].inputs`, `layer ${l - 1}'s units (${layers[l - 1]!.units})`, String(layer.inputs));
      }
      const want = (name: string, array: Float32Array | undefined, length: number) => {
        if (!(array instanceof Float32Array) || array.length !== length) {
          throw bad(`layers[${l}].${name}`, `a Float32Array of ${length} numbers`, array instanceof Float32Array ? `${array.length} numbers` : describe(array));
        }
      };
      want('weights', layer.weights, layer.units * layer.inputs);
      want('biases', layer.biases, layer.units);
      if (layer.spec.activation === 'prelu') want('slopes', layer.slopes, layer.units);
      else if (layer.slopes !== undefined) throw bad(`layers[${l}].slopes`, `absent for a ${layer.spec.activation} layer`, `${layer.slopes.length} numbers`);
    });
    const spec: ModelSpec = { inputs: layers[0]!.inputs, layers: layers.map((layer) => layer.spec), loss: about.loss };
    const layout = paramLayout(spec);
    const params = new Float32Array(layout.size);
    layers.forEach((layer, l) => {
      const slots = layout.layers[l]!;
      view(params, slots.w).set(layer.weights);
      view(params, slots.b).set(layer.biases);
      if (slots.a) view(params, slots.a).set(layer.slopes!);
    });
    return new Model({
      spec, params, task: about.task, classNames: about.classNames, featureNames: about.featureNames, scaler: about.scaler,
    });
  }

  toJSON(): object {
    return {
      spec: this.spec, task: this.task, classNames: this.classNames, featureNames: this.featureNames,
      scaler: this.scaler, params: this.params,
    };
  }

  save(path: string): void {
    writeEnvelopeFile(path, 'model', MODEL_FORMAT_VERSION, this.toJSON());
  }

  static load(path: string): Model {
    return Model.loadFile(path).model;
  }

  /** The model in a file and the format version the file was written in (for inspect). */
  static loadFile(path: string): { model: Model; formatVersion: number } {
    const { version, payload } = readEnvelopeFile(path, 'model');
    if (version > MODEL_FORMAT_VERSION) {
      throw new ModelFileError(
        `${path}: model format version ${version} is newer than this threadtrain reads (${MODEL_FORMAT_VERSION})`,
        'upgrade threadtrain, or re-train the model with this version',
      );
    }
    return { model: Model.fromPayload(payload, path), formatVersion: version };
  }

  static fromPayload(payload: unknown, file: string): Model {
    const p = payload as Partial<ModelInfo> & Record<string, unknown>;
    const bad = (field: string, expected: string, found: unknown) =>
      new ModelFileError(`${file}: field "${field}" should be ${expected}, found ${describe(found)}`, 'the file was not written by threadtrain, or by an incompatible version');
    if (!p || typeof p !== 'object') throw bad('(root)', 'an object', p);
    const spec = p.spec as ModelSpec | undefined;
    if (!spec || typeof spec.inputs !== 'number' || !Array.isArray(spec.layers) || spec.layers.length === 0) throw bad('spec', 'a layer spec', spec);
    if (!LOSSES.includes(spec.loss)) throw bad('spec.loss', `one of ${LOSSES.join(', ')}`, spec.loss);
    for (const layer of spec.layers) {
      if (!ACTIVATIONS.includes(layer.activation) || !(layer.units > 0)) throw bad('spec.layers', 'layers with units and a known activation', layer);
    }
    if (!(p.params instanceof Float32Array)) throw bad('params', 'a Float32Array', p.params);
    if (p.task !== 'classification' && p.task !== 'regression') throw bad('task', '"classification" or "regression"', p.task);
    try {
      return new Model({
        spec, params: p.params, task: p.task, classNames: p.classNames ?? undefined, featureNames: p.featureNames ?? undefined,
        scaler: p.scaler ?? undefined,
      });
    } catch (error) {
      throw new ModelFileError(`${file}: ${(error as Error).message}`, 'the file may be corrupt or from another version');
    }
  }
}
