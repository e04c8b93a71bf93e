// threadtrain's public surface: train a multilayer perceptron on all cores, in-process
// or from a worker thread, and use the trained model. Everything else is internal.
//
//   import { train, builtinDataset } from 'threadtrain';
//   const data = builtinDataset('spirals', { seed: 1, n: 2000 });
//   const { model, history, test } = await train({
//     model: { layers: [{ units: 32, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
//     data, split: { validation: 0.1, test: 0.1 }, epochs: 30, batchSize: 32, lr: 0.1, threads: 2,
//   });

export { train } from './api.ts';
export type { TrainHooks, TrainResult, StopReason } from './train/train.ts';
export { CheckpointWriteError } from './train/train.ts';
export type {
  TrainOptions, ModelOptions, DataSplitsInput, StopOptions, EarlyStoppingOptions, ResolvedTrainOptions, OptimizerOptions, ScheduleOptions,
} from './options/schema.ts';
export { spawnTrainer } from './remote/spawn.ts';
export { sweep, collect, loadSweep } from './sweep/sweep.ts';
export type { SweepOptions, SweepHooks, SweepProgress, SweepResult, CollectResult } from './sweep/sweep.ts';
export type { SweepSection, MetricKey, RandomParam } from './options/sweep.ts';
export type { SweepRun, ExpandedSweep } from './sweep/expand.ts';
export type { RunRecord, ConfigSummary } from './sweep/results.ts';
export { parseShard, shardFromEnv } from './sweep/shard.ts';
export type { Shard } from './sweep/shard.ts';
export type { RemoteTrainer } from './remote/spawn.ts';
export { Model } from './model/model.ts';
export type { ModelInfo, ModelLayer, ModelAbout } from './model/model.ts';
export { exportModel, writeExport, EXPORT_FORMATS } from './io/export.ts';
export type { ExportFormat, ExportedFile, ExportOptions } from './io/export.ts';
export { weightsFromSafetensors, readSafetensorsWeights } from './io/safetensors.ts';
export type { ExplicitLayerWeights } from './model/init.ts';
export type { ModelSpec, LayerSpec, ActivationName, LossName, InitializerName } from './model/spec.ts';
export type { Metrics } from './model/metrics.ts';
export type { OptimizerName } from './optim/optimizers.ts';
export type { EpochRecord, StepRecord } from './report/log.ts';
export type { Dataset, ClassificationDataset, RegressionDataset } from './data/dataset.ts';
export { loadCsv, parseCsv } from './data/csv.ts';
export type { CsvOptions } from './data/csv.ts';
export { loadIdx, readIdx } from './data/idx.ts';
export { builtinDataset, xorDataset, andDataset, spirals, blobs, sine, parabolaVsRandom } from './data/synthetic.ts';
export { splitDataset } from './data/split.ts';
export { downloadDataset, datasetFiles, datasetDir, DATASET_NAMES } from './data/download.ts';
export type { DatasetName, DatasetPaths, DatasetSpec, DownloadOptions, DownloadResult } from './data/download.ts';
export { cacheRoot } from './data/cache_dir.ts';
export { fitScaler, applyScaler } from './data/scaling.ts';
export type { Scaler, ScalerMethod } from './data/scaling.ts';
export { createRng } from './rng.ts';
export { ThreadtrainError, ConfigError, DataError, ModelFileError, TrainingError, ExportError, OutputError } from './errors.ts';
