// runTraining() (train() in api.ts, once the options are parsed): one training run from
// options to a trained model and its history, in named steps that benchmarks call too:
// prepareData (split, scale — fitted on the training split only), planRun (the model spec,
// thread count, kernel, batch, the engine's memory plan), startEngine (shared memory filled
// with the data and the initial or resumed weights), runEpochs (shuffling, learning-rate
// plateaus, validation, checkpoints, with the stop rules checked after each epoch),
// finishRun (best weights back, test metrics).
// The engine owns the threads; whatever happens, they are gone when runTraining() settles.
// A checkpoint that cannot be written (a full disk, its folder gone) stops the run at that
// point, as a log that cannot be written stops the CLI's: the state goes to a recovery file
// (io/output_path.ts recoveryPaths) and train() rejects with a CheckpointWriteError that
// carries the model trained so far, so neither the model nor the progress is lost. Going on
// without checkpoints would leave a long run unprotected without the user deciding so.
//
// Random streams: initialisation draws from createRng(seed), shuffling from
// createRng(seed + 1), splits from seed + 2 — so changing the split does not change
// the initial weights.

import os from 'node:os';
import path from 'node:path';
import { outputWidth, type Dataset } from '../data/dataset.ts';
import { applyScaler, fitScaler, type Scaler } from '../data/scaling.ts';
import { splitForRun } from '../data/split.ts';
import { ConfigError, DataError, OutputError, TrainingError, describe, firstLine } from '../errors.ts';
import { recoveryPaths, writeFirstWorking } from '../io/output_path.ts';
import { checkMemory, MEMORY_LIMIT_ENV, memoryBudget, shortBytes, UNIT_BLOCK_BYTES, WORKER_THREAD_BYTES } from '../limits.ts';
import { paramLayout } from '../model/layout.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import { cDivergedLoss, cEpochCorrect, cEpochLossSum, cEpochRows, cLastLoss, cLastLr, cPlateauScale, HALT_DIVERGED } from '../engine/control.ts';
import { unitBlockCount, unitBlocks } from '../engine/partition.ts';
import { planThreads, stepWork, type ThreadPlan } from '../engine/threads.ts';
import { sharedMemorySize, type PlanInput } from '../engine/plan.ts';
import type { RunSettings } from '../engine/program.ts';
import { simdSupported, type RunKernel } from '../kernels/select.ts';
import { initializeParams } from '../model/init.ts';
import { computeMetrics, type Metrics } from '../model/metrics.ts';
import { Model } from '../model/model.ts';
import type { ModelSpec } from '../model/spec.ts';
import { createRng, type Rng } from '../rng.ts';
import type { EpochRecord, StepRecord } from '../report/log.ts';
import { checkResumable, dataFingerprint, readCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.ts';
import { stateBuffers } from '../optim/optimizers.ts';
import { initialPlateauState, plateauAfterEpoch, type PlateauState } from '../optim/schedules.ts';
import type { DataSplitsInput, ResolvedTrainOptions, RunOptions } from '../options/schema.ts';

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
  /** Called with each warning as soon as the plan makes it, before the first step (the result lists them too). */
  readonly onWarning?: (message: string) => void;
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
  /** Why this many threads, in one line the CLI can print. */
  readonly threadPlan: ThreadPlan;
  readonly kernel: RunKernel;
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
  if (train.task === 'classification' && train.classes < 2) {
    // One class leaves nothing to tell apart: a 1-unit "binary" model of it trains to loss 0
    // and predicts a class that does not exist, so no output width is suggested here.
    throw new DataError(
      `data: expected at least 2 classes for classification, found ${train.classes}${train.classNames[0] !== undefined ? ` (every row is ${describe(train.classNames[0])})` : ''}`,
      'a classifier needs rows of two or more classes; for a numeric label column use task "regression"',
    );
  }
  const want = outputWidth(train);
  const binaryOk = train.task === 'classification' && train.classes === 2 && out === 1;
  if (out !== want && !binaryOk) {
    const what = train.task === 'classification' ? `${train.classes} classes` : `${want} target value(s) per row`;
    let hint = train.task === 'classification' ? `use ${want} output units${want === 2 ? ' (or 1 sigmoid unit)' : ''}` : `use ${want} output units`;
    if (train.task === 'classification' && want > out && out > 1 && new Set(train.y).size < want) {
      // Class ids with no rows between the used ones (IDX labels 0..9 and one 255): the
      // labels, not the model, are the likelier mistake, so name them.
      const first = train.y.findIndex((c) => c >= out);
      const count = train.y.reduce((k, c) => k + (c >= out ? 1 : 0), 0);
      hint = `${count} row${count === 1 ? ' has' : 's have'} a class id ≥ ${out} (the first: row ${first}, class ${describe(train.classNames[train.y[first]!] ?? train.y[first])}); fix those labels, or ${hint}`;
    }
    throw new ConfigError(`model.layers[${layers.length - 1}].units: expected ${want} output units for data with ${what}, found ${out}`, hint);
  }
  if (train.task === 'regression' && loss !== 'mse') {
    throw new ConfigError(`model.loss: expected "mse" for a regression task, found "${loss}" (a classification loss)`, 'use loss "mse"');
  }
  return spec;
}

/** Everything decided before the engine starts: what runs, on how many threads, in what memory. */
export interface RunPlan {
  readonly spec: ModelSpec;
  readonly threads: number;
  /** The thread count and why: planned from the step's work for "auto", else as asked. */
  readonly threadPlan: ThreadPlan;
  /** "auto" with more than one thread planned: time the first steps against one thread (Engine.create). */
  readonly trial: EngineOptions['trial'];
  readonly kernel: RunKernel;
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  /** Steps between step records (0: no onStep hook). */
  readonly stepLogEvery: number;
  /** What must match for a bit-for-bit resume: everything but epochs, threads and kernel. */
  readonly settingsKey: string;
  readonly settings: RunSettings;
  readonly memory: PlanInput;
  readonly warnings: string[];
}

/** What planRun takes besides the options: the hooks that change the engine's settings. */
export interface PlanExtras {
  /** Gradient norms for step records every `stepLogEvery` steps (default: once an epoch). */
  readonly logSteps?: boolean | undefined;
  readonly stepLogEvery?: number | undefined;
  readonly failAt?: { rank: number; step: number } | undefined;
  /** Benchmarks: per-phase timing cells (RunSettings.timing). */
  readonly timing?: boolean | undefined;
}

/** The engine's memory plan for a model and its rows (train, validation, test), on `threads` threads. */
export function planMemory(
  spec: ModelSpec, opts: Pick<ResolvedTrainOptions, 'batchSize' | 'rule' | 'optimizer'>, task: Dataset['task'], splitRows: readonly [number, number, number], threads = 1,
): PlanInput {
  const batchSize = opts.batchSize === 'full' ? splitRows[0] : Math.min(opts.batchSize, splitRows[0]);
  return {
    spec, rule: opts.rule, targetKind: task === 'classification' ? 'class' : 'vector',
    maxRows: Math.max(batchSize, 256), optimizerBuffers: stateBuffers(opts.optimizer), splitRows, threads,
  };
}

/** The thread count a run plans: as asked, or for "auto" from the step's work (at most the cores). */
export function planThreadCount(threads: ResolvedTrainOptions['threads'], spec: ModelSpec, batchRows: number): ThreadPlan {
  return threads === 'auto'
    ? planThreads(stepWork(spec, batchRows), os.availableParallelism())
    : { threads, reason: `threads ${threads}: as asked` };
}

/**
 * Copies of the rows a run holds outside its shared memory: the caller's (the CLI keeps its
 * splits to report on), and the scaled copy prepareData makes unless scale is "none".
 */
export function rowCopies(scale: ResolvedTrainOptions['scale']): number {
  return scale === 'none' ? 1 : 2;
}

/** What a run holds in memory at its peak, planned from its sizes before anything is allocated. */
export interface RunMemory {
  /** Bytes of the shared WebAssembly.Memory, in whole 64 KiB pages. */
  readonly shared: number;
  /** Worker threads: none when one thread runs in-process. */
  readonly workers: number;
  /** What each worker thread adds (limits.ts WORKER_THREAD_BYTES, its unit blocks and softmax scratch). */
  readonly perWorker: number;
  /** The rows held outside the shared memory (rowCopies of them). */
  readonly rows: number;
  readonly total: number;
}

export function runMemory(memory: PlanInput, threads: number, copies: number): RunMemory {
  const { spec } = memory;
  const outputs = spec.layers[spec.layers.length - 1]!.units;
  const shared = sharedMemorySize(memory).allocatedBytes;
  const workers = threads > 1 ? threads : 0;
  // Each worker builds its own list of the unit blocks, and softmax keeps float64 scratch of the output width.
  const perWorker = WORKER_THREAD_BYTES + UNIT_BLOCK_BYTES * unitBlockCount(paramLayout(spec)) + 8 * outputs;
  const rowBytes = 4 * spec.inputs + 4 * (memory.targetKind === 'class' ? 1 : outputs);
  const rows = copies * rowBytes * (memory.splitRows[0] + memory.splitRows[1] + memory.splitRows[2]);
  return { shared, workers, perWorker, rows, total: shared + workers * perWorker + rows };
}

/** Whether checkRunMemory would let this run through (asked of it, so the two never disagree). */
export function runMemoryFits(memory: PlanInput, threads: number, copies: number): boolean {
  try {
    checkRunMemory(memory, threads, copies);
    return true;
  } catch (error) {
    if (error instanceof ConfigError) return false;
    throw error;
  }
}

const MEMORY_HINT = 'use fewer or narrower layers, a smaller batch size, or less data (fewer rows or features)';

/**
 * Refuse a run that cannot fit, with the bytes it needs and the limit: its shared memory
 * over WebAssembly's 4 GiB (or the budget), then the whole run — shared memory, a worker
 * isolate per thread, the rows outside the shared memory — over the memory budget. Before
 * any thread starts or byte is allocated, since the plan is only measured. The CLI calls it
 * before generating a built-in dataset or reading a data file too, from the sizes the config
 * and the file's header (or its size) give; `source` then names what they came from.
 */
export function checkRunMemory(memory: PlanInput, threads: number, copies: number, source?: string): void {
  const at = source === undefined ? '' : `${source}: `;
  const rows = memory.splitRows[0] + memory.splitRows[1] + memory.splitRows[2];
  const need = runMemory(memory, threads, copies);
  checkMemory(
    `${at}the run's shared memory (${paramLayout(memory.spec).count.toLocaleString('en-US')} parameters with gradients and optimizer state, ${rows.toLocaleString('en-US')} rows of ${memory.spec.inputs.toLocaleString('en-US')} features, a batch workspace of ${memory.maxRows} rows)`,
    need.shared,
    MEMORY_HINT,
  );
  const budget = memoryBudget();
  // Threads lead the hint when their isolates are a large share of the run.
  const hint = need.workers * need.perWorker > need.total / 4
    ? `use fewer threads (each worker thread takes about ${shortBytes(need.perWorker)}), or ${MEMORY_HINT.slice('use '.length)}`
    : MEMORY_HINT;
  checkMemory(
    `${at}the run's memory (${shortBytes(need.shared)} shared, ${need.workers === 0 ? 'no worker threads (one thread runs in-process)' : `${need.workers} worker threads × ${shortBytes(need.perWorker)}`}, ${shortBytes(need.rows)} of rows outside the shared memory)`,
    need.total,
    budget.what === MEMORY_LIMIT_ENV ? `${hint}; or raise ${MEMORY_LIMIT_ENV}` : hint,
    budget,
  );
}

/** The plan of a run on prepared data; `threadtrain inspect` shows it without running anything. */
export function planRun(model: RunOptions['model'], opts: ResolvedTrainOptions, data: PreparedData, extras: PlanExtras = {}): RunPlan {
  const warnings: string[] = [];
  const spec = buildSpec(model, data.train);
  if (opts.rule !== 'backprop' && spec.layers.length !== 1) {
    throw new ConfigError(`model.layers: expected one layer for rule "${opts.rule}" (it trains single-layer nets), found ${spec.layers.length}`, 'use one layer, or rule "backprop"');
  }
  const cores = os.availableParallelism();
  const kernel = opts.kernel === 'auto' ? (simdSupported() ? 'wasm' : 'js') : opts.kernel;
  const batchSize = opts.batchSize === 'full' ? data.train.n : Math.min(opts.batchSize, data.train.n);
  const threadPlan = planThreadCount(opts.threads, spec, batchSize);
  const memory = planMemory(spec, opts, data.train.task, [data.train.n, data.validation?.n ?? 0, data.test?.n ?? 0], threadPlan.threads);
  checkRunMemory(memory, threadPlan.threads, rowCopies(opts.scale));
  if (threadPlan.threads > cores) warnings.push(`threads ${threadPlan.threads} is more than this machine's ${cores} cores: threads will wait on each other at every barrier`);
  const stepsPerEpoch = Math.ceil(data.train.n / batchSize);
  const stepLogEvery = extras.logSteps ? Math.max(1, Math.floor(extras.stepLogEvery ?? stepsPerEpoch)) : 0;
  const settingsKey = JSON.stringify({
    batchSize, lr: opts.lr, shuffle: opts.shuffle, seed: opts.seed, rule: opts.rule, optimizer: opts.optimizer, schedule: opts.schedule,
    stop: opts.stop ?? null, earlyStopping: opts.earlyStopping ?? null, scale: opts.scale, split: opts.split,
  });
  const settings: RunSettings = {
    batchSize, trainRows: data.train.n, stepsPerEpoch, totalSteps: stepsPerEpoch * opts.epochs, baseLr: opts.lr,
    optimizer: opts.optimizer, schedule: opts.schedule, normEvery: stepLogEvery, failAt: extras.failAt, timing: extras.timing,
  };
  const trial = opts.threads === 'auto' && threadPlan.threads > 1 ? { plan: threadPlan } : undefined;
  return { spec, threads: threadPlan.threads, threadPlan, trial, kernel, batchSize, stepsPerEpoch, stepLogEvery, settingsKey, settings, memory, warnings };
}

/** Where the weights come from: the seeded initializer (and any explicit layer weights), or a checkpoint. */
export type StartingPoint =
  | { readonly seed: number; readonly weights?: RunOptions['model']['weights'] }
  | { readonly resume: CheckpointState };

/** Start the engine's threads and fill its shared memory: the splits, then the starting weights. */
export async function startEngine(plan: RunPlan, data: PreparedData, from: StartingPoint, onPool?: TrainHooks['onPool']): Promise<Engine> {
  const engine = await Engine.create({ plan: plan.memory, settings: plan.settings, threads: plan.threads, kernel: plan.kernel, onPool, trial: plan.trial });
  try {
    const { views } = engine;
    copyDataset(views.splits[0], data.train);
    if (data.validation) copyDataset(views.splits[1], data.validation);
    if (data.test) copyDataset(views.splits[2], data.test);
    if ('resume' in from) {
      views.ws.params.set(from.resume.params);
      from.resume.optState.forEach((s, i) => views.optState[i]!.set(s));
    } else {
      initializeParams(plan.spec, views.layout, views.ws.params, createRng(from.seed), from.weights);
    }
    engine.syncParams();
    return engine;
  } catch (error) {
    await engine.close();
    throw error;
  }
}

/** A new epoch's row order (shuffled when asked) and zeroed loss totals. */
export function beginEpoch(engine: Engine, shuffleRng: Rng | undefined): void {
  const perm = engine.views.perm;
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  if (shuffleRng) shuffleRng.shuffle(perm);
  engine.resetEpochTotals();
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

/** A run in progress: the engine, and what the epochs carry from one to the next. */
export interface Run {
  readonly engine: Engine;
  readonly plan: RunPlan;
  readonly opts: ResolvedTrainOptions;
  readonly data: PreparedData;
  readonly hooks: TrainHooks;
  readonly resume: CheckpointState | undefined;
  readonly dataHash: string;
  readonly shuffleRng: Rng;
  readonly started: number;
  plateau: PlateauState;
  best: { loss: number; epoch: number; params: Float32Array | null };
  trainBest: { loss: number; epoch: number };
  history: EpochRecord[];
  position: { epoch: number; step: number };
  stopReason: StopReason;
  validation: Metrics | undefined;
  lastCheckpoint: string;
  /** The checkpoint write that failed, once one has: the run stops there and writes no more. */
  checkpointFailure: CheckpointFailure | undefined;
}

/** A checkpoint write that failed, and where its state went instead. */
interface CheckpointFailure {
  readonly error: unknown;
  readonly path: string;
  /** The recovery file that took the state, or undefined when none did (`tried` lists them). */
  readonly recovered: string | undefined;
  readonly tried: readonly string[];
}

/**
 * train() stopped because a checkpoint could not be written. `result` is the run as it
 * stopped (its model trained up to the failed checkpoint); `recovered` is where that
 * checkpoint's state was written instead, if anywhere; resuming from it continues the run.
 */
export class CheckpointWriteError extends OutputError {
  constructor(message: string, hint: string, readonly result: TrainResult, readonly recovered: string | undefined) {
    super(message, hint);
  }
}

/** "after epoch 3" at an epoch boundary, else "in epoch 4, after step 7". */
export function describePosition(position: { readonly epoch: number; readonly step: number }): string {
  return position.step > 0 ? `in epoch ${position.epoch + 1}, after step ${position.step}` : `after epoch ${position.epoch}`;
}

/** The state of a new run, or of a resumed one as its checkpoint left it. */
export function openRun(
  engine: Engine, plan: RunPlan, opts: ResolvedTrainOptions, data: PreparedData, hooks: TrainHooks, resume: CheckpointState | undefined, dataHash: string,
): Run {
  const run: Run = {
    engine, plan, opts, data, hooks, resume, dataHash, shuffleRng: createRng(opts.seed + 1), started: performance.now(),
    plateau: initialPlateauState(), best: { loss: Infinity, epoch: 0, params: null }, trainBest: { loss: Infinity, epoch: 0 },
    history: [], position: { epoch: 0, step: 0 }, stopReason: 'epochs', validation: undefined, lastCheckpoint: '', checkpointFailure: undefined,
  };
  if (resume) {
    run.shuffleRng.setState(resume.rngState);
    run.plateau = { ...resume.plateau };
    run.best = { ...resume.best };
    run.trainBest = { ...resume.trainBest };
    run.history = resume.history.slice();
    run.position = { epoch: resume.epoch, step: resume.step };
  }
  return run;
}

async function evaluateSplit(run: Run, split: 1 | 2, ds: Dataset): Promise<Metrics> {
  const { engine, plan } = run;
  const { views } = engine;
  const outUnits = plan.spec.layers[plan.spec.layers.length - 1]!.units;
  await engine.evaluate(split);
  return computeMetrics(plan.spec, views.layout, views.ws.params, views.evalOut.subarray(0, ds.n * outUnits), ds);
}

function checkpointState(run: Run, epoch: number, step: number): CheckpointState {
  const { engine, plan, data } = run;
  const { views } = engine;
  return {
    spec: plan.spec, settings: plan.settingsKey, dataHash: run.dataHash, params: views.ws.params.slice(), optState: views.optState.map((s) => s.slice()),
    epoch, step, perm: views.perm.slice(), rngState: run.shuffleRng.getState(),
    totals: Float64Array.of(views.cells[cEpochLossSum]!, views.cells[cEpochCorrect]!, views.cells[cEpochRows]!),
    plateau: run.plateau, best: run.best, trainBest: run.trainBest, history: run.history, task: data.train.task,
    classNames: data.train.task === 'classification' ? data.train.classNames : null, scaler: data.scaler ?? null,
  };
}

/**
 * Write the checkpoint of this position (once). A write that fails puts the same state in a
 * recovery file and marks the run to stop here (see the header); onCheckpoint then names
 * the file that holds it.
 */
function checkpoint(run: Run, epoch: number, step: number): void {
  const { opts } = run;
  if (!opts.checkpoint || run.lastCheckpoint === `${epoch}:${step}` || run.checkpointFailure) return;
  const target = opts.checkpoint.path;
  const state = checkpointState(run, epoch, step);
  let written = target;
  try {
    writeCheckpoint(target, state);
  } catch (error) {
    const tried = recoveryPaths(path.basename(target, path.extname(target)), '.ckpt', target);
    const recovered = writeFirstWorking(tried, (file) => writeCheckpoint(file, state));
    run.checkpointFailure = { error, path: target, recovered, tried };
    if (recovered === undefined) return;
    written = recovered;
  }
  run.lastCheckpoint = `${epoch}:${step}`;
  run.hooks.onCheckpoint?.({ path: written, epoch, step });
}

/** The rejection of a run whose checkpoint could not be written: what failed, where training stopped, where its state is. */
function checkpointWriteError(failure: CheckpointFailure, result: TrainResult): CheckpointWriteError {
  const cause = firstLine(failure.error);
  const stopped = `${result.stopReason === 'interrupted' ? 'training stopped' : 'training ended'} ${describePosition(result.position)}`;
  const folder = path.dirname(failure.path);
  const where = failure.recovered !== undefined
    ? `its checkpoint was written to ${failure.recovered} instead`
    : `its checkpoint could not be written anywhere (also tried ${failure.tried.join(', ')})`;
  const hint = failure.recovered !== undefined
    ? `the model trained so far is in this error's result; continue the run with resume: ${JSON.stringify(failure.recovered)} once ${folder} can be written (check it, its permissions and the free disk space)`
    : `the model trained so far is in this error's result; free some disk space or fix ${folder}, then start again (or resume from an earlier checkpoint)`;
  const error = new CheckpointWriteError(`${cause}; ${stopped} and ${where}`, hint, result, failure.recovered);
  error.cause = failure.error;
  return error;
}

/**
 * One epoch's steps, in chunks that end where a step record or a checkpoint is due.
 * Returns the epoch's record, or undefined when it was interrupted before its end.
 */
async function runEpoch(run: Run, epoch: number): Promise<EpochRecord | undefined> {
  const { engine, plan, opts, data, hooks, resume } = run;
  const { views } = engine;
  const { stepsPerEpoch, batchSize, stepLogEvery } = plan;
  const resuming = resume !== undefined && epoch === resume.epoch && resume.step > 0;
  if (resuming) {
    views.perm.set(resume.perm);
    views.cells[cEpochLossSum] = resume.totals[0]!;
    views.cells[cEpochCorrect] = resume.totals[1]!;
    views.cells[cEpochRows] = resume.totals[2]!;
  } else {
    beginEpoch(engine, opts.shuffle ? run.shuffleRng : undefined);
  }
  views.cells[cPlateauScale] = run.plateau.scale;
  const epochStart = performance.now();
  const firstStep = resuming ? resume.step : 0;
  // onProgress runs from a timer, where a throw would be an uncaught exception that ends the
  // process: it is caught, the run stops at the next step, and train() rejects with it (after
  // the threads are gone), as it does for a throwing onEpoch.
  let hookError: { error: unknown } | undefined;
  const timer = hooks.onProgress
    ? setInterval(() => {
        const step = engine.progressStep;
        const secs = (performance.now() - epochStart) / 1000;
        const rows = views.cells[cEpochRows]!;
        try {
          hooks.onProgress!({
            epoch: epoch + 1, step, stepsPerEpoch, samplesPerSec: secs > 0 ? Math.min((step - firstStep) * batchSize, data.train.n) / secs : 0,
            loss: rows > 0 ? views.cells[cEpochLossSum]! / rows : NaN,
          });
        } catch (error) {
          hookError = { error };
          clearInterval(timer);
          engine.requestStop();
        }
      }, 100)
    : undefined;
  let step = firstStep;
  let interrupted = false;
  try {
    while (step < stepsPerEpoch) {
      if (engine.stopRequested || run.checkpointFailure) {
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
          time: (performance.now() - run.started) / 1000,
        });
      }
      if (step < stepsPerEpoch && step === end && opts.checkpoint && opts.checkpoint.everySteps > 0 && done % opts.checkpoint.everySteps === 0) {
        checkpoint(run, epoch, step);
      }
      if (step < end) interrupted = true;
      if (interrupted) break;
    }
  } finally {
    if (timer) clearInterval(timer);
  }
  if (hookError) throw hookError.error;
  run.position = { epoch, step };
  if (interrupted && step < stepsPerEpoch) return undefined;
  run.position = { epoch: epoch + 1, step: 0 };
  const seconds = (performance.now() - epochStart) / 1000;
  const rows = views.cells[cEpochRows]!;
  const record: EpochRecord = {
    type: 'epoch', epoch: epoch + 1, step: (epoch + 1) * stepsPerEpoch,
    loss: views.cells[cEpochLossSum]! / rows, lr: views.cells[cLastLr]!,
    samplesPerSec: (Math.min(stepsPerEpoch * batchSize, data.train.n) - Math.min(firstStep * batchSize, data.train.n)) / seconds,
    gradNorms: layerGradNorms(engine), time: (performance.now() - run.started) / 1000,
  };
  if (data.train.task === 'classification') record.accuracy = views.cells[cEpochCorrect]! / rows;
  if (!views.ws.params.every(Number.isFinite)) {
    throw new TrainingError(`training diverged in epoch ${epoch + 1}: a weight became NaN or infinite`, `lower the learning rate (now ${opts.lr})`, record.step);
  }
  if (data.validation) {
    run.validation = await evaluateSplit(run, 1, data.validation);
    record.valLoss = run.validation.loss;
    if (run.validation.accuracy !== undefined) record.valAccuracy = run.validation.accuracy;
  }
  return record;
}

/**
 * The stop rules after a finished epoch: early stopping on the validation loss (keeping the
 * best weights when asked), then the training-loss rules. Returns why to stop, if so.
 */
export function stopRule(
  opts: Pick<ResolvedTrainOptions, 'earlyStopping' | 'stop'>, record: EpochRecord, state: Pick<Run, 'best' | 'trainBest'>, params: Float32Array,
): StopReason | undefined {
  const epoch = record.epoch;
  if (opts.earlyStopping && record.valLoss !== undefined) {
    if (record.valLoss < state.best.loss - opts.earlyStopping.minDelta) {
      state.best = { loss: record.valLoss, epoch, params: opts.earlyStopping.restoreBest ? params.slice() : null };
    } else if (epoch - state.best.epoch >= opts.earlyStopping.patience) {
      return 'early_stopping';
    }
  }
  if (opts.stop) {
    if (record.loss < opts.stop.lossBelow) return 'loss_below';
    if (record.loss < state.trainBest.loss - opts.stop.minDelta) state.trainBest = { loss: record.loss, epoch };
    else if (epoch - state.trainBest.epoch >= opts.stop.patience) return 'no_improvement';
  }
  return undefined;
}

/** Epochs until the last one, a stop rule, or a stop request; a checkpoint at the end. */
export async function runEpochs(run: Run): Promise<void> {
  const { engine, opts, hooks } = run;
  if (hooks.signal?.aborted) engine.requestStop();
  for (let epoch = run.position.epoch; epoch < opts.epochs; epoch++) {
    const record = await runEpoch(run, epoch);
    if (!record) {
      run.stopReason = 'interrupted';
      break;
    }
    run.history.push(record);
    hooks.onEpoch?.(record);
    run.plateau = plateauAfterEpoch(opts.schedule, run.plateau, record.valLoss ?? record.loss);
    const stop = stopRule(opts, record, run, engine.views.ws.params);
    if (opts.checkpoint && opts.checkpoint.everyEpochs > 0 && (epoch + 1) % opts.checkpoint.everyEpochs === 0) checkpoint(run, epoch + 1, 0);
    if (stop) {
      run.stopReason = stop;
      break;
    }
    // A failed checkpoint stops the run unless it was the last epoch's, which changes nothing.
    if (engine.stopRequested || (run.checkpointFailure && epoch + 1 < opts.epochs)) {
      run.stopReason = 'interrupted';
      break;
    }
  }
  checkpoint(run, run.position.epoch, run.position.step);
}

/** The best weights back when early stopping kept them, the test metrics, and the result. */
export async function finishRun(run: Run): Promise<TrainResult> {
  const { engine, plan, opts, data } = run;
  const { views } = engine;
  let bestEpoch: number | undefined;
  let validation = run.validation;
  if (run.best.params && run.stopReason !== 'interrupted' && run.best.epoch !== run.history.length) {
    views.ws.params.set(run.best.params);
    engine.syncParams();
    bestEpoch = run.best.epoch;
    if (data.validation) validation = await evaluateSplit(run, 1, data.validation);
  }
  const test = data.test && run.stopReason !== 'interrupted' ? await evaluateSplit(run, 2, data.test) : undefined;
  const model = new Model({
    spec: plan.spec, params: views.ws.params.slice(), task: data.train.task,
    classNames: data.train.task === 'classification' ? data.train.classNames : undefined, featureNames: data.train.featureNames, scaler: data.scaler,
  });
  return {
    model, history: run.history, stopReason: run.stopReason, ...(bestEpoch ? { bestEpoch } : {}), ...(validation ? { validation } : {}),
    ...(test ? { test } : {}), options: opts, threads: engine.threads, threadPlan: engine.threadPlan ?? plan.threadPlan, kernel: plan.kernel, warnings: plan.warnings, position: run.position,
  };
}

/**
 * One training run from resolved options (parsed at the edge: api.ts for train(), the CLI
 * for configs and flags). Nothing here checks an option again.
 */
export async function runTraining(options: RunOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const { data: input, model, resume: resumeFrom, ...opts } = options;
  const data = prepareData(input, opts);
  const plan = planRun(model, opts, data, { logSteps: hooks.onStep !== undefined, stepLogEvery: hooks.stepLogEvery, failAt: hooks.failAt });
  for (const w of plan.warnings) hooks.onWarning?.(w);
  const resumePath = typeof resumeFrom === 'string' ? resumeFrom : '(checkpoint)';
  const resume = resumeFrom === undefined ? undefined : typeof resumeFrom === 'string' ? readCheckpoint(resumeFrom) : resumeFrom;
  const dataHash = resume || opts.checkpoint ? dataFingerprint(data.train) : '';
  if (resume) checkResumable(resumePath, resume, plan.spec, plan.settingsKey, dataHash);
  const engine = await startEngine(plan, data, resume ? { resume } : { seed: opts.seed, weights: model.weights }, hooks.onPool);
  const stopOnSignal = () => engine.requestStop();
  hooks.signal?.addEventListener('abort', stopOnSignal);
  try {
    const run = openRun(engine, plan, opts, data, hooks, resume, dataHash);
    await runEpochs(run);
    const result = await finishRun(run);
    if (run.checkpointFailure) throw checkpointWriteError(run.checkpointFailure, result);
    return result;
  } finally {
    hooks.signal?.removeEventListener('abort', stopOnSignal);
    await engine.close();
  }
}
