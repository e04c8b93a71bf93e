// The options of a training run, as the library takes them: everything optional but
// the model and the data, resolved against one DEFAULTS object and validated once here,
// at the boundary. Messages name the field, echo the value received, and end in a hint.

import os from 'node:os';
import type { Dataset } from '../data/dataset.ts';
import type { ScalerMethod } from '../data/scaling.ts';
import { ConfigError, describe } from '../errors.ts';
import type { ExplicitLayerWeights } from '../model/init.ts';
import { ACTIVATIONS, INITIALIZERS, LOSSES, type LayerSpec, type LossName } from '../model/spec.ts';
import type { TrainingRule } from '../nn/loss.ts';
import type { CheckpointState } from './checkpoint.ts';
import { resolveOptimizer, type OptimizerConfig, type OptimizerOptions } from '../optim/optimizers.ts';
import { resolveSchedule, type Schedule, type ScheduleOptions } from '../optim/schedules.ts';

export interface ModelOptions {
  /** Hidden and output layers; the input width comes from the data. */
  readonly layers: readonly LayerSpec[];
  /** Default: cross_entropy for a softmax output, bce for one sigmoid unit, else mse. */
  readonly loss?: LossName;
  /** Explicit starting weights per layer (instead of the initializer). */
  readonly weights?: readonly (ExplicitLayerWeights | undefined)[];
}

export interface DataSplitsInput {
  readonly train: Dataset;
  readonly validation?: Dataset | undefined;
  readonly test?: Dataset | undefined;
}

export interface StopOptions {
  /** Stop once the epoch's training loss is below this. */
  readonly lossBelow?: number;
  /** Stop when the training loss has not improved by minDelta for this many epochs. */
  readonly patience?: number;
  readonly minDelta?: number;
}

export interface EarlyStoppingOptions {
  /** Epochs without a validation-loss improvement of at least minDelta before stopping. */
  readonly patience: number;
  readonly minDelta?: number;
  /** Put back the weights of the best validation epoch when stopping (default true). */
  readonly restoreBest?: boolean;
}

export interface TrainOptions {
  readonly model: ModelOptions;
  /** One dataset (split by `split` fractions) or explicit splits. */
  readonly data: Dataset | DataSplitsInput;
  readonly split?: { readonly validation?: number; readonly test?: number; readonly stratify?: boolean };
  readonly scale?: ScalerMethod;
  readonly epochs?: number;
  /** Rows per step; 'full' = the whole training split (batch gradient descent). */
  readonly batchSize?: number | 'full';
  readonly lr?: number;
  readonly shuffle?: boolean;
  readonly seed?: number;
  /** Worker threads; 1 runs in-process. Default: the number of cores. */
  readonly threads?: number;
  readonly kernel?: 'auto' | 'wasm' | 'js';
  readonly rule?: TrainingRule;
  readonly optimizer?: OptimizerOptions;
  readonly schedule?: ScheduleOptions;
  readonly stop?: StopOptions;
  readonly earlyStopping?: EarlyStoppingOptions;
  /** Write checkpoints to `path` every N epochs and/or steps, and at the end of the run. */
  readonly checkpoint?: CheckpointOptions;
  /** Continue from a checkpoint (a path, or one already read): bit for bit, with any thread count. */
  readonly resume?: string | CheckpointState;
}

export interface CheckpointOptions {
  readonly path: string;
  readonly everyEpochs?: number;
  readonly everySteps?: number;
}

export interface ResolvedTrainOptions {
  readonly epochs: number;
  readonly batchSize: number | 'full';
  readonly lr: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly threads: number;
  readonly kernel: 'auto' | 'wasm' | 'js';
  readonly rule: TrainingRule;
  readonly optimizer: OptimizerConfig;
  readonly schedule: Schedule;
  readonly stop: Required<StopOptions> | undefined;
  readonly earlyStopping: Required<EarlyStoppingOptions> | undefined;
  readonly scale: ScalerMethod;
  readonly split: { validation: number; test: number; stratify: boolean | undefined };
  readonly checkpoint: Required<CheckpointOptions> | undefined;
}

export const DEFAULTS = {
  epochs: 10,
  batchSize: 32,
  lr: 0.01,
  shuffle: true,
  seed: 1,
  kernel: 'auto',
  rule: 'backprop',
  scale: 'none',
} as const;

const hintOf = (h: string) => h;

function positiveInt(field: string, value: unknown, hint: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${field} must be a positive integer (got ${describe(value)})`, hintOf(hint));
  }
  return value;
}

function finiteNumber(field: string, value: unknown, hint: string, min = -Infinity, exclusiveMin = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (exclusiveMin && value === min)) {
    const range = min === -Infinity ? 'a finite number' : exclusiveMin ? `a number > ${min}` : `a number ≥ ${min}`;
    throw new ConfigError(`${field} must be ${range} (got ${describe(value)})`, hint);
  }
  return value;
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigError(`${field} must be one of ${allowed.join(', ')} (got ${describe(value)})`, `check the spelling of ${field}`);
  }
  return value as T;
}

export function resolveTrainOptions(o: TrainOptions): ResolvedTrainOptions {
  const epochs = positiveInt('epochs', o.epochs ?? DEFAULTS.epochs, 'give the number of passes over the training data, e.g. 10');
  const batch = o.batchSize ?? DEFAULTS.batchSize;
  const batchSize = batch === 'full' ? 'full' : positiveInt('batchSize', batch, 'use 1 for online SGD, e.g. 32 for mini-batches, or "full" for the whole set');
  const lr = finiteNumber('lr', o.lr ?? DEFAULTS.lr, 'a typical learning rate is 0.001–0.5', 0, true);
  const seed = o.seed ?? DEFAULTS.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ConfigError(`seed must be an integer in [0, 4294967295] (got ${describe(seed)})`, 'any whole number works, e.g. 1');
  }
  const cores = os.availableParallelism();
  const threads = positiveInt('threads', o.threads ?? cores, `this machine has ${cores} cores`);
  const kernel = oneOf('kernel', o.kernel ?? DEFAULTS.kernel, ['auto', 'wasm', 'js'] as const);
  const rule = oneOf('rule', o.rule ?? DEFAULTS.rule, ['backprop', 'perceptron', 'adaline'] as const);
  const scale = oneOf('scale', o.scale ?? DEFAULTS.scale, ['standard', 'minmax', 'none'] as const);
  if (typeof (o.shuffle ?? true) !== 'boolean') throw new ConfigError(`shuffle must be true or false (got ${describe(o.shuffle)})`, 'use false to keep the data order');
  let stop: Required<StopOptions> | undefined;
  if (o.stop) {
    stop = {
      lossBelow: o.stop.lossBelow === undefined ? -Infinity : finiteNumber('stop.lossBelow', o.stop.lossBelow, 'e.g. 0.01'),
      patience: o.stop.patience === undefined ? Infinity : positiveInt('stop.patience', o.stop.patience, 'epochs to wait for an improvement, e.g. 5'),
      minDelta: o.stop.minDelta === undefined ? 0 : finiteNumber('stop.minDelta', o.stop.minDelta, 'the smallest change that counts as an improvement, e.g. 1e-4', 0),
    };
  }
  let earlyStopping: Required<EarlyStoppingOptions> | undefined;
  if (o.earlyStopping) {
    earlyStopping = {
      patience: positiveInt('earlyStopping.patience', o.earlyStopping.patience, 'epochs to wait for a better validation loss, e.g. 5'),
      minDelta: o.earlyStopping.minDelta === undefined ? 0 : finiteNumber('earlyStopping.minDelta', o.earlyStopping.minDelta, 'e.g. 1e-4', 0),
      restoreBest: o.earlyStopping.restoreBest ?? true,
    };
  }
  const split = {
    validation: o.split?.validation === undefined ? 0 : finiteNumber('split.validation', o.split.validation, 'a fraction in [0, 1), e.g. 0.1', 0),
    test: o.split?.test === undefined ? 0 : finiteNumber('split.test', o.split.test, 'a fraction in [0, 1), e.g. 0.1', 0),
    stratify: o.split?.stratify,
  };
  let checkpoint: Required<CheckpointOptions> | undefined;
  if (o.checkpoint) {
    if (typeof o.checkpoint.path !== 'string' || o.checkpoint.path === '') {
      throw new ConfigError(`checkpoint.path must be a file path (got ${describe(o.checkpoint.path)})`, 'e.g. "runs/mnist.ckpt"');
    }
    checkpoint = {
      path: o.checkpoint.path,
      everyEpochs: o.checkpoint.everyEpochs === undefined ? 0 : positiveInt('checkpoint.everyEpochs', o.checkpoint.everyEpochs, 'e.g. 1 for every epoch'),
      everySteps: o.checkpoint.everySteps === undefined ? 0 : positiveInt('checkpoint.everySteps', o.checkpoint.everySteps, 'e.g. 500'),
    };
  }
  return {
    checkpoint,
    epochs, batchSize, lr, shuffle: o.shuffle ?? DEFAULTS.shuffle, seed, threads, kernel, rule,
    optimizer: resolveOptimizer(o.optimizer ?? {}, 'optimizer'),
    schedule: resolveSchedule(o.schedule, 'schedule'),
    stop, earlyStopping, scale, split,
  };
}

/** Check the layer list; `where` prefixes field names ("model.layers[1].units"). */
export function validateLayers(layers: unknown, where = 'model.layers'): readonly LayerSpec[] {
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new ConfigError(`${where} must be a non-empty list of layers (got ${describe(layers)})`, 'e.g. [{ "units": 16, "activation": "tanh" }, { "units": 2, "activation": "softmax" }]');
  }
  layers.forEach((layer: Partial<LayerSpec>, i) => {
    const at = `${where}[${i}]`;
    if (!layer || typeof layer !== 'object') throw new ConfigError(`${at} must be an object (got ${describe(layer)})`, 'each layer is { "units": N, "activation": "..." }');
    positiveInt(`${at}.units`, layer.units, 'the number of units in this layer, e.g. 16');
    oneOf(`${at}.activation`, layer.activation, ACTIVATIONS);
    if (layer.alpha !== undefined) finiteNumber(`${at}.alpha`, layer.alpha, 'leaky_relu slope or elu scale, e.g. 0.01');
    if (layer.init !== undefined) oneOf(`${at}.init`, layer.init, INITIALIZERS);
    if (layer.activation === 'softmax' && i !== layers.length - 1) {
      throw new ConfigError(`${at}.activation: softmax is only supported on the output layer (found on layer ${i} of ${layers.length})`, 'use relu or tanh for hidden layers');
    }
  });
  return layers as LayerSpec[];
}

export function resolveLoss(layers: readonly LayerSpec[], loss: unknown): LossName {
  const last = layers[layers.length - 1]!;
  const resolved: LossName =
    loss === undefined ? (last.activation === 'softmax' ? 'cross_entropy' : last.activation === 'sigmoid' && last.units === 1 ? 'bce' : 'mse') : oneOf('model.loss', loss, LOSSES);
  if (resolved === 'cross_entropy' && last.activation !== 'softmax') {
    throw new ConfigError(`model.loss "cross_entropy" needs a softmax output layer (the output layer is ${last.activation})`, 'set the last layer\'s activation to "softmax", or use loss "mse"');
  }
  if (resolved === 'bce' && last.activation !== 'sigmoid') {
    throw new ConfigError(`model.loss "bce" needs a sigmoid output layer (the output layer is ${last.activation})`, 'set the last layer\'s activation to "sigmoid"');
  }
  return resolved;
}
