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
import { splitForRun } from '../data/split.ts';
import { ConfigError, TrainingError } from '../errors.ts';
import { Engine } from '../engine/engine.ts';
import { cDivergedLoss, cEpochCorrect, cEpochLossSum, cEpochRows, cLastLoss, cLastLr, cPlateauScale, HALT_DIVERGED } from '../engine/control.ts';
import { unitBlocks } from '../engine/partition.ts';
import type { PlanInput } from '../engine/plan.ts';
import type { RunSettings } from '../engine/program.ts';
import { simdSupported } from '../kernels/select.ts';
import { initializeParams } from '../model/init.ts';
import { Model } from '../model/model.ts';
import type { ModelSpec } from '../model/spec.ts';
import { createRng } from '../rng.ts';
import type { EpochRecord, StepRecord } from '../report/log.ts';
import { checkResumable, dataFingerprint, readCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.ts';
import { computeMetrics, type Metrics } from '../model/metrics.ts';
import { stateBuffers } from '../optim/optimizers.ts';
import type { DataSplitsInput, ResolvedTrainOptions, RunOptions } from '../options/schema.ts';
import { initialPlateauState, plateauAfterEpoch } from '../optim/schedules.ts';

export interface TrainHooks {
  /** Called after every epoch with its record. */
  readonly onEpoch?: (record: EpochRecord) => void;
  /** Called about every 100 ms while an epoch runs: epoch (1-based), steps done in it, steps per epoch, the epoch's running mean loss. */
  readonly onProgress?: (info: { epoch: number; step: number; stepsPerEpoch: number; samplesPerSec: number; loss: number }) => void;
  /** Stop at the next step boundary when aborted (Ctrl-C, cancel); the model trained so far is returned. */
  readonly signal?: AbortSignal;
  /** Called every `stepLogEvery` updates with the last batch's loss and the layers' gradient norms. */
  readonly onStep?: (record: StepRecord) => void;
  readonly stepLogEvery?: number;
  /** Called after each checkpoint is written. */
  readonly onCheckpoint?: (info: { path: string; epoch: number; step: number }) => void;
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
  /** Where training ended: completed epochs, and steps into the next when interrupted mid-epoch. */
  readonly position: { readonly epoch: number; readonly step: number };
  readonly threads: number;
  readonly kernel: 'wasm' | 'js';
  readonly warnings: string[];
}

export interface PreparedData {
  readonly train: Dataset;
  readonly validation: Dataset | undefined;
  readonly test: Dataset | undefined;
  readonly scaler: Scaler | undefined;
}

function isSplits(data: Dataset | DataSplitsInput): data is DataSplitsInput {
  return (data as DataSplitsInput).train !== undefined;
}

/** The run's splits (held out as `opts.split` says) and their scaling, fitted on the training split. */
export function prepareData(data: Dataset | DataSplitsInput, opts: ResolvedTrainOptions): PreparedData {
  let splits: DataSplitsInput;
  if (isSplits(data)) {
    splits = data;
  } else if (opts.split.validation > 0 || opts.split.test > 0) {
    const s = splitForRun(data, opts.split, opts.seed);
    splits = { train: s.train, validation: s.validation, test: s.test };
  } else {
    splits = { train: data };
  }
  if (splits.train.n === 0) throw new ConfigError('data.train: expected at least one training row, found none', 'give more data or smaller validation/test fractions');
  for (const [name, ds] of [['validation', splits.validation], ['test', splits.test]] as const) {
    if (ds && ds.features !== splits.train.features) {
      throw new ConfigError(`data.${name}: expected ${splits.train.features} features (as the training data), found ${ds.features}`, 'all splits must have the same columns');
    }
  }
  if (opts.scale === 'none') return { train: splits.train, validation: splits.validation, test: splits.test, scaler: undefined };
  const scaler = fitScaler(opts.scale, splits.train);
  const scale = (ds: Dataset | undefined) => (ds ? applyScaler(scaler, ds) : undefined);
  return { train: applyScaler(scaler, splits.train), validation: scale(splits.validation), test: scale(splits.test), scaler };
}

/** The model for this data; the options were checked at the edge, so only their fit to the data is left. */
function buildSpec(model: RunOptions['model'], train: Dataset): ModelSpec {
  const { layers, loss } = model;
  const spec: ModelSpec = { inputs: train.features, layers, loss };
  const out = layers[layers.length - 1]!.units;
  const want = outputWidth(train);
  const binaryOk = train.task === 'classification' && train.classes <= 2 && out === 1;
  if (out !== want && !binaryOk) {
    const what = train.task === 'classification' ? `${train.classes} classes` : `${want} target value(s) per row`;
    throw new ConfigError(
      `model.layers[${layers.length - 1}].units: expected ${want} output units for data with ${what}, found ${out}`,
      train.task === 'classification' ? `use ${want} output units (or 1 sigmoid unit for two classes)` : `use ${want} output units`,
    );
  }
  if (train.task === 'regression' && loss !== 'mse') {
    throw new ConfigError(`model.loss: expected "mse" for a regression task, found "${loss}" (a classification loss)`, 'use loss "mse"');
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

/**
 * The number of worker threads a run asks for: itself, or for "auto" the number of cores.
 * The one place "auto" is decided (a planner that weighs the model's size can replace it).
 */
export function resolveThreadCount(threads: number | 'auto'): number {
  return threads === 'auto' ? os.availableParallelism() : threads;
}

/** What a run is decided to be before its engine starts: the model, threads, kernel, batch, and the shared memory it will allocate. */
export interface RunPlan {
  readonly spec: ModelSpec;
  readonly threads: number;
  readonly kernel: 'wasm' | 'js';
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  /** The engine's memory plan (engine/plan.ts lays it out and allocates it). */
  readonly memory: PlanInput;
  readonly warnings: string[];
}

/** The plan of a run on prepared data; inspect shows it without running anything. */
export function planRun(model: RunOptions['model'], opts: ResolvedTrainOptions, data: PreparedData): RunPlan {
  const warnings: string[] = [];
  const spec = buildSpec(model, data.train);
  const threads = resolveThreadCount(opts.threads);
  if (opts.rule !== 'backprop' && spec.layers.length !== 1) {
    throw new ConfigError(`model.layers: expected one layer for rule "${opts.rule}" (it trains single-layer nets), found ${spec.layers.length}`, 'use one layer, or rule "backprop"');
  }
  const cores = os.availableParallelism();
  if (threads > cores) warnings.push(`threads ${threads} is more than this machine's ${cores} cores: threads will wait on each other at every barrier`);
  const kernel = opts.kernel === 'auto' ? (simdSupported() ? 'wasm' : 'js') : opts.kernel;
  const batchSize = opts.batchSize === 'full' ? data.train.n : Math.min(opts.batchSize, data.train.n);
  const stepsPerEpoch = Math.ceil(data.train.n / batchSize);
  const memory: PlanInput = {
    spec, rule: opts.rule, targetKind: data.train.task === 'classification' ? 'class' : 'vector',
    maxRows: Math.max(batchSize, 256), optimizerBuffers: stateBuffers(opts.optimizer),
    splitRows: [data.train.n, data.validation?.n ?? 0, data.test?.n ?? 0],
  };
  return { spec, threads, kernel, batchSize, stepsPerEpoch, memory, warnings };
}

/**
 * One training run from resolved options (parsed at the edge: api.ts for train(), the CLI
 * for configs and flags). Nothing here checks an option again.
 */
export async function runTraining(options: RunOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const { data: input, model, resume: resumeFrom, ...opts } = options;
  const data = prepareData(input, opts);
  const plan = planRun(model, opts, data);
  const { spec, threads, kernel, batchSize, stepsPerEpoch } = plan;
  const warnings = [...plan.warnings];
  const stepLogEvery = hooks.onStep ? Math.max(1, Math.floor(hooks.stepLogEvery ?? stepsPerEpoch)) : 0;

  // What must match for a bit-for-bit resume: everything but epochs, threads and kernel.
  const settingsKey = JSON.stringify({
    batchSize, lr: opts.lr, shuffle: opts.shuffle, seed: opts.seed, rule: opts.rule, optimizer: opts.optimizer, schedule: opts.schedule,
    stop: opts.stop ?? null, earlyStopping: opts.earlyStopping ?? null, scale: opts.scale, split: opts.split,
  });
  const resumePath = typeof resumeFrom === 'string' ? resumeFrom : '(checkpoint)';
  const resume = resumeFrom === undefined ? undefined : typeof resumeFrom === 'string' ? readCheckpoint(resumeFrom) : resumeFrom;
  const dataHash = resume || opts.checkpoint ? dataFingerprint(data.train) : '';
  if (resume) checkResumable(resumePath, resume, spec, settingsKey, dataHash);

  const settings: RunSettings = {
    batchSize, trainRows: data.train.n, stepsPerEpoch, totalSteps: stepsPerEpoch * opts.epochs, baseLr: opts.lr,
    optimizer: opts.optimizer, schedule: opts.schedule, normEvery: stepLogEvery, failAt: hooks.failAt,
  };
  const engine = await Engine.create({ plan: plan.memory, settings, threads, kernel, onPool: hooks.onPool });
  const stopOnSignal = () => engine.requestStop();
  hooks.signal?.addEventListener('abort', stopOnSignal);
  try {
    const { views } = engine;
    copyDataset(views.splits[0], data.train);
    if (data.validation) copyDataset(views.splits[1], data.validation);
    if (data.test) copyDataset(views.splits[2], data.test);
    const shuffleRng = createRng(opts.seed + 1);
    let plateau = initialPlateauState();
    let best = { loss: Infinity, epoch: 0, params: null as Float32Array | null };
    let trainBest = { loss: Infinity, epoch: 0 };
    let history: EpochRecord[] = [];
    let startEpoch = 0;
    let startStep = 0;
    if (resume) {
      views.ws.params.set(resume.params);
      resume.optState.forEach((s, i) => views.optState[i]!.set(s));
      shuffleRng.setState(resume.rngState);
      plateau = { ...resume.plateau };
      best = { ...resume.best };
      trainBest = { ...resume.trainBest };
      history = resume.history.slice();
      startEpoch = resume.epoch;
      startStep = resume.step;
    } else {
      initializeParams(spec, views.layout, views.ws.params, createRng(opts.seed), model.weights);
    }
    engine.syncParams();

    const outUnits = spec.layers[spec.layers.length - 1]!.units;
    const snapshot = () => new Model({ spec, params: views.ws.params.slice(), task: data.train.task, classNames: data.train.task === 'classification' ? data.train.classNames : undefined, featureNames: data.train.featureNames, scaler: data.scaler });
    const evaluate = async (split: 1 | 2, ds: Dataset): Promise<Metrics> => {
      await engine.evaluate(split);
      return computeMetrics(spec, views.layout, views.ws.params, views.evalOut.subarray(0, ds.n * outUnits), ds);
    };
    let lastCheckpoint = '';
    const checkpoint = (epoch: number, step: number) => {
      if (!opts.checkpoint || lastCheckpoint === `${epoch}:${step}`) return;
      const state: CheckpointState = {
        spec, settings: settingsKey, dataHash, params: views.ws.params.slice(), optState: views.optState.map((s) => s.slice()),
        epoch, step, perm: views.perm.slice(), rngState: shuffleRng.getState(),
        totals: Float64Array.of(views.cells[cEpochLossSum]!, views.cells[cEpochCorrect]!, views.cells[cEpochRows]!),
        plateau, best, trainBest, history, task: data.train.task,
        classNames: data.train.task === 'classification' ? data.train.classNames : null, scaler: data.scaler ?? null,
      };
      writeCheckpoint(opts.checkpoint.path, state);
      lastCheckpoint = `${epoch}:${step}`;
      hooks.onCheckpoint?.({ path: opts.checkpoint.path, epoch, step });
    };

    let stopReason: StopReason = 'epochs';
    let validation: Metrics | undefined;
    let position = { epoch: startEpoch, step: startStep };
    const started = performance.now();
    if (hooks.signal?.aborted) engine.requestStop();

    for (let epoch = startEpoch; epoch < opts.epochs; epoch++) {
      const resuming = resume !== undefined && epoch === startEpoch && startStep > 0;
      if (resuming) {
        views.perm.set(resume.perm);
        views.cells[cEpochLossSum] = resume.totals[0]!;
        views.cells[cEpochCorrect] = resume.totals[1]!;
        views.cells[cEpochRows] = resume.totals[2]!;
      } else {
        for (let i = 0; i < data.train.n; i++) views.perm[i] = i;
        if (opts.shuffle) shuffleRng.shuffle(views.perm);
        engine.resetEpochTotals();
      }
      views.cells[cPlateauScale] = plateau.scale;
      const epochStart = performance.now();
      const firstStep = resuming ? startStep : 0;
      const timer = hooks.onProgress
        ? setInterval(() => {
            const step = engine.progressStep;
            const secs = (performance.now() - epochStart) / 1000;
            const rows = views.cells[cEpochRows]!;
            hooks.onProgress!({
              epoch: epoch + 1, step, stepsPerEpoch, samplesPerSec: secs > 0 ? Math.min((step - firstStep) * batchSize, data.train.n) / secs : 0,
              loss: rows > 0 ? views.cells[cEpochLossSum]! / rows : NaN,
            });
          }, 100)
        : undefined;
      let step = firstStep;
      let interrupted = false;
      try {
        // Run the epoch in chunks that end where a step record or a checkpoint is due.
        while (step < stepsPerEpoch) {
          if (engine.stopRequested) {
            interrupted = true;
            break;
          }
          const global = epoch * stepsPerEpoch + step;
          let end = stepsPerEpoch;
          for (const every of [stepLogEvery, opts.checkpoint?.everySteps ?? 0]) {
            if (every > 0) end = Math.min(end, (Math.floor(global / every) + 1) * every - epoch * stepsPerEpoch);
          }
          const chunkStart = performance.now();
          const result = await engine.train(epoch, step, end);
          step += result.steps;
          if (result.halt === HALT_DIVERGED) {
            throw new TrainingError(
              `training diverged at step ${result.haltStep} (epoch ${epoch + 1}): the loss became ${views.cells[cDivergedLoss]}`,
              `lower the learning rate (now ${opts.lr}), or clip gradients with optimizer.clipNorm`,
              result.haltStep,
            );
          }
          const done = epoch * stepsPerEpoch + step;
          if (stepLogEvery > 0 && done % stepLogEvery === 0 && step === end) {
            const secs = (performance.now() - chunkStart) / 1000;
            hooks.onStep?.({
              type: 'step', epoch: epoch + 1, step: done, loss: views.cells[cLastLoss]!, lr: views.cells[cLastLr]!,
              samplesPerSec: secs > 0 ? (result.steps * batchSize) / secs : 0, gradNorms: layerGradNorms(engine),
              time: (performance.now() - started) / 1000,
            });
          }
          if (step < stepsPerEpoch && step === end && opts.checkpoint && opts.checkpoint.everySteps > 0 && done % opts.checkpoint.everySteps === 0) {
            checkpoint(epoch, step);
          }
          if (step < end) interrupted = true;
          if (interrupted) break;
        }
      } finally {
        if (timer) clearInterval(timer);
      }
      position = { epoch, step };
      if (interrupted && step < stepsPerEpoch) {
        stopReason = 'interrupted';
        break;
      }
      position = { epoch: epoch + 1, step: 0 };
      const seconds = (performance.now() - epochStart) / 1000;
      const rows = views.cells[cEpochRows]!;
      const record: EpochRecord = {
        type: 'epoch', epoch: epoch + 1, step: (epoch + 1) * stepsPerEpoch,
        loss: views.cells[cEpochLossSum]! / rows, lr: views.cells[cLastLr]!,
        samplesPerSec: (Math.min(stepsPerEpoch * batchSize, data.train.n) - Math.min(firstStep * batchSize, data.train.n)) / seconds,
        gradNorms: layerGradNorms(engine), time: (performance.now() - started) / 1000,
      };
      if (data.train.task === 'classification') record.accuracy = views.cells[cEpochCorrect]! / rows;
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
      let stopNow = false;
      if (opts.earlyStopping && record.valLoss !== undefined) {
        if (record.valLoss < best.loss - opts.earlyStopping.minDelta) {
          best = { loss: record.valLoss, epoch: epoch + 1, params: opts.earlyStopping.restoreBest ? views.ws.params.slice() : null };
        } else if (epoch + 1 - best.epoch >= opts.earlyStopping.patience) {
          stopReason = 'early_stopping';
          stopNow = true;
        }
      }
      if (opts.stop && !stopNow) {
        if (record.loss < opts.stop.lossBelow) {
          stopReason = 'loss_below';
          stopNow = true;
        } else if (record.loss < trainBest.loss - opts.stop.minDelta) trainBest = { loss: record.loss, epoch: epoch + 1 };
        else if (epoch + 1 - trainBest.epoch >= opts.stop.patience) {
          stopReason = 'no_improvement';
          stopNow = true;
        }
      }
      if (opts.checkpoint && opts.checkpoint.everyEpochs > 0 && (epoch + 1) % opts.checkpoint.everyEpochs === 0) checkpoint(epoch + 1, 0);
      if (stopNow) break;
      if (engine.stopRequested) {
        stopReason = 'interrupted';
        break;
      }
    }
    checkpoint(position.epoch, position.step);

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
      ...(test ? { test } : {}), options: opts, threads, kernel, warnings, position,
    };
  } finally {
    hooks.signal?.removeEventListener('abort', stopOnSignal);
    await engine.close();
  }
}
