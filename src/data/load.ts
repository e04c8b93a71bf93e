// A data source, resolved by the options layer (paths absolute, fields checked), turned into
// rows: the training set and any held-out files. This is where each source kind meets its
// reader (builtin → synthetic.ts, csv → csv.ts, idx → idx.ts, dataset → download.ts's files read
// by idx.ts); a new kind adds its reader to LOADERS.

import type { DataSource } from '../options/data_source.ts';
import { displayPath } from '../errors.ts';
import { loadCsv, type CsvOptions } from './csv.ts';
import type { ClassificationDataset, Dataset } from './dataset.ts';
import { datasetFiles } from './download.ts';
import { loadIdx } from './idx.ts';
import { splitForRun } from './split.ts';
import { builtinDataset, type BuiltinOptions } from './synthetic.ts';

/** The rows of one run: the training set, and the held-out sets when there are any. */
export interface DataSplits {
  readonly train: Dataset;
  readonly validation?: Dataset | undefined;
  readonly test?: Dataset | undefined;
}

/** How `loadData` carves held-out rows off the training data (through `splitForRun`, as `train` does). */
export interface SplitRequest {
  readonly validation: number;
  readonly test: number;
  readonly stratify?: boolean | undefined;
  /** The run's seed (splitForRun derives the split's stream from it). */
  readonly seed: number;
}

/** A source's rows: the training rows and any held out in files of their own. */
interface LoadedRows {
  readonly all: Dataset;
  readonly test?: Dataset | undefined;
  readonly validation?: Dataset | undefined;
}

type SourceOf<K extends DataSource['kind']> = Extract<DataSource, { kind: K }>;

// One reader per source kind (the kinds themselves are listed in options/data_source.ts; the
// type makes a kind without its reader a compile error).
const LOADERS: { readonly [K in DataSource['kind']]: (source: SourceOf<K>) => LoadedRows } = {
  builtin: ({ kind: _kind, name, ...options }) =>
    // Every generator that reads a seed has one by now (the schema's default); xor and and read none.
    ({ all: builtinDataset(name, options as BuiltinOptions) }),
  csv: (source) => {
    const options: CsvOptions = {
      ...(source.label !== undefined ? { label: source.label } : {}),
      ...(source.header !== undefined ? { header: source.header } : {}),
      ...(source.task !== undefined ? { task: source.task } : {}),
      ...(source.delimiter !== undefined ? { delimiter: source.delimiter } : {}),
    };
    const all = loadCsv(displayPath(source.path), options);
    // Held-out files must map labels to the training file's ids: "setosa" may come first
    // in one file and second in another.
    const heldOut = all.task === 'classification' ? { ...options, classNames: (all as ClassificationDataset).classNames } : options;
    return {
      all,
      test: source.testPath === undefined ? undefined : loadCsv(displayPath(source.testPath), heldOut),
      validation: source.validationPath === undefined ? undefined : loadCsv(displayPath(source.validationPath), heldOut),
    };
  },
  // A downloaded dataset: its four IDX files in the cache (or the folder it was downloaded into).
  dataset: (source) => {
    const files = datasetFiles(source.name, source.dir);
    return { all: loadIdx(files.images, files.labels), test: loadIdx(files.testImages, files.testLabels) };
  },
  idx: (source) => ({
    all: loadIdx(displayPath(source.images), displayPath(source.labels)),
    test: source.testImages !== undefined && source.testLabels !== undefined ? loadIdx(displayPath(source.testImages), displayPath(source.testLabels)) : undefined,
  }),
};

/**
 * Load a source's rows. Held-out files (testCsv, idx test images) become the test or
 * validation split; the fractions in `split` are carved from the training rows with the
 * same seeded split `train()` would use, so a config run and a library run of the same
 * options see the same rows. Returns a plain dataset when nothing is held out.
 */
export function loadData(source: DataSource, split?: SplitRequest): Dataset | DataSplits {
  const { all, test, validation } = (LOADERS[source.kind] as (s: DataSource) => LoadedRows)(source);
  const fractions = { validation: validation ? 0 : (split?.validation ?? 0), test: test ? 0 : (split?.test ?? 0) };
  if (fractions.validation === 0 && fractions.test === 0) {
    return test || validation ? { train: all, validation, test } : all;
  }
  const parts = splitForRun(all, { ...fractions, stratify: split?.stratify }, split?.seed ?? 1);
  return { train: parts.train, validation: validation ?? parts.validation, test: test ?? parts.test };
}
