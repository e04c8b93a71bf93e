// Learning-rate schedules. `learningRateAt` is a pure function of the schedule, the base
// rate and the position in the run, so every worker thread computes the same rate for a
// step without talking to the others. The one schedule with memory, reduce-on-plateau,
// keeps it in a small `PlateauState` value that the coordinator advances once per epoch
// (`plateauAfterEpoch`) and hands to the workers; it is plain data for checkpoints.
//
// Options are parsed and defaulted by the options schema (options/schema.ts) into a `Schedule`.
//
// Counting: `step` is the global update index from 0 (the first update of the run is
// step 0) and `epoch` the epoch index from 0. Epoch-based schedules change the rate only
// at epoch boundaries, like a PyTorch scheduler whose `.step()` is called once per epoch.

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
