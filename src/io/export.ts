// exportModel: a trained model as the files another runtime loads — ONNX, TensorFlow.js
// Layers, or safetensors with a PyTorch module beside it. Every file is built in memory
// first, so a model a format cannot express fails before anything is written; writing
// then goes file by file through writeFileAtomic, weights before the file that points to
// them (a reader never finds a model.json or model.py whose weights are missing).

import { basename, dirname, extname, join } from 'node:path';
import type { Model } from '../model/model.ts';
import { ConfigError, describe } from '../errors.ts';
import { writeFileAtomic } from './envelope.ts';
import { prepareOutput } from './output_path.ts';
import type { ExportSource } from './export_metadata.ts';
import { encodeOnnx } from './onnx.ts';
import { pytorchModule } from './pytorch.ts';
import { encodeTorchSafetensors } from './safetensors.ts';
import { encodeTfjs, TFJS_WEIGHTS_FILE } from './tfjs.ts';

export const EXPORT_FORMATS = ['onnx', 'tfjs', 'safetensors'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportedFile {
  /** File name (no directory); the files of one export reference each other by these names. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface ExportOptions {
  /** Name of the main file: default model.onnx, model.json, model.safetensors. */
  readonly name?: string;
}

const DEFAULT_NAME: Record<ExportFormat, string> = { onnx: 'model.onnx', tfjs: 'model.json', safetensors: 'model.safetensors' };
export const PYTORCH_MODULE_FILE = 'model.py';

export function exportSource(model: Model): ExportSource {
  return {
    layers: model.layers(), loss: model.spec.loss, task: model.task, scaler: model.scaler,
    classNames: model.classNames, featureNames: model.featureNames,
  };
}

/**
 * The files of `model` in `format`, weights first: onnx → [model.onnx]; tfjs →
 * [group1-shard1of1.bin, model.json]; safetensors → [model.safetensors, model.py].
 * Throws ExportError, naming the layer, when the format cannot express the model.
 */
export function exportModel(model: Model, format: ExportFormat, options: ExportOptions = {}): ExportedFile[] {
  if (!EXPORT_FORMATS.includes(format)) {
    throw new ConfigError(`export format must be one of ${EXPORT_FORMATS.join(', ')}, found ${describe(format)}`,
      'onnx for onnxruntime, tfjs for TensorFlow.js, safetensors for PyTorch');
  }
  const name = options.name ?? DEFAULT_NAME[format];
  const source = exportSource(model);
  switch (format) {
    case 'onnx':
      return [{ name, bytes: encodeOnnx(source) }];
    case 'tfjs': {
      const { json, weights } = encodeTfjs(source);
      return [{ name: TFJS_WEIGHTS_FILE, bytes: weights }, { name, bytes: new TextEncoder().encode(`${JSON.stringify(json, null, 1)}\n`) }];
    }
    case 'safetensors':
      return [
        { name, bytes: encodeTorchSafetensors(source) },
        { name: PYTORCH_MODULE_FILE, bytes: new TextEncoder().encode(pytorchModule(source, name)) },
      ];
  }
}

/**
 * Export and write. `out` is the main file's path (onnx, safetensors: model.py is written
 * beside it) or, for tfjs, a directory (created if missing) that receives model.json and
 * its weights file. Returns the paths written, in order.
 */
export function writeExport(model: Model, format: ExportFormat, out: string): string[] {
  if (format === 'tfjs' && extname(out) === '.json') {
    throw new ConfigError(`export --out ${out}: the tfjs format writes a directory (model.json and its weights), found a .json file name`,
      `pass a directory, e.g. --out ${join(dirname(out), basename(out, '.json'))}`);
  }
  const dir = format === 'tfjs' ? out : dirname(out);
  // The model is encoded first (a layer the format cannot express is an error before any
  // folder is made), then the target checked by the output-path rule, then written.
  const files = exportModel(model, format, format === 'tfjs' ? {} : { name: basename(out) });
  prepareOutput(out, 'export --out', format === 'tfjs' ? 'folder' : 'file');
  return files.map((file) => {
    const path = join(dir, file.name);
    writeFileAtomic(path, file.bytes);
    return path;
  });
}
