// Learning-rate schedules against float64 formulas written out here, warmup edge cases,
// reduce-on-plateau over a hand-written loss sequence, and one test per validation message.

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.ts';
import {
  initialPlateauState,
  learningRateAt,
  plateauAfterEpoch,
  type PlateauState,
  type Schedule,
} from '../src/optim/schedules.ts';
import { resolveSchedule } from '../src/options/parse.ts';
import type { ScheduleOptions } from '../src/options/schema.ts';

const STEPS_PER_EPOCH = 10;
const EPOCHS = 8;
const TOTAL = STEPS_PER_EPOCH * EPOCHS;
const at = (step: number) => ({ step, epoch: Math.floor(step / STEPS_PER_EPOCH), stepsPerEpoch: STEPS_PER_EPOCH, totalSteps: TOTAL });
const lrAt = (s: Schedule, base: number, step: number, plateau: PlateauState = initialPlateauState()) =>
  learningRateAt(s, base, at(step), plateau.scale);
const POSITIONS = [0, 1, 9, 10, 11, 25, 39, 40, 41, 63, 78, 79];

describe('formulas', () => {
  it('constant returns the base rate', () => {
    const s = resolveSchedule(undefined);
    for (const k of POSITIONS) expect(lrAt(s, 0.3, k)).toBe(0.3);
    expect(resolveSchedule({ type: 'constant' })).toEqual({ type: 'constant' });
  });

  it('inverse_time per step: c1 / (k + c2), ignoring the base rate', () => {
    const s = resolveSchedule({ type: 'inverse_time', c1: 2, c2: 20 });
    for (const k of POSITIONS) expect(lrAt(s, 123, k)).toBeCloseTo(2 / (k + 20), 15);
    expect(lrAt(s, 123, 0)).toBe(0.1);
  });

  it('inverse_time per epoch: c1 / (e + c2), constant within an epoch', () => {
    const s = resolveSchedule({ type: 'inverse_time', c1: 1, c2: 4, per: 'epoch' });
    for (const k of POSITIONS) expect(lrAt(s, 123, k)).toBeCloseTo(1 / (Math.floor(k / STEPS_PER_EPOCH) + 4), 15);
    expect(lrAt(s, 0, 9)).toBe(lrAt(s, 0, 0));
  });

  it('step: lr · gamma^⌊e / stepSize⌋', () => {
    const s = resolveSchedule({ type: 'step', stepSize: 3, gamma: 0.5 });
    const want = [0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05];
    for (let e = 0; e < EPOCHS; e++) {
      expect(lrAt(s, 0.2, e * STEPS_PER_EPOCH)).toBeCloseTo(want[e]!, 15);
      expect(lrAt(s, 0.2, e * STEPS_PER_EPOCH + 9)).toBeCloseTo(want[e]!, 15);
    }
  });

  it('exponential: lr · gamma^e', () => {
    const s = resolveSchedule({ type: 'exponential', gamma: 0.9 });
    for (const k of POSITIONS) expect(lrAt(s, 0.5, k)).toBeCloseTo(0.5 * 0.9 ** Math.floor(k / STEPS_PER_EPOCH), 15);
  });

  it('cosine without warmup: lr at step 0, minLr at the last step, midpoint halfway', () => {
    const s = resolveSchedule({ type: 'cosine', minLr: 0.01 });
    const ref = (k: number) => 0.01 + 0.5 * (0.1 - 0.01) * (1 + Math.cos((Math.PI * k) / (TOTAL - 1)));
    for (const k of POSITIONS) expect(lrAt(s, 0.1, k)).toBeCloseTo(ref(k), 15);
    expect(lrAt(s, 0.1, 0)).toBeCloseTo(0.1, 15);
    expect(lrAt(s, 0.1, TOTAL - 1)).toBeCloseTo(0.01, 15);
    // Monotone non-increasing over the whole run.
    for (let k = 1; k < TOTAL; k++) expect(lrAt(s, 0.1, k)).toBeLessThanOrEqual(lrAt(s, 0.1, k - 1));
  });

  it('cosine with warmup: linear from lr/W to lr over W steps, then cosine to minLr', () => {
    const W = 5;
    const s = resolveSchedule({ type: 'cosine', warmupSteps: W });
    const ref = (k: number) => (k < W ? (0.1 * (k + 1)) / W : 0.05 * (1 + Math.cos((Math.PI * (k - W)) / (TOTAL - 1 - W))));
    for (const k of [0, 1, 2, 3, 4, 5, 6, ...POSITIONS]) expect(lrAt(s, 0.1, k)).toBeCloseTo(ref(k), 15);
    expect(lrAt(s, 0.1, 0)).toBeCloseTo(0.02, 15);
    expect(lrAt(s, 0.1, W - 1)).toBeCloseTo(0.1, 15);
    expect(lrAt(s, 0.1, W)).toBeCloseTo(0.1, 15);
    expect(lrAt(s, 0.1, TOTAL - 1)).toBe(0);
  });
});

describe('cosine edge cases', () => {
  const pos = (step: number, totalSteps: number) => ({ step, epoch: 0, stepsPerEpoch: totalSteps, totalSteps });

  it('warmupSteps 1 starts at the full rate', () => {
    const s = resolveSchedule({ type: 'cosine', warmupSteps: 1 });
    expect(learningRateAt(s, 0.1, pos(0, 10), initialPlateauState().scale)).toBe(0.1);
  });

  it('a one-step run uses the base rate, not minLr', () => {
    const s = resolveSchedule({ type: 'cosine', minLr: 0.001 });
    expect(learningRateAt(s, 0.1, pos(0, 1), initialPlateauState().scale)).toBe(0.1);
  });

  it('warmup that fills the whole run never decays and ends at lr', () => {
    const s = resolveSchedule({ type: 'cosine', warmupSteps: 4 });
    expect([0, 1, 2, 3].map((k) => learningRateAt(s, 0.4, pos(k, 4), initialPlateauState().scale))).toEqual([0.1, 0.2, 0.30000000000000004, 0.4]);
  });

  it('warmup ending on the last step but one: the last step is lr (no room to decay)', () => {
    const s = resolveSchedule({ type: 'cosine', warmupSteps: 3, minLr: 0.01 });
    expect(learningRateAt(s, 0.3, pos(3, 4), initialPlateauState().scale)).toBe(0.3);
  });

  it('steps past the end stay at minLr', () => {
    const s = resolveSchedule({ type: 'cosine', minLr: 0.01 });
    expect(learningRateAt(s, 0.1, pos(50, 10), initialPlateauState().scale)).toBe(0.01);
  });
});

describe('reduce on plateau', () => {
  it('cuts the rate after more than `patience` epochs without a relative improvement', () => {
    const s = resolveSchedule({ type: 'plateau', factor: 0.5, patience: 2, threshold: 0.01, minLr: 0.02 });
    // loss      improves?                                  bad  scale
    const script: [number, boolean, number, number][] = [
      [1.0, true, 0, 1], //     first epoch always improves on Infinity
      [0.8, true, 0, 1], //     0.8 < 1.0·0.99
      [0.795, false, 1, 1], //  0.795 ≥ 0.8·0.99 = 0.792: too small to count
      [0.9, false, 2, 1], //
      [0.85, false, 0, 0.5], // third bad epoch > patience 2: cut, count restarts
      [0.7, true, 0, 0.5], //
      [0.7, false, 1, 0.5], //
      [0.7, false, 2, 0.5], //
      [0.7, false, 0, 0.25], //
      [Number.NaN, false, 1, 0.25], // NaN never improves
      [0.7, false, 2, 0.25], //
      [0.7, false, 0, 0.125], //
    ];
    let state = initialPlateauState();
    let best = Infinity;
    script.forEach(([loss, improves, bad, scale], e) => {
      state = plateauAfterEpoch(s, state, loss);
      if (improves) best = loss;
      expect(state, `after epoch ${e} (loss ${loss})`).toEqual({ scale, best, badEpochs: bad });
    });
    // lr = base · scale, floored at minLr: 0.1 · 0.125 = 0.0125 → 0.02.
    expect(learningRateAt(s, 0.1, at(0), 0.5)).toBe(0.05);
    expect(learningRateAt(s, 0.1, at(0), state.scale)).toBe(0.02);
  });

  it('patience 0 cuts at the first epoch without improvement', () => {
    const s = resolveSchedule({ type: 'plateau', patience: 0 });
    let state = plateauAfterEpoch(s, initialPlateauState(), 1);
    state = plateauAfterEpoch(s, state, 1);
    expect(state.scale).toBeCloseTo(0.1, 15);
  });

  it('threshold 0 counts any decrease as an improvement', () => {
    const s = resolveSchedule({ type: 'plateau', threshold: 0, patience: 0 });
    let state = plateauAfterEpoch(s, initialPlateauState(), 1);
    state = plateauAfterEpoch(s, state, 0.9999999);
    expect(state).toEqual({ scale: 1, best: 0.9999999, badEpochs: 0 });
  });

  it('never raises a base rate that is already below minLr', () => {
    const s = resolveSchedule({ type: 'plateau', minLr: 0.5 });
    expect(learningRateAt(s, 0.1, at(0), 0.1)).toBe(0.1);
  });

  it('other schedules leave the plateau state alone and ignore it', () => {
    const s = resolveSchedule({ type: 'exponential', gamma: 0.5 });
    const state = initialPlateauState();
    expect(plateauAfterEpoch(s, state, 1)).toBe(state);
    expect(learningRateAt(s, 0.1, at(0), 0.001)).toBe(0.1);
  });

  it('defaults follow PyTorch ReduceLROnPlateau', () => {
    expect(resolveSchedule({ type: 'plateau' })).toEqual({ type: 'plateau', factor: 0.1, patience: 10, threshold: 1e-4, minLr: 0 });
  });
});

describe('resolveSchedule messages', () => {
  const rejects = (options: unknown, message: string, where?: string) => {
    let error: unknown;
    try {
      resolveSchedule(options as ScheduleOptions, where);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split('\n')[0]).toBe(message);
    expect((error as ConfigError).hint).toBeTruthy();
  };

  it('not an object', () => rejects('cosine', 'schedule: expected an object, found "cosine"'));
  it('unknown type', () =>
    rejects({ type: 'linear' }, 'schedule.type: expected one of constant, inverse_time, step, exponential, cosine, plateau, found "linear"'));
  it('option of another schedule', () => rejects({ type: 'cosine', gamma: 0.5 }, 'schedule.gamma: unknown option'));
  it('missing required field', () => rejects({ type: 'inverse_time', c1: 1 }, 'schedule.c2: expected a number > 0, found nothing'));
  it('non-positive c1', () => rejects({ type: 'inverse_time', c1: 0, c2: 1 }, 'schedule.c1: expected a number > 0, found 0'));
  it('bad per', () => rejects({ type: 'inverse_time', c1: 1, c2: 1, per: 'batch' }, 'schedule.per: expected one of step, epoch, found "batch"'));
  it('fractional stepSize', () =>
    rejects({ type: 'step', stepSize: 2.5, gamma: 0.1 }, 'schedule.stepSize: expected a positive integer, found 2.5'));
  it('gamma above 1', () => rejects({ type: 'exponential', gamma: 1.1 }, 'schedule.gamma: expected a number in (0, 1], found 1.1'));
  it('negative warmupSteps', () => rejects({ type: 'cosine', warmupSteps: -1 }, 'schedule.warmupSteps: expected a whole number ≥ 0, found -1'));
  it('negative minLr', () => rejects({ type: 'cosine', minLr: -0.1 }, 'schedule.minLr: expected a number ≥ 0, found -0.1'));
  it('factor of 1', () => rejects({ type: 'plateau', factor: 1 }, 'schedule.factor: expected a number in (0, 1), found 1'));
  it('fractional patience', () => rejects({ type: 'plateau', patience: 1.5 }, 'schedule.patience: expected a whole number ≥ 0, found 1.5'));
  it('threshold of 1', () => rejects({ type: 'plateau', threshold: 1 }, 'schedule.threshold: expected a number in [0, 1), found 1'));
  it('Infinity shown as such, under the caller\'s path', () =>
    rejects({ type: 'cosine', minLr: Infinity }, 'train.schedule.minLr: expected a number ≥ 0, found Infinity', 'train.schedule'));
});
