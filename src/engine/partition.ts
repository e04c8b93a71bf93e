// How the work of a step is shared between threads: the rows of a batch (phase 1) and
// the fixed blocks of output units (phases 2 and 3, and layer 0's forward). Blocks depend
// on the model only, never on the thread count, so every fixed-order sum over them (the
// gradient norms) has the same bits whoever computes it; only which rank owns a block
// changes with the thread count.

import type { ParamLayout } from '../model/layout.ts';

/** A block of output units of one layer: the unit of work in phases 2 and 3. */
export interface UnitBlock {
  readonly layer: number;
  readonly j0: number;
  readonly j1: number;
  /** Relative cost: rows × inputs per unit × units. */
  readonly cost: number;
}

/**
 * Split every layer into blocks of `size` units. Fixed for a model, whatever the thread
 * count. 16 units are one 64-byte line of b (and of each Wᵀ row when the layer's width is
 * a multiple of 16), so two threads never write the same cache line in phase 3.
 */
export function unitBlocks(layout: ParamLayout, size = 16): UnitBlock[] {
  const blocks: UnitBlock[] = [];
  layout.layers.forEach((s, l) => {
    for (let j0 = 0; j0 < s.units; j0 += size) {
      const j1 = Math.min(s.units, j0 + size);
      blocks.push({ layer: l, j0, j1, cost: (j1 - j0) * (s.inputs + 2) });
    }
  });
  return blocks;
}

/** How many blocks `unitBlocks(layout, size)` makes, without making them (a plan of 1e9 units is sized, not built). */
export function unitBlockCount(layout: ParamLayout, size = 16): number {
  return layout.layers.reduce((k, s) => k + Math.ceil(s.units / size), 0);
}

/**
 * The blocks each rank reduces and updates (indices into `blocks`), balanced by cost.
 * Every layer is split across the ranks, rather than whole layers handed out: the
 * weights of layers above the first are read by every thread in the backward pass, so
 * the thread that updates them must pull their cache lines back from the other cores
 * each step. Giving each thread its share of every layer makes that traffic the same for
 * all threads instead of slowing down the one that owns the upper layers. Within a layer
 * a rank's blocks are contiguous; a layer with fewer blocks than ranks gives its blocks
 * to the least-loaded ranks.
 */
export function assignBlocks(blocks: readonly UnitBlock[], threads: number): number[][] {
  const owned: number[][] = Array.from({ length: threads }, () => []);
  const load = new Array<number>(threads).fill(0);
  const lightestFirst = () => Array.from({ length: threads }, (_, t) => t).sort((a, b) => load[a]! - load[b]! || a - b);
  for (let start = 0; start < blocks.length; ) {
    let end = start;
    while (end < blocks.length && blocks[end]!.layer === blocks[start]!.layer) end++;
    const count = end - start;
    const order = lightestFirst();
    // Parts of floor/ceil(count / threads) blocks; the larger parts go to the lighter ranks.
    let next = start;
    for (let i = 0; i < threads && next < end; i++) {
      const size = Math.floor(count / threads) + (i < count % threads ? 1 : 0);
      const rank = order[i]!;
      for (let k = 0; k < size; k++, next++) {
        owned[rank]!.push(next);
        load[rank]! += blocks[next]!.cost;
      }
    }
    start = end;
  }
  return owned;
}

/** Consecutive blocks of one layer owned by one thread, merged for phases 2 and 3. */
export interface UnitRun {
  readonly layer: number;
  readonly j0: number;
  readonly j1: number;
  /** Indices into the model's blocks: the gradient norms are still summed block by block. */
  readonly blocks: readonly number[];
}

/**
 * Weights per run at most (128 KiB of float32 gradients): a run's gradient is summed, then
 * updated, then transposed, and should still be in the core's L2 cache for the last two.
 */
export const MAX_RUN_WEIGHTS = 32 * 1024;

/**
 * A thread's blocks (`mine`, in order) merged into runs of adjacent units of one layer, so
 * that phases 2 and 3 call each kernel once per run instead of once per 16-unit block: on a
 * small net the calls, not the arithmetic, are most of a step. The bits do not change: every
 * gradient element is the same fixed-order sum over rows whatever unit range it is computed
 * in, and the update and the transpose work element by element.
 */
export function unitRuns(blocks: readonly UnitBlock[], mine: readonly number[], layout: ParamLayout): UnitRun[] {
  const runs: { layer: number; j0: number; j1: number; blocks: number[] }[] = [];
  for (const b of mine) {
    const blk = blocks[b]!;
    const last = runs[runs.length - 1];
    const inputs = layout.layers[blk.layer]!.inputs;
    if (last && last.layer === blk.layer && last.j1 === blk.j0 && (blk.j1 - last.j0) * inputs <= MAX_RUN_WEIGHTS) {
      last.j1 = blk.j1;
      last.blocks.push(b);
    } else {
      runs.push({ layer: blk.layer, j0: blk.j0, j1: blk.j1, blocks: [b] });
    }
  }
  return runs;
}

/**
 * Rows [r0, r1) of a batch of B rows for one rank. Splits fall on multiples of 8 rows when
 * every rank still gets a group of 8: whole SIMD tiles (4 rows), and for the common layer
 * widths whole cache lines of the per-row buffers, so neighbouring threads do not write
 * the same line. With fewer rows than that (many threads, a small batch) the groups
 * shrink to 4 rows, then to 1, so that no thread sits idle while others work. Any split
 * gives the same bits: rows are independent in phase 1.
 */
export function rowRange(B: number, threads: number, rank: number): [number, number] {
  return [rowStart(B, threads, rank), rowStart(B, threads, rank + 1)];
}

/** r0 of rowRange, without the allocation: the step loop calls it for r0 and r1. */
export function rowStart(B: number, threads: number, rank: number): number {
  const group = B >= 8 * threads ? 8 : B >= 4 * threads ? 4 : 1;
  return Math.min(B, Math.floor((Math.ceil(B / group) * rank) / threads) * group);
}
