// bench/matmul_ab.ts — A/B timing of kernel variants: the committed matmul.wat against other
// .wat files (candidate tile shapes, unrolling, ...), each built with wabt as build_wasm.ts
// builds the real one, all instantiated on one shared memory and timed interleaved in one
// process, round by round, together with this machine's 128-bit ceiling (bench/ceiling.ts).
// So a variant's ratio to the committed kernel is measured side by side, under the same load.
//
//   npx tsx bench/matmul_ab.ts [--wat FILE]... [--rounds R] [--repeats N] [--min-ms MS]
//
// Before timing, every variant must give the js kernel's bits on every shape and product
// (and on the fused ReLU epilogues): a variant that changes the contract is rejected, not timed.

import path from 'node:path';
import { jsKernel } from '../src/kernels/blocked.ts';
import { buildMatmulWasm } from '../src/kernels/build_wasm.ts';
import type { Kernel } from '../src/kernels/kernel.ts';
import { createWasmKernel, kernelScratchBytes, matmulModule } from '../src/kernels/wasm.ts';
import { createRng } from '../src/rng.ts';
import { Ceiling } from './ceiling.ts';
import { Cell, command, load, machine, median, revision, table, viewAllocator } from './common.ts';

type Op = 'forward' | 'dW' | 'dX';
const OPS: Op[] = ['forward', 'dW', 'dX'];
interface Shape { B: number; IN: number; OUT: number }
/** The MLP's layer shapes and the squares of issue 11. */
export const MLP_SHAPES: Shape[] = [
  { B: 128, IN: 784, OUT: 256 }, { B: 128, IN: 256, OUT: 128 }, { B: 256, IN: 256, OUT: 256 }, { B: 512, IN: 512, OUT: 512 },
];

interface Args { wats: string[]; rounds: number; repeats: number; minMs: number }

function parseArgs(argv: string[]): Args {
  const args: Args = { wats: [], rounds: 5, repeats: 3, minMs: 20 };
  const usage = 'npx tsx bench/matmul_ab.ts [--wat FILE]... [--rounds R] [--repeats N] [--min-ms MS]';
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i], value = argv[i + 1];
    if (value === undefined) throw new Error(`bench/matmul_ab.ts: ${String(flag)} needs a value\nhint: ${usage}`);
    if (flag === '--wat') args.wats.push(value);
    else if (flag === '--rounds') args.rounds = Math.max(1, Number(value));
    else if (flag === '--repeats') args.repeats = Math.max(1, Number(value));
    else if (flag === '--min-ms') args.minMs = Number(value);
    else throw new Error(`bench/matmul_ab.ts: unknown argument ${String(flag)}\nhint: ${usage}`);
  }
  return args;
}

interface Arrays { x: Float32Array; wt: Float32Array; w: Float32Array; b: Float32Array; dout: Float32Array;
  out: Float32Array; a: Float32Array; dw: Float32Array; db: Float32Array; dx: Float32Array; z: Float32Array }

function arraysIn(memory: WebAssembly.Memory, s: Shape, base: number): { arrays: Arrays; end: number } {
  const views = viewAllocator(memory, base);
  const alloc = views.alloc;
  const { B, IN, OUT } = s;
  const arrays: Arrays = { x: alloc(B * IN), wt: alloc(IN * OUT), w: alloc(OUT * IN), b: alloc(OUT), dout: alloc(B * OUT),
    out: alloc(B * OUT), a: alloc(B * OUT), dw: alloc(OUT * IN), db: alloc(OUT), dx: alloc(B * IN), z: alloc(B * IN) };
  const rng = createRng(B * 1000003 + IN * 1009 + OUT);
  for (const a of [arrays.x, arrays.w, arrays.b, arrays.dout, arrays.z]) for (let i = 0; i < a.length; i++) a[i] = rng.uniform() * 2 - 1;
  jsKernel.transposeUnits(arrays.wt, arrays.w, IN, OUT, 0, OUT);
  return { arrays, end: views.end };
}

function runOp(k: Kernel, op: Op, l: Arrays, s: Shape, relu = false): void {
  const { B, IN, OUT } = s;
  if (op === 'forward') k.linearForward(l.out, l.x, l.wt, l.b, B, IN, OUT, relu ? l.a : undefined);
  else if (op === 'dW') k.linearBackwardWeights(l.dw, l.db, l.dout, l.x, B, IN, OUT, 0, OUT);
  else k.linearBackwardInput(l.dx, l.dout, l.w, B, IN, OUT, relu ? l.z : undefined);
}

const outputs = (l: Arrays, op: Op): Float32Array[] =>
  (op === 'forward' ? [l.out, l.a] : op === 'dW' ? [l.dw, l.db] : [l.dx]).map((a) => a.slice());

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.length === ub.length && ua.every((v, i) => v === ub[i]);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const variants: { name: string; module: WebAssembly.Module }[] = [{ name: 'committed', module: matmulModule() }];
  for (const file of args.wats) variants.push({ name: path.basename(file, '.wat'), module: new WebAssembly.Module(await buildMatmulWasm(path.resolve(file))) });

  let bytes = 0;
  for (const s of MLP_SHAPES) bytes += 4 * (3 * s.B * s.IN + 3 * s.IN * s.OUT + 3 * s.B * s.OUT + 2 * s.OUT) + 11 * 64;
  // Each kernel's own scratch (dW packs doutᵀ there, as in training) after the arrays.
  const scratchBytes = kernelScratchBytes(Math.max(...MLP_SHAPES.map((s) => s.B)), MLP_SHAPES.map((s) => ({ inputs: s.IN, units: s.OUT })));
  const memory = new WebAssembly.Memory({ initial: Math.ceil((bytes + variants.length * scratchBytes) / 65536), maximum: 65536, shared: true });
  const kernels = variants.map((v, i) => ({
    ...v, kernel: createWasmKernel(memory, { module: v.module, scratch: new Float32Array(memory.buffer, bytes + i * scratchBytes, scratchBytes / 4) }),
  }));

  const rows: { s: Shape; op: Op; l: Arrays; cells: Cell[] }[] = [];
  let base = 0;
  for (const s of MLP_SHAPES) {
    const { arrays: l, end } = arraysIn(memory, s, base);
    base = end;
    for (const op of OPS) {
      for (const relu of op === 'dW' ? [false] : [false, true]) {
        for (const a of [l.out, l.a, l.dw, l.db, l.dx]) a.fill(NaN);
        runOp(jsKernel, op, l, s, relu);
        const want = outputs(l, op);
        for (const { name, kernel } of kernels) {
          for (const a of [l.out, l.a, l.dw, l.db, l.dx]) a.fill(NaN);
          runOp(kernel, op, l, s, relu);
          if (!outputs(l, op).every((a, i) => sameBits(a, want[i]!))) {
            throw new Error(`${name}: ${s.B}×${s.IN}×${s.OUT} ${op}${relu ? ' (fused relu)' : ''} differs from the js kernel's bits`);
          }
        }
      }
      rows.push({ s, op, l, cells: kernels.map(({ kernel }) => new Cell(() => runOp(kernel, op, l, s), args.minMs)) });
    }
  }
  const ceilingCells = await Ceiling.create(args.minMs);

  const loadStart = load();
  for (let round = 0; round < args.rounds; round++) {
    process.stderr.write(`round ${round + 1}/${args.rounds}\n`);
    ceilingCells.sample(args.repeats);
    for (const row of rows) for (const cell of row.cells) cell.sample(args.repeats);
  }
  const loadEnd = load();

  const ceiling = ceilingCells.best();
  console.log(`machine: ${machine()}`);
  console.log(`revision: ${revision()}; command: ${command('bench/matmul_ab.ts')}`);
  console.log(`load (1/5/15 min): ${loadStart} at the start, ${loadEnd} at the end; ${args.rounds} rounds × ${args.repeats} samples per cell`);
  console.log(`128-bit mul+add ceiling: ${ceilingCells.describe()}`);
  console.log('cells: GFLOP/s from the median sample (% of the ceiling) / from the fastest sample (% of the ceiling from the fastest samples); ' +
    'variants checked bit-equal to the js kernel first\n');
  const fastestCeiling = ceilingCells.best('fastest').gflops;
  const body = rows.map(({ s, op, cells }) => {
    const flops = 2 * s.B * s.IN * s.OUT;
    const g = cells.map((c) => flops / c.median() / 1e9), f = cells.map((c) => flops / c.fastest() / 1e9);
    return [`${s.B}×${s.IN}×${s.OUT}`, op,
      ...g.map((v, i) => `${v.toFixed(1)} (${((100 * v) / ceiling.gflops).toFixed(0)}%) / ${f[i]!.toFixed(1)} (${((100 * f[i]!) / fastestCeiling).toFixed(0)}%)`),
      ...g.slice(1).map((v, i) => `${(v / g[0]!).toFixed(3)}× / ${(f[i + 1]! / f[0]!).toFixed(3)}×`)];
  });
  console.log(table(['shape', 'op', ...kernels.map((k) => k.name), ...kernels.slice(1).map((k) => `${k.name}/committed`)], body));
  const ratio = (i: number, stat: 'median' | 'fastest') => median(rows.map((r) => r.cells[0]![stat]() / r.cells[i]![stat]())).toFixed(3);
  const medians = kernels.slice(1).map((k, i) => `${k.name}: ${ratio(i + 1, 'median')}× (fastest samples: ${ratio(i + 1, 'fastest')}×)`);
  if (medians.length > 0) console.log(`\nmedian over the cells of the speed ratio to the committed kernel: ${medians.join(', ')}`);
}

await main();
