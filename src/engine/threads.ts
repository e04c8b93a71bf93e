// How many threads a run uses when the user leaves it to the engine (threads "auto").
// The bits do not depend on the thread count, so this is purely a question of speed:
// a thread pays for itself only when its share of a step's work is larger than what
// the step's barriers cost it. The plan reads the step's work — FLOPs, rows per thread,
// layer-0 unit blocks per thread — and takes the most threads for which every thread
// still gets a worthwhile share; it never takes more threads than cores. Then, for a run
// long enough to afford it, the first steps are timed on those threads and on one, and the
// faster is kept (tuneThreads).

import { paramLayout } from '../model/layout.ts';
import type { ModelSpec } from '../model/spec.ts';
import type { Engine } from './engine.ts';
import { unitBlocks } from './partition.ts';

/** What one training step asks of the threads. */
export interface StepWork {
  /** Floating-point operations of one step: forward, dX and dW products (2 per multiply-add). */
  readonly flops: number;
  /** Rows in a (full) batch. */
  readonly rows: number;
  /** Unit blocks of layer 0: its forward pass is split by them (engine/partition.ts). */
  readonly firstLayerBlocks: number;
}

export interface ThreadPlan {
  readonly threads: number;
  /** One line for people: what was chosen and why. */
  readonly reason: string;
}

/**
 * The least work, in FLOPs per step, that one more thread must get to be worth its
 * barriers. Each step meets at three or four barriers; on the 2-core Xeon of bench/RESULTS.md
 * a barrier where one thread arrives late costs it 10–30 µs of spinning or waking, and the
 * kernels run at 10–20 GFLOP/s: 4 MFLOP is 0.2–0.4 ms of work, several times the barriers'
 * cost (the small 16-128-64-26 net at batch 32, 2.3 MFLOP a step, is 1.5× slower on two
 * threads than on one; MNIST at batch 32, 45 MFLOP, is faster on two).
 */
export const MIN_FLOPS_PER_THREAD = 4e6;
/** Rows are split in groups of 8 (engine/partition.ts rowRange): fewer leave a thread without rows. */
export const MIN_ROWS_PER_THREAD = 8;

export function stepWork(spec: ModelSpec, rows: number): StepWork {
  let macs = 0;
  let inputs = spec.inputs;
  spec.layers.forEach((layer, l) => {
    // Forward and dW for every layer; dX for every layer but the first.
    macs += rows * inputs * layer.units * (l === 0 ? 2 : 3);
    inputs = layer.units;
  });
  const firstLayerBlocks = unitBlocks(paramLayout(spec)).filter((b) => b.layer === 0).length;
  return { flops: 2 * macs, rows, firstLayerBlocks };
}

/** The most threads, up to `cores`, for which each one still gets enough rows, layer-0 blocks and FLOPs. */
export function planThreads(work: StepWork, cores: number): ThreadPlan {
  const byFlops = Math.floor(work.flops / MIN_FLOPS_PER_THREAD);
  const byRows = Math.floor(work.rows / MIN_ROWS_PER_THREAD);
  const threads = Math.max(1, Math.min(cores, byFlops, byRows, work.firstLayerBlocks));
  const mflops = (work.flops / 1e6).toFixed(1);
  const per = `${(work.flops / threads / 1e6).toFixed(1)} MFLOP and ${Math.floor(work.rows / threads)} rows per thread`;
  const limits: string[] = [];
  if (byFlops < cores && threads === Math.max(1, byFlops)) limits.push(`each thread needs ${MIN_FLOPS_PER_THREAD / 1e6} MFLOP a step to pay for its barriers`);
  if (byRows < cores && threads === Math.max(1, byRows)) limits.push(`each thread needs ${MIN_ROWS_PER_THREAD} rows of the batch`);
  if (work.firstLayerBlocks < cores && threads === work.firstLayerBlocks) limits.push(`the first layer has ${work.firstLayerBlocks} unit block(s) to share`);
  const why = threads === cores ? `one per core (${cores})` : `not ${cores} (one per core): ${limits.join('; ')}`;
  return { threads, reason: `threads auto: ${threads} — ${mflops} MFLOP a step, ${per}; ${why}` };
}

/** Milliseconds of steps each candidate runs per timed round: long enough to see past a barrier's noise. */
export const TRIAL_MS = 40;
/** The trial may cost at most this share of the run's expected time; shorter runs keep the plan untimed. */
export const TRIAL_SHARE = 0.05;
/** More threads are kept only when they are at least this much faster than one (one is the safe choice). */
export const TRIAL_MARGIN = 0.95;

/**
 * Time the first steps on the planned threads and on this thread alone, interleaved, and
 * keep the faster. The plan reads the step's work but not what else the machine is doing
 * (other processes on the cores turn every barrier into a wait for a descheduled thread).
 * Same bits either way: the trial's steps are undone (saveState) and the run starts at step 0.
 */
export async function tuneThreads(engine: Engine, plan: ThreadPlan, stepsPerEpoch: number, totalSteps: number): Promise<ThreadPlan> {
  if (plan.threads === 1 || engine.threads === 1) return plan;
  const perm = engine.views.perm;
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  const restore = engine.saveState();
  try {
    const warm = Math.min(stepsPerEpoch, 4);
    const estimate = Math.max(await engine.timeSteps(warm, true), await engine.timeSteps(warm, false));
    const steps = Math.max(3, Math.min(stepsPerEpoch, Math.round(TRIAL_MS / estimate)));
    const rounds = 3;
    if (2 * rounds * steps * estimate > TRIAL_SHARE * totalSteps * estimate) {
      return { threads: plan.threads, reason: `${plan.reason}; not timed (the run is too short to pay for a trial)` };
    }
    const one: number[] = [];
    const many: number[] = [];
    for (let r = 0; r < rounds; r++) {
      one.push(await engine.timeSteps(steps, true));
      many.push(await engine.timeSteps(steps, false));
    }
    const t1 = median(one);
    const tn = median(many);
    const timed = `timed ${steps} steps ×${rounds}: ${t1.toFixed(2)} ms a step on 1 thread, ${tn.toFixed(2)} on ${plan.threads}`;
    if (tn <= TRIAL_MARGIN * t1) return { threads: plan.threads, reason: `${plan.reason}; ${timed}: kept ${plan.threads}` };
    await engine.useOneThread();
    return { threads: 1, reason: `${plan.reason}; ${timed}: 1 thread is as fast or faster here, so 1` };
  } finally {
    restore();
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
