// bench/update.ts — the optimizer update of the MNIST MLP's first layer (256 units × 784 inputs),
// in 16-unit blocks as the engine runs it: the wasm kernel's fused updateUnits (the block's
// weights, then their Wᵀ columns) against the TypeScript rule (applyRule) followed by the
// wasm transpose, and any --wat variants of matmul.wat (built with wabt, as bench/matmul_ab.ts
// does), interleaved in one process. For plain SGD (no decay, scale 1: the p − lr·g path) and SGD
// with weight decay, also sgdUnitsTransposed, the update the engine runs on layer 0 for SGD (Wᵀ
// only, the (OUT, IN) weights left alone). "hot" repeats on the same arrays; "cold" first writes
// 16 MB elsewhere, as the rest of a training step does between two updates.
//
//   npx tsx bench/update.ts [--wat FILE]... [--samples 60]

import path from 'node:path';
import { buildMatmulWasm } from '../src/kernels/build_wasm.ts';
import { createWasmKernel } from '../src/kernels/wasm.ts';
import { resolveOptimizer } from '../src/options/parse.ts';
import { applyRule, OPTIMIZERS, updateRule } from '../src/optim/optimizers.ts';
import { command, load, machine, median, revision } from './common.ts';

const IN = 784, OUT = 256, BLOCK = 16, n = IN * OUT;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const wats: string[] = [];
  let samples = 60;
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--wat' && argv[i + 1] !== undefined) wats.push(argv[i + 1]!);
    else if (argv[i] === '--samples' && argv[i + 1] !== undefined) samples = Math.max(5, Number(argv[i + 1]));
    else throw new Error(`bench/update.ts: unknown or incomplete argument ${String(argv[i])}\nhint: npx tsx bench/update.ts [--wat FILE]... [--samples 60]`);
  }
  const memory = new WebAssembly.Memory({ initial: Math.ceil((5 * 4 * n + (16 << 20) + 128) / 65536), maximum: 65536, shared: true });
  const kernels = [{ name: 'wasm updateUnits', kernel: createWasmKernel(memory) }];
  for (const f of wats) kernels.push({ name: `${path.basename(f, '.wat')} updateUnits`, kernel: createWasmKernel(memory, { module: new WebAssembly.Module(await buildMatmulWasm(path.resolve(f))) }) });
  const at = (i: number) => new Float32Array(memory.buffer, 64 + i * 4 * n, n);
  const [w, g, m, v, wt] = [at(0), at(1), at(2), at(3), at(4)];
  const junk = new Float32Array(memory.buffer, 64 + 5 * 4 * n, 4 << 20);
  for (let i = 0; i < n; i++) {
    w[i] = Math.sin(i) * 0.05;
    g[i] = Math.cos(i) * 0.01;
  }
  const time = (fn: () => void, cold: boolean): { median: number; fastest: number } => {
    for (let r = 0; r < 5; r++) fn();
    const ts: number[] = [];
    for (let r = 0; r < samples; r++) {
      if (cold) for (let i = 0; i < junk.length; i += 16) junk[i] = i;
      const t0 = performance.now();
      fn();
      ts.push(performance.now() - t0);
    }
    return { median: median(ts), fastest: Math.min(...ts) };
  };
  const show = (t: { median: number; fastest: number }) => `${t.median.toFixed(3)} (${t.fastest.toFixed(3)})`;
  const blocks = (f: (j0: number, j1: number) => void) => () => { for (let j = 0; j < OUT; j += BLOCK) f(j, j + BLOCK); };

  console.log(`machine: ${machine()}`);
  console.log(`revision: ${revision()}; command: ${command('bench/update.ts')}; load at start: ${load()}`);
  console.log(`ms per update of the ${OUT}×${IN} weights in ${BLOCK}-unit blocks, median of ${samples} (fastest)\n`);
  const cases = [
    ...OPTIMIZERS.map((name) => ({ label: name, options: { name } })),
    { label: 'sgd with weight decay', options: { name: 'sgd' as const, weightDecay: 1e-4 } },
  ];
  for (const { label, options } of cases) {
    const rule = updateRule(resolveOptimizer(options), 0.01, 3, 1);
    const rows: string[] = [];
    for (const { name: kname, kernel } of kernels) {
      const fused = blocks((j0, j1) => kernel.updateUnits!(rule, w, g, m, v, wt, IN, OUT, j0, j1));
      rows.push(`${kname}: hot ${show(time(fused, false))}, cold ${show(time(fused, true))}`);
      if (options.name === 'sgd') {
        const transposed = blocks((j0, j1) => kernel.sgdUnitsTransposed!(rule, wt, g, IN, OUT, j0, j1));
        rows.push(`${kname.replace('updateUnits', 'sgdUnitsTransposed')}: hot ${show(time(transposed, false))}, cold ${show(time(transposed, true))}`);
      }
    }
    const wasm = kernels[0]!.kernel;
    const js = blocks((j0, j1) => {
      applyRule(rule, w, g, m, v, j0 * IN, j1 * IN);
      wasm.transposeUnits(wt, w, IN, OUT, j0, j1);
    });
    rows.push(`applyRule + wasm transpose: hot ${show(time(js, false))}, cold ${show(time(js, true))}`);
    console.log(`${label}: ${rows.join('; ')}`);
  }
  const tr = () => kernels[0]!.kernel.transposeUnits(wt, w, IN, OUT, 0, OUT);
  console.log(`\ntransposeUnits alone: hot ${show(time(tr, false))}, cold ${show(time(tr, true))}; load at end: ${load()}`);
}

await main();
