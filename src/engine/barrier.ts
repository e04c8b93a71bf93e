// A reusable barrier for the worker threads, on two words of the control block.
// Generation counting: read the generation BEFORE arriving (read after, and the last
// arriver could bump it in between, leaving a thread waiting on a generation that has
// already passed). The last arriver runs the step's serial bookkeeping, resets the
// count, then bumps the generation and notifies. Waiting is a bounded spin (see
// barrierSpin) then Atomics.wait with a timeout, so a thread always wakes to check the
// abort word: nothing ever waits without a way out.
//
// Memory order: every Atomics operation is sequentially consistent, and plain
// Float32Array writes made before arriving are visible to plain reads after leaving
// (a data-race-free program behaves sequentially consistently; ECMA-262 memory model).

import os from 'node:os';
import { kAbort, kBarrierCount, kBarrierGeneration } from './control.ts';

export class AbortedError extends Error {
  constructor() {
    super('training aborted by another thread');
    this.name = 'AbortedError';
  }
}

export interface Barrier {
  /**
   * Wait for every thread; `serial(arg)` runs once, in the last thread to arrive, before
   * anyone leaves. A function and its argument rather than a closure: nothing is
   * allocated per step.
   */
  wait<T>(serial?: (arg: T) => void, arg?: T): void;
}

/** The barrier of a single thread: nothing to wait for. */
export const soloBarrier: Barrier = {
  wait<T>(serial?: (arg: T) => void, arg?: T) {
    serial?.(arg as T);
  },
};

export function sharedBarrier(ctl: Int32Array, threads: number, spin = 2000, timeoutMs = 20): Barrier {
  return {
    wait<T>(serial?: (arg: T) => void, arg?: T) {
      const generation = Atomics.load(ctl, kBarrierGeneration);
      if (Atomics.add(ctl, kBarrierCount, 1) === threads - 1) {
        try {
          serial?.(arg as T);
        } finally {
          Atomics.store(ctl, kBarrierCount, 0);
          Atomics.add(ctl, kBarrierGeneration, 1);
          Atomics.notify(ctl, kBarrierGeneration);
        }
        if (Atomics.load(ctl, kAbort) !== 0) throw new AbortedError();
        return;
      }
      for (let i = 0; i < spin; i++) {
        if (Atomics.load(ctl, kBarrierGeneration) !== generation) return checkAbort(ctl);
      }
      while (Atomics.load(ctl, kBarrierGeneration) === generation) {
        Atomics.wait(ctl, kBarrierGeneration, generation, timeoutMs);
        if (Atomics.load(ctl, kAbort) !== 0) throw new AbortedError();
      }
      checkAbort(ctl);
    },
  };
}

function checkAbort(ctl: Int32Array): void {
  if (Atomics.load(ctl, kAbort) !== 0) throw new AbortedError();
}

/**
 * How many times a waiting thread checks the generation before it sleeps. With a core
 * per thread, spinning ~100 µs (about 20,000 loads) covers most waits of a training
 * step, and a sleeping thread takes 25–30 µs to wake. With more threads than cores a
 * spinning thread steals the core the late thread needs, so spin only briefly.
 */
export function barrierSpin(threads: number, cores = os.availableParallelism()): number {
  return threads <= cores ? 20_000 : 200;
}

/** Raise the abort flag and wake every waiter. */
export function raiseAbort(ctl: Int32Array): void {
  Atomics.store(ctl, kAbort, 1);
  Atomics.notify(ctl, kBarrierGeneration);
  Atomics.notify(ctl, kBarrierCount);
}
