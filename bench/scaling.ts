// bench/scaling.ts — strong scaling of data-parallel training: the MNIST MLP 784-256-128-10
// (ReLU, softmax cross-entropy, plain SGD lr 0.05 — or --optimizer NAME, the adaptive ones at lr
// 0.001 — wasm kernel) on the 22,699 training images,
// a fixed global batch (128 and 512) split over 1..N threads. It sets the run up with
// train()'s own steps (prepareData, planRun, startEngine, beginEpoch) and drives the epochs
// itself, one engine command each, so that it can time each epoch and switch on the engine's
// timing cells (checked bit for bit against train() itself).
//
//   npx tsx bench/scaling.ts [--threads 1..N] [--batches 128,512] [--repeats 3] [--epochs 3] [--warmup 4]
//                            [--max-foreign 0.05] [--probe yes|no|only] [--optimizer sgd] [--json FILE]
//
// Each run: start the engine (not timed), --warmup epochs (not timed: each worker isolate
// compiles runTrainSteps with TurboFan — ~50 ms, three times — on a V8 helper thread that takes
// a core from the computing threads; at batch 512, with 45 steps an epoch, that lands in epochs
// 3–4), then --epochs timed epochs; samples/s = timed rows / wall time of the engine.train
// calls. The warm-up epochs' own samples/s are printed too.
// Every (repeat, batch, threads) is run twice, interleaved: timing off (the samples/s
// reported) and timing on (RunSettings.timing: per-rank milliseconds in each phase of a step,
// barrier waits and serial sections; its own samples/s is printed to show what it costs).
// Medians over repeats. On Linux, per-thread run time and run-queue wait (from
// /proc/self/task/*/schedstat) and machine-wide busy time (/proc/stat) over the timed epochs
// show who else used the cores; a run during which other processes kept more than
// --max-foreign of a core busy is run again (the count of such runs is printed). Final weights must be bitwise identical across thread counts,
// repeats and timing on/off, and equal to train()'s — the run fails loudly otherwise.
//
// --probe: what one barrier costs on this machine, outside training: N pool threads busy-wait
// a fixed work time then meet at the engine's own sharedBarrier, one thread (in turn) late by
// a skew, so that the thread that waited is the one that starts late next — as in training,
// where a thread's wake-up delays its next phase. Overhead = time per round − work − skew,
// with the engine's spin count (2000) and with a long spin that never sleeps.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { sharedBarrier } from '../src/engine/barrier.ts';
import {
  CONTROL_INTS, cPlateauScale, kBarrierGeneration, kRankCounter, T_GATHER, T_NORM, T_REDUCE, T_ROWS, T_SERIAL, T_STEP_MS, T_STEPS, T_TRANSPOSE, T_UPDATE,
  T_BARRIERS, T_WAIT_NORM, T_WAIT_ROWS, T_WAIT_UPDATE, T_WAITS_OVER_10US, T_WAITS_OVER_50US, timingCell,
} from '../src/engine/control.ts';
import type { ClassificationDataset } from '../src/data/dataset.ts';
import { createRng } from '../src/rng.ts';
import { parseTrainOptions, resolveOptimizer } from '../src/options/parse.ts';
import type { TrainOptions } from '../src/options/schema.ts';
import { OPTIMIZERS, type OptimizerConfig, type OptimizerName } from '../src/optim/optimizers.ts';
import { train } from '../src/api.ts';
import { beginEpoch, planRun, prepareData, startEngine } from '../src/train/train.ts';
import { command, fixed, hostParallelism, int, intList, JsonLines, load, loadMnist, machine, median, MNIST_LAYERS, MNIST_LR, parseFlags, revision, SEED, table } from './common.ts';
// The bit comparison `threadtrain bench` makes too: one definition of "the same weights".
import { assertSameBits } from '../src/train/scaling.ts';

const USAGE = 'npx tsx bench/scaling.ts [--threads 1..N] [--batches 128,512] [--repeats 3] [--epochs 3] [--warmup 4] [--max-foreign 0.05] [--probe yes|no|only] [--optimizer sgd] [--json FILE]';

/** Per-rank milliseconds per step, by phase. */
interface RankTiming {
  steps: number;
  step: number;
  gather: number;
  rows: number;
  waitRows: number;
  reduce: number;
  norm: number;
  waitNorm: number;
  update: number;
  transpose: number;
  waitUpdate: number;
  serial: number;
  /** Shares of this thread's barrier waits longer than 10 µs (it slept in Atomics.wait) and 50 µs. */
  over10us: number;
  over50us: number;
}

/** CPU use over the timed epochs, in milliseconds (Linux only). */
interface SchedInfo {
  /** Run time of the thread(s) that computed: main for 1 thread, the workers otherwise. */
  computeRunMs: number[];
  /** Time those threads were runnable but waiting for a core. */
  computeWaitMs: number[];
  /** Run time of every other thread of this process (main when pooled, V8/libuv helpers). */
  otherRunMs: number;
  /** Busy time of all cores, machine-wide, minus this process: other processes. */
  foreignBusyMs: number;
}

interface RunResult {
  samplesPerSec: number;
  /** Every epoch's samples/s, warm-up included. */
  epochSamplesPerSec: number[];
  /** Every epoch's run time of this process's threads other than the computing ones (ms; NaN off Linux). */
  epochOtherMs: number[];
  epochMs: number;
  startupMs: number;
  params: Float32Array;
  loss: number;
  timing: RankTiming[] | undefined;
  sched: SchedInfo | undefined;
}

function readTiming(cells: Float64Array, threads: number): RankTiming[] {
  return Array.from({ length: threads }, (_, rank) => {
    const c = (slot: number) => cells[timingCell(rank, slot)]!;
    const steps = c(T_STEPS);
    const per = (slot: number) => c(slot) / steps;
    return {
      steps, step: per(T_STEP_MS), gather: per(T_GATHER), rows: per(T_ROWS), waitRows: per(T_WAIT_ROWS), reduce: per(T_REDUCE),
      norm: per(T_NORM), waitNorm: per(T_WAIT_NORM), update: per(T_UPDATE), transpose: per(T_TRANSPOSE),
      waitUpdate: per(T_WAIT_UPDATE), serial: per(T_SERIAL),
      over10us: c(T_WAITS_OVER_10US) / c(T_BARRIERS), over50us: c(T_WAITS_OVER_50US) / c(T_BARRIERS),
    };
  });
}

// ---- Linux scheduler statistics -------------------------------------------------------

const linux = existsSync('/proc/self/task') && existsSync('/proc/stat');

/** tid → [run ns, run-queue wait ns]. */
function taskTimes(): Map<number, [number, number]> {
  const times = new Map<number, [number, number]>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const [run, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      times.set(Number(tid), [run!, wait!]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return times;
}

/** Busy and total jiffies of all cores together. */
function machineJiffies(): [number, number] {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + cpu[4]!;
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

function schedDelta(
  before: Map<number, [number, number]>, after: Map<number, [number, number]>, computeTids: readonly number[],
  jBefore: [number, number], jAfter: [number, number],
): SchedInfo {
  const delta = (tid: number): [number, number] => {
    const a = after.get(tid) ?? [0, 0];
    const b = before.get(tid) ?? [0, 0];
    return [(a[0] - b[0]) / 1e6, (a[1] - b[1]) / 1e6];
  };
  let ownMs = 0;
  let otherRunMs = 0;
  for (const tid of after.keys()) {
    const [run] = delta(tid);
    ownMs += run;
    if (!computeTids.includes(tid)) otherRunMs += run;
  }
  const hz = 100; // USER_HZ: /proc/stat counts in 1/100 s on Linux
  const busyMs = ((jAfter[0] - jBefore[0]) * 1000) / hz;
  return {
    computeRunMs: computeTids.map((t) => delta(t)[0]),
    computeWaitMs: computeTids.map((t) => delta(t)[1]),
    otherRunMs,
    foreignBusyMs: Math.max(0, busyMs - ownMs),
  };
}

// ---- One run ---------------------------------------------------------------------------


/** --optimizer (default sgd, the MNIST reference setting); the adaptive ones at lr 0.001, the SGD family at MNIST_LR. */
let OPTIMIZER: OptimizerConfig = resolveOptimizer({});
const learningRate = (): number => (['adam', 'adamw', 'rmsprop'].includes(OPTIMIZER.name) ? 0.001 : MNIST_LR);

/** The run both this benchmark's loop and the train() check make: no split or scaling. */
function trainOptions(data: ClassificationDataset, batch: number, threads: number, epochs: number): TrainOptions {
  return { model: { layers: MNIST_LAYERS }, data, epochs, batchSize: batch, lr: learningRate(), optimizer: { name: OPTIMIZER.name }, seed: SEED, threads, kernel: 'wasm' };
}

async function runOnce(data: ClassificationDataset, batch: number, threads: number, warmup: number, epochs: number, timing: boolean): Promise<RunResult> {
  const n = data.n;
  const totalEpochs = warmup + epochs;
  // The engine as train() sets it up: same plan, memory, data and initial weights.
  const { data: _data, model, resume: _resume, ...opts } = parseTrainOptions(trainOptions(data, batch, threads, totalEpochs));
  const prepared = prepareData(data, opts);
  const plan = planRun(model, opts, prepared, { timing });
  const stepsPerEpoch = plan.stepsPerEpoch;
  const tidsBefore = linux ? new Set(taskTimes().keys()) : new Set<number>();
  const t0 = performance.now();
  const engine = await startEngine(plan, prepared, { seed: opts.seed });
  try {
    const { views } = engine;
    const startupMs = performance.now() - t0;
    // The threads that compute: the main thread in-process, else the pool's new threads.
    const computeTids = !linux ? [] : threads === 1 ? [process.pid] : [...taskTimes().keys()].filter((t) => !tidsBefore.has(t));
    const shuffleRng = createRng(SEED + 1);
    let timedMs = 0;
    let sched: SchedInfo | undefined;
    const epochSamplesPerSec: number[] = [];
    const epochOtherMs: number[] = [];
    for (let epoch = 0; epoch < totalEpochs; epoch++) {
      beginEpoch(engine, shuffleRng);
      views.cells[cPlateauScale] = 1;
      const timed = epoch >= warmup;
      if (epoch === warmup) {
        views.cells.fill(0, timingCell(0, 0), timingCell(threads, 0));
      }
      const before = linux ? taskTimes() : undefined;
      const jBefore = linux ? machineJiffies() : undefined;
      const start = performance.now();
      const result = await engine.train(epoch, 0, stepsPerEpoch);
      const ms = performance.now() - start;
      if (result.steps !== stepsPerEpoch) throw new Error(`epoch ${epoch + 1} stopped after ${result.steps} of ${stepsPerEpoch} steps (halt ${result.halt})`);
      epochSamplesPerSec.push((n * 1000) / ms);
      const s = before && jBefore ? schedDelta(before, taskTimes(), computeTids, jBefore, machineJiffies()) : undefined;
      epochOtherMs.push(s ? s.otherRunMs : NaN);
      if (timed) {
        timedMs += ms;
        if (s) {
          sched = !sched ? s : {
            computeRunMs: sched.computeRunMs.map((v, i) => v + s.computeRunMs[i]!),
            computeWaitMs: sched.computeWaitMs.map((v, i) => v + s.computeWaitMs[i]!),
            otherRunMs: sched.otherRunMs + s.otherRunMs, foreignBusyMs: sched.foreignBusyMs + s.foreignBusyMs,
          };
        }
      }
    }
    const loss = views.cells[0]! / views.cells[2]!;
    return {
      samplesPerSec: (n * epochs) / (timedMs / 1000), epochSamplesPerSec, epochOtherMs, epochMs: timedMs / epochs, startupMs, params: views.ws.params.slice(), loss,
      timing: timing ? readTiming(views.cells, threads) : undefined,
      sched: sched && { computeRunMs: sched.computeRunMs.map((v) => v / epochs), computeWaitMs: sched.computeWaitMs.map((v) => v / epochs), otherRunMs: sched.otherRunMs / epochs, foreignBusyMs: sched.foreignBusyMs / epochs },
    };
  } finally {
    await engine.close();
  }
}

// ---- Barrier probe -----------------------------------------------------------------------

export interface ProbeTask {
  readonly sab: SharedArrayBuffer;
  readonly threads: number;
  readonly spin: number;
  readonly workUs: number;
  readonly skewUs: number;
  readonly rounds: number;
}

/** The pool task of the probe (Piscina loads this module's default export in each thread). */
export default function barrierProbeTask(task: ProbeTask): number {
  const ctl = new Int32Array(task.sab, 0, CONTROL_INTS);
  const rank = Atomics.add(ctl, kRankCounter, 1);
  const barrier = sharedBarrier(ctl, task.threads, task.spin);
  barrier.wait();
  const t0 = performance.now();
  for (let i = 0; i < task.rounds; i++) {
    const us = task.workUs + (i % task.threads === rank ? task.skewUs : 0);
    const until = performance.now() + us / 1000;
    while (performance.now() < until);
    barrier.wait();
  }
  return performance.now() - t0;
}

/** Microseconds one thread takes for the engine's 2000-load spin when nothing changes. */
function spinMicros(spin: number): number {
  const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    let hits = 0;
    for (let k = 0; k < 1000; k++) for (let i = 0; i < spin; i++) if (Atomics.load(ctl, kBarrierGeneration) !== 0) hits++;
    samples.push(((performance.now() - t0) * 1000) / 1000 + hits);
  }
  return median(samples);
}

interface ProbeRow { spin: number; skewUs: number; overheadUs: number[] }

async function barrierProbe(threads: number, repeats: number): Promise<ProbeRow[]> {
  const pool = new Piscina({ filename: new URL(import.meta.url).href, execArgv: process.execArgv, minThreads: threads, maxThreads: threads, idleTimeout: Infinity });
  const rows: ProbeRow[] = [];
  const workUs = 300;
  const rounds = 2000;
  try {
    for (const spin of [2000, 500_000]) {
      for (const skewUs of [0, 20, 100]) {
        const row: ProbeRow = { spin, skewUs, overheadUs: [] };
        for (let r = 0; r < repeats; r++) {
          const sab = new SharedArrayBuffer(CONTROL_INTS * 4);
          const task: ProbeTask = { sab, threads, spin, workUs, skewUs, rounds };
          const ms = await Promise.all(Array.from({ length: threads }, () => pool.run(task) as Promise<number>));
          row.overheadUs.push((Math.max(...ms) * 1000) / rounds - workUs - skewUs);
        }
        rows.push(row);
      }
    }
  } finally {
    await pool.destroy();
  }
  return rows;
}

// ---- Main ------------------------------------------------------------------------------

interface Cell {
  batch: number;
  threads: number;
  off: RunResult[];
  on: RunResult[];
  /** Runs thrown away because other processes were busy during their timed epochs. */
  discarded: number[];
}

const ATTEMPTS = 6;
const QUIET_WAIT_MS = 180_000;

/** Before a run: wait (up to QUIET_WAIT_MS) until other processes use at most `maxForeign` of a core over half a second. */
async function waitForQuiet(maxForeign: number): Promise<void> {
  if (!linux) return;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const started = Date.now();
  for (let said = false; ; ) {
    const [b0] = machineJiffies();
    await sleep(500);
    const busyCores = ((machineJiffies()[0] - b0) * 10) / 500; // jiffies are 10 ms; we are idle meanwhile
    if (busyCores <= maxForeign || Date.now() - started > QUIET_WAIT_MS) return;
    if (!said) process.stderr.write(`    waiting for other processes to finish (${fixed(100 * busyCores, 0)}% of a core busy), load ${load()}\n`);
    said = true;
    await sleep(2000);
  }
}

/**
 * Other engineers share these 2 cores. A run during whose timed epochs other processes kept
 * more than `maxForeign` of one core busy is discarded and run again (up to ATTEMPTS times;
 * the last attempt is kept whatever the load, and counted). The discarded runs' samples/s are
 * kept in the JSON lines.
 */
async function quietRun(c: Cell, run: () => Promise<RunResult>, maxForeign: number): Promise<RunResult> {
  for (let attempt = 1; ; attempt++) {
    await waitForQuiet(maxForeign);
    const r = await run();
    const foreign = r.sched ? r.sched.foreignBusyMs / r.epochMs : 0;
    if (foreign <= maxForeign || attempt === ATTEMPTS) return r;
    c.discarded.push(Math.round(r.samplesPerSec));
    process.stderr.write(`    discarded: other processes used ${fixed(100 * foreign, 0)}% of a core (${int(r.samplesPerSec)} samples/s), load ${load()}\n`);
  }
}

const medianOf = (runs: readonly RunResult[], f: (r: RunResult) => number) => median(runs.map(f));
const meanRanks = (t: readonly RankTiming[], f: (r: RankTiming) => number) => t.reduce((s, r) => s + f(r), 0) / t.length;
const maxRanks = (t: readonly RankTiming[], f: (r: RankTiming) => number) => Math.max(...t.map(f));
const minRanks = (t: readonly RankTiming[], f: (r: RankTiming) => number) => Math.min(...t.map(f));
/** Median over repeats of a per-run statistic of the timing-on runs. */
const tm = (c: Cell, f: (t: RankTiming[]) => number) => medianOf(c.on, (r) => f(r.timing!));
const waits = (r: RankTiming) => r.waitRows + r.waitNorm + r.waitUpdate;
const phase23 = (r: RankTiming) => r.reduce + r.norm + r.update + r.transpose;

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['threads', 'batches', 'repeats', 'epochs', 'warmup', 'max-foreign', 'probe', 'optimizer', 'json'], USAGE);
  const threadList = intList(flags.threads ?? `1..${os.availableParallelism()}`, '--threads');
  const batches = intList(flags.batches ?? '128,512', '--batches');
  const repeats = intList(flags.repeats ?? '3', '--repeats')[0]!;
  const epochs = intList(flags.epochs ?? '3', '--epochs')[0]!;
  const warmup = flags.warmup === '0' ? 0 : intList(flags.warmup ?? '4', '--warmup')[0]!;
  const maxForeign = Number(flags['max-foreign'] ?? '0.05');
  if (!(maxForeign >= 0)) throw new Error(`--max-foreign must be a fraction ≥ 0 (got "${flags['max-foreign']}")\nhint: ${USAGE}`);
  const probeFlag = flags.probe ?? 'yes';
  if (!['yes', 'no', 'only'].includes(probeFlag)) throw new Error(`--probe must be yes, no or only (got "${probeFlag}")\nhint: ${USAGE}`);
  const probe = probeFlag !== 'no' && Math.max(...threadList) > 1;
  if (repeats < 3) throw new Error(`--repeats must be at least 3 for a median (got ${repeats})\nhint: ${USAGE}`);
  const json = new JsonLines(flags.json);
  const optimizerName = flags.optimizer ?? 'sgd';
  if (!(OPTIMIZERS as readonly string[]).includes(optimizerName)) throw new Error(`--optimizer must be one of ${OPTIMIZERS.join(', ')} (got "${optimizerName}")\nhint: ${USAGE}`);
  OPTIMIZER = resolveOptimizer({ name: optimizerName as OptimizerName });
  const cmd = command('bench/scaling.ts');
  const mach = machine();
  const rev = revision();
  const loadStart = load();

  console.log(`threadtrain strong scaling: MNIST MLP 784-256-128-10, ReLU, softmax cross-entropy, ${OPTIMIZER.name} lr ${learningRate()}, wasm kernel`);
  console.log(`machine: ${mach}`);
  console.log(`command: ${cmd}`);
  console.log(`code: ${rev}`);
  console.log(`load average at start (1/5/15 min): ${loadStart}`);
  const maxThreads = Math.max(...threadList);
  console.log(`host parallelism at start: ${(await hostParallelism(maxThreads)).toFixed(2)}× for ${maxThreads} threads (a plain loop on ${maxThreads} threads against one; common.ts)`);
  console.log(`each run: start-up and ${warmup} warm-up epoch(s) untimed, then ${epochs} timed epoch(s); median of ${repeats} repeats\n`);

  if (probeFlag === 'only') {
    if (probe) await printProbe(Math.max(...threadList), repeats);
    return;
  }
  const data = loadMnist('train');
  const cells: Cell[] = [];
  for (const batch of batches) for (const threads of threadList) cells.push({ batch, threads, off: [], on: [], discarded: [] });
  for (let rep = 0; rep < repeats; rep++) {
    for (const c of cells) {
      c.off.push(await quietRun(c, () => runOnce(data, c.batch, c.threads, warmup, epochs, false), maxForeign));
      c.on.push(await quietRun(c, () => runOnce(data, c.batch, c.threads, warmup, epochs, true), maxForeign));
      const last = c.off[c.off.length - 1]!;
      process.stderr.write(`  repeat ${rep + 1}/${repeats} batch ${c.batch} threads ${c.threads}: ${int(last.samplesPerSec)} samples/s ` +
        `(timing on: ${int(c.on[c.on.length - 1]!.samplesPerSec)}), load ${load()}\n`);
    }
  }

  // Determinism: every run of a batch size — any thread count, repeat, timing on or off — and train() itself.
  for (const batch of batches) {
    const runs = cells.filter((c) => c.batch === batch);
    const ref = runs[0]!.off[0]!.params;
    for (const c of runs) {
      c.off.forEach((r, i) => assertSameBits(`batch ${batch}, ${c.threads} threads, repeat ${i + 1}`, ref, r.params));
      c.on.forEach((r, i) => assertSameBits(`batch ${batch}, ${c.threads} threads, repeat ${i + 1}, timing on`, ref, r.params));
    }
    const viaTrain = await train(trainOptions(data, batch, 1, warmup + epochs));
    assertSameBits(`batch ${batch}: this benchmark's loop against train()`, ref, viaTrain.model.params);
  }
  const loadEnd = load();
  console.log(`determinism: final weights bitwise identical across threads ${threadList.join(', ')}, all repeats, timing on/off, and equal to train()'s — for each batch ✓`);
  console.log(`load average at end (1/5/15 min): ${loadEnd}`);
  console.log(`host parallelism at end: ${(await hostParallelism(maxThreads)).toFixed(2)}× for ${maxThreads} threads\n`);

  const base = new Map(cells.filter((c) => c.threads === 1).map((c) => [c.batch, medianOf(c.off, (r) => r.samplesPerSec)]));
  const rows: string[][] = [];
  const breakdown: string[][] = [];
  for (const c of cells) {
    const sps = medianOf(c.off, (r) => r.samplesPerSec);
    const b1 = base.get(c.batch);
    const speedup = b1 === undefined ? NaN : sps / b1;
    const efficiency = speedup / c.threads;
    const spsOn = medianOf(c.on, (r) => r.samplesPerSec);
    const stepMs = tm(c, (t) => meanRanks(t, (r) => r.step));
    const barrierMs = tm(c, (t) => meanRanks(t, waits));
    const reduceMs = tm(c, (t) => meanRanks(t, (r) => r.reduce));
    const rowsMs = tm(c, (t) => meanRanks(t, (r) => r.gather + r.rows));
    const updateMs = tm(c, (t) => meanRanks(t, (r) => r.update + r.transpose));
    const serialMs = tm(c, (t) => t.reduce((s, r) => s + r.serial, 0));
    const imbalanceRows = tm(c, (t) => maxRanks(t, (r) => r.gather + r.rows) - minRanks(t, (r) => r.gather + r.rows));
    const imbalance23 = tm(c, (t) => maxRanks(t, phase23) - minRanks(t, phase23));
    const sched = c.off.every((r) => r.sched) ? c.off.map((r) => r.sched!) : undefined;
    const cpuRun = sched ? median(sched.map((s) => s.computeRunMs.reduce((a, b) => a + b, 0))) : NaN;
    const runqWait = sched ? median(sched.map((s) => s.computeWaitMs.reduce((a, b) => a + b, 0))) : NaN;
    const otherRun = sched ? median(sched.map((s) => s.otherRunMs)) : NaN;
    const foreign = sched ? median(sched.map((s) => s.foreignBusyMs)) : NaN;
    const epochMs = medianOf(c.off, (r) => r.epochMs);
    const epochMsOn = medianOf(c.on, (r) => r.epochMs);
    const steps = Math.ceil(data.n / c.batch);
    const runs = c.off.map((r) => Math.round(r.samplesPerSec));
    rows.push([
      String(c.batch), String(c.threads), int(sps), `${int(Math.min(...runs))}–${int(Math.max(...runs))}`, `${fixed(speedup, 2)}×`,
      `${fixed(100 * efficiency, 0)}%`, String(c.discarded.length), fixed(stepMs, 3), fixed(rowsMs, 3), fixed(reduceMs, 3), fixed(updateMs, 3),
      fixed(barrierMs, 3), fixed(serialMs, 4), int(spsOn),
    ]);
    breakdown.push([
      String(c.batch), String(c.threads), fixed(epochMsOn, 0), fixed(stepMs * steps, 0), fixed(imbalanceRows, 3), fixed(imbalance23, 3),
      fixed(cpuRun, 0), fixed(runqWait, 1), fixed(otherRun, 1), fixed(foreign, 0),
    ]);
    json.write({
      bench: 'scaling', threads: c.threads, batch: c.batch, samplesPerSec: sps, samplesPerSecRuns: runs, speedup, efficiency,
      barrierMsPerStep: barrierMs, reduceMsPerStep: reduceMs, stepMs, rowsMsPerStep: rowsMs, updateMsPerStep: updateMs,
      serialMsPerStep: serialMs, imbalanceRowsMs: imbalanceRows, imbalanceUnitsMs: imbalance23, samplesPerSecTimingOn: spsOn,
      perRank: c.on.map((r) => r.timing), epochMs, stepsPerEpoch: steps, startupMs: medianOf(c.off, (r) => r.startupMs),
      sched: sched ?? null, finalLoss: c.off[0]!.loss, bitIdentical: true, repeats, timedEpochs: epochs, warmupEpochs: warmup,
      epochSamplesPerSec: c.off.map((r) => r.epochSamplesPerSec), epochOtherThreadsMs: c.off.map((r) => r.epochOtherMs), discardedSamplesPerSec: c.discarded, maxForeign, waitsOver10us: tm(c, (t) => meanRanks(t, (r) => r.over10us)),
      waitsOver50us: tm(c, (t) => meanRanks(t, (r) => r.over50us)),
      loadStart, loadEnd, machine: mach, command: cmd, revision: rev, date: new Date().toISOString(),
    });
  }

  console.log('samples/s: timing off, median (range) of the repeats; speedup and efficiency against 1 thread at the same batch;');
  console.log(`rerun: runs thrown away and run again because other processes used more than ${fixed(100 * maxForeign, 0)}% of a core during them.`);
  console.log('ms per step, from the timing-on runs (mean over threads, median over repeats): step = wall time of one step;');
  console.log('rows = phase 1 (gather own rows, layer 0 forward of own units over all rows, then forward and backward of own rows);');
  console.log('reduce = phase 2 (dW, db of own units over all rows); update = phase 3 (SGD on own units + refresh of Wᵀ, interleaved with');
  console.log('phase 2 run by run unless clipping); barrier = waiting in the 3–4 barriers (one more on a command\'s first step); serial = serial sections (all threads).');
  console.log('"wait 1" in the per-thread table covers the barriers of phase 1 (two; three on a command\'s first step). In the per-thread table, "SGD" is the update call(s) and');
  console.log('"Wᵀ" a separate refresh: the wasm kernel refreshes Wᵀ inside its update call (kernel.updateUnits), so there "Wᵀ" is 0 and "SGD" has both.\n');
  console.log(table(
    ['batch', 'threads', 'samples/s', 'range', 'speedup', 'efficiency', 'rerun', 'step ms', 'rows ms', 'reduce ms', 'update ms', 'barrier ms', 'serial ms', 'samples/s timing on'],
    rows,
  ));
  console.log('\nwhere the time goes (medians over repeats). Timing-on runs: epoch wall and the sum of its steps\' wall times, ms per epoch;');
  console.log('imbalance = slowest − fastest thread in phase 1 and in phases 2+3, ms per step. Timing-off runs, ms per epoch (from /proc):');
  console.log('run time of the computing threads (main for 1 thread, the workers otherwise), their time runnable but waiting for a');
  console.log('core (run queue), run time of this process\'s other threads (main thread when pooled, V8 GC/compiler and libuv helpers),');
  console.log('and busy time of other processes on the machine.\n');
  console.log(table(
    ['batch', 'threads', 'epoch ms', 'Σ steps ms', 'imbalance rows', 'imbalance units', 'compute CPU ms', 'run-queue ms', 'other threads ms', 'other processes ms'],
    breakdown,
  ));
  const perRank: string[][] = [];
  for (const c of cells) {
    const t = c.on[Math.floor(c.on.length / 2)]!.timing!;
    t.forEach((r, rank) => perRank.push([
      String(c.batch), String(c.threads), String(rank), fixed(r.step, 3), fixed(r.gather, 3), fixed(r.rows, 3), fixed(r.waitRows, 3),
      fixed(r.reduce, 3), fixed(r.norm, 3), fixed(r.waitNorm, 3), fixed(r.update, 3), fixed(r.transpose, 3), fixed(r.waitUpdate, 3), fixed(r.serial, 4),
      `${fixed(100 * r.over10us, 0)}% / ${fixed(100 * r.over50us, 0)}%`,
    ]));
  }
  console.log('\nper thread, ms per step (one timing-on run per row group, the middle repeat):\n');
  console.log(table(
    ['batch', 'threads', 'rank', 'step', 'gather', 'fwd+bwd', 'wait 1', 'reduce', 'norm', 'wait norm', 'SGD', 'Wᵀ', 'wait 3', 'serial', 'waits > 10 / 50 µs'],
    perRank,
  ));
  console.log('\n"waits > 10 / 50 µs": share of the thread\'s barrier waits longer than 10 µs (past the barrier\'s ~9 µs spin: it slept in');
  console.log('Atomics.wait and had to be woken) and longer than 50 µs.');
  const warm = cells.map((c) => [String(c.batch), String(c.threads),
    ...Array.from({ length: warmup + epochs }, (_, e) =>
      `${int(median(c.off.map((r) => r.epochSamplesPerSec[e]!)))} (${fixed(median(c.off.map((r) => r.epochOtherMs[e]!)), 0)})`)]);
  console.log(`\nsamples/s of every epoch (timing off, median over repeats) and, in brackets, the ms of CPU this process's other threads`);
  console.log(`(V8's compiler and GC helpers, the main thread when pooled) used in it; epochs 1–${warmup} are the untimed warm-up:\n`);
  console.log(table(['batch', 'threads', ...Array.from({ length: warmup + epochs }, (_, e) => `epoch ${e + 1}${e < warmup ? ' (warm-up)' : ''}`)], warm));

  if (probe) await printProbe(Math.max(...threadList), repeats);
}

async function printProbe(threads: number, repeats: number): Promise<void> {
  {
    const rows = await barrierProbe(threads, repeats);
    console.log(`\nbarrier probe, ${threads} threads: 300 µs of work per round, one thread in turn late by the skew; overhead per barrier`);
    console.log(`= time per round − work − skew, µs, median (range) of ${repeats} × 2000 rounds. The engine spins 2000 loads (${fixed(spinMicros(2000), 2)} µs`);
    console.log(`on one idle thread here) before Atomics.wait; 500,000 loads (${fixed(spinMicros(500_000), 0)} µs) never sleep at these skews. load ${load()}\n`);
    console.log(table(['spin (loads)', 'skew µs', 'overhead µs per barrier', 'range'], rows.map((r) => [
      int(r.spin), String(r.skewUs), fixed(median(r.overheadUs), 1), `${fixed(Math.min(...r.overheadUs), 1)}–${fixed(Math.max(...r.overheadUs), 1)}`,
    ])));
    // Not written to --json: every line there is a scaling point that `threadtrain plot` draws.
  }
}

// The probe's pool threads load this module too: only the main thread runs the benchmark.
if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exitCode = 1;
  });
}
