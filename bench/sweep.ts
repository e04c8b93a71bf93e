// bench/sweep.ts — many small runs at once: 16 runs of the 16-128-64-26 net (ReLU, softmax
// cross-entropy, SGD at batch 32) on the built-in `blobs` data (16 features, 26 classes),
// a grid of 4 learning rates × 4 seeds, trained (a) one after another with train() on one
// thread, as a person would without sweeps, and (b) as one sweep() packing the runs onto
// all the cores. Throughput ratio = runs per second of (b) over (a); the goal is at least
// 0.9 × cores. The sweep's time includes everything it does: starting its trainer threads,
// sending each run its data, writing every model, log and table.
//
//   npx tsx bench/sweep.ts [--repeats 3] [--n 50000] [--epochs 4] [--cores N] [--json FILE]
//
// The two ways alternate within each repeat (the order flipping every repeat), so a load
// change on the machine hits both; the ratio reported is the median of the per-repeat
// ratios. Every sweep model must equal its one-after-another twin bit for bit, or the run
// fails loudly.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Model } from '../src/model/model.ts';
import { loadSweep, sweep, sweepRunData } from '../src/sweep/sweep.ts';
import { runTrainOptions } from '../src/sweep/run_config.ts';
import { train } from '../src/api.ts';
import { command, intList, JsonLines, load, machine, median, parseFlags, revision, table } from './common.ts';

const USAGE = 'npx tsx bench/sweep.ts [--repeats 3] [--n 50000] [--epochs 4] [--cores N] [--json FILE]';
const flags = parseFlags(process.argv.slice(2), ['repeats', 'n', 'epochs', 'cores', 'json'], USAGE);
const one = (text: string, what: string): number => {
  const list = intList(text, what);
  if (list.length !== 1) throw new Error(`${what} takes one positive integer (got "${text}")\nhint: ${USAGE}`);
  return list[0]!;
};
const repeats = one(flags.repeats ?? '3', 'repeats');
const n = one(flags.n ?? '50000', 'n');
const epochs = one(flags.epochs ?? '4', 'epochs');
const cores = one(flags.cores ?? String(os.availableParallelism()), 'cores');
const json = new JsonLines(flags.json);

const config = {
  data: { builtin: 'blobs', n, classes: 26, features: 16, spread: 1, seed: 1 },
  split: { validation: 0.1 },
  model: { layers: [{ units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }, { units: 26, activation: 'softmax' }] },
  train: { epochs, batchSize: 32, lr: 0.05, seed: 1, kernel: 'wasm' },
  sweep: { grid: { 'train.lr': [0.01, 0.02, 0.05, 0.1] }, seeds: 4 },
};
const expanded = loadSweep({ config, file: 'bench/sweep.ts' });
if (expanded.runs.length !== 16) throw new Error(`expected 16 runs, the grid made ${expanded.runs.length}`);
// The one-after-another way gets its rows ready before the clock starts; the sweep loads
// its own inside its time. That only ever lowers the ratio.
const rowsOf = expanded.runs.map((run) => sweepRunData(run));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sweep-'));
const loadBefore = load();
console.log(`machine: ${machine()}`);
console.log(`command: ${command('bench/sweep.ts')}`);
console.log(`revision: ${revision()}`);
console.log(`16 runs of 16-128-64-26 on blobs (n ${n}, 10% validation), ${epochs} epochs at batch 32; sweep on ${cores} cores`);

interface Row { repeat: number; sequentialS: number; sweepS: number; ratio: number; threads: number[] }
const rows: Row[] = [];
try {
  for (let rep = 0; rep < repeats; rep++) {
    const sequential = async () => {
      const t0 = performance.now();
      const params: Float32Array[] = [];
      for (const run of expanded.runs) params.push((await train(runTrainOptions(run.raw, rowsOf[run.index]!, 1))).model.params);
      return { seconds: (performance.now() - t0) / 1000, params };
    };
    const swept = async () => {
      const out = path.join(tmp, `rep-${rep}`);
      const t0 = performance.now();
      const r = await sweep({ config, file: 'bench/sweep.ts', out, cores });
      const seconds = (performance.now() - t0) / 1000;
      if (r.ran !== 16 || r.failed !== 0) throw new Error(`sweep ran ${r.ran} runs, ${r.failed} failed`);
      return { seconds, out, threads: r.records.map((x) => x.threads) };
    };
    let a: Awaited<ReturnType<typeof sequential>>;
    let b: Awaited<ReturnType<typeof swept>>;
    if (rep % 2 === 0) {
      a = await sequential();
      b = await swept();
    } else {
      b = await swept();
      a = await sequential();
    }
    expanded.runs.forEach((run, i) => {
      const model = Model.load(path.join(b.out, 'runs', run.id, 'model.ttm'));
      if (!Buffer.from(model.params.buffer).equals(Buffer.from(a.params[i]!.buffer))) throw new Error(`run ${run.index}: the sweep's model differs from the same run trained alone`);
    });
    const row = { repeat: rep + 1, sequentialS: a.seconds, sweepS: b.seconds, ratio: a.seconds / b.seconds, threads: b.threads };
    rows.push(row);
    json.write({ bench: 'sweep', ...row, cores, n, epochs });
    console.log(`repeat ${rep + 1}: one after another ${a.seconds.toFixed(2)} s, sweep ${b.seconds.toFixed(2)} s, ratio ${row.ratio.toFixed(2)} (threads per run: ${[...new Set(b.threads)].join(', ')})`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
const ratio = median(rows.map((r) => r.ratio));
console.log('');
console.log(table(['repeat', 'one after another (s)', 'sweep (s)', 'runs/s one after another', 'runs/s sweep', 'ratio'], rows.map((r) => [
  String(r.repeat), r.sequentialS.toFixed(2), r.sweepS.toFixed(2), (16 / r.sequentialS).toFixed(2), (16 / r.sweepS).toFixed(2), `${r.ratio.toFixed(2)}×`,
])));
console.log('');
console.log(`median throughput ratio: ${ratio.toFixed(2)}× on ${cores} cores (goal ≥ ${(0.9 * cores).toFixed(2)}×: ${ratio >= 0.9 * cores ? 'met' : 'not met'})`);
console.log(`load (1/5/15 min): ${loadBefore} before, ${load()} after`);
