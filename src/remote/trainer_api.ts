// What a trainer running off the main thread offers through comlink. Results cross the
// thread boundary by structured clone, so the model travels as plain data (ModelInfo)
// and is turned back into a Model on the caller's side.

import type { ModelInfo } from '../model/model.ts';
import type { ThreadPlan } from '../engine/threads.ts';
import type { EpochRecord } from '../report/log.ts';
import type { Metrics } from '../model/metrics.ts';
import type { TrainOptions } from '../options/schema.ts';
import type { StopReason } from '../train/train.ts';
import type { RunKernel } from '../kernels/select.ts';

export interface RemoteTrainResult {
  readonly model: ModelInfo;
  readonly history: EpochRecord[];
  readonly stopReason: StopReason;
  readonly bestEpoch?: number | undefined;
  readonly validation?: Metrics | undefined;
  readonly test?: Metrics | undefined;
  readonly position: { readonly epoch: number; readonly step: number };
  readonly threads: number;
  readonly threadPlan: ThreadPlan;
  readonly kernel: RunKernel;
  readonly warnings: string[];
}

export interface TrainerApi {
  /** Train; `onEpoch` is a Comlink.proxy callback called after every epoch. */
  train(options: TrainOptions, onEpoch?: (record: EpochRecord) => void): Promise<RemoteTrainResult>;
  /** Stop the running training at its next step boundary; train() then resolves with what it has. */
  cancel(): void;
}
