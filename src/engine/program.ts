// What each thread runs: the training steps and the evaluation passes of one command,
// over the shared views. The in-process path (threads = 1) calls these same functions
// with a barrier that never waits; workers call them with the shared barrier. So
// "threads = 1 gives the same bits" is true by construction, and the tests check it.

import type { Kernel, UpdateRule } from '../kernels/kernel.ts';
import {
  backwardRows, forwardFirstLayerUnits, forwardRows, gradSumSqUnits, paramGradsUnits, refreshTransposed, unitParamRanges,
} from '../nn/mlp.ts';
import { view } from '../model/layout.ts';
import { applyRule, clipScale, updateRule, type OptimizerConfig } from '../optim/optimizers.ts';
import { learningRateAt, type Schedule, type SchedulePosition } from '../optim/schedules.ts';
import type { Barrier } from './barrier.ts';
import { assignBlocks, rowRange, rowStart, unitBlocks, unitRuns, type UnitBlock, type UnitRun } from './partition.ts';
import {
  cDivergedLoss, cEpochCorrect, cEpochLossSum, cEpochRows, cGradScale, cLastLoss, cLastLr, cPlateauScale,
  HALT_DIVERGED, HALT_NONE, HALT_STOP, kHalt, kHaltStep, kStep, kStopRequest,
  T_BARRIERS, T_GATHER, T_NORM, T_REDUCE, T_ROWS, T_SERIAL, T_STEP_MS, T_STEPS, T_TRANSPOSE, T_UPDATE, T_WAIT_NORM,
  T_WAIT_ROWS, T_WAIT_UPDATE, T_WAITS_OVER_10US, T_WAITS_OVER_50US, TIMING_RANKS, timingCell,
} from './control.ts';
import type { SharedViews } from './plan.ts';

/** Everything about the run that does not change between steps. Plain data: it travels to workers. */
export interface RunSettings {
  readonly batchSize: number;
  readonly trainRows: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly baseLr: number;
  readonly optimizer: OptimizerConfig;
  readonly schedule: Schedule;
  /** Compute per-block gradient norms on every step (clipping) or on steps where (t % normEvery) = 0. */
  readonly normEvery: number;
  /** Test-only: throw in this rank at this global step, to exercise fault handling. */
  readonly failAt?: { readonly rank: number; readonly step: number } | undefined;
  /** Benchmarks only: accumulate per-phase milliseconds into the timing cells (control.ts). */
  readonly timing?: boolean | undefined;
}

/** Where this thread is: written at the top of each step, read by the serial sections and by error reports. */
export interface StepPosition {
  /** Global step, 0-based (t − 1). */
  step: number;
  epoch: number;
  /** Step within the epoch, and the end of the current command's range. */
  local: number;
  to: number;
  /** Rows in this step's batch. */
  rows: number;
  lr: number;
  wantNorms: boolean;
}

export interface ThreadContext {
  readonly views: SharedViews;
  readonly kernel: Kernel<Float32Array>;
  readonly rank: number;
  readonly threads: number;
  readonly barrier: Barrier;
  readonly settings: RunSettings;
  readonly blocks: readonly UnitBlock[];
  /** The units this thread reduces and updates: its blocks, merged into runs of adjacent units. */
  readonly myRuns: readonly UnitRun[];
  readonly position: StepPosition;
  /** Parameter index ranges [lo, hi) of each of this thread's runs, computed once (no allocation per step). */
  readonly myRanges: readonly (readonly [number, number])[][];
  /** This thread's units of layer 0, [u0, u1): its blocks there are contiguous (assignBlocks). */
  readonly firstUnits: readonly [number, number];
  /** The step's phases: plain, or wrapped in the benchmark clock (chosen once, here). */
  readonly phases: StepPhases;
  readonly clock: StepClock | undefined;
  /** Reused every step by learningRateAt (no allocation per step). */
  readonly schedulePosition: SchedulePosition;
  /**
   * Layer 0's weights are updated in Wᵀ only (SGD, with or without decay and clipping, on a
   * kernel with sgdUnitsTransposed): its (OUT, IN) copy is never read during a train command (no
   * dX is computed for layer 0), so writing it and then transposing it each step would move twice
   * the bytes. The thread brings its units of that copy up to date at the end of each train
   * command (syncFirstLayer), before the coordinator reads the parameters.
   */
  readonly firstLayerTransposed: boolean;
}

export function threadContext(
  views: SharedViews, kernel: Kernel<Float32Array>, rank: number, threads: number, barrier: Barrier, settings: RunSettings,
): ThreadContext {
  const blocks = unitBlocks(views.layout);
  const myBlocks = assignBlocks(blocks, threads)[rank]!;
  const myRuns = unitRuns(blocks, myBlocks, views.layout);
  const myRanges = myRuns.map((r) => unitParamRanges(views.layout, r.layer, r.j0, r.j1));
  const first = myBlocks.map((b) => blocks[b]!).filter((b) => b.layer === 0);
  const firstUnits: [number, number] = first.length === 0 ? [0, 0] : [first[0]!.j0, first[first.length - 1]!.j1];
  const clock = settings.timing && rank < TIMING_RANKS ? new StepClock(views.cells, timingCell(rank, 0)) : undefined;
  return {
    views, kernel, rank, threads, barrier, settings, blocks, myRuns, myRanges, firstUnits,
    position: { step: 0, epoch: 0, local: 0, to: 0, rows: 0, lr: 0, wantNorms: false },
    phases: clock ? timedPhases(clock) : plainPhases, clock,
    schedulePosition: { step: 0, epoch: 0, stepsPerEpoch: settings.stepsPerEpoch, totalSteps: settings.totalSteps },
    firstLayerTransposed: fusedUpdate(kernel) && kernel.sgdUnitsTransposed !== undefined && settings.optimizer.name === 'sgd',
  };
}

/**
 * End of a train command: this thread's units of layer 0 copied from Wᵀ back into the
 * (OUT, IN) weights, when the update keeps them only there (ThreadContext.firstLayerTransposed).
 * Once per command (an epoch, or a slice of one), so a plain loop.
 */
export function syncFirstLayer(ctx: ThreadContext): void {
  if (!ctx.firstLayerTransposed) return;
  const { ws } = ctx.views;
  const s = ws.layout.layers[0]!;
  const w = view(ws.params, s.w), wt = view(ws.paramsT, s.w);
  const IN = s.inputs, OUT = s.units;
  for (let j = ctx.firstUnits[0]; j < ctx.firstUnits[1]; j++) {
    for (let k = 0; k < IN; k++) w[j * IN + k] = wt[k * OUT + j]!;
  }
}

export function batchRows(settings: RunSettings, step: number): number {
  return Math.min(settings.batchSize, settings.trainRows - step * settings.batchSize);
}

/**
 * Run steps [from, to) of `epoch`. Returns the number of steps completed: fewer than
 * asked when a stop was requested or the loss diverged (kHalt says which).
 *
 * Barriers, and what each guards (without clipping, three per step, plus one per command):
 *   (rows    first step of a command only: every input row gathered before layer 0's
 *            forward reads all of them; later steps' rows were gathered before `update`;)
 *   layer 0  all of layer 0's outputs before any thread's rows go through the layers above;
 *   deltas   every row's deltas before the gradient sums over all rows (serial: the loss);
 *   (norm    with clipping only: every block's norm before any update is scaled;)
 *   update   every parameter and Wᵀ column updated, and the next step's rows gathered,
 *            before the next step's forward.
 */
export function runTrainSteps(ctx: ThreadContext, epoch: number, from: number, to: number): number {
  const { views, settings, phases: p, position: pos } = ctx;
  const { ctl } = views;
  ctx.clock?.resume();
  const clipping = settings.optimizer.clipNorm > 0;
  for (let step = from; step < to; step++) {
    const B = batchRows(settings, step);
    const t = epoch * settings.stepsPerEpoch + step + 1;
    pos.step = t - 1;
    pos.epoch = epoch;
    pos.local = step;
    pos.to = to;
    pos.rows = B;
    if (settings.failAt && settings.failAt.rank === ctx.rank && settings.failAt.step === t - 1) {
      throw new Error(`injected test failure in thread ${ctx.rank} at step ${t - 1}`);
    }

    // Phase 1: this thread's rows are in (gathered at the end of the previous step, or here
    // for a command's first step); layer 0's forward for this thread's units of it over all
    // rows; once all of layer 0 is there, this thread's rows
    // through the layers above, and backward. Layer 0 holds most of the weights, and this
    // way its Wᵀ columns are read only by the thread that writes them in phase 3, so those
    // lines never move between cores (the input rows, a quarter of that size, do instead).
    const r0 = rowStart(B, ctx.threads, ctx.rank);
    const r1 = rowStart(B, ctx.threads, ctx.rank + 1);
    views.ws.input = views.inputs[(t - 1) & 1];
    if (step === from) {
      p.gather(ctx, step, t - 1);
      p.meet(ctx, T_WAIT_ROWS);
    }
    p.firstLayer(ctx, B);
    p.meet(ctx, T_WAIT_ROWS);
    p.rows(ctx, r0, r1, B);
    p.meet(ctx, T_WAIT_ROWS, afterRows);
    if (Atomics.load(ctl, kHalt) === HALT_DIVERGED) return step - from;

    // Phases 2 and 3: this thread's units, gradients summed over every row of the batch, then
    // the optimizer on the same units and a refresh of their transposed copy. Nothing read in
    // phase 2 (activations, deltas) is written in phase 3 (parameters, Wᵀ, optimizer state),
    // so without clipping, which needs every block's gradient first, each run of blocks is updated
    // as soon as its gradient is summed, while that gradient is still in this core's cache.
    pos.lr = stepLearningRate(ctx, t - 1, epoch);
    pos.wantNorms = clipping || (settings.normEvery > 0 && t % settings.normEvery === 0) || step === settings.stepsPerEpoch - 1;
    const mine = ctx.myRuns.length;
    for (let i = 0; i < mine; i++) {
      p.reduce(ctx, i, B);
      if (pos.wantNorms) p.norm(ctx, i);
      if (!clipping) {
        p.update(ctx, i, 1);
        p.transpose(ctx, i);
      }
    }
    if (clipping) {
      p.meet(ctx, T_WAIT_NORM, afterNorms);
      if (Atomics.load(ctl, kHalt) === HALT_DIVERGED) return step - from;
      const gradScale = views.cells[cGradScale]!;
      for (let i = 0; i < mine; i++) {
        p.update(ctx, i, gradScale);
        p.transpose(ctx, i);
      }
    }
    // This thread's rows of the next step, into the other input buffer: this step reads only
    // its own buffer, and the next reads the other after the barrier below. One barrier a
    // step fewer than gathering at the top of each step. Labels need no second buffer: they
    // are read only by the thread that owns their row, before the deltas barrier.
    if (step + 1 < to) p.gather(ctx, step + 1, t);
    p.meet(ctx, T_WAIT_UPDATE, afterUpdate);
    if (Atomics.load(ctl, kHalt) !== HALT_NONE) return step + 1 - from;
  }
  return to - from;
}

function stepLearningRate(ctx: ThreadContext, step: number, epoch: number): number {
  const at = ctx.schedulePosition;
  at.step = step;
  at.epoch = epoch;
  return learningRateAt(ctx.settings.schedule, ctx.settings.baseLr, at, ctx.views.cells[cPlateauScale]!);
}

// ---- The phases of a step -------------------------------------------------------------

/** One step's work, phase by phase; `meet` is a barrier whose `serial` runs once, in the last thread to arrive. */
export interface StepPhases {
  /** This thread's rows of step `step` of the epoch (global step `global`) into inputs[global & 1]. */
  gather(ctx: ThreadContext, step: number, global: number): void;
  firstLayer(ctx: ThreadContext, B: number): void;
  rows(ctx: ThreadContext, r0: number, r1: number, B: number): void;
  /** The i-th of this thread's runs: its gradient, summed over all B rows. */
  reduce(ctx: ThreadContext, i: number, B: number): void;
  /** Σg² of each block of the i-th run, in its norm cell. */
  norm(ctx: ThreadContext, i: number): void;
  update(ctx: ThreadContext, i: number, gradScale: number): void;
  transpose(ctx: ThreadContext, i: number): void;
  /** `slot` names the wait for the benchmark clock (control.ts); the plain phases ignore it. */
  meet(ctx: ThreadContext, slot: number, serial?: (ctx: ThreadContext) => void): void;
}

const plainPhases: StepPhases = {
  gather: gatherTrainRows,
  firstLayer(ctx, B) {
    forwardFirstLayerUnits(ctx.views.ws, ctx.kernel, B, ctx.firstUnits[0], ctx.firstUnits[1]);
  },
  rows(ctx, r0, r1, B) {
    forwardRows(ctx.views.ws, ctx.kernel, r0, r1, true);
    backwardRows(ctx.views.ws, ctx.kernel, r0, r1, B);
  },
  reduce(ctx, i, B) {
    const run = ctx.myRuns[i]!;
    paramGradsUnits(ctx.views.ws, ctx.kernel, B, run.layer, run.j0, run.j1);
  },
  norm(ctx, i) {
    const run = ctx.myRuns[i]!;
    for (const b of run.blocks) {
      const blk = ctx.blocks[b]!;
      ctx.views.normCells[b] = gradSumSqUnits(ctx.views.ws, blk.layer, blk.j0, blk.j1);
    }
  },
  update: updateBlock,
  transpose(ctx, i) {
    if (fusedUpdate(ctx.kernel)) return;
    const run = ctx.myRuns[i]!;
    refreshTransposed(ctx.views.ws, ctx.kernel, run.layer, run.j0, run.j1);
  },
  meet(ctx, _slot, serial) {
    ctx.barrier.wait(serial, ctx);
  },
};

/**
 * The same phases, each followed by a lap of the clock. Laps are contiguous, so the
 * phases of a step add up to the step; a barrier's lap holds waiting only, and the serial
 * section run inside it (by the last arriver) goes to T_SERIAL. The step ends at its last
 * barrier (T_WAIT_UPDATE).
 */
function timedPhases(clock: StepClock): StepPhases {
  const p = plainPhases;
  const timedSerial = (serial: (ctx: ThreadContext) => void) => (ctx: ThreadContext) => {
    const start = performance.now();
    serial(ctx);
    clock.serialMs += performance.now() - start;
  };
  const serials = new Map([afterRows, afterNorms, afterUpdate].map((s) => [s, timedSerial(s)]));
  return {
    gather(ctx, step, global) { p.gather(ctx, step, global); clock.lap(T_GATHER); },
    firstLayer(ctx, B) { p.firstLayer(ctx, B); clock.lap(T_ROWS); },
    rows(ctx, r0, r1, B) { p.rows(ctx, r0, r1, B); clock.lap(T_ROWS); },
    reduce(ctx, i, B) { p.reduce(ctx, i, B); clock.lap(T_REDUCE); },
    norm(ctx, i) { p.norm(ctx, i); clock.lap(T_NORM); },
    update(ctx, i, gradScale) { p.update(ctx, i, gradScale); clock.lap(T_UPDATE); },
    transpose(ctx, i) { p.transpose(ctx, i); clock.lap(T_TRANSPOSE); },
    meet(ctx, slot, serial) {
      p.meet(ctx, slot, serial && serials.get(serial));
      clock.lapBarrier(slot);
      if (slot === T_WAIT_UPDATE) clock.endStep();
    },
  };
}

/** Copy this thread's rows of a step's batch, in this epoch's order, into the step's input buffer and targets. */
function gatherTrainRows(ctx: ThreadContext, step: number, global: number): void {
  const { ws, perm, splits, inputs } = ctx.views;
  const B = batchRows(ctx.settings, step);
  const r0 = rowStart(B, ctx.threads, ctx.rank);
  const r1 = rowStart(B, ctx.threads, ctx.rank + 1);
  const start = step * ctx.settings.batchSize;
  const input = inputs[global & 1];
  const train = splits[0];
  const d = ws.spec.inputs;
  const t = ws.targets;
  for (let r = r0; r < r1; r++) {
    const src = perm[start + r]!;
    input.set(train.x.subarray(src * d, src * d + d), r * d);
    if (t.kind === 'class') t.labels[r] = (train.y as Int32Array)[src]!;
    else {
      const o = t.values.length / ws.maxRows;
      t.values.set((train.y as Float32Array).subarray(src * o, src * o + o), r * o);
    }
  }
}

/**
 * Phase 3 for the i-th of this thread's runs: the optimizer on its parameters. A kernel with
 * the fused update (wasm) also writes the weights' Wᵀ columns in the same call, so the
 * transpose phase has nothing left to do; the others run applyRule here and transposeUnits
 * there. Both give applyRule's bits.
 */
function updateBlock(ctx: ThreadContext, i: number, gradScale: number): void {
  const { views, kernel, settings } = ctx;
  const { ws, optState } = views;
  const rule = ruleFor(settings.optimizer, ctx.position.lr, ctx.position.step + 1, gradScale);
  const ranges = ctx.myRanges[i]!;
  if (fusedUpdate(kernel)) {
    // ranges[0] is the run's weights (unitParamRanges), the rest its biases and slopes.
    const run = ctx.myRuns[i]!;
    const s = ws.layout.layers[run.layer]!;
    if (run.layer === 0 && ctx.firstLayerTransposed) {
      kernel.sgdUnitsTransposed!(rule, view(ws.paramsT, s.w), view(ws.grads, s.w), s.inputs, s.units, run.j0, run.j1);
    } else {
      const tensor = (a: Float32Array | undefined) => (a === undefined ? undefined : view(a, s.w));
      kernel.updateUnits!(rule, view(ws.params, s.w), view(ws.grads, s.w), tensor(optState[0]), tensor(optState[1]),
        view(ws.paramsT, s.w), s.inputs, s.units, run.j0, run.j1);
    }
    for (let r = 1; r < ranges.length; r++) kernel.update!(rule, ws.params, ws.grads, optState[0], optState[1], ranges[r]![0], ranges[r]![1]);
    return;
  }
  for (let r = 0; r < ranges.length; r++) applyRule(rule, ws.params, ws.grads, optState[0], optState[1], ranges[r]![0], ranges[r]![1]);
}

/** Whether the kernel's update also refreshes Wᵀ (then the transpose phase is empty). */
function fusedUpdate(kernel: Kernel<Float32Array>): boolean {
  return kernel.updateUnits !== undefined && kernel.update !== undefined;
}

/** updateRule, built once per step per thread, not once per block (its inputs change once per step). */
let lastRule: { cfg: OptimizerConfig; lr: number; t: number; gradScale: number; rule: UpdateRule } | undefined;
function ruleFor(cfg: OptimizerConfig, lr: number, t: number, gradScale: number): UpdateRule {
  const l = lastRule;
  if (l !== undefined && l.cfg === cfg && l.lr === lr && l.t === t && Object.is(l.gradScale, gradScale)) return l.rule;
  lastRule = { cfg, lr, t, gradScale, rule: updateRule(cfg, lr, t, gradScale) };
  return lastRule.rule;
}

// ---- Serial sections (run by the last thread to arrive at a barrier) ----------------

/** After the rows: the batch's losses, summed in row order. */
function afterRows(ctx: ThreadContext): void {
  accumulateStepLoss(ctx.views, ctx.position.rows, ctx.position.step);
}

/** With clipping: the global norm, from every block's Σg² in block order, and the scale it gives. */
function afterNorms(ctx: ThreadContext): void {
  const { views } = ctx;
  const total = sumNormCells(views);
  views.cells[cGradScale] = clipScale(Math.sqrt(total), ctx.settings.optimizer.clipNorm);
  if (!Number.isFinite(total)) markDiverged(views, ctx.position.step, total);
}

/** End of a step: publish progress, and turn a stop request into a halt. */
function afterUpdate(ctx: ThreadContext): void {
  const { views, position: pos } = ctx;
  const { ctl, cells } = views;
  // Unclipped steps updated without a norm barrier: a gradient that overflowed shows here.
  if (pos.wantNorms && !(ctx.settings.optimizer.clipNorm > 0)) {
    const total = sumNormCells(views);
    if (!Number.isFinite(total)) markDiverged(views, pos.step, total);
  }
  cells[cLastLr] = pos.lr;
  Atomics.store(ctl, kStep, pos.local + 1);
  if (Atomics.load(ctl, kStopRequest) !== 0 && pos.local + 1 < pos.to) {
    Atomics.store(ctl, kHalt, HALT_STOP);
    Atomics.store(ctl, kHaltStep, pos.step + 1);
  }
}

/** Σ of every block's squared gradient norm, in block order (the same sum on any thread count). */
function sumNormCells(views: SharedViews): number {
  let total = 0;
  for (let b = 0; b < views.normCells.length; b++) total += views.normCells[b]!;
  return total;
}

/**
 * Benchmark instrumentation: contiguous laps of performance.now() added to this rank's
 * timing cells (control.ts), so the phases of a step add up to the step.
 */
class StepClock {
  private stepStart = 0;
  private last = 0;
  serialMs = 0;
  constructor(private readonly cells: Float64Array, private readonly base: number) {}

  /** Start counting again after time spent outside the steps (between commands). */
  resume(): void {
    this.stepStart = this.last = performance.now();
  }

  lap(slot: number): void {
    const now = performance.now();
    this.cells[this.base + slot] += now - this.last;
    this.last = now;
  }

  /** The lap of a barrier: waiting only; a serial section run inside it goes to T_SERIAL. */
  lapBarrier(slot: number): void {
    const now = performance.now();
    const wait = now - this.last - this.serialMs;
    this.cells[this.base + slot] += wait;
    this.cells[this.base + T_BARRIERS] += 1;
    if (wait > 0.01) this.cells[this.base + T_WAITS_OVER_10US] += 1;
    if (wait > 0.05) this.cells[this.base + T_WAITS_OVER_50US] += 1;
    this.cells[this.base + T_SERIAL] += this.serialMs;
    this.serialMs = 0;
    this.last = now;
  }

  endStep(): void {
    this.cells[this.base + T_STEPS] += 1;
    this.cells[this.base + T_STEP_MS] += this.last - this.stepStart;
    this.stepStart = this.last;
  }
}

/** Serial part of the first barrier: the batch's losses, summed in row order. */
function accumulateStepLoss(views: SharedViews, B: number, step: number): void {
  const { ws, cells } = views;
  let loss = 0;
  let correct = 0;
  for (let r = 0; r < B; r++) {
    loss += ws.rowLoss[r]!;
    correct += ws.rowCorrect[r]!;
  }
  cells[cEpochLossSum] = cells[cEpochLossSum]! + loss;
  cells[cEpochCorrect] = cells[cEpochCorrect]! + correct;
  cells[cEpochRows] = cells[cEpochRows]! + B;
  cells[cLastLoss] = loss / B;
  if (!Number.isFinite(loss)) markDiverged(views, step, loss / B);
}

function markDiverged(views: SharedViews, step: number, value: number): void {
  views.cells[cDivergedLoss] = value;
  Atomics.store(views.ctl, kHaltStep, step);
  Atomics.store(views.ctl, kHalt, HALT_DIVERGED);
}

/**
 * Forward the rows of split `split` (0 train, 1 validation, 2 test) in blocks of the
 * workspace's size, writing the output pre-activations to evalOut. Each thread owns the
 * same workspace rows in every block — the split of a full block, clipped to a shorter
 * last one — so no thread ever writes a row another is still reading, and no barrier
 * is needed. (A split recomputed per block size would hand a fast thread rows a slow
 * thread is still using.)
 */
export function runEval(ctx: ThreadContext, split: number): void {
  const { ws, splits, evalOut } = ctx.views;
  const data = splits[split]!;
  const d = ws.spec.inputs;
  const L = ws.spec.layers.length;
  const out = ws.layout.layers[L - 1]!.units;
  const [own0, own1] = rowRange(ws.maxRows, ctx.threads, ctx.rank);
  for (let start = 0; start < data.n; start += ws.maxRows) {
    const rows = Math.min(ws.maxRows, data.n - start);
    const r0 = Math.min(own0, rows);
    const r1 = Math.min(own1, rows);
    if (r1 <= r0) continue;
    ws.input.set(data.x.subarray((start + r0) * d, (start + r1) * d), r0 * d);
    forwardRows(ws, ctx.kernel, r0, r1);
    evalOut.set(ws.z[L - 1]!.subarray(r0 * out, r1 * out), (start + r0) * out);
  }
}
