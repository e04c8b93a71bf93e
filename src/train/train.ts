// train(): one training run from options to a trained model and its history. Prepares
// the data (split, scale — fitted on the training split only), lays out the model,
// initialises it from the seed, then drives the engine epoch by epoch: shuffling,
// learning-rate plateaus, validation, early stopping, and the final test metrics.
// The engine owns the threads; whatever happens, they are gone when train() settles.
//
// Random streams: initialisation draws from createRng(seed), shuffling from
// createRng(seed + 1), splits from seed + 2 — so changing the split does not change
// the initial weights.

import os from 'node:os';
import { outputWidth, type Dataset } from '../data/dataset.ts';
import { applyScaler, fitScaler, type Scaler } from '../data/scaling.ts';
import { splitDataset } from '../data/split.ts';
import { ConfigError, TrainingError } from '../errors.ts';
import { Engine } from '../engine/engine.ts';
import { cEpochCorrect, cEpochLossSum, cEpochRows, cLastLr, cPlateauScale, HALT_DIVERGED, HALT_STOP } from '../engine/control.ts';
import type { RunSettings } from '../engine/program.ts';
import { simdSupported } from '../kernels/select.ts';
import { initializeParams } from '../model/init.ts';
import { Model } from '../model/model.ts';
import type { ModelSpec } from '../model/spec.ts';
import { unitBlocks } from '../nn/mlp.ts';
import { createRng } from '../rng.ts';
import type { EpochRecord } from '../report/log.ts';
import { computeMetrics, type Metrics } from './metrics.ts';
import { stateBuffers } from './optimizers.ts';
import { resolveLoss, resolveTrainOptions, validateLayers, type DataSplitsInput, type ResolvedTrainOptions, type TrainOptions } from './options.ts';
import { initialPlateauState, plateauAfterEpoch } from './schedules.ts';

export interface TrainHooks {
  /** Called after every epoch with its record. */
  readonly onEpoch?: (record: EpochRecord) => void;
  /** Called about every 100 ms while an epoch runs: epoch (1-based), steps done in it, steps per epoch. */
  readonly onProgress?: (info: { epoch: number; step: number; stepsPerEpoch: number; samplesPerSec: number }) => void;
  /** Stop at the next step boundary when aborted (Ctrl-C, cancel); the model trained so far is returned. */
  readonly signal?: AbortSignal;
  /** Test-only: make worker `rank` throw at global step `step`. */
  readonly failAt?: { rank: number; step: number };
  /** Test-only: see the worker pool when one is made. */
  readonly onPool?: (pool: import('piscina').Piscina) => void;
}

export type StopReason = 'epochs' | 'loss_below' | 'no_improvement' | 'early_stopping' | 'interrupted';

export interface TrainResult {
  readonly model: Model;
  readonly history: EpochRecord[];
  readonly stopReason: StopReason;
  /** Epoch (1-based) whose weights the model holds when the best ones were restored. */
  readonly bestEpoch?: number;
  readonly validation?: Metrics;
  readonly test?: Metrics;
  readonly options: ResolvedTrainOptions;
  readonly threads: number;
  readonly kernel: 'wasm' | 'js';
  readonly warnings: string[];
}

interface PreparedData {
  readonly train: Dataset;
  readonly validation: Dataset | undefined;
  readonly test: Dataset | undefined;
  readonly scaler: Scaler | undefined;
}

function isSplits(data: Dataset | DataSplitsInput): data is DataSplitsInput {
  return (data as DataSplitsInput).train !== undefined;
}

function prepareData(data: Dataset | DataSplitsInput, opts: ResolvedTrainOptions): PreparedData {
  let splits: DataSplitsInput;
  if (isSplits(data)) {
    splits = data;
  } else if (opts.split.validation > 0 || opts.split.test > 0) {
    const s = splitDataset(data, { validation: opts.split.validation, test: opts.split.test, seed: opts.seed + 2, ...(opts.split.stratify === undefined ? {} : { stratify: opts.split.stratify }) });
    splits = { train: s.train, validation: s.validation, test: s.test };
  } else {
    splits = { train: data };
  }
  if (splits.train.n === 0) throw new ConfigError('the training split is empty', 'give more data or smaller validation/test fractions');
  for (const [name, ds] of [['validation', splits.validation], ['test', splits.test]] as const) {
    if (ds && ds.features !== splits.train.features) {
      throw new ConfigError(`the ${name} data has ${ds.features} features, the training data ${splits.train.features}`, 'all splits must have the same columns');
    }
  }
  if (opts.scale === 'none') return { train: splits.train, validation: splits.validation, test: splits.test, scaler: undefined };
  const scaler = fitScaler(opts.scale, splits.train);
  const scale = (ds: Dataset | undefined) => (ds ? applyScaler(scaler, ds) : undefined);
  return { train: applyScaler(scaler, splits.train), validation: scale(splits.validation), test: scale(splits.test), scaler };
}

function buildSpec(options: TrainOptions, train: Dataset): ModelSpec {
  const layers = validateLayers(options.model?.layers);
  const loss = resolveLoss(layers, options.model.loss);
  const spec: ModelSpec = { inputs: train.features, layers, loss };
  const out = layers[layers.length - 1]!.units;
  const want = outputWidth(train);
  const binaryOk = train.task === 'classification' && train.classes <= 2 && out === 1;
  if (out !== want && !binaryOk) {
    const what = train.task === 'classification' ? `${train.classes} classes` : `${want} target value(s) per row`;
    throw new ConfigError(
      `model.layers[${layers.length - 1}].units: the output layer has ${out} units but the data has ${what}`,
      train.task === 'classification' ? `use ${want} output units (or 1 sigmoid unit for two classes)` : `use ${want} output units`,
    );
  }
  if (train.task === 'regression' && loss !== 'mse') {
    throw new ConfigError(`model.loss "${loss}" is for classification, but the data is a regression task`, 'use loss "mse"');
  }
  return spec;
}

function copyDataset(target: { x: Float32Array; y: Int32Array | Float32Array }, ds: Dataset): void {
  target.x.set(ds.x);
  target.y.set(ds.y as never);
}

function layerGradNorms(engine: Engine): number[] {
  const blocks = unitBlocks(engine.views.layout);
  const norms = new Array<number>(engine.views.layout.layers.length).fill(0);
  blocks.forEach((b, i) => (norms[b.layer]! += engine.views.normCells[i]!));
  return norms.map(Math.sqrt);
}

export async function train(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const opts = resolveTrainOptions(options);
  const warnings: string[] = [];
  const data = prepareData(options.data, opts);
  const spec = buildSpec(options, data.train);
  if (opts.rule !== 'backprop' && spec.layers.length !== 1) {
    throw new ConfigError(`rule "${opts.rule}" trains single-layer nets, but the model has ${spec.layers.length} layers`, 'use one layer, or rule "backprop"');
  }
  const cores = os.availableParallelism();
  if (opts.threads > cores) warnings.push(`threads ${opts.threads} is more than this machine's ${cores} cores: threads will wait on each other at every barrier`);
  const kernel = opts.kernel === 'auto' ? (simdSupported() ? 'wasm' : 'js') : opts.kernel;
  const batchSize = opts.batchSize === 'full' ? data.train.n : Math.min(opts.batchSize, data.train.n);
  const stepsPerEpoch = Math.ceil(data.train.n / batchSize);
  const settings: RunSettings = {
    batchSize, trainRows: data.train.n, stepsPerEpoch, totalSteps: stepsPerEpoch * opts.epochs, baseLr: opts.lr,
    optimizer: opts.optimizer, schedule: opts.schedule, normEvery: 0, failAt: hooks.failAt,
  };
  const engine = await Engine.create({
    plan: {
      spec, rule: opts.rule, targetKind: data.train.task === 'classification' ? 'class' : 'vector',
      maxRows: Math.max(batchSize, 256), optimizerBuffers: stateBuffers(opts.optimizer),
      splitRows: [data.train.n, data.validation?.n ?? 0, data.test?.n ?? 0],
    },
    settings, threads: opts.threads, kernel, onPool: hooks.onPool,
  });
  const stopOnSignal = () => engine.requestStop();
  hooks.signal?.addEventListener('abort', stopOnSignal);
  try {
    const { views } = engine;
    copyDataset(views.splits[0], data.train);
    if (data.validation) copyDataset(views.splits[1], data.validation);
    if (data.test) copyDataset(views.splits[2], data.test);
    initializeParams(spec, views.layout, views.ws.params, createRng(opts.seed), options.model.weights);
    engine.syncParams();
    const shuffleRng = createRng(opts.seed + 1);
    const snapshot = () => new Model({ spec, params: views.ws.params.slice(), task: data.train.task, classNames: data.train.task === 'classification' ? data.train.classNames : undefined, featureNames: data.train.featureNames, scaler: data.scaler });
    const evaluate = async (split: 1 | 2, ds: Dataset): Promise<Metrics> => {
      await engine.evaluate(split);
      return computeMetrics(spec, views.layout, views.ws.params, views.evalOut.subarray(0, ds.n * spec.layers[spec.layers.length - 1]!.units), ds);
    };

    const history: EpochRecord[] = [];
    let plateau = initialPlateauState();
    let stopReason: StopReason = 'epochs';
    let best = { loss: Infinity, epoch: 0, params: undefined as Float32Array | undefined };
    let trainBest = { loss: Infinity, epoch: 0 };
    let validation: Metrics | undefined;
    const started = performance.now();
    if (hooks.signal?.aborted) engine.requestStop();

    for (let epoch = 0; epoch < opts.epochs && !engine.stopRequested; epoch++) {
      for (let i = 0; i < data.train.n; i++) views.perm[i] = i;
      if (opts.shuffle) shuffleRng.shuffle(views.perm);
      engine.resetEpochTotals();
      views.cells[cPlateauScale] = plateau.scale;
      const epochStart = performance.now();
      const timer = hooks.onProgress
        ? setInterval(() => {
            const step = engine.progressStep;
            const secs = (performance.now() - epochStart) / 1000;
            hooks.onProgress!({ epoch: epoch + 1, step, stepsPerEpoch, samplesPerSec: secs > 0 ? Math.min(step * batchSize, data.train.n) / secs : 0 });
          }, 100)
        : undefined;
      let result;
      try {
        result = await engine.train(epoch, 0, stepsPerEpoch);
      } finally {
        if (timer) clearInterval(timer);
      }
      const seconds = (performance.now() - epochStart) / 1000;
      if (result.halt === HALT_DIVERGED) {
        throw new TrainingError(
          `training diverged at step ${result.haltStep} (epoch ${epoch + 1}): the loss became ${views.cells[7]}`,
          `lower the learning rate (now ${opts.lr}), or clip gradients with optimizer.clipNorm`,
          result.haltStep,
        );
      }
      const rows = views.cells[cEpochRows]!;
      const record: EpochRecord = {
        type: 'epoch', epoch: epoch + 1, step: epoch * stepsPerEpoch + result.steps,
        loss: views.cells[cEpochLossSum]! / rows, lr: views.cells[cLastLr]!, samplesPerSec: rows / seconds,
        time: (performance.now() - started) / 1000,
      };
      if (data.train.task === 'classification') record.accuracy = views.cells[cEpochCorrect]! / rows;
      if (result.halt === HALT_STOP) {
        stopReason = 'interrupted';
        history.push(record);
        hooks.onEpoch?.(record);
        break;
      }
      record.gradNorms = layerGradNorms(engine);
      if (!views.ws.params.every(Number.isFinite)) {
        throw new TrainingError(`training diverged in epoch ${epoch + 1}: a weight became NaN or infinite`, `lower the learning rate (now ${opts.lr})`, record.step);
      }
      if (data.validation) {
        validation = await evaluate(1, data.validation);
        record.valLoss = validation.loss;
        if (validation.accuracy !== undefined) record.valAccuracy = validation.accuracy;
      }
      history.push(record);
      hooks.onEpoch?.(record);

      plateau = plateauAfterEpoch(opts.schedule, plateau, record.valLoss ?? record.loss);
      if (opts.earlyStopping && record.valLoss !== undefined) {
        if (record.valLoss < best.loss - opts.earlyStopping.minDelta) {
          best = { loss: record.valLoss, epoch: epoch + 1, params: opts.earlyStopping.restoreBest ? views.ws.params.slice() : undefined };
        } else if (epoch + 1 - best.epoch >= opts.earlyStopping.patience) {
          stopReason = 'early_stopping';
          break;
        }
      }
      if (opts.stop) {
        if (record.loss < opts.stop.lossBelow) {
          stopReason = 'loss_below';
          break;
        }
        if (record.loss < trainBest.loss - opts.stop.minDelta) trainBest = { loss: record.loss, epoch: epoch + 1 };
        else if (epoch + 1 - trainBest.epoch >= opts.stop.patience) {
          stopReason = 'no_improvement';
          break;
        }
      }
    }
    if (engine.stopRequested && stopReason === 'epochs') stopReason = 'interrupted';

    let bestEpoch: number | undefined;
    if (best.params && stopReason !== 'interrupted' && best.epoch !== history.length) {
      views.ws.params.set(best.params);
      engine.syncParams();
      bestEpoch = best.epoch;
      if (data.validation) validation = await evaluate(1, data.validation);
    }
    const test = data.test && stopReason !== 'interrupted' ? await evaluate(2, data.test) : undefined;
    return {
      model: snapshot(), history, stopReason, ...(bestEpoch ? { bestEpoch } : {}), ...(validation ? { validation } : {}),
      ...(test ? { test } : {}), options: opts, threads: opts.threads, kernel, warnings,
    };
  } finally {
    hooks.signal?.removeEventListener('abort', stopOnSignal);
    await engine.close();
  }
}
