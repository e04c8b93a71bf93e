// Packing whole runs onto the cores. Every run declares how many threads it uses; runs
// start in list order as long as the threads of the running ones stay within the cores
// (a later run that fits starts before an earlier one that does not), so the machine is
// never oversubscribed and never idles while a run that fits is waiting.

/** Multiply-adds per step per thread below which another thread costs more than it brings. */
// The 16-128-64-26 net at batch 32 (≈ 0.4 M multiply-adds per step forward) runs 1.5×
// slower on 2 threads than on 1, while the MNIST net at batch 128 (≈ 30 M) runs 1.7×
// faster (bench/RESULTS.md): a thread is worth adding for every ~4 M.
export const WORK_PER_THREAD = 4_000_000;

/**
 * Threads for one run, from the size of a step: one for small nets, up to `cores` for big
 * ones. A run's result is the same bits for any thread count, so this only decides speed.
 */
export function threadsForRun(inputs: number, units: readonly number[], batchSize: number | 'full', trainRows: number, cores: number): number {
  const batch = batchSize === 'full' ? trainRows : Math.min(batchSize, trainRows);
  let params = 0;
  let fanIn = inputs;
  for (const u of units) {
    params += (fanIn + 1) * u;
    fanIn = u;
  }
  return Math.max(1, Math.min(cores, Math.floor((batch * params) / WORK_PER_THREAD)));
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
