// Results and errors of a trainer thread (spawnTrainer) as they cross the thread boundary by
// structured clone: a model as plain data, and an error as data that the caller's side turns
// back into the same class with its hint, a TrainingError's step, and a CheckpointWriteError's
// recovery file and model (trainer_api.ts RemoteTrainError says why).

import { ConfigError, DataError, ExportError, ModelFileError, OutputError, ThreadtrainError, TrainingError } from '../errors.ts';
import { Model } from '../model/model.ts';
import { CheckpointWriteError, type TrainResult } from '../train/train.ts';
import type { RemoteTrainError, RemoteTrainResult } from './trainer_api.ts';

/** A result as it crosses the thread: the model as plain data (ModelInfo). */
export function remoteResult(r: TrainResult): RemoteTrainResult {
  const m = r.model;
  return {
    model: { spec: m.spec, params: m.params, task: m.task, classNames: m.classNames, featureNames: m.featureNames, scaler: m.scaler },
    history: r.history, stopReason: r.stopReason, bestEpoch: r.bestEpoch, validation: r.validation, test: r.test,
    position: r.position, threads: r.threads, threadPlan: r.threadPlan, kernel: r.kernel, warnings: r.warnings,
  };
}

/** train()'s error as data (trainer_api.ts says why); localError makes the same error again on the caller's side. */
export function remoteError(error: unknown): RemoteTrainError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const hint = error instanceof ThreadtrainError ? error.hint : undefined;
  const suffix = hint === undefined ? '' : `\nhint: ${hint}`;
  const message = suffix !== '' && error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
  return {
    name: error instanceof ThreadtrainError ? error.name : 'Error', message, hint,
    step: error instanceof TrainingError ? error.step : undefined,
    ...(error instanceof CheckpointWriteError ? { recovered: error.recovered, result: { ...remoteResult(error.result), options: error.result.options } } : {}),
  };
}

/** The error the trainer thread's train() threw, made again on this side with its class, hint and data. */
export function localError(e: RemoteTrainError): Error {
  if (e.name === 'CheckpointWriteError' && e.result) {
    return new CheckpointWriteError(e.message, e.hint ?? '', { ...e.result, model: new Model(e.result.model) }, e.recovered);
  }
  if (e.name === 'TrainingError') return new TrainingError(e.message, e.hint, e.step);
  const Class = ERROR_CLASSES[e.name];
  if (Class) return new Class(e.message, e.hint);
  return Object.assign(new Error(e.message), { name: e.name });
}

const ERROR_CLASSES: Record<string, new (message: string, hint?: string) => ThreadtrainError> = {
  ThreadtrainError, ConfigError, DataError, ModelFileError, ExportError, OutputError,
};
