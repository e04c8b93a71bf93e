// threadtrain export: a saved model as files another runtime loads — ONNX, TensorFlow.js
// Layers, or safetensors with a PyTorch model.py beside it (io/export.ts does the work).

import type { Argv } from 'yargs';
import { displayPath } from '../errors.ts';
import { EXPORT_FORMATS, writeExport, type ExportFormat } from '../io/export.ts';
import type { CommandHandler } from './command.ts';
import { layerSizes, out } from './format.ts';
import { loadModel, MODEL_OPTION } from './model_data.ts';

function exportCommand(a: Record<string, unknown>): number {
  const modelFile = String(a.model);
  const format = a.format as ExportFormat;
  const model = loadModel(modelFile);
  const written = writeExport(model, format, String(a.out));
  out(`exported ${displayPath(modelFile)} (${layerSizes(model.spec)}) as ${format}:`);
  for (const file of written) out(`  ${displayPath(file)}`);
  return 0;
}

export const exportModelCommand: CommandHandler = {
  builder: (y: Argv) =>
    y
      .option('model', MODEL_OPTION)
      .option('format', { alias: 'f', type: 'string', choices: EXPORT_FORMATS, demandOption: true, requiresArg: true, describe: 'onnx (onnxruntime), tfjs (TensorFlow.js Layers), safetensors (PyTorch)' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, requiresArg: true, describe: 'the file to write (onnx, safetensors: model.py goes beside it), or a directory for tfjs' })
      .example('$0 export --model mnist.ttm --format onnx --out mnist.onnx', '')
      .example('$0 export --model mnist.ttm --format tfjs --out web/mnist', '')
      .example('$0 export --model mnist.ttm --format safetensors --out torch/mnist.safetensors', ''),
  run: exportCommand,
};
