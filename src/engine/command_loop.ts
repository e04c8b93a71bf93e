// The loop each worker thread runs for the whole training run: wait for the
// coordinator's next command on the control block, run it with the other threads, count
// itself done, repeat until EXIT. One long-lived task per thread, no message per step.

import { AbortedError } from './barrier.ts';
import {
  CMD_EVAL, CMD_EXIT, CMD_TRAIN, kAbort, kArgEpoch, kArgSplit, kArgStepFrom, kArgStepTo, kCommandSeq, kCommandType, kDone,
} from './control.ts';
import { runEval, runTrainSteps, syncFirstLayer, type ThreadContext } from './program.ts';

/**
 * `seen` must be read before the thread announces itself ready: the coordinator posts
 * the first command as soon as every thread is ready, and a thread that read the
 * sequence after that would wait for a command that has already been posted.
 */
export function commandLoop(ctx: ThreadContext, seen: number): void {
  const ctl = ctx.views.ctl;
  for (;;) {
    let seq: number;
    while ((seq = Atomics.load(ctl, kCommandSeq)) === seen) {
      Atomics.wait(ctl, kCommandSeq, seen, 50);
      if (Atomics.load(ctl, kAbort) !== 0) throw new AbortedError();
    }
    seen = seq;
    const type = Atomics.load(ctl, kCommandType);
    if (type === CMD_EXIT) return;
    if (type === CMD_TRAIN) {
      runTrainSteps(ctx, Atomics.load(ctl, kArgEpoch), Atomics.load(ctl, kArgStepFrom), Atomics.load(ctl, kArgStepTo));
      syncFirstLayer(ctx); // before counting itself done: the coordinator reads the weights next
    } else if (type === CMD_EVAL) {
      runEval(ctx, Atomics.load(ctl, kArgSplit));
    }
    Atomics.add(ctl, kDone, 1);
    Atomics.notify(ctl, kDone);
  }
}
