// threadtrain predict: a saved model's predictions as CSV, the class and each class's
// probability, or the target values.

import path from 'node:path';
import type { Argv } from 'yargs';
import { displayPath } from '../errors.ts';
import { writeFileAtomic } from '../io/envelope.ts';
import { prepareOutput } from '../io/output_path.ts';
import type { Model } from '../model/model.ts';
import { DATA_SOURCES } from '../options/data_source.ts';
import type { CommandHandler } from './command.ts';
import { num, out } from './format.ts';
import { loadModel, readDataForModel, MODEL_OPTION } from './model_data.ts';

/** A CSV cell: quoted when it holds a delimiter, quote or line break. */
function csvCell(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function predictionsCsv(model: Model, x: Float32Array, n: number): string {
  const y = model.predict(x, n);
  const units = model.outputs;
  const lines: string[] = [];
  if (model.task === 'regression') {
    lines.push(units === 1 ? 'prediction' : Array.from({ length: units }, (_, j) => `prediction_${j}`).join(','));
    for (let r = 0; r < n; r++) lines.push(Array.from(y.subarray(r * units, (r + 1) * units), num).join(','));
    return `${lines.join('\n')}\n`;
  }
  const classes = model.predictClasses(x, n);
  const names = (id: number) => model.classNames?.[id] ?? String(id);
  const act = model.spec.layers[model.spec.layers.length - 1]!.activation;
  // Only softmax and a single sigmoid give probabilities; other outputs are shown raw.
  const probs = act === 'softmax' || (act === 'sigmoid' && units === 1);
  const k = units === 1 && probs ? 2 : units;
  const head = ['prediction', ...Array.from({ length: k }, (_, j) => (probs ? `p_${names(j)}` : `output_${j}`))];
  lines.push(head.map(csvCell).join(','));
  for (let r = 0; r < n; r++) {
    const row = units === 1 && probs ? [1 - y[r]!, y[r]!] : Array.from(y.subarray(r * units, (r + 1) * units));
    lines.push([csvCell(names(classes[r]!)), ...row.map(num)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

function predictCommand(a: Record<string, unknown>): number {
  const modelFile = String(a.model);
  if (a.out !== undefined) prepareOutput(String(a.out), '--out');
  const model = loadModel(modelFile);
  const data = readDataForModel(String(a.data), model, modelFile, false, a.label as string | undefined);
  const csv = predictionsCsv(model, data.x, data.n);
  if (a.out === undefined) {
    process.stdout.write(csv);
    return 0;
  }
  const file = path.resolve(String(a.out));
  writeFileAtomic(file, Buffer.from(csv));
  out(`wrote ${data.n} predictions for ${data.what} to ${displayPath(file)}`);
  return 0;
}

export const predict: CommandHandler = {
  builder: (y: Argv) =>
    y
      .option('model', MODEL_OPTION)
      .option('data', { alias: 'd', type: 'string', demandOption: true, requiresArg: true, describe: `rows (a CSV's label column is ignored): ${DATA_SOURCES.grammar}` })
      .option('label', { type: 'string', requiresArg: true, describe: 'the CSV label column to skip (name or 0-based index)', defaultDescription: 'detected by the column count' })
      .option('out', { alias: 'o', type: 'string', requiresArg: true, describe: 'write the CSV here (atomically)', defaultDescription: 'stdout' })
      .example('$0 predict --model iris.ttm --data new_flowers.csv --out predictions.csv', ''),
  run: predictCommand,
};
