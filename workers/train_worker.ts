// The Piscina task each worker thread runs once per training run: rebuild the shared
// views from the plan, take a rank, then serve the coordinator's commands until EXIT.
// No top-level await here: under tsx on Node 20 worker modules are loaded through the
// CommonJS hook, where top-level await fails.

import { barrierSpin, raiseAbort, sharedBarrier, AbortedError } from '../src/engine/barrier.ts';
import { commandLoop } from '../src/engine/command_loop.ts';
import { kCommandSeq, kFailedRank, kFailedStep, kRankCounter, kReady } from '../src/engine/control.ts';
import { kernelScratchFor, layoutShared, type PlanInput } from '../src/engine/plan.ts';
import { threadContext, type RunSettings } from '../src/engine/program.ts';
import { createKernel } from '../src/kernels/select.ts';

export interface WorkerTask {
  readonly memory: WebAssembly.Memory;
  readonly plan: PlanInput;
  readonly settings: RunSettings;
  readonly kernel: 'wasm' | 'js';
  readonly threads: number;
}

export default function trainWorker(task: WorkerTask): number {
  const { views } = layoutShared(task.memory.buffer, task.plan);
  const ctl = views.ctl;
  const rank = Atomics.add(ctl, kRankCounter, 1);
  const ctx = threadContext(views, createKernel(task.kernel, task.memory, kernelScratchFor(views, rank)), rank, task.threads, sharedBarrier(ctl, task.threads, barrierSpin(task.threads)), task.settings);
  const seen = Atomics.load(ctl, kCommandSeq);
  Atomics.add(ctl, kReady, 1);
  Atomics.notify(ctl, kReady);
  try {
    commandLoop(ctx, seen);
  } catch (error) {
    if (!(error instanceof AbortedError) && Atomics.compareExchange(ctl, kFailedRank, 0, rank + 1) === 0) {
      Atomics.store(ctl, kFailedStep, ctx.position.step);
    }
    raiseAbort(ctl);
    throw error;
  }
  return rank;
}
