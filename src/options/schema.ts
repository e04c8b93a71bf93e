// Every option of a run, declared once. The config file, the command-line flags and the
// library's train() are all parsed by these schemas (parse.ts), once, at the edge; the
// TypeScript types of options are inferred from them; defaults live here and nowhere
// else; the shipped JSON Schema (configs/threadtrain.schema.json) is generated from
// `configSchema`; every CLI flag is derived from it (flags.ts).
//
// Each field carries its meta: `description` (shown by editors and --help) and `hint`
// (ends the error message when the field is wrong). `flag` names its CLI flag where the
// field's own key would be ambiguous (three kinds of "patience"); `path` marks file
// paths ('input' files must exist; both resolve from the config file's directory).

import os from 'node:os';
import { z } from 'zod';
import { KERNEL_KINDS } from '../kernels/select.ts';
import { MAX_THREADS_PER_CORE, maxThreads } from '../limits.ts';
import { datasetProblem, type Dataset } from '../data/dataset.ts';
import { SCALER_METHODS } from '../data/scaling.ts';
import type { ExplicitLayerWeights } from '../model/init.ts';
import { ACTIVATIONS, INITIALIZERS, LOSSES, type LayerSpec, type LossName } from '../model/spec.ts';
import type { OptimizerConfig, OptimizerName } from '../optim/optimizers.ts';
import type { Schedule, ScheduleName } from '../optim/schedules.ts';
import type { CheckpointState } from '../train/checkpoint.ts';
import { DATA_SOURCES } from './data_source.ts';
import { sweepSchema } from './sweep.ts';
import { field, fraction, nonNegative, positiveInt, seedSchema } from './fields.ts';

// ---------------------------------------------------------------------------------------
// model

export const layerSchema = z.strictObject({
  units: field(positiveInt(), 'units in this layer', 'the number of units in this layer, e.g. 16'),
  activation: field(z.enum(ACTIVATIONS), 'activation function', 'names are lower case, e.g. "relu"'),
  alpha: field(z.number().optional(), 'leaky_relu slope, elu scale or prelu initial slope', 'leaky_relu slope or elu scale, e.g. 0.01'),
  init: field(z.enum(INITIALIZERS).optional(), 'weight initializer (biases start at zero)', 'e.g. "he_uniform" for relu layers, "glorot_uniform" otherwise'),
}) satisfies z.ZodType<LayerSpec>;

/** Softmax only at the output; a loss its output layer can feed. Shared by configs and train(). */
function checkModel(m: { layers: readonly LayerSpec[]; loss?: LossName | undefined }, ctx: z.RefinementCtx): void {
  m.layers.forEach((layer, i) => {
    if (layer.activation === 'softmax' && i !== m.layers.length - 1) {
      ctx.addIssue({
        code: 'custom', path: ['layers', i, 'activation'],
        message: `softmax is only supported on the output layer (found on layer ${i} of ${m.layers.length})`,
        params: { hint: 'use relu or tanh for hidden layers' },
      });
    }
  });
  const last = m.layers[m.layers.length - 1];
  if (!last) return;
  if (m.loss === 'cross_entropy' && last.activation !== 'softmax') {
    ctx.addIssue({
      code: 'custom', path: ['loss'], message: `"cross_entropy" needs a softmax output layer (the output layer is ${last.activation})`,
      params: { hint: 'set the last layer\'s activation to "softmax", or use loss "mse"' },
    });
  }
  if (m.loss === 'bce' && last.activation !== 'sigmoid') {
    ctx.addIssue({
      code: 'custom', path: ['loss'], message: `"bce" needs a sigmoid output layer (the output layer is ${last.activation})`,
      params: { hint: 'set the last layer\'s activation to "sigmoid"' },
    });
  }
}

/** The loss a model gets when it names none: cross_entropy after softmax, bce after one sigmoid unit, else mse. */
export function defaultLoss(layers: readonly LayerSpec[]): LossName {
  const last = layers[layers.length - 1]!;
  return last.activation === 'softmax' ? 'cross_entropy' : last.activation === 'sigmoid' && last.units === 1 ? 'bce' : 'mse';
}

const modelFields = {
  layers: field(
    z.array(layerSchema).min(1).readonly(),
    'hidden and output layers; the input width comes from the data',
    'e.g. [{ "units": 16, "activation": "tanh" }, { "units": 2, "activation": "softmax" }]',
  ),
  loss: field(z.enum(LOSSES).optional(), 'loss; default cross_entropy for a softmax output, bce for one sigmoid unit, else mse', 'e.g. "cross_entropy" or "mse"'),
};

const resolveModel = <M extends { layers: readonly LayerSpec[]; loss?: LossName | undefined }>(m: M) => ({ ...m, loss: m.loss ?? defaultLoss(m.layers) });

/** A config's starting weights come from a file; parse.ts reads it once the data gives the input width. */
const weightsFile = field(
  z.string().min(1),
  'start from the weights in this .safetensors file: the state_dict of the matching nn.Sequential (written by PyTorch, or by threadtrain export)',
  'a .safetensors file whose tensors are named as nn.Sequential numbers its modules: 0.weight, 0.bias, 2.weight, …',
  { path: 'input', flag: 'init-from' },
);

export const modelSchema = z.strictObject({ ...modelFields, weights: weightsFile.optional() }).superRefine(checkModel).transform(resolveModel);

/** train()'s model may also carry explicit starting weights (arrays, so not in config files). */
const libraryModelSchema = z
  .strictObject({
    ...modelFields,
    weights: field(
      z.array(z.custom<ExplicitLayerWeights | undefined>((v) => v === undefined || (typeof v === 'object' && v !== null))).optional(),
      'explicit starting weights per layer', 'one { w, b } per layer (or undefined to use the initializer)',
    ),
  })
  .superRefine(checkModel)
  .transform(resolveModel);

// ---------------------------------------------------------------------------------------
// optimizer: one member per rule, each taking only the fields it reads (a `beta1` given to
// sgd is a mistake, not a no-op). The output has every field, as the engine reads them.

const optimizerFields = {
  momentum: () => field(fraction().default(0.9), 'momentum/nesterov: μ in [0, 1)', 'typical values are 0.9 or 0.99'),
  beta1: () => field(fraction().default(0.9), 'adam/adamw: β1 in [0, 1)', 'the Adam paper and PyTorch use beta1 = 0.9'),
  beta2: () => field(fraction().default(0.999), 'adam/adamw: β2 in [0, 1)', 'the Adam paper and PyTorch use beta2 = 0.999'),
  eps: () => field(z.number().gt(0).default(1e-8), 'adam/adamw/rmsprop: added to the denominator', 'eps keeps the division finite where the second moment is 0; 1e-8 is the usual value'),
  alpha: () => field(fraction().default(0.99), 'rmsprop smoothing constant in [0, 1)', 'PyTorch RMSprop uses alpha = 0.99'),
  weightDecay: (fallback: number) => field(nonNegative().default(fallback), 'L2 penalty added to the gradient (decoupled for adamw)', 'typical values are 0 to 1e-2'),
  clipNorm: () => field(nonNegative().default(0), 'global-norm gradient clipping threshold; 0 turns clipping off', 'use 0 to turn clipping off, or e.g. 1.0 to clip the global gradient norm'),
};
const OPTIMIZER_NAME_DESCRIPTION = 'the update rule';
const OPTIMIZER_NAME_HINT = 'names are lower case; use "nesterov" for SGD with Nesterov momentum';
const o = optimizerFields;
// The fields each rule reads, one entry per name in OPTIMIZERS (the type says so).
const OPTIMIZER_FIELDS = {
  sgd: { weightDecay: o.weightDecay(0), clipNorm: o.clipNorm() },
  momentum: { momentum: o.momentum(), weightDecay: o.weightDecay(0), clipNorm: o.clipNorm() },
  nesterov: { momentum: o.momentum(), weightDecay: o.weightDecay(0), clipNorm: o.clipNorm() },
  adam: { beta1: o.beta1(), beta2: o.beta2(), eps: o.eps(), weightDecay: o.weightDecay(0), clipNorm: o.clipNorm() },
  // PyTorch's AdamW decays by 0.01 unless told otherwise.
  adamw: { beta1: o.beta1(), beta2: o.beta2(), eps: o.eps(), weightDecay: o.weightDecay(0.01), clipNorm: o.clipNorm() },
  rmsprop: { alpha: o.alpha(), eps: o.eps(), weightDecay: o.weightDecay(0), clipNorm: o.clipNorm() },
} satisfies { readonly [K in OptimizerName]: z.ZodRawShape };

/** The value a field a rule does not read holds: its declared default. */
const UNREAD = {
  momentum: o.momentum().parse(undefined), beta1: o.beta1().parse(undefined), beta2: o.beta2().parse(undefined),
  eps: o.eps().parse(undefined), alpha: o.alpha().parse(undefined),
};

const optimizerMember = <K extends Exclude<OptimizerName, 'sgd'>>(name: K) =>
  z.strictObject({ name: field(z.literal(name), OPTIMIZER_NAME_DESCRIPTION, OPTIMIZER_NAME_HINT), ...OPTIMIZER_FIELDS[name] });
const optimizerUnion = z.discriminatedUnion('name', [
  // sgd is the default rule, so it is the member an object without a name belongs to.
  z.strictObject({ name: field(z.literal('sgd').optional(), OPTIMIZER_NAME_DESCRIPTION, OPTIMIZER_NAME_HINT), ...OPTIMIZER_FIELDS.sgd }),
  optimizerMember('momentum'), optimizerMember('nesterov'), optimizerMember('adam'), optimizerMember('adamw'), optimizerMember('rmsprop'),
]);
export const optimizerSchema = optimizerUnion
  .superRefine((v, ctx) => {
    if (v.name === 'nesterov' && v.momentum === 0) {
      ctx.addIssue({ code: 'custom', path: ['momentum'], message: 'expected a momentum > 0 for nesterov, found 0', params: { hint: 'Nesterov with zero momentum is plain SGD; use "sgd" instead' } });
    }
  })
  .transform((v): OptimizerConfig => {
    // Fields a rule does not read take the values they would have; the key order is the one
    // checkpoints record (train.ts settingsKey), so it must not change.
    const all = v as Partial<OptimizerConfig>;
    return {
      name: (v.name ?? 'sgd') as OptimizerName,
      momentum: all.momentum ?? UNREAD.momentum, beta1: all.beta1 ?? UNREAD.beta1, beta2: all.beta2 ?? UNREAD.beta2, eps: all.eps ?? UNREAD.eps,
      alpha: all.alpha ?? UNREAD.alpha, weightDecay: all.weightDecay!, clipNorm: all.clipNorm!,
    };
  });

// ---------------------------------------------------------------------------------------
// schedule

const scheduleType = <K extends ScheduleName>(type: K) => field(z.literal(type), 'the schedule', 'names are lower case with underscores, e.g. "inverse_time"');
const minLr = () => field(nonNegative().default(0), 'the lowest rate: reached at the last step (cosine), never cut below (plateau)', 'minLr is the rate reached at the last step, e.g. 0');

// The fields each schedule reads, one entry per name in SCHEDULES.
const SCHEDULE_FIELDS = {
  constant: {},
  inverse_time: {
    c1: field(z.number().gt(0), 'numerator of c1 / (k + c2)', 'the rate is c1 / (k + c2); c1 / c2 is the first rate, e.g. c1 = 1, c2 = 10 starts at 0.1'),
    c2: field(z.number().gt(0), 'offset of c1 / (k + c2)', 'the rate is c1 / (k + c2); c1 / c2 is the first rate, e.g. c1 = 1, c2 = 10 starts at 0.1'),
    per: field(z.enum(['step', 'epoch']).default('step'), 'what k counts', 'k counts updates with "step", epochs with "epoch"'),
  },
  step: {
    stepSize: field(positiveInt(), 'epochs between cuts', 'the rate is multiplied by gamma every stepSize epochs'),
    gamma: field(z.number().gt(0).max(1), 'factor applied every stepSize epochs (step) or every epoch (exponential)', 'gamma is the factor applied every stepSize epochs, e.g. 0.1'),
  },
  exponential: {
    gamma: field(z.number().gt(0).max(1), 'factor applied every stepSize epochs (step) or every epoch (exponential)', 'gamma is the factor applied every epoch, e.g. 0.95'),
  },
  cosine: {
    warmupSteps: field(z.number().int().min(0).default(0), 'updates of linear warmup', 'warmupSteps counts updates, not epochs, e.g. 100'),
    minLr: minLr(),
  },
  plateau: {
    factor: field(z.number().gt(0).lt(1).default(0.1), 'the rate is multiplied by factor on a plateau', 'the rate is multiplied by factor on a plateau; PyTorch uses 0.1'),
    patience: field(z.number().int().min(0).default(10), 'epochs without improvement before the rate is cut', 'epochs without improvement before the rate is cut; PyTorch uses 10', { flag: 'plateau-patience' }),
    threshold: field(fraction().default(1e-4), 'relative improvement that counts', 'the loss must drop below best · (1 − threshold), e.g. 1e-4'),
    minLr: minLr(),
  },
} satisfies { readonly [K in ScheduleName]: z.ZodRawShape };

const scheduleMember = <K extends ScheduleName>(type: K) => z.strictObject({ type: scheduleType(type), ...SCHEDULE_FIELDS[type] });
export const scheduleSchema = z.discriminatedUnion('type', [
  scheduleMember('constant'), scheduleMember('inverse_time'), scheduleMember('step'),
  scheduleMember('exponential'), scheduleMember('cosine'), scheduleMember('plateau'),
]) satisfies z.ZodType<Schedule>;


// ---------------------------------------------------------------------------------------
// the train section: how to run (shared by configs' "train" and train()'s options)

const stopSchema = z
  .strictObject({
    lossBelow: field(z.number().optional(), 'stop once the epoch\'s training loss is below this', 'e.g. 0.01'),
    patience: field(positiveInt().optional(), 'stop when the training loss has not improved for this many epochs', 'epochs to wait for a lower training loss, e.g. 5', { flag: 'stop-patience' }),
    minDelta: field(nonNegative().default(0), 'the smallest drop that counts as an improvement', 'e.g. 1e-4', { flag: 'stop-min-delta' }),
  })
  // Unset rules never fire: -Infinity and Infinity, which JSON cannot hold as defaults.
  .transform((s) => ({ lossBelow: s.lossBelow ?? -Infinity, patience: s.patience ?? Infinity, minDelta: s.minDelta }));

const earlyStoppingSchema = z.strictObject({
  patience: field(positiveInt(), 'epochs without a better validation loss before stopping', 'epochs to wait for a lower validation loss, e.g. 5', { flag: 'early-stopping' }),
  minDelta: field(nonNegative().default(0), 'the smallest drop that counts as an improvement', 'e.g. 1e-4', { flag: 'early-stopping-min-delta' }),
  restoreBest: field(z.boolean().default(true), 'put back the weights of the best validation epoch when stopping', 'true puts back the weights of the best validation epoch', { flag: 'restore-best' }),
});

const checkpointSchema = z.strictObject({
  path: field(z.string().min(1), 'file to write checkpoints to (at the end, and at the cadence below)', 'the file to write checkpoints to, e.g. "runs/mnist.ckpt" (--checkpoint FILE on the command line)', { flag: 'checkpoint', path: 'output' }),
  everyEpochs: field(positiveInt().optional(), 'write a checkpoint every N epochs (default: only at the end)', 'e.g. 1 for every epoch', { flag: 'checkpoint-every' }),
  everySteps: field(positiveInt().optional(), 'write a checkpoint every N updates (default: off)', 'e.g. 1000', { flag: 'checkpoint-every-steps' }),
})
  // 0 is "off" inside a run; a file says so by leaving the field out.
  .transform((c) => ({ path: c.path, everyEpochs: c.everyEpochs ?? 0, everySteps: c.everySteps ?? 0 }));

export const RULES = ['backprop', 'perceptron', 'adaline'] as const;

const trainFields = {
  epochs: field(positiveInt().default(10), 'passes over the training data', 'the number of passes over the training data, e.g. 20'),
  batchSize: field(
    z.union([positiveInt(), z.literal('full')]).default(32), 'rows per step, or "full" for the whole training split',
    'rows per step: 1 for online SGD, e.g. 32 for mini-batches, or "full" for the whole training set',
  ),
  lr: field(z.number().gt(0).default(0.01), 'learning rate', 'the learning rate; a typical one is 0.001–0.5'),
  shuffle: field(z.boolean().default(true), 'shuffle the training rows every epoch', 'false keeps the data order in every epoch'),
  seed: field(seedSchema().default(1), 'seed for initialisation (seed), shuffling (seed + 1) and the split (seed + 2)', 'any whole number works, e.g. 1'),
  threads: field(
    z
      .union([positiveInt(), z.literal('auto')])
      // The cap depends on the machine, so it is a check here, not a maximum in the JSON Schema.
      .superRefine((t, ctx) => {
        if (typeof t === 'number' && t > maxThreads()) {
          ctx.addIssue({
            code: 'custom', path: [],
            message: `expected at most ${maxThreads()} threads (${MAX_THREADS_PER_CORE} × this machine's ${os.availableParallelism()} cores), found ${t}`,
            params: { hint: `threads beyond the cores only wait on each other at every step; use "auto" (${os.availableParallelism()} here)` },
          });
        }
      })
      .default('auto'),
    `worker threads (1 runs in-process; at most ${MAX_THREADS_PER_CORE} per core), or "auto"`,
    'a whole number of threads, e.g. 2, or "auto" for this machine',
  ),
  kernel: field(z.enum(KERNEL_KINDS).default('auto'), 'compute kernel: wasm SIMD, the JavaScript fallback, or auto', '"auto" picks wasm where SIMD works'),
  rule: field(z.enum(RULES).default('backprop'), 'training rule (perceptron and adaline train single-layer nets)', 'e.g. "backprop"'),
  optimizer: field(optimizerSchema.prefault({}), 'update rule and its settings', 'e.g. { "name": "adam", "beta1": 0.9 }'),
  schedule: field(scheduleSchema.prefault({ type: 'constant' }), 'learning-rate schedule', 'e.g. { "type": "cosine", "warmupSteps": 100 }'),
  stop: field(stopSchema.optional(), 'stop rules on the training loss', 'e.g. { "lossBelow": 0.01, "patience": 5 }'),
  earlyStopping: field(earlyStoppingSchema.optional(), 'stop when the validation loss stops improving', 'e.g. { "patience": 5 }'),
  checkpoint: field(checkpointSchema.optional(), 'write checkpoints to resume from', 'e.g. { "path": "run.ckpt", "everyEpochs": 1 }'),
};

const resumeFile = field(z.string().min(1), 'continue bit for bit from this checkpoint (epochs, threads and kernel may differ)', 'checkpoints are written by train --checkpoint FILE (or train.checkpoint)', { path: 'input' });

export const trainSectionSchema = z.strictObject({ ...trainFields, resume: resumeFile.optional() });

// ---------------------------------------------------------------------------------------
// split, scale

export const splitSchema = z
  .strictObject({
    validation: field(fraction().default(0), 'fraction of the rows held out for validation', 'a fraction of the rows in [0, 1), e.g. 0.1 for 10%', { flag: 'validation-split' }),
    test: field(fraction().default(0), 'fraction of the rows held out for the final test', 'a fraction of the rows in [0, 1), e.g. 0.1 for 10%', { flag: 'test-split' }),
    stratify: field(z.boolean().optional(), 'split each class separately (default: true for classification)', 'true splits each class separately (the default for classification)'),
  })
  .superRefine((s, ctx) => {
    if (s.validation + s.test >= 1) {
      ctx.addIssue({
        code: 'custom', path: [], message: `validation + test must be below 1 (found ${s.validation} + ${s.test})`,
        params: { hint: 'rows must remain for training, e.g. 0.1 and 0.2 train on 70%' },
      });
    }
  });

export const scaleSchema = field(z.enum(SCALER_METHODS).default('none'), 'feature scaling, fitted on the training split only', 'e.g. "standard"');

// ---------------------------------------------------------------------------------------
// A config file: the data by name, the model, the run, and where its results go.

export const SCHEMA_FILE = 'threadtrain.schema.json';

export const configSchema = z
  .strictObject({
    $schema: field(z.string().optional(), 'the JSON Schema this file follows (for editors)', `e.g. "./${SCHEMA_FILE}"`),
    description: field(z.string().min(1).optional(), 'what this run is for', 'a line saying what this run is for'),
    data: DATA_SOURCES.schema,
    split: field(splitSchema.prefault({}), 'held-out fractions of the training data', 'e.g. { "validation": 0.1, "test": 0.2 }'),
    scale: scaleSchema,
    model: field(modelSchema, 'the network', 'e.g. { "layers": [{ "units": 16, "activation": "tanh" }, { "units": 2, "activation": "softmax" }] }'),
    train: field(trainSectionSchema.prefault({}), 'how to train', 'e.g. { "epochs": 20, "batchSize": 32, "lr": 0.1 }'),
    out: field(z.string().min(1).optional(), 'write the trained model here', 'a file path, e.g. "model.ttm"', { path: 'output' }),
    log: field(z.string().min(1).optional(), 'write a JSON Lines epoch log here', 'a file path, e.g. "run.jsonl"', { path: 'output' }),
    logEverySteps: field(positiveInt().optional(), 'also log a step record (loss, lr, per-layer gradient norms) every N updates', 'write a step record every N updates, e.g. 100'),
    sweep: field(
      sweepSchema.optional(), 'many runs of this config: a grid, random draws, k folds, seed repeats (threadtrain sweep)',
      'e.g. { "grid": { "train.lr": [0.01, 0.1] }, "folds": 5, "seeds": 3 }', { cli: false },
    ),
  })
  .superRefine((c, ctx) => DATA_SOURCES.checkSplit(c.data, c.split, ctx));

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigValues = z.output<typeof configSchema>;

// ---------------------------------------------------------------------------------------
// train()'s options: the train section's fields flat, with the data itself and the model.

/** A dataset's shape and values, checked by the data layer's one check (datasetProblem): a NaN input or a label ≥ classes is refused here, naming its index. */
const datasetSchema = z
  .custom<Dataset>(
    (v) => typeof v === 'object' && v !== null && ['n', 'features', 'x', 'y'].every((k) => k in v),
    { message: 'expected a dataset (an object with n, features, x and y)' },
  )
  .superRefine((ds, ctx) => {
    // Refinements run after a failed check too: only a dataset-shaped value is looked into.
    if (typeof ds !== 'object' || ds === null || !['n', 'features', 'x', 'y'].every((k) => k in ds)) return;
    const problem = datasetProblem(ds);
    if (problem) ctx.addIssue({ code: 'custom', path: [...problem.path], message: problem.message, params: { hint: problem.hint, data: true } });
  });
const splitsSchema = z.strictObject({ train: datasetSchema, validation: datasetSchema.optional(), test: datasetSchema.optional() });

export const trainOptionsSchema = z.strictObject({
  model: field(libraryModelSchema, 'the network', 'e.g. { layers: [{ units: 16, activation: "tanh" }, { units: 2, activation: "softmax" }] }'),
  data: field(
    z.union([splitsSchema, datasetSchema]), 'one dataset (split by `split`) or explicit { train, validation?, test }',
    'e.g. builtinDataset("spirals", { seed: 1 }), loadCsv(file) or { train, test }',
    { expected: 'a dataset (an object with n, features, x and y) or { train, validation?, test? } of them' },
  ),
  split: field(splitSchema.prefault({}), 'held-out fractions of the training data', 'e.g. { validation: 0.1, test: 0.2 }'),
  scale: scaleSchema,
  ...trainFields,
  resume: field(
    z.union([z.string().min(1), z.custom<CheckpointState>((v) => typeof v === 'object' && v !== null)]).optional(),
    'continue from a checkpoint (a path, or one already read)', 'a checkpoint file written by a run with train.checkpoint',
  ),
});

/** train()'s options as a caller writes them. */
export type TrainOptions = z.input<typeof trainOptionsSchema>;
/** train()'s options resolved: every default filled in, every value checked. */
export type RunOptions = z.output<typeof trainOptionsSchema>;
/** How a run trains (a train result reports them): the resolved options but the data, model and resume source. */
export type ResolvedTrainOptions = Omit<RunOptions, 'data' | 'model' | 'resume'>;
export type ModelOptions = z.input<typeof libraryModelSchema>;
export type DataSplitsInput = z.output<typeof splitsSchema>;
export type StopOptions = z.input<typeof stopSchema>;
export type EarlyStoppingOptions = z.input<typeof earlyStoppingSchema>;
export type OptimizerOptions = z.input<typeof optimizerSchema>;
export type ScheduleOptions = z.input<typeof scheduleSchema>;
