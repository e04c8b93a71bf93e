// Thread scaling of one run: the same training (same options, same seed) on each thread
// count in turn, its samples/s, the speedup over one thread and the efficiency per thread,
// and the final weights compared bit for bit — the engine promises the same bits for any
// thread count, so a difference is a bug and an error, never a footnote. Used by
// `threadtrain bench`; bench/scaling.ts shares its bit comparison and its arithmetic.

import { TrainingError } from '../errors.ts';
import type { RunOptions } from '../options/schema.ts';
import { finishRun, openRun, planRun, prepareData, runEpochs, startEngine, type TrainResult } from './train.ts';
import type { RunKernel } from '../kernels/select.ts';

/** Index of the first parameter whose bits differ (NaNs compared by their bits too), or −1. */
export function firstDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return Math.min(ua.length, ub.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** Throws a TrainingError naming the first parameter where `got` differs from `reference`. */
export function assertSameBits(what: string, reference: Float32Array, got: Float32Array): void {
  const i = firstDifference(reference, got);
  if (i < 0) return;
  const found = i < Math.min(reference.length, got.length) ? `${reference[i]} vs ${got[i]}` : `${reference.length} vs ${got.length} parameters`;
  throw new TrainingError(
    `${what}: final weights differ at parameter ${i} (${found}); the same seed must give the same bits on any thread count`,
    'this is a bug in threadtrain: please report it with the config and the thread counts',
  );
}

/**
 * Speedup of each point over the one-thread point (samples/s ÷ one thread's samples/s) and
 * efficiency (speedup ÷ threads). `points` must hold threads 1.
 */
export function speedups<P extends { threads: number; samplesPerSec: number }>(points: readonly P[]): (P & { speedup: number; efficiency: number })[] {
  const base = points.find((p) => p.threads === 1);
  if (!base) throw new RangeError('speedups: expected a point with threads 1, the baseline');
  return points.map((p) => {
    const speedup = p.samplesPerSec / base.samplesPerSec;
    return { ...p, speedup, efficiency: speedup / p.threads };
  });
}

/**
 * The samples/s of a run from its epochs: the median over the epochs after the first (which
 * also pays for the JIT compiling the step and for start-up effects), or the one epoch.
 */
export function runSamplesPerSec(epochSamplesPerSec: readonly number[]): number {
  const timed = epochSamplesPerSec.length > 1 ? epochSamplesPerSec.slice(1) : epochSamplesPerSec;
  const s = [...timed].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface ScalingPoint {
  readonly threads: number;
  /** runSamplesPerSec of the epochs. */
  readonly samplesPerSec: number;
  readonly speedup: number;
  readonly efficiency: number;
  /** Every epoch's samples/s, as train() measured it (engine time, start-up and evaluation excluded). */
  readonly epochSamplesPerSec: number[];
  /** Starting the engine: allocating the shared memory, starting the threads, copying the data in. */
  readonly startupSeconds: number;
  /** Wall time of the whole run, start-up included. */
  readonly seconds: number;
}

export interface ScalingResult {
  readonly points: ScalingPoint[];
  /** Always true when measureScaling returns: a difference throws. */
  readonly bitIdentical: true;
  readonly epochs: number;
  readonly kernel: RunKernel;
  /** Mean training loss of the last epoch (the same on every thread count). */
  readonly finalLoss: number;
  /** The run was interrupted (the signal aborted): `points` holds the thread counts that finished. */
  readonly interrupted: boolean;
  /** The runs' warnings (more threads than cores, say), each once. */
  readonly warnings: string[];
}

/**
 * Train `run` once per thread count, in the order given (threads 1 must be among them), with
 * train()'s own steps: the data prepared once for all counts, then per count the plan, the
 * engine's start (timed apart from the epochs), the epochs and the result. Every run's final
 * weights are compared with the first one's. `run`'s own thread count, checkpointing and
 * resume are replaced: each run starts from the seed and writes nothing.
 */
export async function measureScaling(
  run: RunOptions, threadCounts: readonly number[], hooks: { signal?: AbortSignal; onPoint?: (p: { threads: number; samplesPerSec: number; seconds: number }) => void } = {},
): Promise<ScalingResult> {
  const { data: input, model, resume: _resume, ...options } = run;
  const opts = { ...options, checkpoint: undefined };
  const data = prepareData(input, opts);
  const measured: Omit<ScalingPoint, 'speedup' | 'efficiency'>[] = [];
  let reference: { threads: number; params: Float32Array } | undefined;
  let kernel: RunKernel = 'js';
  let finalLoss = NaN;
  let interrupted = false;
  const warnings = new Set<string>();
  for (const threads of threadCounts) {
    const runOpts = { ...opts, threads };
    const plan = planRun(model, runOpts, data);
    const started = performance.now();
    const engine = await startEngine(plan, data, { seed: opts.seed, weights: model.weights });
    const startupSeconds = (performance.now() - started) / 1000;
    const stop = () => engine.requestStop();
    hooks.signal?.addEventListener('abort', stop);
    let result: TrainResult;
    try {
      const state = openRun(engine, plan, runOpts, data, hooks.signal ? { signal: hooks.signal } : {}, undefined, '');
      await runEpochs(state);
      result = await finishRun(state);
    } finally {
      hooks.signal?.removeEventListener('abort', stop);
      await engine.close();
    }
    const seconds = (performance.now() - started) / 1000;
    for (const w of result.warnings) warnings.add(w);
    if (result.stopReason === 'interrupted') {
      interrupted = true;
      break;
    }
    const params = result.model.params;
    if (reference) assertSameBits(`threads ${threads} against threads ${reference.threads}`, reference.params, params);
    else reference = { threads, params };
    kernel = result.kernel;
    finalLoss = result.history.at(-1)?.loss ?? NaN;
    const epochSamplesPerSec = result.history.map((r) => r.samplesPerSec);
    const point = { threads, samplesPerSec: runSamplesPerSec(epochSamplesPerSec), epochSamplesPerSec, startupSeconds, seconds };
    measured.push(point);
    hooks.onPoint?.(point);
  }
  const points = measured.some((p) => p.threads === 1) ? speedups(measured) : [];
  return { points, bitIdentical: true, epochs: run.epochs, kernel, finalLoss, interrupted, warnings: [...warnings] };
}
