// bench/sweep.ts — many small runs at once: 16 runs of the 16-128-64-26 net (ReLU, softmax
// cross-entropy, SGD at batch 32) on the built-in `blobs` data (16 features, 26 classes),
// a grid of 4 learning rates × 4 seeds, trained (a) one after another with train() on one
// thread, as a person would without sweeps, and (b) as one sweep() packing the runs onto
// all the cores, and (c) as the same sweep on one core. Throughput ratio = runs per second of
// (b) over (a); the goal is at least 0.9 × cores. The sweep's time includes everything it
// does: starting its trainer threads, sending each run its data, writing every model, log
// and table. (a) runs on a fresh worker thread each repeat, as cold as the sweep's trainer
// threads: V8 compiles the training loop anew in every thread, and a person's script of
// train() calls pays that once too. (a') runs the same loop in this benchmark's main thread,
// its code warmed by every earlier repeat (the baseline of earlier sessions, which no sweep
// thread ever matches after the first repeat); its ratio is printed beside. (c) runs the same
// runs one after another on one fresh trainer thread: (b) over (c) is what packing onto the
// cores gains.
//
//   npx tsx bench/sweep.ts [--repeats 3] [--n 50000] [--epochs 4] [--cores N] [--json FILE] [--code src|dist]
//
// The three ways alternate within each repeat (the order rotating every repeat), so a load
// change on the machine hits all; the ratios reported are medians of the per-repeat ratios.
// Every sweep model must equal its one-after-another twin bit for bit, or the run fails
// loudly.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type * as ModelModule from '../src/model/model.ts';
import type * as SweepModule from '../src/sweep/sweep.ts';
import type * as RunConfigModule from '../src/sweep/run_config.ts';
import type * as ApiModule from '../src/api.ts';
import { command, hostParallelism, JsonLines, load, machine, median, oneInt, parseFlags, revision, sweepBenchConfig, table } from './common.ts';

const USAGE = 'npx tsx bench/sweep.ts [--repeats 3] [--n 50000] [--epochs 4] [--cores N] [--json FILE] [--code src|dist]';
const flags = parseFlags(process.argv.slice(2), ['repeats', 'n', 'epochs', 'cores', 'json', 'code'], USAGE);
// --code dist: the compiled package (npm run build, done here) as an installed user runs it, its
// trainer threads loading JavaScript; by default the TypeScript sources through tsx, where
// each trainer thread also starts tsx and transpiles the engine's modules (~0.4 s a thread).
if (flags.code !== undefined && flags.code !== 'src' && flags.code !== 'dist') throw new Error(`--code takes src or dist (got "${flags.code}")\nhint: ${USAGE}`);
const dist = flags.code === 'dist';
if (dist) execFileSync('npm', ['run', 'build'], { cwd: new URL('..', import.meta.url), stdio: 'ignore' });
const from = (source: string) => new URL(dist ? `../dist/${source.replace(/\.ts$/, '.js')}` : `../${source}`, import.meta.url).href;
const { Model } = await import(from('src/model/model.ts')) as typeof ModelModule;
const { loadSweep, sweep, sweepRunData } = await import(from('src/sweep/sweep.ts')) as typeof SweepModule;
const { runTrainOptions } = await import(from('src/sweep/run_config.ts')) as typeof RunConfigModule;
const { train } = await import(from('src/api.ts')) as typeof ApiModule;
const repeats = oneInt(flags.repeats ?? '3', 'repeats', USAGE);
const n = oneInt(flags.n ?? '50000', 'n', USAGE);
const epochs = oneInt(flags.epochs ?? '4', 'epochs', USAGE);
const cores = oneInt(flags.cores ?? String(os.availableParallelism()), 'cores', USAGE);
const json = new JsonLines(flags.json);
const config = sweepBenchConfig(n, epochs);
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
console.log(`code: ${dist ? 'compiled dist/ (npm run build)' : 'TypeScript sources through tsx'}`);
console.log(`16 runs of 16-128-64-26 on blobs (n ${n}, 10% validation), ${epochs} epochs at batch 32; sweep on ${cores} cores`);

interface Row {
  repeat: number; sequentialS: number; sweepS: number; ratio: number; threads: number[]; host: number; sequentialCpuS: number; sweepCpuS: number;
  /** The runs one after another in this (warm) main thread. */
  warmS: number; warmCpuS: number; warmRatio: number;
  /** The same sweep on one core. */
  oneCoreS: number; oneCoreCpuS: number;
}

/** CPU seconds of this process, every thread, since `since` (process.cpuUsage counts them all). */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

interface Timed { seconds: number; cpu: number; params: Float32Array[] }

// The runs one after another with train() in a new worker thread: its modules loaded and its
// rows made before the clock starts (the sweep's own time includes both). Under tsx the thread
// inherits tsx's loader with process.execArgv, as the engine's threads do.
const FRESH_THREAD = `
  const { parentPort, workerData } = require('node:worker_threads');
  (async () => {
    const { loadSweep, sweepRunData } = await import(workerData.urls.sweep);
    const { runTrainOptions } = await import(workerData.urls.runConfig);
    const { train } = await import(workerData.urls.api);
    const expanded = loadSweep({ config: workerData.config, file: 'bench/sweep.ts' });
    const rows = expanded.runs.map((run) => sweepRunData(run));
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const params = [];
    for (const run of expanded.runs) params.push((await train(runTrainOptions(run.raw, rows[run.index], 1))).model.params);
    const u = process.cpuUsage(cpu0);
    parentPort.postMessage({ seconds: (performance.now() - t0) / 1000, cpu: (u.user + u.system) / 1e6, params });
  })().catch((error) => setImmediate(() => { throw error; }));`;

function sequentialFresh(): Promise<Timed> {
  const urls = { sweep: from('src/sweep/sweep.ts'), runConfig: from('src/sweep/run_config.ts'), api: from('src/api.ts') };
  return new Promise((resolve, reject) => {
    const worker = new Worker(FRESH_THREAD, { eval: true, workerData: { urls, config }, execArgv: [...process.execArgv] });
    worker.once('message', (m: Timed) => { resolve(m); void worker.terminate(); });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the one-after-another thread exited (code ${code}) before it reported`)));
  });
}

const rows: Row[] = [];
try {
  for (let rep = 0; rep < repeats; rep++) {
    const sequentialWarm = async (): Promise<Timed> => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const params: Float32Array[] = [];
      for (const run of expanded.runs) params.push((await train(runTrainOptions(run.raw, rowsOf[run.index]!, 1))).model.params);
      return { seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds(cpu0), params };
    };
    const swept = async (onCores: number) => {
      const out = path.join(tmp, `rep-${rep}-cores-${onCores}`);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r = await sweep({ config, file: 'bench/sweep.ts', out, cores: onCores });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(cpu0);
      if (r.ran !== 16 || r.failed !== 0) throw new Error(`sweep ran ${r.ran} runs, ${r.failed} failed`);
      return { seconds, cpu, out, threads: r.records.map((x) => x.threads) };
    };
    // What the host could give `cores` threads just now (common.ts): the ceiling on this repeat's ratio.
    const host = await hostParallelism(cores);
    // Four ways, their order rotating every repeat.
    let a: Timed | undefined, w: Timed | undefined;
    let b: Awaited<ReturnType<typeof swept>> | undefined;
    let c: Awaited<ReturnType<typeof swept>> | undefined;
    const ways = [async () => { a = await sequentialFresh(); }, async () => { b = await swept(cores); }, async () => { w = await sequentialWarm(); }, async () => { c = await swept(1); }];
    for (let k = 0; k < ways.length; k++) await ways[(rep + k) % ways.length]!();
    if (!a || !b || !c || !w) throw new Error('a way did not run');
    expanded.runs.forEach((run, i) => {
      if (!Buffer.from(w!.params[i]!.buffer).equals(Buffer.from(a!.params[i]!.buffer))) throw new Error(`run ${run.index}: the fresh thread's model differs from the main thread's`);
    });
    for (const [what, done] of [['all cores', b], ['one core', c]] as const) {
      expanded.runs.forEach((run, i) => {
        const model = Model.load(path.join(done.out, 'runs', run.id, 'model.ttm'));
        if (!Buffer.from(model.params.buffer).equals(Buffer.from(a!.params[i]!.buffer))) throw new Error(`run ${run.index}: the sweep's model (${what}) differs from the same run trained alone`);
      });
    }
    const row: Row = {
      repeat: rep + 1, sequentialS: a.seconds, sweepS: b.seconds, ratio: a.seconds / b.seconds, threads: b.threads, host, sequentialCpuS: a.cpu, sweepCpuS: b.cpu,
      warmS: w.seconds, warmCpuS: w.cpu, warmRatio: w.seconds / b.seconds, oneCoreS: c.seconds, oneCoreCpuS: c.cpu,
    };
    rows.push(row);
    json.write({ bench: 'sweep', ...row, cores, n, epochs });
    console.log(`repeat ${rep + 1}: one after another ${a.seconds.toFixed(2)} s (warm main thread ${w.seconds.toFixed(2)} s), sweep ${b.seconds.toFixed(2)} s, ratio ${row.ratio.toFixed(2)} (${row.warmRatio.toFixed(2)}), sweep on one core ${c.seconds.toFixed(2)} s, host ${host.toFixed(2)}× (threads per run: ${[...new Set(b.threads)].join(', ')})`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
const ratio = median(rows.map((r) => r.ratio));
console.log('');
console.log(table(['repeat', 'host parallelism', 'one after another (s)', 'sweep (s)', 'ratio', 'CPU s one after another', 'CPU s sweep', 'CPU ratio', 'warm main thread (s)', 'ratio to it', 'sweep on one core (s)', 'CPU s', 'ratio to it'], rows.map((r) => [
  String(r.repeat), `${r.host.toFixed(2)}×`, r.sequentialS.toFixed(2), r.sweepS.toFixed(2), `${r.ratio.toFixed(2)}×`,
  r.sequentialCpuS.toFixed(2), r.sweepCpuS.toFixed(2), `${(r.sequentialCpuS / r.sweepCpuS).toFixed(2)}×`,
  r.warmS.toFixed(2), `${r.warmRatio.toFixed(2)}×`, r.oneCoreS.toFixed(2), r.oneCoreCpuS.toFixed(2), `${(r.oneCoreS / r.sweepS).toFixed(2)}×`,
])));
console.log('one after another: train() run by run on a fresh worker thread (as cold as the sweep\'s); warm main thread: the same loop in this thread, warmed by every earlier repeat');
console.log('CPU s: CPU time of the whole process, all threads (process.cpuUsage); CPU ratio = one after another over sweep, the share of the sweep\'s CPU time that is the runs\' own work');
console.log('host parallelism: the summed rate of a plain arithmetic loop on all cores over its rate on one, just before each repeat (bench/common.ts hostParallelism)');
console.log('');
console.log(`median CPU ratio: ${median(rows.map((r) => r.sequentialCpuS / r.sweepCpuS)).toFixed(2)}× (× ${cores} cores = ${(cores * median(rows.map((r) => r.sequentialCpuS / r.sweepCpuS))).toFixed(2)}×, the throughput ratio on ${cores} cores that the host gives in full)`);
console.log(`median ratio to the runs one after another in the warm main thread: ${median(rows.map((r) => r.warmRatio)).toFixed(2)}×`);
console.log(`median ratio of the sweep on ${cores} cores to the same sweep on one core: ${median(rows.map((r) => r.oneCoreS / r.sweepS)).toFixed(2)}×`);
console.log(`median throughput ratio: ${ratio.toFixed(2)}× on ${cores} cores (goal ≥ ${(0.9 * cores).toFixed(2)}×: ${ratio >= 0.9 * cores ? 'met' : 'not met'})`);
console.log(`load (1/5/15 min): ${loadBefore} before, ${load()} after`);
