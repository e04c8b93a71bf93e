// How many threads a run uses when the user leaves it to the engine (threads "auto").
// The bits do not depend on the thread count, so this is purely a question of speed:
// a thread pays for itself only when its share of a step's work is larger than what
// the step's barriers cost it. The plan reads the step's work — FLOPs, rows per thread,
// layer-0 unit blocks per thread — and takes the most threads for which every thread
// still gets a worthwhile share; it never takes more threads than cores. Then the run's
// first steps are timed on those threads and on one, and the faster is kept (ThreadTrial).

import { paramLayout } from '../model/layout.ts';
import type { ModelSpec } from '../model/spec.ts';
import { unitBlockCount } from './partition.ts';

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
 * barriers. A step meets at three barriers (four with clipping); the barrier probe of
 * bench/RESULTS.md measured 6–36 µs of overhead per barrier on 2 cores, and the kernels run
 * at roughly 10–20 GFLOP/s on these shapes, so 4 MFLOP (0.2–0.4 ms) is several times what a
 * thread's barriers cost it. Issue 11 measured the two ends: the 16-128-64-26 net at batch
 * 32 (2.2 MFLOP a step) ran 1.5× slower on 2 threads than on 1, while MNIST at batch 32
 * (32 MFLOP) ran faster on 2 in bench/scaling.ts. The timing trial (ThreadTrial) checks
 * the plan on the machine as it is.
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
  // Counted, not built: a layer of 1e9 units would make 62.5M block objects.
  const layout = paramLayout(spec);
  const firstLayerBlocks = unitBlockCount({ ...layout, layers: layout.layers.slice(0, 1) });
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
export const TRIAL_MS = 50;
/** Steps of each warm-up chunk: new worker threads compile the step code during their first steps. */
export const TRIAL_WARM_STEPS = 8;
/** The fewest steps in a timed chunk: fewer, and one slow step (a page fault, a preempted thread) decides. */
export const TRIAL_MIN_STEPS = 4;
/** Timed rounds per candidate (after one warm-up round each); the median decides. */
export const TRIAL_ROUNDS = 3;
/** More threads are kept only when at least this much faster than one (one is the safe choice). */
export const TRIAL_MARGIN = 0.95;

/**
 * The timed part of "auto": the run's first steps alternate between the planned threads
 * and this thread alone, in chunks (a warm-up chunk each, then TRIAL_ROUNDS timed rounds),
 * and the faster is kept. The plan reads the step's work but not what else the machine is
 * doing (other processes on the cores turn every barrier into a wait for a descheduled
 * thread). The trial's steps are the run's own first steps — nothing is repeated or undone,
 * and the bits are the same whichever thread count runs them. Engine.train drives it.
 */
export class ThreadTrial {
  private readonly times: [number[], number[]] = [[], []];
  private chunk = 0;
  private steps: number;
  /** Steps and milliseconds of the current chunk so far: a chunk may span several commands (an epoch's end cuts it). */
  private doneSteps = 0;
  private doneMs = 0;
  private warmPerStep = 0;

  constructor(readonly plan: ThreadPlan, private readonly trialMs = TRIAL_MS, warmSteps = TRIAL_WARM_STEPS) {
    this.steps = warmSteps;
  }

  /** Whether the current chunk runs on this thread alone (else on the planned threads). */
  get alone(): boolean {
    return this.chunk % 2 === 0;
  }

  /** Steps left in the current chunk. */
  get chunkSteps(): number {
    return this.steps - this.doneSteps;
  }

  get finished(): boolean {
    return this.chunk >= 2 * (TRIAL_ROUNDS + 1);
  }

  /** Part of the current chunk ran: `steps` steps in `ms`. After the warm-up pair the chunk size is set from the slower of the two. */
  record(steps: number, ms: number): void {
    this.doneSteps += steps;
    this.doneMs += ms;
    if (this.doneSteps < this.steps) return;
    const perStep = this.doneMs / this.doneSteps;
    if (this.chunk >= 2) this.times[this.alone ? 0 : 1].push(perStep);
    else if (this.chunk === 1) this.steps = Math.max(TRIAL_MIN_STEPS, Math.round(this.trialMs / Math.max(perStep, this.warmPerStep)));
    else this.warmPerStep = perStep;
    this.chunk++;
    this.doneSteps = 0;
    this.doneMs = 0;
  }

  /** The outcome once finished: the thread count to keep, and the plan's reason with what was timed. */
  decide(): ThreadPlan {
    const one = median(this.times[0]);
    const many = median(this.times[1]);
    const n = this.plan.threads;
    const timed = `timed ${TRIAL_ROUNDS} chunks of ${this.steps} steps each way: ${one.toFixed(2)} ms a step on 1 thread, ${many.toFixed(2)} on ${n}`;
    if (many <= TRIAL_MARGIN * one) return { threads: n, reason: `${this.plan.reason}; ${timed}: kept ${n}` };
    return { threads: 1, reason: `${this.plan.reason}; ${timed}: 1 thread is as fast or faster here, so 1` };
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
