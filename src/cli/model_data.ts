// The data and model of evaluate and predict: a saved model, and rows for it named by
// --data in the grammar every command shares (options/data_source.ts). A CSV is read
// against the model's own columns (features in its order, then optionally the label).

import fs from 'node:fs';
import { loadCsv } from '../data/csv.ts';
import type { Dataset, RegressionDataset } from '../data/dataset.ts';
import { loadData, type DataSplits } from '../data/load.ts';
import { ConfigError, DataError, displayPath } from '../errors.ts';
import { Model } from '../model/model.ts';
import { DATA_SOURCES, type DataSource } from '../options/data_source.ts';
import { parseFromShell } from '../options/parse.ts';

/** The --model flag of the commands that read a saved model (evaluate, predict, export). */
export const MODEL_OPTION = { alias: 'm', type: 'string', demandOption: true, requiresArg: true, describe: 'model file written by train --out' } as const;

/** A --data value parsed by the data schema; paths resolve from the current directory. */
function parseDataFlag(raw: Record<string, unknown>): DataSource {
  return parseFromShell(DATA_SOURCES.schema, raw, '--data');
}

export interface ModelData {
  readonly what: string;
  readonly x: Float32Array;
  readonly n: number;
  /** With labels (always for builtin and idx, when the CSV has the label column). */
  readonly ds: Dataset | undefined;
}

function checkFeatures(model: Model, file: string, modelFile: string, features: number): void {
  if (features !== model.inputs) {
    throw new DataError(`${file}: has ${features} features, but the model ${modelFile} takes ${model.inputs}`, 'evaluate on data with the columns the model was trained on');
  }
}

/**
 * A CSV for a saved model: its feature columns in the model's order, then (optionally for
 * predict) the label column(s). Whether the labels are there is told by the column count,
 * which a first pass reads (the label column may hold strings, so it is read as one).
 */
export function readCsvForModel(file: string, model: Model, modelFile: string, requireLabel: boolean, label: string | undefined): ModelData {
  const labelSpec = label === undefined ? undefined : /^-?\d+$/.test(label) ? Number(label) : label;
  const probe = loadCsv(file, { task: 'classification', label: labelSpec ?? -1 });
  const header = probe.featureNames !== undefined;
  const width = probe.features + 1;
  const k = model.task === 'classification' ? 1 : model.outputs;
  const hasLabel = labelSpec !== undefined || width === model.inputs + k;
  if (!hasLabel && width !== model.inputs) {
    throw new DataError(
      `${file}: has ${width} columns, but the model ${modelFile} takes ${model.inputs} features (and ${k} label column${k === 1 ? '' : 's'} after them, optional for predict)`,
      'give the model\'s feature columns in the order it was trained on',
    );
  }
  if (!hasLabel && requireLabel) {
    throw new DataError(
      `${file}: has ${width} columns, the model's ${model.inputs} features and no label column; evaluate needs the labels`,
      `add the label column${k === 1 ? '' : 's'} after the features (or name it with --label), or use predict`,
    );
  }
  let ds: Dataset | undefined;
  let x: Float32Array;
  let featureNames: readonly string[] | undefined;
  if (hasLabel && requireLabel) {
    const last = Array.from({ length: k }, (_, i) => i - k);
    ds = loadCsv(file, {
      task: model.task, header,
      label: labelSpec ?? (model.task === 'classification' ? -1 : last),
      ...(model.task === 'classification' && model.classNames ? { classNames: model.classNames } : {}),
    });
    x = ds.x;
    featureNames = ds.featureNames;
    checkFeatures(model, file, modelFile, ds.features);
  } else if (hasLabel) {
    // predict skips the label column(s): read as regression targets they would have to be
    // numbers, and as classes against the model's names an unseen class would stop it.
    // The probe read the label column (labelSpec, else the last) as class names and kept no mapping.
    const rows = probe;
    if (k !== 1 && labelSpec === undefined) {
      // Several label columns: the probe kept all but the last as features; drop the others too.
      const d = model.inputs;
      const width1 = rows.features;
      x = new Float32Array(rows.n * d);
      for (let r = 0; r < rows.n; r++) x.set(rows.x.subarray(r * width1, r * width1 + d), r * d);
      featureNames = rows.featureNames?.slice(0, d);
    } else {
      x = rows.x;
      featureNames = rows.featureNames;
      checkFeatures(model, file, modelFile, rows.features);
    }
  } else {
    // Every column is a feature: read the last one as a numeric "target", then put it back.
    const all = loadCsv(file, { task: 'regression', header, label: -1 }) as RegressionDataset;
    const d = all.features + 1;
    x = new Float32Array(all.n * d);
    for (let r = 0; r < all.n; r++) {
      x.set(all.x.subarray(r * (d - 1), (r + 1) * (d - 1)), r * d);
      x[r * d + d - 1] = all.y[r]!;
    }
    featureNames = all.featureNames && all.targetNames ? [...all.featureNames, ...all.targetNames] : undefined;
  }
  if (featureNames && model.featureNames && featureNames.some((name, i) => name !== model.featureNames![i])) {
    throw new DataError(
      `${file}: the feature columns are ${featureNames.join(', ')}, but the model ${modelFile} was trained on ${model.featureNames.join(', ')}`,
      'give the features in the order the model was trained on',
    );
  }
  const n = ds ? ds.n : x.length / model.inputs;
  return { what: `${displayPath(file)} (${n} rows${ds ? '' : ', no labels'})`, x, n, ds };
}

/**
 * The rows a saved model is evaluated or run on, named by --data in the grammar every
 * command shares. A CSV is read against the model's columns (readCsvForModel); any other
 * source goes through the schema and the loader like train's data.
 */
export function readDataForModel(spec: string, model: Model, modelFile: string, requireLabel: boolean, label: string | undefined): ModelData {
  const raw = DATA_SOURCES.fromText(spec, undefined);
  if ('csv' in raw) return readCsvForModel(spec, model, modelFile, requireLabel, label);
  const source = parseDataFlag(raw);
  const loaded = loadData(source);
  // A source with test rows of its own (a dataset's test files, idx testImages) is evaluated
  // and predicted on those: the rows the model was not trained on.
  const splits = 'train' in loaded && (loaded as DataSplits).train !== undefined ? (loaded as DataSplits) : undefined;
  const ds = splits ? (splits.test ?? splits.train) : (loaded as Dataset);
  checkFeatures(model, spec, modelFile, ds.features);
  if (ds.task !== model.task) {
    throw new DataError(`${spec}: expected ${model.task} data (the model ${modelFile} is for ${model.task}), found a ${ds.task} dataset`, 'use data of the kind the model was trained on');
  }
  if (ds.task === 'classification') {
    // IDX labels are bytes (0..255) and a generator may make more classes than the model
    // has: a label the model cannot output is refused on evaluate and predict alike.
    const r = ds.y.findIndex((c) => c >= model.classes);
    if (r >= 0) {
      const where = source.kind === 'idx' ? `${displayPath(source.labels)} label ${r}` : `${spec} row ${r}`;
      throw new DataError(
        `${where}: expected a class in 0..${model.classes - 1} (the model ${modelFile} has ${model.classes} classes), found ${ds.y[r]}`,
        'use labels of the classes the model was trained on',
      );
    }
  }
  const what = source.kind === 'builtin' ? `builtin ${spec.slice('builtin:'.length)}` : `${source.kind} ${spec.slice(source.kind.length + 1).split(',')[0]}`;
  return { what: `${what} (${splits?.test ? 'its test files, ' : ''}${ds.n} rows)`, x: ds.x, n: ds.n, ds };
}

/** A --model file and its format version; a missing file is named with the flag. */
export function loadModelFile(file: string): { model: Model; formatVersion: number } {
  if (!fs.existsSync(file)) throw new ConfigError(`--model ${file}: expected a model file, found no such file`, 'train one with: threadtrain train --config FILE --out FILE');
  return Model.loadFile(file);
}

export function loadModel(file: string): Model {
  return loadModelFile(file).model;
}

