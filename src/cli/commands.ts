// The commands of the threadtrain CLI, in the order --help lists them: each one's name and
// description, and its module, imported only when that command runs. Loading every command's
// module graph up front cost ~180 ms of ESM loading on each start, `--help` included
// (bench/startup.ts); the help list needs only these lines. A new command is a module
// exporting a CommandHandler (command.ts) and one entry here.

import type { CommandEntry } from './command.ts';

export const COMMANDS: readonly CommandEntry[] = [
  { command: 'train', describe: 'Train a model from a config file and/or flags; flags override the config', load: async () => (await import('./train.ts')).train },
  { command: 'sweep', describe: 'Run many runs of a config (grid, random draws, k folds, seeds) on all cores, or one shard of them', load: async () => (await import('./sweep.ts')).sweep },
  { command: 'evaluate', describe: 'Loss and accuracy (or MSE, MAE, R²) of a saved model on labelled data', load: async () => (await import('./evaluate.ts')).evaluate },
  { command: 'predict', describe: 'Predictions of a saved model as CSV: the class and each class\'s probability, or the target values', load: async () => (await import('./predict.ts')).predict },
  { command: 'export', describe: 'Write a saved model for another runtime: ONNX, TensorFlow.js, or safetensors + model.py for PyTorch', load: async () => (await import('./export.ts')).exportModelCommand },
  { command: 'plot <log>', describe: 'Draw a training log (or scaling-benchmark lines) as an SVG chart', load: async () => (await import('./plot.ts')).plot },
  { command: 'inspect', describe: 'Layers, parameters, FLOPs per sample, threads, kernel and shared memory of a config; or what a model file holds', load: async () => (await import('./inspect.ts')).inspect },
  { command: 'bench', describe: 'Thread scaling of a config: samples/s, speedup and efficiency per thread count, weights checked bit-identical', load: async () => (await import('./bench.ts')).bench },
  { command: 'datasets <action> [name]', describe: 'List the public datasets, or download one (checksummed, resumable) into the cache folder', load: async () => (await import('./datasets.ts')).datasets },
];
