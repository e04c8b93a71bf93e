// Where a run's rows come from: one list of source kinds, each with its config form
// (`{ "builtin": "spirals", "n": 500 }`, `{ "csv": "iris.csv", "label": "species" }`,
// `{ "idx": { "images": ..., "labels": ... } }`), its command-line form (`builtin:spirals,n=500`,
// `iris.csv`, `idx:IMAGES,LABELS`), what it holds out and how the settings table shows it.
// Adding a kind is one entry in SOURCE_KINDS (the config schema, the JSON Schema, --data on
// every command and the table follow from it) and its reader in data/load.ts's LOADERS.

import { z } from 'zod';
import { BUILTIN_DATASETS, PARABOLA_GEOMETRIES, PARABOLA_ORDERS, type BuiltinName, type BuiltinOptions } from '../data/synthetic.ts';
import { DATASET_NAMES, datasetDir, type DatasetName } from '../data/download.ts';
import { displayPath } from '../errors.ts';
import { field, nonNegative, positiveInt, seedSchema } from './fields.ts';


// Which generator options each built-in dataset reads; one it ignores is a mistake, not a no-op.
const builtinOption = {
  n: () => field(positiveInt().optional(), 'rows to generate', 'the number of rows to generate, e.g. 2000'),
  noise: () => field(nonNegative().optional(), 'standard deviation of the added noise', 'the standard deviation of the added noise, e.g. 0.1'),
  turns: () => field(z.number().gt(0).optional(), 'turns of each spiral arm', 'turns of each spiral arm, e.g. 1.5'),
  classes: () => field(z.number().int().min(2).optional(), 'number of blobs', 'the number of blobs, at least 2 (one class leaves nothing to classify), e.g. 3'),
  features: () => field(positiveInt().optional(), 'input dimension', 'the input dimension, e.g. 2'),
  spread: () => field(nonNegative().optional(), 'standard deviation of each blob', 'the standard deviation of each blob, e.g. 0.15'),
  order: () => field(z.enum(PARABOLA_ORDERS).optional(), 'row order: interleaved, or the classes in blocks (the shuffle lesson)', 'e.g. "parabola-first", with shuffle false to see why training shuffles'),
  geometry: () => field(z.enum(PARABOLA_GEOMETRIES).optional(), 'where the points lie: x in [-1, 1], or the lecture\'s x in [0, 100] with y = x²', 'e.g. "lecture"'),
  // The dataset's own seed, not the run's: it names one exact set of rows.
  seed: () => field(seedSchema().default(1), 'the seed the rows are generated from (not the run\'s)', 'the seed the dataset is generated from, e.g. 1'),
};
type BuiltinOptionKey = keyof typeof builtinOption;
const BUILTIN_OPTIONS: Record<BuiltinName, readonly BuiltinOptionKey[]> = {
  xor: [],
  and: [],
  spirals: ['n', 'noise', 'turns', 'seed'],
  blobs: ['n', 'classes', 'features', 'spread', 'seed'],
  sine: ['n', 'noise', 'seed'],
  parabola: ['n', 'noise', 'order', 'geometry', 'seed'],
};

const builtinSchema = z
  .discriminatedUnion(
    'builtin',
    BUILTIN_DATASETS.map((name) =>
      z.strictObject({
        builtin: field(z.literal(name), 'a generated dataset', 'built-in datasets are lower case, e.g. "spirals"'),
        ...Object.fromEntries(BUILTIN_OPTIONS[name].map((k) => [k, builtinOption[k]()])),
      }),
    ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  )
  .transform((d) => {
    const { builtin, ...options } = d as { builtin: BuiltinName } & Omit<BuiltinOptions, 'seed'> & { seed?: number };
    return { kind: 'builtin' as const, name: builtin, ...options };
  });

const filePath = (description: string, hint: string) => field(z.string().min(1), description, hint, { path: 'input' });
const LABEL = z.union([z.string().min(1), z.number().int()]);

const csvSchema = z
  .strictObject({
    csv: filePath('CSV file of the training rows', 'a path relative to the config file, e.g. "data/train.csv"'),
    label: field(z.union([LABEL, z.array(LABEL).min(1)]).optional(), 'the label column: a name or 0-based index (negative counts from the end); regression may list several', 'e.g. "species", or -1 for the last column'),
    header: field(z.boolean().optional(), 'whether line 1 names the columns (default: detected)', 'true when line 1 names the columns; leave it out to detect it'),
    task: field(z.enum(['classification', 'regression']).optional(), 'what the label column holds (default classification)', 'e.g. "regression" for numeric targets'),
    delimiter: field(z.string().length(1).refine((d) => d !== '"' && d !== '\n' && d !== '\r').optional(), 'one character other than a quote or a newline', 'e.g. ",", ";", "\\t" or "|"'),
    testCsv: filePath('held-out test rows in a file of their own (they take the training file\'s class ids)', 'a path relative to the config file, e.g. "data/test.csv"').optional(),
    validationCsv: filePath('held-out validation rows in a file of their own', 'a path relative to the config file, e.g. "data/valid.csv"').optional(),
  })
  .superRefine((d, ctx) => {
    if (Array.isArray(d.label) && d.label.length > 1 && d.task !== 'regression') {
      ctx.addIssue({ code: 'custom', path: ['label'], message: `lists ${d.label.length} columns, but classification takes one label column`, params: { hint: 'several target columns need "task": "regression"' } });
    }
  })
  .transform(({ csv, testCsv, validationCsv, ...rest }) => ({
    kind: 'csv' as const, path: csv, ...rest,
    ...(testCsv !== undefined ? { testPath: testCsv } : {}),
    ...(validationCsv !== undefined ? { validationPath: validationCsv } : {}),
  }));

const idxSchema = z
  .strictObject({
    idx: z
      .strictObject({
        images: filePath('IDX images (gzip or not)', 'e.g. "train-images-idx3-ubyte.gz"'),
        labels: filePath('IDX labels', 'e.g. "train-labels-idx1-ubyte.gz"'),
        testImages: filePath('IDX test images', 'e.g. "t10k-images-idx3-ubyte.gz"').optional(),
        testLabels: filePath('IDX test labels', 'e.g. "t10k-labels-idx1-ubyte.gz"').optional(),
      })
      .meta({ description: 'IDX files (MNIST format)', hint: 'e.g. { "images": "train-images-idx3-ubyte.gz", "labels": "train-labels-idx1-ubyte.gz" }' })
      .superRefine((d, ctx) => {
        if ((d.testImages === undefined) !== (d.testLabels === undefined)) {
          const [given, missing] = d.testImages === undefined ? ['testLabels', 'testImages'] : ['testImages', 'testLabels'];
          ctx.addIssue({ code: 'custom', path: [missing], message: `expected the test set's ${missing} beside its ${given}, found none`, params: { hint: 'a test set needs both its images and its labels file' } });
        }
      }),
  })
  .transform(({ idx }) => ({ kind: 'idx' as const, ...idx }));

const datasetSchema = z
  .strictObject({
    dataset: field(
      z.enum(DATASET_NAMES as [DatasetName, ...DatasetName[]]),
      'a public dataset, downloaded by `threadtrain datasets download NAME`; its test files are the test split',
      'threadtrain datasets list shows the names, e.g. "mnist"',
    ),
    // Not an input file: a folder, checked (with the download hint) when the data is loaded.
    dir: field(z.string().min(1).optional(), 'the folder the dataset was downloaded into (default: its folder in the cache)', 'the folder given to datasets download --dir', { path: 'output' }),
  })
  .transform(({ dataset, dir }) => ({ kind: 'dataset' as const, name: dataset, ...(dir !== undefined ? { dir } : {}) }));

/** One kind of data source. */
interface SourceKind {
  /** The key that names this kind in a config's data section, and the prefix of its --data form. */
  readonly key: string;
  readonly schema: z.ZodType;
  /** Its --data form (without "KEY:"), as the config object it stands for; undefined for the fallback kind (a plain path). */
  readonly fromText: ((text: string) => Record<string, unknown>) | undefined;
  readonly example: string;
  /** Config fields whose rows are held out in files of their own (so split must not carve them too). */
  readonly heldOut: (source: DataSource) => { test?: string; validation?: string };
  readonly regression: (source: DataSource) => boolean;
  /** One line for the settings table. */
  readonly describe: (source: DataSource) => string;
}

/** `k=v` parts after a name: values read as JSON where they parse (numbers, booleans), else as text. */
export function parseScalar(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** "NAME,k=v,…" as the config object { [key]: NAME, k: v, … }. */
function nameWithOptions(key: string, text: string): Record<string, unknown> {
  const [name = '', ...parts] = text.split(',');
  const options: Record<string, unknown> = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    // A part without "=" is kept as a key with no value, which the schema reports by name.
    if (eq < 0) options[part.trim()] = undefined;
    else options[part.slice(0, eq).trim()] = parseScalar(part.slice(eq + 1).trim());
  }
  return { [key]: name, ...options };
}

const SOURCE_KINDS: readonly SourceKind[] = [
  {
    key: 'builtin',
    schema: builtinSchema,
    fromText: (text) => nameWithOptions('builtin', text),
    example: 'builtin:spirals,n=500,seed=2',
    heldOut: () => ({}),
    regression: (s) => s.kind === 'builtin' && s.name === 'sine',
    describe: (s) => {
      // The dataset's own seed (the schema's default, 1, if none was given) is listed: it names the rows.
      const opts = Object.entries(s).filter(([k]) => k !== 'kind' && k !== 'name').map(([k, v]) => `${k} ${v}`);
      return `builtin ${(s as BuiltinSource).name}${opts.length ? ` (${opts.join(', ')})` : ''}`;
    },
  },
  {
    key: 'idx',
    schema: idxSchema,
    fromText: (text) => {
      const [images, labels, testImages, testLabels] = text.split(',');
      return { idx: { images, labels, ...(testImages !== undefined ? { testImages, testLabels } : {}) } };
    },
    example: 'idx:train-images-idx3-ubyte.gz,train-labels-idx1-ubyte.gz',
    heldOut: (s) => (s.kind === 'idx' && s.testImages !== undefined ? { test: 'data.idx.testImages' } : {}),
    regression: () => false,
    describe: (s) => {
      const idx = s as IdxSource;
      return `idx ${displayPath(idx.images)}${idx.testImages ? `, test ${displayPath(idx.testImages)}` : ''}`;
    },
  },
  {
    key: 'dataset',
    schema: datasetSchema,
    fromText: (text) => nameWithOptions('dataset', text),
    example: 'dataset:mnist',
    heldOut: (s) => (s.kind === 'dataset' ? { test: `data.dataset (the test files of ${s.name})` } : {}),
    regression: () => false,
    describe: (s) => {
      const d = s as DatasetSource;
      return `dataset ${d.name} (${displayPath(d.dir ?? datasetDir(d.name))})`;
    },
  },
  {
    key: 'csv',
    schema: csvSchema,
    fromText: undefined,
    example: 'data/train.csv',
    heldOut: (s) =>
      s.kind === 'csv'
        ? { ...(s.testPath !== undefined ? { test: 'data.testCsv' } : {}), ...(s.validationPath !== undefined ? { validation: 'data.validationCsv' } : {}) }
        : {},
    regression: (s) => s.kind === 'csv' && s.task === 'regression',
    describe: (s) => {
      const csv = s as CsvSource;
      const parts = [`csv ${displayPath(csv.path)}`];
      if (csv.label !== undefined) parts.push(`label ${JSON.stringify(csv.label)}`);
      if (csv.testPath) parts.push(`test ${displayPath(csv.testPath)}`);
      if (csv.validationPath) parts.push(`validation ${displayPath(csv.validationPath)}`);
      return parts.join(', ');
    },
  },
];

export type DataSource = z.output<typeof builtinSchema> | z.output<typeof csvSchema> | z.output<typeof idxSchema> | z.output<typeof datasetSchema>;
export type BuiltinSource = z.output<typeof builtinSchema>;
export type CsvSource = z.output<typeof csvSchema>;
export type IdxSource = z.output<typeof idxSchema>;
export type DatasetSource = z.output<typeof datasetSchema>;

export const DATA_SOURCE_KEYS: readonly string[] = SOURCE_KINDS.map((k) => k.key);

const dataSchema = field(
  z.union(SOURCE_KINDS.map((k) => k.schema) as unknown as [z.ZodType<DataSource>, ...z.ZodType<DataSource>[]]),
  'the training data: exactly one of builtin, csv, idx or dataset',
  'e.g. { "builtin": "spirals" }, { "csv": "data.csv", "label": "species" }, { "idx": { "images": "...", "labels": "..." } } or { "dataset": "mnist" }',
  // Tells the error formatter which member to report: the one whose key the input has.
  { unionKeys: SOURCE_KINDS.map((k) => k.key) },
);

/** The config object a --data value stands for. */
function fromText(text: string, label: string | undefined): Record<string, unknown> {
  for (const kind of SOURCE_KINDS) {
    if (kind.fromText && text.startsWith(`${kind.key}:`)) {
      const raw = kind.fromText(text.slice(kind.key.length + 1));
      return label === undefined ? raw : { ...raw, label };
    }
  }
  return { csv: text, ...(label !== undefined ? { label: parseScalar(label) } : {}) };
}

function checkSplit(source: DataSource, split: { validation: number; test: number; stratify?: boolean | undefined } | undefined, ctx: z.RefinementCtx): void {
  if (!split) return;
  const kind = kindOf(source);
  const held = kind.heldOut(source);
  if (split.stratify && kind.regression(source)) {
    ctx.addIssue({ code: 'custom', path: ['split', 'stratify'], message: 'is true, but the data is a regression task with no classes to stratify by', params: { hint: 'leave stratify out for regression' } });
  }
  if (split.test > 0 && held.test) {
    ctx.addIssue({ code: 'custom', path: ['split', 'test'], message: `is ${split.test}, but the test rows already come from ${held.test}`, params: { hint: 'remove split.test, or the test file' } });
  }
  if (split.validation > 0 && held.validation) {
    ctx.addIssue({ code: 'custom', path: ['split', 'validation'], message: `is ${split.validation}, but the validation rows already come from ${held.validation}`, params: { hint: 'remove split.validation, or the validation file' } });
  }
}

const kindOf = (source: DataSource): SourceKind => SOURCE_KINDS.find((k) => k.key === source.kind)!;

export const DATA_SOURCES = {
  schema: dataSchema,
  describe: (source: DataSource) => kindOf(source).describe(source),
  keys: DATA_SOURCE_KEYS,
  fromText,
  checkSplit,
  /** The --data grammar, for help texts. */
  grammar: `FILE.csv (with --label), ${SOURCE_KINDS.filter((k) => k.fromText).map((k) => `${k.key}:…`).join(', ')}; e.g. ${SOURCE_KINDS.map((k) => k.example).join(' or ')}`,
};
