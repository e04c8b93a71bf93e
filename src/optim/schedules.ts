// Learning-rate schedules. `learningRateAt` is a pure function of the schedule, the base
// rate and the position in the run, so every worker thread computes the same rate for a
// step without talking to the others. The one schedule with memory, reduce-on-plateau,
// keeps it in a small `PlateauState` value that the coordinator advances once per epoch
// (`plateauAfterEpoch`) and hands to the workers; it is plain data for checkpoints.
//
// Counting: `step` is the global update index from 0 (the first update of the run is
// step 0) and `epoch` the epoch index from 0. Epoch-based schedules change the rate only
// at epoch boundaries, like a PyTorch scheduler whose `.step()` is called once per epoch.

import { ConfigError, describe } from '../errors.ts';

const show = (value: unknown): string => (typeof value === 'number' ? String(value) : describe(value));

export type ScheduleOptions =
  | { type: 'constant' }
  | { type: 'inverse_time'; c1: number; c2: number; per?: 'step' | 'epoch' }
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'exponential'; gamma: number }
  | { type: 'cosine'; warmupSteps?: number; minLr?: number }
  | { type: 'plateau'; factor?: number; patience?: number; threshold?: number; minLr?: number };

export const SCHEDULES = ['constant', 'inverse_time', 'step', 'exponential', 'cosine', 'plateau'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

/**
 * A validated schedule with every field filled in. Formulas (lr = base rate, k = step,
 * e = epoch, T = totalSteps, both indices from 0):
 *
 * - constant:     lr
 * - inverse_time: c1 / (k + c2) with per 'step' (default), c1 / (e + c2) with per 'epoch';
 *                 the base rate is ignored (Robbins–Monro form: c1/c2 is the first rate)
 * - step:         lr · gamma^⌊e / stepSize⌋ (PyTorch StepLR)
 * - exponential:  lr · gamma^e (PyTorch ExponentialLR, per epoch)
 * - cosine:       warmup for k < W: lr · (k + 1) / W, i.e. lr/W at step 0 up to lr at step W−1;
 *                 then minLr + (lr − minLr) · (1 + cos(π · (k − W) / (T − 1 − W))) / 2, which is
 *                 lr at step W and minLr at the last step T−1 (PyTorch CosineAnnealingLR with
 *                 T_max = T−1−W, per step). If no step is left after warmup, the rate stays lr;
 *                 steps past T−1 stay at minLr.
 * - plateau:      lr · scale, never below min(minLr, lr) (PyTorch ReduceLROnPlateau, mode
 *                 'min', threshold_mode 'rel', cooldown 0); see `plateauAfterEpoch`.
 */
export type Schedule =
  | { readonly type: 'constant' }
  | { readonly type: 'inverse_time'; readonly c1: number; readonly c2: number; readonly per: 'step' | 'epoch' }
  | { readonly type: 'step'; readonly stepSize: number; readonly gamma: number }
  | { readonly type: 'exponential'; readonly gamma: number }
  | { readonly type: 'cosine'; readonly warmupSteps: number; readonly minLr: number }
  | {
      readonly type: 'plateau';
      readonly factor: number;
      readonly patience: number;
      readonly threshold: number;
      readonly minLr: number;
    };

export interface SchedulePosition {
  /** Global update count from 0. */
  step: number;
  /** Epoch index from 0. */
  epoch: number;
  stepsPerEpoch: number;
  /** Updates in the whole run (cosine ends at step totalSteps − 1). */
  totalSteps: number;
}

export interface PlateauState {
  /** Multiplier on the base rate: 1, then factor, factor², … */
  scale: number;
  /** Best monitored loss so far (Infinity before the first epoch). */
  best: number;
  /** Epochs in a row without a significant improvement on `best`. */
  badEpochs: number;
}

const FIELDS: Record<ScheduleName, readonly string[]> = {
  constant: [],
  inverse_time: ['c1', 'c2', 'per'],
  step: ['stepSize', 'gamma'],
  exponential: ['gamma'],
  cosine: ['warmupSteps', 'minLr'],
  plateau: ['factor', 'patience', 'threshold', 'minLr'],
};

/** Validate schedule options (undefined means constant). Throws ConfigError naming `${where}.field`. */
export function resolveSchedule(options: ScheduleOptions | undefined, where = 'schedule'): Schedule {
  if (options === undefined) return { type: 'constant' };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(
      `${where} must be an object with a "type" field (got ${show(options)})`,
      `write e.g. { "type": "cosine", "warmupSteps": 100 }`,
    );
  }
  const type = (options as { type?: unknown }).type;
  if (!(SCHEDULES as readonly unknown[]).includes(type)) {
    throw new ConfigError(
      `${where}.type must be one of ${SCHEDULES.join(', ')} (got ${show(type)})`,
      'names are lower case with underscores, e.g. "inverse_time"',
    );
  }
  const name = type as ScheduleName;
  const record = options as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'type' && !FIELDS[name].includes(key)) {
      throw new ConfigError(
        `${where}.${key} is not an option of the "${name}" schedule`,
        FIELDS[name].length ? `"${name}" takes ${FIELDS[name].join(', ')}` : `"${name}" takes no options`,
      );
    }
  }

  const num = (key: string, fallback: number | undefined, ok: (v: number) => boolean, rule: string, hint: string): number => {
    const value = record[key] ?? fallback;
    if (value === undefined) {
      throw new ConfigError(`${where}.${key} is required for the "${name}" schedule`, hint);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
      throw new ConfigError(`${where}.${key} must be ${rule} (got ${show(value)})`, hint);
    }
    return value;
  };
  const positive = (v: number) => v > 0;
  const nonNegative = (v: number) => v >= 0;
  const count = (v: number) => Number.isInteger(v) && v >= 0;

  switch (name) {
    case 'constant':
      return { type: 'constant' };
    case 'inverse_time': {
      const hint = 'the rate is c1 / (k + c2); c1 / c2 is the first rate, e.g. c1 = 1, c2 = 10 starts at 0.1';
      const c1 = num('c1', undefined, positive, 'a number > 0', hint);
      const c2 = num('c2', undefined, positive, 'a number > 0', hint);
      const per = record.per ?? 'step';
      if (per !== 'step' && per !== 'epoch') {
        throw new ConfigError(`${where}.per must be "step" or "epoch" (got ${show(per)})`, 'k counts updates with "step", epochs with "epoch"');
      }
      return { type: 'inverse_time', c1, c2, per };
    }
    case 'step': {
      const stepSize = num('stepSize', undefined, (v) => Number.isInteger(v) && v > 0, 'a whole number of epochs > 0',
        'the rate is multiplied by gamma every stepSize epochs');
      const gamma = num('gamma', undefined, (v) => v > 0 && v <= 1, 'in (0, 1]', 'gamma is the factor applied every stepSize epochs, e.g. 0.1');
      return { type: 'step', stepSize, gamma };
    }
    case 'exponential': {
      const gamma = num('gamma', undefined, (v) => v > 0 && v <= 1, 'in (0, 1]', 'gamma is the factor applied every epoch, e.g. 0.95');
      return { type: 'exponential', gamma };
    }
    case 'cosine': {
      const warmupSteps = num('warmupSteps', 0, count, 'a whole number >= 0', 'warmupSteps counts updates, not epochs');
      const minLr = num('minLr', 0, nonNegative, 'a number >= 0', 'minLr is the rate reached at the last step');
      return { type: 'cosine', warmupSteps, minLr };
    }
    case 'plateau': {
      const factor = num('factor', 0.1, (v) => v > 0 && v < 1, 'in (0, 1)', 'the rate is multiplied by factor on a plateau; PyTorch uses 0.1');
      const patience = num('patience', 10, count, 'a whole number of epochs >= 0', 'epochs without improvement before the rate is cut; PyTorch uses 10');
      const threshold = num('threshold', 1e-4, (v) => v >= 0 && v < 1, 'in [0, 1)',
        'relative improvement that counts: the loss must drop below best · (1 − threshold)');
      const minLr = num('minLr', 0, nonNegative, 'a number >= 0', 'the rate is never cut below minLr');
      return { type: 'plateau', factor, patience, threshold, minLr };
    }
  }
}

export function initialPlateauState(): PlateauState {
  return { scale: 1, best: Infinity, badEpochs: 0 };
}

/**
 * The learning rate for the update at `pos`. Pure and allocation-free: workers call it every step.
 * Of the plateau state only the current scale matters here (the coordinator keeps the rest),
 * so that is all it takes: workers read it from a shared cell.
 */
export function learningRateAt(schedule: Schedule, baseLr: number, pos: SchedulePosition, plateauScale: number): number {
  switch (schedule.type) {
    case 'constant':
      return baseLr;
    case 'inverse_time':
      return schedule.c1 / ((schedule.per === 'epoch' ? pos.epoch : pos.step) + schedule.c2);
    case 'step':
      return baseLr * Math.pow(schedule.gamma, Math.floor(pos.epoch / schedule.stepSize));
    case 'exponential':
      return baseLr * Math.pow(schedule.gamma, pos.epoch);
    case 'cosine': {
      const W = schedule.warmupSteps;
      const k = pos.step;
      if (k < W) return (baseLr * (k + 1)) / W;
      const span = pos.totalSteps - 1 - W;
      if (span <= 0) return baseLr;
      const progress = Math.min(1, (k - W) / span);
      return schedule.minLr + ((baseLr - schedule.minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
    case 'plateau':
      // The floor is min(minLr, base) so that a base rate already below minLr is never raised.
      return Math.max(baseLr * plateauScale, Math.min(schedule.minLr, baseLr));
  }
}

/**
 * Advance reduce-on-plateau after an epoch, given the monitored loss (validation loss, or
 * training loss when there is no validation split). As PyTorch: an epoch improves when
 * loss < best · (1 − threshold); after more than `patience` epochs in a row without
 * improvement the scale is multiplied by `factor` and the count starts again. A NaN loss
 * counts as no improvement. Other schedules return `state` unchanged.
 */
export function plateauAfterEpoch(schedule: Schedule, state: PlateauState, monitoredLoss: number): PlateauState {
  if (schedule.type !== 'plateau') return state;
  if (monitoredLoss < state.best * (1 - schedule.threshold)) {
    return { scale: state.scale, best: monitoredLoss, badEpochs: 0 };
  }
  const badEpochs = state.badEpochs + 1;
  if (badEpochs > schedule.patience) {
    return { scale: state.scale * schedule.factor, best: state.best, badEpochs: 0 };
  }
  return { scale: state.scale, best: state.best, badEpochs };
}
