// What a trainer running off the main thread offers through comlink. Results cross the
// thread boundary by structured clone, so the model travels as plain data (ModelInfo)
// and is turned back into a Model on the caller's side.

import type { ModelInfo } from '../model/model.ts';
import type { ThreadPlan } from '../engine/threads.ts';
import type { EpochRecord } from '../report/log.ts';
import type { Metrics } from '../model/metrics.ts';
import type { TrainOptions } from '../options/schema.ts';
import type { StopReason, TrainResult } from '../train/train.ts';
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

/**
 * An error train() threw in the trainer thread, as data. A thrown Error crosses the thread
 * as its message only; this keeps what a caller branches on and acts on: the class, the
 * hint, a TrainingError's step, and a CheckpointWriteError's recovery file and the run it
 * stopped (its model trained so far), so nothing is lost on the way.
 */
export interface RemoteTrainError {
  /** The error's class name: ConfigError, CheckpointWriteError, …; "Error" for any other. */
  readonly name: string;
  /** The message without its hint line. */
  readonly message: string;
  readonly hint?: string | undefined;
  readonly step?: number | undefined;
  readonly recovered?: string | undefined;
  readonly result?: RemoteTrainResult & { readonly options: TrainResult['options'] };
}

export type RemoteTrainOutcome = { readonly ok: true; readonly result: RemoteTrainResult } | { readonly ok: false; readonly error: RemoteTrainError };

export interface TrainerApi {
  /** Train; `onEpoch` is a Comlink.proxy callback called after every epoch. Resolves to the result, or to the error train() threw. */
  train(options: TrainOptions, onEpoch?: (record: EpochRecord) => void): Promise<RemoteTrainOutcome>;
  /** Stop the running training at its next step boundary; train() then resolves with what it has. */
  cancel(): void;
}
