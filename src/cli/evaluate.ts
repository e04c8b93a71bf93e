// threadtrain evaluate: loss and accuracy (or MSE, MAE, R²) of a saved model on labelled data,
// as text or (--json) as one JSON object.

import type { Argv } from 'yargs';
import { displayPath } from '../errors.ts';
import { DATA_SOURCES } from '../options/data_source.ts';
import type { CommandHandler } from './command.ts';
import { layerSizes, out, printMetricsBlock } from './format.ts';
import { loadModel, readDataForModel, MODEL_OPTION } from './model_data.ts';

function evaluateCommand(a: Record<string, unknown>): number {
  const modelFile = String(a.model);
  const model = loadModel(modelFile);
  const data = readDataForModel(String(a.data), model, modelFile, true, a.label as string | undefined);
  const metrics = model.evaluate(data.ds!);
  if (a.json === true) {
    // One JSON document on stdout, for scripts; errors still go to stderr with the exit code.
    out(JSON.stringify({
      model: modelFile, layers: layerSizes(model.spec), task: model.task, data: data.what, rows: data.n,
      ...metrics,
      ...(model.classNames ? { classNames: model.classNames } : {}),
    }));
    return 0;
  }
  out(`model: ${displayPath(modelFile)} (${layerSizes(model.spec)}, ${model.task})`);
  out(`data: ${data.what}`);
  printMetricsBlock('evaluate', metrics, data.n, model.classNames);
  return 0;
}

export const evaluate: CommandHandler = {
  builder: (y: Argv) =>
    y
      .option('model', MODEL_OPTION)
      .option('data', { alias: 'd', type: 'string', demandOption: true, requiresArg: true, describe: `labelled rows: ${DATA_SOURCES.grammar}` })
      .option('label', { type: 'string', requiresArg: true, describe: 'the CSV label column (name or 0-based index)', defaultDescription: 'the last column' })
      .option('json', { type: 'boolean', describe: 'print one JSON object (model, data, rows, loss, accuracy and confusion, or mse, mae and r2) instead of text' })
      .example('$0 evaluate --model spirals.ttm --data builtin:spirals,n=1000,seed=7', '')
      .example('$0 evaluate --model mnist.ttm --data dataset:mnist --json', 'the test files of the downloaded MNIST, as JSON'),
  run: evaluateCommand,
};
