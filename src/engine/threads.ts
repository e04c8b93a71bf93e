// How many threads a run uses when the user leaves it to the engine (threads "auto").
// The bits do not depend on the thread count, so this is purely a question of speed:
// a thread pays for itself only when its share of a step's work is larger than what
// the step's barriers cost it. The plan reads the step's work — FLOPs, rows per thread,
// layer-0 unit blocks per thread — and takes the most threads for which every thread
// still gets a worthwhile share; it never takes more threads than cores.

import type { ModelSpec } from '../model/spec.ts';
import { unitBlocks } from './partition.ts';
import { paramLayout } from '../model/layout.ts';

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
