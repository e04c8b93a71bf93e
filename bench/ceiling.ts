// bench/ceiling.ts — this machine's own 128-bit multiply + add ceiling, measured in
// WebAssembly: one loop of independent f32x4.mul chains and f32x4.add chains, nothing
// else (no loads, no stores). It is what the kernels could reach at best on this core under
// the kernel contract (f32x4.mul then f32x4.add, never fused), so bench/matmul.ts reports
// every kernel cell as a share of it instead of a peak copied from another machine.
//
// Enough chains: a chain issues one operation per latency (mul 3–5 cycles, add 2–4 on
// current x86), so covering latency × throughput needs several of each in flight. How many
// depends on the core, and too many spill out of the 16 xmm registers V8 allocates from,
// so every count in CHAIN_COUNTS is timed and the best is the ceiling. The multiplier (1)
// and addend (0) arrive as parameters, so the compiler cannot fold them, and keep every
// value at 1: no denormals, no overflow, however long the loop runs.

import wabtInit from 'wabt';
import { Cell } from './common.ts';

/** Independent mul chains (and as many add chains) per loop body. */
export const CHAIN_COUNTS = [3, 4, 5, 6, 7] as const;

/** The body is unrolled so the loop's counter, branch and V8's interrupt check are a small share. */
const UNROLL = 4;

/** The .wat of one ceiling loop with n mul and n add chains: run(iterations) per call. */
export function ceilingWat(n: number): string {
  const locals: string[] = [], init: string[] = [], body: string[] = [], keep: string[] = [];
  for (let i = 0; i < n; i++) {
    locals.push(`(local $m${i} v128) (local $a${i} v128)`);
    init.push(`(local.set $m${i} (local.get $one)) (local.set $a${i} (local.get $one))`);
    keep.push(`(local.set $sink (f32x4.add (local.get $sink) (f32x4.add (local.get $m${i}) (local.get $a${i}))))`);
  }
  for (let u = 0; u < UNROLL; u++) {
    for (let i = 0; i < n; i++) {
      body.push(`(local.set $m${i} (f32x4.mul (local.get $m${i}) (local.get $k)))`);
      body.push(`(local.set $a${i} (f32x4.add (local.get $a${i}) (local.get $z)))`);
    }
  }
  return `(module
  (func (export "run") (param $iterations i32) (param $mul f32) (param $add f32) (result f32)
    (local $one v128) (local $k v128) (local $z v128) (local $sink v128) ${locals.join(' ')}
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $k (f32x4.splat (local.get $mul)))
    (local.set $z (f32x4.splat (local.get $add)))
    ${init.join('\n    ')}
    (block $done
      (br_if $done (i32.eqz (local.get $iterations)))
      (loop $body
        ${body.join('\n        ')}
        (br_if $body (local.tee $iterations (i32.sub (local.get $iterations) (i32.const 1))))))
    ${keep.join('\n    ')}
    (f32x4.extract_lane 0 (local.get $sink))))`;
}

export interface CeilingLoop {
  chains: number;
  /** Floating-point operations per iteration: 2·chains·UNROLL vector ops of 4 lanes. */
  flopsPerIteration: number;
  run(iterations: number): void;
}

/** Compiles one loop per chain count (wabt, SIMD only: the same features as the kernels). */
export async function ceilingLoops(): Promise<CeilingLoop[]> {
  const wabt = await wabtInit();
  return CHAIN_COUNTS.map((n) => {
    const module = wabt.parseWat(`ceiling${n}.wat`, ceilingWat(n), { simd: true });
    try {
      module.validate();
      const bytes = Uint8Array.from(module.toBinary({ write_debug_names: false }).buffer);
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      const run = instance.exports.run as (iterations: number, mul: number, add: number) => number;
      return {
        chains: n,
        flopsPerIteration: 2 * n * UNROLL * 4,
        run(iterations: number) {
          if (run(iterations, 1, 0) !== 2 * n + 0) throw new Error(`ceiling loop (${n} chains) computed a wrong value`);
        },
      };
    } finally {
      module.destroy();
    }
  });
}

/**
 * One timed cell per chain count, sampled in the same rounds as the kernels they are compared
 * with (so both see the same load); `best()` is the ceiling: the fastest count's median.
 */
export class Ceiling {
  private constructor(private readonly cells: { loop: CeilingLoop; cell: Cell; iterations: number }[]) {}

  static async create(minMs: number): Promise<Ceiling> {
    const iterations = 1 << 14;
    return new Ceiling((await ceilingLoops()).map((loop) => ({ loop, iterations, cell: new Cell(() => loop.run(iterations), minMs) })));
  }

  sample(repeats: number): void {
    for (const { cell } of this.cells) cell.sample(repeats);
  }

  /** GFLOP/s of each chain count, from its median sample (or its fastest). */
  each(stat: 'median' | 'fastest' = 'median'): { chains: number; gflops: number }[] {
    return this.cells.map(({ loop, cell, iterations }) => ({
      chains: loop.chains, gflops: (loop.flopsPerIteration * iterations) / (stat === 'median' ? cell.median() : cell.fastest()) / 1e9,
    }));
  }

  best(stat: 'median' | 'fastest' = 'median'): { chains: number; gflops: number } {
    return this.each(stat).reduce((a, b) => (b.gflops > a.gflops ? b : a));
  }

  describe(): string {
    const best = this.best();
    return `${best.gflops.toFixed(1)} GFLOP/s (best of ${this.each().map((e) => `${e.chains}+${e.chains} chains ${e.gflops.toFixed(1)}`).join(', ')}; ` +
      `from the fastest samples: ${this.best('fastest').gflops.toFixed(1)})`;
  }
}
