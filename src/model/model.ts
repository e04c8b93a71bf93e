// A trained model: the spec, the parameters, and what is needed to use it on raw data —
// the input scaling fitted on the training split and the class names. It predicts
// in-process with the TypeScript kernel (bit-identical to the wasm one), and saves to a
// msgpackr file with a format version and a SHA-256 checksum.

import type { Dataset } from '../data/dataset.ts';
import type { Scaler } from '../data/scaling.ts';
import { ModelFileError, describe } from '../errors.ts';
import { readEnvelopeFile, writeEnvelopeFile } from '../io/envelope.ts';
import { jsKernel } from '../kernels/blocked.ts';
import { Arena } from '../nn/arena.ts';
import { allocateWorkspace, forwardRows, refreshAllTransposed, type Workspace } from '../nn/mlp.ts';
import { computeMetrics, outputsFromLogits, predictedClasses, type Metrics } from '../train/metrics.ts';
import { paramLayout, type ParamLayout } from './layout.ts';
import { ACTIVATIONS, LOSSES, type ModelSpec } from './spec.ts';

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
    return outputsFromLogits(this.spec, this.layout, this.params, this.logits(this.scaleInputs(x), n), n);
  }

  /** Predicted class ids for raw feature rows (classification models). */
  predictClasses(x: Float32Array, n: number): Int32Array {
    return predictedClasses(this.spec, this.predict(x, n), n);
  }

  /** Metrics on a raw (unscaled) dataset. */
  evaluate(ds: Dataset): Metrics {
    if (ds.features !== this.inputs) {
      throw new RangeError(`evaluate: the model takes ${this.inputs} features, the data has ${ds.features}`);
    }
    return computeMetrics(this.spec, this.layout, this.params, this.logits(this.scaleInputs(ds.x), ds.n), ds);
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
    const { version, payload } = readEnvelopeFile(path, 'model');
    if (version > MODEL_FORMAT_VERSION) {
      throw new ModelFileError(
        `${path}: model format version ${version} is newer than this threadtrain reads (${MODEL_FORMAT_VERSION})`,
        'upgrade threadtrain, or re-train the model with this version',
      );
    }
    return Model.fromPayload(payload, path);
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
