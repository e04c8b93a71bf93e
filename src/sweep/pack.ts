// Packing whole runs onto the cores. Every run declares how many threads it uses; runs
// start in list order as long as the threads of the running ones stay within the cores
// (a later run that fits starts before an earlier one that does not), so the machine is
// never oversubscribed and never idles while a run that fits is waiting.

import { planThreads, stepWork } from '../engine/threads.ts';
import type { ModelSpec } from '../model/spec.ts';

/**
 * Threads for one run: the engine's plan for its step (engine/threads.ts: one thread for a
 * small net, more while each still gets enough work to pay for its barriers), up to
 * `cores`. Decided before the run starts, so that runs can be packed; train()'s own timed
 * trial of "auto" is left out. A run's result is the same bits for any thread count, so
 * this only decides speed.
 */
export function threadsForRun(spec: ModelSpec, batchSize: number | 'full', trainRows: number, cores: number): number {
  const rows = batchSize === 'full' ? trainRows : Math.min(batchSize, trainRows);
  return planThreads(stepWork(spec, rows), cores).threads;
}

/**
 * Run `items` with `start`, at most `cores` threads' worth at a time (each item's from
 * `threadsOf`, which must be in [1, cores]). `start` must not reject: it records its own
 * failures. Once `stopped()` is true no more items start; the call returns when the
 * running ones have settled.
 */
export async function packRuns<T>(
  items: readonly T[], threadsOf: (item: T) => number, cores: number, start: (item: T) => Promise<void>, stopped: () => boolean,
): Promise<void> {
  for (const item of items) {
    const threads = threadsOf(item);
    if (!Number.isInteger(threads) || threads < 1 || threads > cores) throw new RangeError(`packRuns: a run asks for ${threads} threads, outside [1, ${cores}]`);
  }
  const pending = [...items];
  const running = new Set<Promise<void>>();
  let free = cores;
  for (;;) {
    if (stopped()) pending.length = 0;
    for (let i = 0; i < pending.length && free > 0; ) {
      const threads = threadsOf(pending[i]!);
      if (threads > free) {
        i++;
        continue;
      }
      const item = pending.splice(i, 1)[0]!;
      free -= threads;
      const task: Promise<void> = start(item).finally(() => {
        free += threads;
        running.delete(task);
      });
      running.add(task);
    }
    if (running.size === 0) return;
    await Promise.race(running);
  }
}
