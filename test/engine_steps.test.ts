// train()'s named steps, driven by hand as bench/scaling.ts drives them: they give
// train()'s bits, and the benchmark clock (RunSettings.timing) changes no bit while its
// phase laps add up to each step's wall time and it counts every step and barrier.

import { describe, expect, it } from 'vitest';
import { blobs } from '../src/data/synthetic.ts';
import { T_BARRIERS, T_GATHER, T_NORM, T_REDUCE, T_ROWS, T_SERIAL, T_STEP_MS, T_STEPS, T_TRANSPOSE, T_UPDATE, T_WAIT_NORM, T_WAIT_ROWS, T_WAIT_UPDATE, timingCell } from '../src/engine/control.ts';
import { train } from '../src/api.ts';
import { parseTrainOptions } from '../src/options/parse.ts';
import type { TrainOptions } from '../src/options/schema.ts';
import { beginEpoch, planRun, prepareData, startEngine } from '../src/train/train.ts';
import { createRng } from '../src/rng.ts';
import os from 'node:os';
import { planThreads, stepWork } from '../src/engine/threads.ts';

const data = blobs({ n: 150, classes: 3, features: 6, spread: 0.5, seed: 9 });
const options = (threads: number): TrainOptions => ({
  model: { layers: [{ units: 20, activation: 'relu' }, { units: 3, activation: 'softmax' }] },
  data, epochs: 2, batchSize: 24, lr: 0.1, seed: 3, threads, kernel: 'js',
});
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

async function byHand(threads: number, timing: boolean) {
  const o = options(threads);
  const { data, model, resume: _resume, ...opts } = parseTrainOptions(o);
  const prepared = prepareData(data, opts);
  const plan = planRun(model, opts, prepared, { timing });
  const engine = await startEngine(plan, prepared, { seed: opts.seed });
  try {
    const rng = createRng(opts.seed + 1);
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      beginEpoch(engine, rng);
      await engine.train(epoch, 0, plan.stepsPerEpoch);
    }
    return { params: engine.views.ws.params.slice(), cells: engine.views.cells.slice(), steps: plan.stepsPerEpoch * opts.epochs };
  } finally {
    await engine.close();
  }
}

describe('train() in steps', () => {
  it('prepareData → planRun → startEngine → beginEpoch + engine.train gives train()\'s bits, with the clock on or off', async () => {
    const ref = await train(options(1));
    for (const threads of [1, 2]) {
      for (const timing of [false, true]) {
        const run = await byHand(threads, timing);
        expect(bits(run.params), `threads ${threads}, timing ${timing}`).toEqual(bits(ref.model.params));
      }
    }
  });

  it('the clock counts each step and barrier, and its phase laps add up to the steps\' time', async () => {
    for (const threads of [1, 2]) {
      const { cells, steps } = await byHand(threads, true);
      for (let rank = 0; rank < threads; rank++) {
        const c = (slot: number) => cells[timingCell(rank, slot)]!;
        expect(c(T_STEPS)).toBe(steps);
        // Three barriers a step without clipping (layer 0 done, deltas done, update done and
        // the next rows in), and one more at the start of each command for its first rows. In
        // process (1 thread) every step is a command of its own, so Ctrl-C lands between steps.
        const commands = threads === 1 ? steps : 2;
        expect(c(T_BARRIERS)).toBe(3 * steps + commands);
        const laps = [T_GATHER, T_ROWS, T_WAIT_ROWS, T_REDUCE, T_NORM, T_WAIT_NORM, T_UPDATE, T_TRANSPOSE, T_WAIT_UPDATE, T_SERIAL]
          .reduce((s, slot) => s + c(slot), 0);
        expect(c(T_STEP_MS)).toBeGreaterThan(0);
        expect(Math.abs(laps - c(T_STEP_MS))).toBeLessThan(1e-6 * Math.max(1, c(T_STEP_MS)));
      }
      // Nothing is written for a rank that does not exist.
      expect(cells[timingCell(threads, T_STEPS)]).toBe(0);
    }
  });

  it('threads default to "auto": planned from the step\'s work, reported with the reason, the same bits as one thread', async () => {
    const wide = blobs({ n: 150, classes: 3, features: 64, spread: 0.5, seed: 2 });
    const o: TrainOptions = {
      model: { layers: [{ units: 256, activation: 'relu' }, { units: 3, activation: 'softmax' }] }, data: wide, epochs: 2, batchSize: 128, lr: 0.05, seed: 4,
    };
    const auto = await train(o);
    const spec = { inputs: 64, layers: o.model.layers, loss: 'cross_entropy' as const };
    const expected = planThreads(stepWork(spec, 128), os.availableParallelism());
    // 2 steps an epoch, 2 epochs: the run ends before the timing trial does (its steps ran here while the pool started).
    expect(auto.threadPlan).toEqual(
      expected.threads === 1 ? expected : { threads: 1, reason: `${expected.reason}; the run ended before the timing trial did (its last steps ran on 1)` },
    );
    expect(auto.threads).toBe(1);
    expect(auto.options.threads).toBe('auto');
    const one = await train({ ...o, threads: 1 });
    expect(one.threadPlan).toEqual({ threads: 1, reason: 'threads 1: as asked' });
    expect(bits(auto.model.params)).toEqual(bits(one.model.params));
  });

  it('the timed trial runs the first steps alternately on 1 and N threads, keeps the faster, and gives train()\'s bits', async () => {
    const o = { ...options(2), epochs: 7 };
    const { data: d, model, resume: _resume, ...opts } = parseTrainOptions(o);
    const prepared = prepareData(d, opts);
    // Chunks of 4 steps (trialMs ≈ 0): 8 + 8 warm-up steps and 3 rounds of 4 + 4, 40 of the run's 49 steps
    // (waiting for the pool first: steps would otherwise run here until it is up).
    const plan = { ...planRun(model, opts, prepared), trial: { plan: { threads: 2, reason: 'planned 2' }, trialMs: 1e-6 } };
    const engine = await startEngine(plan, prepared, { seed: opts.seed });
    try {
      expect(engine.threads).toBe(1);
      await engine.poolStarted();
      const rng = createRng(opts.seed + 1);
      for (let epoch = 0; epoch < opts.epochs; epoch++) {
        beginEpoch(engine, rng);
        expect((await engine.train(epoch, 0, plan.stepsPerEpoch)).steps).toBe(plan.stepsPerEpoch);
      }
      const chosen = engine.threadPlan!;
      expect(chosen.reason).toMatch(/^planned 2; timed 3 chunks of 4 steps each way: [\d.]+ ms a step on 1 thread, [\d.]+ on 2: (kept 2|1 thread is as fast or faster here, so 1)$/);
      expect(engine.threads).toBe(chosen.threads);
      expect(bits(engine.views.ws.params)).toEqual(bits((await train({ ...options(1), epochs: 7 })).model.params));
    } finally {
      await engine.close();
    }
  });
});
