// bench/matmul.ts — single-thread GFLOP/s of the matrix kernels (float64 naive oracle, the
// same naive loop rounded to float32, blocked TypeScript/asm.js, WebAssembly SIMD128) for each product of a dense layer, on the MNIST
// MLP's shapes and on squares. Every array is a view into one shared WebAssembly.Memory, as
// in training (the js kernel is also timed on plain Float32Arrays, which V8 can treat
// differently). Results are checked against the float64 oracle, and wasm against js bit for
// bit, before anything is timed.
//
//   npx tsx bench/matmul.ts [--json FILE] [--repeats N] [--rounds R] [--min-ms MS]
//
// The machine is shared and small, so each cell's samples are spread over R rounds of the
// whole table (a burst of someone else's work then spoils a few samples, not a whole cell)
// and the cell reports the median of all R·N samples.
//
// A call of any product costs 2·B·IN·OUT floating-point operations. Each cell is also given
// as a share of this machine's own 128-bit SIMD mul+add ceiling (bench/ceiling.ts: a wasm
// loop of independent f32x4.mul and f32x4.add chains), timed in the same rounds as the table.
//
// "naive f32" is the same textbook loop as the oracle with a Math.fround after every multiply
// and add: the contract's bits (checked equal to js), so js against it is the speed-up of the
// blocked asm.js kernel (blocked.ts, blocked_asm.ts) over the naive loop at equal rounding.
//
// A second table times the fused ReLU epilogues (kernel.ts) against what they replace: the
// unfused kernel call followed by the separate ReLU pass of src/nn/activations.ts, on the
// MLP's forward shapes and its relu-masked dX shapes (checked bit for bit before timing).
// --fused-only runs just that table.

import { appendFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { jsKernel } from '../src/kernels/blocked.ts';
import type { FloatArray, Kernel } from '../src/kernels/kernel.ts';
import { naiveKernel } from '../src/kernels/naive.ts';
import { createWasmKernel, kernelScratchBytes } from '../src/kernels/wasm.ts';
import { activationBackward, activationForward } from '../src/nn/activations.ts';
import { createRng } from '../src/rng.ts';
import { Ceiling } from './ceiling.ts';
import { Cell, viewAllocator } from './common.ts';

type Op = 'forward' | 'dW' | 'dX';
const OPS: Op[] = ['forward', 'dW', 'dX'];

interface Shape { label: string; B: number; IN: number; OUT: number }
const SHAPES: Shape[] = [
  { label: 'MLP layer 1', B: 128, IN: 784, OUT: 256 },
  { label: 'MLP layer 2', B: 128, IN: 256, OUT: 128 },
  { label: 'square 256', B: 256, IN: 256, OUT: 256 },
  { label: 'square 512', B: 512, IN: 512, OUT: 512 },
];

/**
 * The fused-ReLU cases of the 784-256-128-10 ReLU MLP (configs/mnist.json): the forward of
 * both hidden layers (reluOut), and the two dX products whose result feeds a ReLU layer
 * (reluMaskZ = that layer's z): dZ1 (128×256) = dZ2 (128×128) · W2, dZ2 (128×128) = dZ3 (128×10) · W3.
 */
type FusedOp = 'forward' | 'dX';
const FUSED: { op: FusedOp; s: Shape; what: string }[] = [
  { op: 'forward', s: { label: 'MLP layer 1', B: 128, IN: 784, OUT: 256 }, what: 'z1, a1 = relu(z1)' },
  { op: 'forward', s: { label: 'MLP layer 2', B: 128, IN: 256, OUT: 128 }, what: 'z2, a2 = relu(z2)' },
  { op: 'dX', s: { label: 'MLP dZ1', B: 128, IN: 256, OUT: 128 }, what: 'dZ1 = dZ2·W2 masked by z1 > 0' },
  { op: 'dX', s: { label: 'MLP dZ2', B: 128, IN: 128, OUT: 10 }, what: 'dZ2 = dZ3·W3 masked by z2 > 0' },
];

interface Args { json: string | undefined; repeats: number; rounds: number; minMs: number; fusedOnly: boolean }

function parseArgs(argv: string[]): Args {
  const args: Args = { json: undefined, repeats: 5, rounds: 3, minMs: 25, fusedOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i], value = argv[i + 1];
    if (flag === '--fused-only') { args.fusedOnly = true; continue; }
    if (flag === '--json' && value !== undefined) args.json = value;
    else if (flag === '--repeats' && value !== undefined) args.repeats = Math.max(5, Number(value));
    else if (flag === '--rounds' && value !== undefined) args.rounds = Math.max(1, Number(value));
    else if (flag === '--min-ms' && value !== undefined) args.minMs = Number(value);
    else throw new Error(`bench/matmul.ts: unknown or incomplete argument ${String(flag)}\n` +
      'hint: npx tsx bench/matmul.ts [--json FILE] [--repeats N>=5] [--rounds R] [--min-ms MS] [--fused-only]');
    i++;
  }
  return args;
}

/**
 * The arrays of one layer shape: views into `memory` from byte `base` on, each on a 64-byte
 * boundary. a (B, OUT) takes relu(out) in the fused-ReLU cases.
 */
interface Layer { x: Float32Array; wt: Float32Array; w: Float32Array; b: Float32Array; dout: Float32Array;
  out: Float32Array; dw: Float32Array; db: Float32Array; dx: Float32Array; a: Float32Array }

/** Bytes layerIn takes for shape s. */
function layerBytes(s: Shape): number {
  return 4 * (2 * s.B * s.IN + 3 * s.IN * s.OUT + 3 * s.B * s.OUT + 2 * s.OUT) + 10 * 64;
}

function layerIn(memory: WebAssembly.Memory, s: Shape, base: number): Layer {
  const views = viewAllocator(memory, base);
  const alloc = views.alloc;
  const { B, IN, OUT } = s;
  const layer: Layer = {
    x: alloc(B * IN), wt: alloc(IN * OUT), w: alloc(OUT * IN), b: alloc(OUT), dout: alloc(B * OUT),
    out: alloc(B * OUT), dw: alloc(OUT * IN), db: alloc(OUT), dx: alloc(B * IN), a: alloc(B * OUT),
  };
  const rng = createRng(B * 1000003 + IN * 1009 + OUT);
  for (const a of [layer.x, layer.w, layer.b, layer.dout]) for (let i = 0; i < a.length; i++) a[i] = rng.uniform() * 2 - 1;
  jsKernel.transposeUnits(layer.wt, layer.w, IN, OUT, 0, OUT);
  return layer;
}

function plainCopy(l: Layer): Layer {
  const c = (a: Float32Array) => a.slice();
  return { x: c(l.x), wt: c(l.wt), w: c(l.w), b: c(l.b), dout: c(l.dout), out: c(l.out), dw: c(l.dw), db: c(l.db), dx: c(l.dx),
    a: c(l.a) };
}

const fr = Math.fround;

/** The oracle's loops (naive.ts) with the contract's float32 rounding after each operation. */
const naiveRounded: Kernel<Float32Array> = {
  name: 'naive f32',
  linearForward(out, x, wt, b, B, IN, OUT) {
    for (let i = 0; i < B; i++) {
      for (let j = 0; j < OUT; j++) {
        let s = 0;
        for (let k = 0; k < IN; k++) s = fr(s + fr(x[i * IN + k]! * wt[k * OUT + j]!));
        out[i * OUT + j] = fr(s + b[j]!);
      }
    }
  },
  linearBackwardWeights(dw, db, dout, x, B, IN, OUT, j0, j1) {
    for (let j = j0; j < j1; j++) {
      for (let k = 0; k < IN; k++) {
        let s = 0;
        for (let i = 0; i < B; i++) s = fr(s + fr(dout[i * OUT + j]! * x[i * IN + k]!));
        dw[j * IN + k] = s;
      }
      let s = 0;
      for (let i = 0; i < B; i++) s = fr(s + dout[i * OUT + j]!);
      db[j] = s;
    }
  },
  linearBackwardInput(dx, dout, w, B, IN, OUT) {
    for (let i = 0; i < B; i++) {
      for (let k = 0; k < IN; k++) {
        let s = 0;
        for (let j = 0; j < OUT; j++) s = fr(s + fr(dout[i * OUT + j]! * w[j * IN + k]!));
        dx[i * IN + k] = s;
      }
    }
  },
  transposeUnits: naiveKernel.transposeUnits as Kernel<Float32Array>['transposeUnits'],
};

function runOp<F extends FloatArray>(k: Kernel<F>, op: Op, l: { [K in keyof Layer]: F }, s: Shape): void {
  const { B, IN, OUT } = s;
  if (op === 'forward') k.linearForward(l.out, l.x, l.wt, l.b, B, IN, OUT);
  else if (op === 'dW') k.linearBackwardWeights(l.dw, l.db, l.dout, l.x, B, IN, OUT, 0, OUT);
  else k.linearBackwardInput(l.dx, l.dout, l.w, B, IN, OUT);
}

/**
 * The relu pass branches on the sign of every z. Called again and again on the same data,
 * the CPU's branch predictor learns much of that pattern, and the pass looks several times
 * cheaper than in training, where every batch brings new z (measured: 128×256 → 128, split
 * minus kernel 20 µs on one input, 80 µs rotating over 4 or more). So each fused case
 * rotates over VARIANTS inputs (x for forward, the mask z for dX), split and fused alike.
 */
const VARIANTS = 8;

/** A fused case's arrays: a layer plus VARIANTS random x (B, IN) and z (B, IN) to rotate over. */
interface ReluCase { l: Layer; xs: Float32Array[]; zs: Float32Array[]; next: number }

function reluCaseBytes(s: Shape): number {
  return layerBytes(s) + 2 * VARIANTS * (4 * s.B * s.IN + 64);
}

function reluCaseIn(memory: WebAssembly.Memory, s: Shape, base: number): ReluCase {
  const l = layerIn(memory, s, base);
  const views = viewAllocator(memory, base + layerBytes(s));
  const rng = createRng(s.B * 7919 + s.IN * 31 + s.OUT);
  const random = (): Float32Array => {
    const a = views.alloc(s.B * s.IN);
    for (let i = 0; i < a.length; i++) a[i] = rng.uniform() * 2 - 1;
    return a;
  };
  const xs = Array.from({ length: VARIANTS }, random), zs = Array.from({ length: VARIANTS }, random);
  return { l, xs, zs, next: 0 };
}

/**
 * One call of a fused-ReLU case on the next input variant, split (the kernel, then
 * activations.ts's relu pass, as src/nn/mlp.ts runs them) or fused (the kernel's epilogue).
 * Both leave the same bits: forward writes z to out and relu(z) to a; dX writes the masked
 * dZ to dx. `fused` undefined runs the unfused kernel alone.
 */
function runRelu(k: Kernel<Float32Array>, op: FusedOp, fused: boolean | undefined, c: ReluCase, s: Shape): void {
  const { B, IN, OUT } = s, { l } = c, v = c.next;
  c.next = (v + 1) % VARIANTS;
  if (op === 'forward') {
    const x = c.xs[v]!;
    if (fused === true) k.linearForward(l.out, x, l.wt, l.b, B, IN, OUT, l.a);
    else {
      k.linearForward(l.out, x, l.wt, l.b, B, IN, OUT);
      if (fused === false) activationForward('relu', l.a, l.out, B, OUT, 0, undefined);
    }
  } else {
    const z = c.zs[v]!;
    if (fused === true) k.linearBackwardInput(l.dx, l.dout, l.w, B, IN, OUT, z);
    else {
      k.linearBackwardInput(l.dx, l.dout, l.w, B, IN, OUT);
      if (fused === false) activationBackward('relu', l.dx, l.dx, z, z, B, IN, 0, undefined);
    }
  }
}

const result = (l: Layer, op: Op): Float32Array => (op === 'forward' ? l.out : op === 'dW' ? l.dw : l.dx);

/** Largest error over the rigorous float32 bound γ(n+1)·Σ|terms| (≤ 1 means correct). */
function checkAgainstOracle(l: Layer, op: Op, s: Shape): number {
  const { B, IN, OUT } = s;
  const n = op === 'forward' ? IN + 1 : op === 'dW' ? B : OUT;
  const size = result(l, op).length;
  const exact = new Float64Array(size), absSum = new Float64Array(size), scratch = new Float64Array(OUT);
  const abs = (a: Float32Array) => Float64Array.from(a, Math.abs);
  if (op === 'forward') {
    naiveKernel.linearForward(exact, l.x, l.wt, l.b, B, IN, OUT);
    naiveKernel.linearForward(absSum, abs(l.x), abs(l.wt), abs(l.b), B, IN, OUT);
  } else if (op === 'dW') {
    naiveKernel.linearBackwardWeights(exact, scratch, l.dout, l.x, B, IN, OUT, 0, OUT);
    naiveKernel.linearBackwardWeights(absSum, scratch, abs(l.dout), abs(l.x), B, IN, OUT, 0, OUT);
  } else {
    naiveKernel.linearBackwardInput(exact, l.dout, l.w, B, IN, OUT);
    naiveKernel.linearBackwardInput(absSum, abs(l.dout), abs(l.w), B, IN, OUT);
  }
  const u = 2 ** -24, gamma = ((n + 1) * u) / (1 - (n + 1) * u);
  const got = result(l, op);
  let worst = 0;
  for (let i = 0; i < size; i++) worst = Math.max(worst, Math.abs(got[i]! - exact[i]!) / (gamma * absSum[i]! + Number.MIN_VALUE));
  return worst;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const command = `npx tsx bench/matmul.ts${process.argv.slice(2).map((a) => ` ${a}`).join('')}`;
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const machine = `${cpu}, ${os.cpus().length} logical cores, Node ${process.version} (V8 ${process.versions.v8})`;
  // Every shape and fused case keeps its own arrays for the whole run, since the rounds come
  // back to each.
  const bytes = [...SHAPES.map(layerBytes), ...FUSED.map((f) => reluCaseBytes(f.s))];
  const bases = bytes.map((_, i) => bytes.slice(0, i).reduce((a, b) => a + b, 0));
  // The wasm kernel's own scratch (dW packs doutᵀ there, as in training) after the arrays.
  const arraysBytes = bytes.reduce((a, b) => a + b, 0);
  const scratchBytes = kernelScratchBytes(Math.max(...SHAPES.map((s) => s.B)), SHAPES.map((s) => ({ inputs: s.IN, units: s.OUT })));
  const memory = new WebAssembly.Memory({ initial: Math.ceil((arraysBytes + scratchBytes) / 65536), maximum: 65536, shared: true });
  const wasm = createWasmKernel(memory, { scratch: new Float32Array(memory.buffer, arraysBytes, scratchBytes / 4) });
  if (args.json !== undefined) writeFileSync(args.json, '');

  console.log('threadtrain matrix kernels, one thread');
  console.log(`machine: ${machine}`);
  console.log(`command: ${command}`);
  console.log(`median of ${args.rounds}×${args.repeats} timed samples per cell (each >= ${args.minMs} ms, ${args.rounds} rounds ` +
    `over the whole table) after warm-up; GFLOP/s = 2·B·IN·OUT per call; % of this core's 128-bit mul+add ceiling (below)`);
  console.log('arrays: views into one shared WebAssembly.Memory; "js plain" = the js kernel on plain Float32Arrays\n');

  const KERNELS = ['naive', 'naive32', 'js', 'jsPlain', 'wasm'] as const;
  type Row = { s: Shape; op: Op; cells: Record<(typeof KERNELS)[number], Cell> };
  const table: Row[] = [];
  const transposeCells: { s: Shape; js: Cell; wasm: Cell }[] = [];
  const loadAtStart = os.loadavg();

  for (const [index, s] of (args.fusedOnly ? [] : SHAPES).entries()) {
    const l = layerIn(memory, s, bases[index]!), plain = plainCopy(l);
    for (const op of OPS) {
      // Check before timing: js against the float64 bound, wasm against js to the bit.
      runOp(jsKernel, op, l, s);
      const js = result(l, op).slice(), jsDb = l.db.slice();
      const worst = checkAgainstOracle(l, op, s);
      result(l, op).fill(NaN);
      runOp(naiveRounded, op, l, s);
      const naive32 = sameBits(result(l, op), js);
      result(l, op).fill(NaN);
      runOp(wasm, op, l, s);
      if (worst > 1 || !naive32 || !sameBits(result(l, op), js) || (op === 'dW' && !sameBits(l.db, jsDb))) {
        throw new Error(`${s.label} ${op}: check failed (js error/bound ${worst.toFixed(3)}, naive f32 = js: ${naive32}, ` +
          `wasm = js: ${sameBits(result(l, op), js)})`);
      }
      table.push({ s, op, cells: {
        naive: new Cell(() => runOp(naiveKernel as Kernel<Float32Array>, op, l, s), args.minMs),
        naive32: new Cell(() => runOp(naiveRounded, op, l, s), args.minMs),
        js: new Cell(() => runOp(jsKernel, op, l, s), args.minMs),
        jsPlain: new Cell(() => runOp(jsKernel, op, plain, s), args.minMs),
        wasm: new Cell(() => runOp(wasm, op, l, s), args.minMs),
      } });
    }
    transposeCells.push({
      s,
      js: new Cell(() => jsKernel.transposeUnits(l.wt, l.w, s.IN, s.OUT, 0, s.OUT), args.minMs),
      wasm: new Cell(() => wasm.transposeUnits(l.wt, l.w, s.IN, s.OUT, 0, s.OUT), args.minMs),
    });
  }

  // Fused ReLU cases. Check before timing: fused = split bit for bit (z in out too), wasm = js.
  // wasmKernel is the unfused kernel alone, so split − kernel is what the relu pass costs
  // where it runs, after a kernel and on new data each call (see VARIANTS).
  const FUSED_CELLS = ['wasmKernel', 'wasmSplit', 'wasmFused', 'jsSplit', 'jsFused'] as const;
  const fusedRows: { f: (typeof FUSED)[number]; cells: Record<(typeof FUSED_CELLS)[number], Cell> }[] = [];
  for (const [i, f] of FUSED.entries()) {
    const c = reluCaseIn(memory, f.s, bases[SHAPES.length + i]!), l = c.l;
    const outputs = (): Float32Array[] => (f.op === 'forward' ? [l.out.slice(), l.a.slice()] : [l.dx.slice()]);
    for (let v = 0; v < 2; v++) {
      const runs = ([[wasm, false], [wasm, true], [jsKernel, false], [jsKernel, true]] as const).map(([k, fused]) => {
        for (const a of [l.out, l.a, l.dx]) a.fill(NaN);
        c.next = v;
        runRelu(k, f.op, fused, c, f.s);
        return outputs();
      });
      for (const [r, got] of runs.entries()) {
        if (!got.every((a, j) => sameBits(a, runs[0]![j]!))) {
          throw new Error(`${f.s.label} fused ${f.op}, input ${v}: check failed (run ${r} of wasm split/fused, js split/fused differs from wasm split)`);
        }
      }
    }
    fusedRows.push({ f, cells: {
      wasmKernel: new Cell(() => runRelu(wasm, f.op, undefined, c, f.s), args.minMs),
      wasmSplit: new Cell(() => runRelu(wasm, f.op, false, c, f.s), args.minMs),
      wasmFused: new Cell(() => runRelu(wasm, f.op, true, c, f.s), args.minMs),
      jsSplit: new Cell(() => runRelu(jsKernel, f.op, false, c, f.s), args.minMs),
      jsFused: new Cell(() => runRelu(jsKernel, f.op, true, c, f.s), args.minMs),
    } });
  }

  const ceiling = await Ceiling.create(args.minMs);
  for (let round = 0; round < args.rounds; round++) {
    process.stderr.write(`round ${round + 1}/${args.rounds}\n`);
    ceiling.sample(args.repeats);
    for (const row of table) for (const k of KERNELS) row.cells[k].sample(args.repeats);
    for (const t of transposeCells) { t.js.sample(args.repeats); t.wasm.sample(args.repeats); }
    for (const row of fusedRows) for (const k of FUSED_CELLS) row.cells[k].sample(args.repeats);
  }
  const loadAtEnd = os.loadavg();

  const header = ['shape B×IN×OUT', 'op', 'naive', 'naive f32', 'js', 'js plain', 'wasm', 'js/naive', 'js/naive f32', 'wasm/js'];
  const rows: string[][] = [];
  const peak = ceiling.best().gflops;
  const fmt = (g: number) => `${g.toFixed(g < 10 ? 2 : 1)} (${((100 * g) / peak).toFixed(g < peak / 10 ? 1 : 0)}%)`;
  const date = new Date().toISOString();
  for (const { s, op, cells } of table) {
    const flops = 2 * s.B * s.IN * s.OUT;
    const g = Object.fromEntries(KERNELS.map((k) => [k, flops / cells[k].median() / 1e9])) as Record<(typeof KERNELS)[number], number>;
    rows.push([`${s.B}×${s.IN}×${s.OUT}`, op, fmt(g.naive), fmt(g.naive32), fmt(g.js), fmt(g.jsPlain), fmt(g.wasm),
      `${(g.js / g.naive).toFixed(2)}×`, `${(g.js / g.naive32).toFixed(2)}×`, `${(g.wasm / g.js).toFixed(1)}×`]);
    if (args.json !== undefined) {
      for (const kernel of KERNELS) {
        appendFileSync(args.json, JSON.stringify({
          bench: 'matmul', kernel, op, B: s.B, IN: s.IN, OUT: s.OUT, seconds: cells[kernel].median(), gflops: g[kernel],
          fractionOfCeiling: g[kernel] / peak, ceilingGflops: peak, samples: cells[kernel].samples.length, machine, command, date,
        }) + '\n');
      }
    }
  }
  const transposes = transposeCells.map(({ s, js, wasm: w }) => {
    if (args.json !== undefined) {
      for (const [kernel, cell] of [['js', js], ['wasm', w]] as const) {
        appendFileSync(args.json, JSON.stringify({ bench: 'matmul', kernel, op: 'transpose', IN: s.IN, OUT: s.OUT,
          seconds: cell.median(), samples: cell.samples.length, machine, command, date }) + '\n');
      }
    }
    return `${s.OUT}×${s.IN}: js ${(js.median() * 1e6).toFixed(1)} µs, wasm ${(w.median() * 1e6).toFixed(1)} µs`;
  });

  const printTable = (head: string[], body: string[][]): void => {
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    console.log(line(head));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const r of body) console.log(line(r));
  };
  const loads = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  console.log(`load average (1, 5, 15 min): ${loads(loadAtStart)} at the start, ${loads(loadAtEnd)} at the end`);
  console.log(`this core's 128-bit mul+add ceiling: ${ceiling.describe()}\n`);
  if (!args.fusedOnly) {
    console.log('checked before timing: js within the float32 error bound of the float64 oracle; naive f32 = js and wasm = js bit for bit\n');
    printTable(header, rows);
    console.log(`\ntransposeUnits (w is OUT×IN, all units): ${transposes.join('; ')}\n`);
  }

  // Fused ReLU: time per call (µs) and GFLOP/s of the product (the ReLU adds no flops).
  console.log('fused ReLU epilogue vs kernel + the separate relu pass of src/nn/activations.ts ("split"), ' +
    `each call on the next of ${VARIANTS} random inputs; checked before timing: fused = split bit for bit, wasm = js\n`);
  const us = (t: number) => (t * 1e6).toFixed(t < 1e-4 ? 2 : 1);
  const fusedBody = fusedRows.map(({ f, cells }) => {
    const flops = 2 * f.s.B * f.s.IN * f.s.OUT;
    const t = Object.fromEntries(FUSED_CELLS.map((k) => [k, cells[k].median()])) as Record<(typeof FUSED_CELLS)[number], number>;
    const gf = (x: number) => (flops / x / 1e9).toFixed(1);
    if (args.json !== undefined) {
      for (const cell of FUSED_CELLS) {
        appendFileSync(args.json, JSON.stringify({
          bench: 'matmul-relu', cell, op: f.op, B: f.s.B, IN: f.s.IN, OUT: f.s.OUT, seconds: t[cell],
          gflops: flops / t[cell] / 1e9, samples: cells[cell].samples.length,
          load: [loadAtStart, loadAtEnd], machine, command, date,
        }) + '\n');
      }
    }
    const dims = f.op === 'forward' ? `${f.s.B}×${f.s.IN} → ${f.s.OUT}` : `${f.s.B}×${f.s.IN} from ${f.s.B}×${f.s.OUT}`;
    const pct = (x: number, of: number) => `${x >= 0 ? '+' : ''}${((100 * x) / of).toFixed(1)}%`;
    return [`${f.op} ${dims}`, f.what, `${us(t.wasmKernel)} (${gf(t.wasmKernel)})`,
      `${us(t.wasmSplit)} (${gf(t.wasmSplit)})`, `${us(t.wasmFused)} (${gf(t.wasmFused)})`,
      `${us(t.wasmSplit - t.wasmFused)} (${((100 * (t.wasmSplit - t.wasmFused)) / t.wasmSplit).toFixed(1)}%)`,
      pct(t.wasmFused - t.wasmKernel, t.wasmKernel),
      `${us(t.jsSplit)} (${gf(t.jsSplit)})`, `${us(t.jsFused)} (${gf(t.jsFused)})`];
  });
  printTable(['op, B×IN → OUT', 'computes', 'wasm unfused kernel alone µs (GFLOP/s)',
    'wasm split µs (GFLOP/s)', 'wasm fused µs (GFLOP/s)', 'fused saves µs (of split)', 'fused vs kernel alone',
    'js split µs (GFLOP/s)', 'js fused µs (GFLOP/s)'], fusedBody);
}

await main();
