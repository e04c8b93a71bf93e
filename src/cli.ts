// cli.ts — the threadtrain command line: train from a config file (flags override it),
// evaluate or predict with a saved model, plot a training log. Output follows llm.c's
// habits: the resolved settings as a table before anything runs, one line per epoch,
// errors as one `error:` line with a hint and no stack trace. A stack trace is printed
// only for errors that are not a ThreadtrainError, because those are bugs.
//
// Exit codes: 0 done, 1 error, 2 usage error (bad flags), 130 interrupted by Ctrl-C.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { applyOverrides, displayPath, loadConfig, loadConfigData, withConfigFile, type Config, type DataSource } from './config.ts';
import { loadCsv } from './data/csv.ts';
import type { Dataset } from './data/dataset.ts';
import { loadIdx } from './data/idx.ts';
import { BUILTIN_DATASETS, builtinDataset, type BuiltinOptions } from './data/synthetic.ts';
import { ConfigError, DataError, ThreadtrainError, describe } from './errors.ts';
import { writeFileAtomic } from './io/envelope.ts';
import { simdSupported } from './kernels/select.ts';
import { paramLayout } from './model/layout.ts';
import { Model } from './model/model.ts';
import type { ModelSpec } from './model/spec.ts';
import { openJsonlLog, type EpochRecord, type JsonlLog, type StepRecord } from './report/log.ts';
import { plotFile } from './report/plot.ts';
import { createProgress, formatDuration, formatLoss, formatRate } from './report/progress.ts';
import type { Metrics } from './train/metrics.ts';
import { resolveLoss, resolveTrainOptions, type DataSplitsInput, type ResolvedTrainOptions } from './train/options.ts';
import { train, type TrainResult } from './train/train.ts';

/** Bad flags or a missing command: exit 2 with the usage. */
class UsageError extends Error {}

const out = (line = '') => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? String(x) : `${(x * 100).toFixed(2)}%`);
/** Up to 7 significant digits: all a float32 holds, without its binary noise. */
const num = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(7))) : String(x));

// ---------------------------------------------------------------------------------------
// Tables and result lines

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** llm.c's `| Parameter | Value |` box; long values wrap onto continuation rows. */
export function formatTable(rows: readonly (readonly [string, string])[], maxValueWidth = 64): string {
  const cells = rows.flatMap(([name, value]) => wrap(value, maxValueWidth).map((v, i) => [i === 0 ? name : '', v] as const));
  const w0 = Math.max('Parameter'.length, ...cells.map((r) => r[0].length));
  const w1 = Math.max('Value'.length, ...cells.map((r) => r[1].length));
  const rule = `+-${'-'.repeat(w0)}-+-${'-'.repeat(w1)}-+`;
  const row = (a: string, b: string) => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} |`;
  return [rule, row('Parameter', 'Value'), rule, ...cells.map(([a, b]) => row(a, b)), rule].join('\n');
}

function describeSource(source: DataSource): string {
  switch (source.kind) {
    case 'builtin': {
      const opts = Object.entries(source).filter(([k]) => k !== 'kind' && k !== 'name').map(([k, v]) => `${k} ${v}`);
      // The dataset's own seed defaults to 1 whatever the run's seed; say so, it names the rows.
      if (source.seed === undefined && source.name !== 'xor' && source.name !== 'and') opts.push('seed 1');
      return `builtin ${source.name}${opts.length ? ` (${opts.join(', ')})` : ''}`;
    }
    case 'csv': {
      const parts = [`csv ${displayPath(source.path)}`];
      if (source.label !== undefined) parts.push(`label ${JSON.stringify(source.label)}`);
      if (source.testPath) parts.push(`test ${displayPath(source.testPath)}`);
      if (source.validationPath) parts.push(`validation ${displayPath(source.validationPath)}`);
      return parts.join(', ');
    }
    case 'idx':
      return `idx ${displayPath(source.images)}${source.testImages ? `, test ${displayPath(source.testImages)}` : ''}`;
  }
}

function describeTask(ds: Dataset): string {
  if (ds.task === 'regression') return `regression, ${ds.targets} target${ds.targets === 1 ? '' : 's'}`;
  const names = ds.classNames.length <= 10 ? ` (${ds.classNames.join(', ')})` : '';
  return `classification, ${ds.classes} classes${names}`;
}

function describeOptimizer(o: ResolvedTrainOptions['optimizer']): string {
  const fields: string[] = [];
  if (o.name === 'momentum' || o.name === 'nesterov') fields.push(`momentum ${o.momentum}`);
  if (o.name === 'adam' || o.name === 'adamw') fields.push(`beta1 ${o.beta1}`, `beta2 ${o.beta2}`, `eps ${o.eps}`);
  if (o.name === 'rmsprop') fields.push(`alpha ${o.alpha}`, `eps ${o.eps}`);
  if (o.weightDecay > 0) fields.push(`weight decay ${o.weightDecay}`);
  if (o.clipNorm > 0) fields.push(`clip norm ${o.clipNorm}`);
  return fields.length ? `${o.name} (${fields.join(', ')})` : o.name;
}

function describeSchedule(s: ResolvedTrainOptions['schedule']): string {
  const fields = Object.entries(s).filter(([k]) => k !== 'type').map(([k, v]) => `${k} ${v}`);
  return fields.length ? `${s.type} (${fields.join(', ')})` : s.type;
}

function layerSizes(spec: ModelSpec): string {
  return `${[spec.inputs, ...spec.layers.map((l) => l.units)].join('-')} (${spec.layers.map((l) => l.activation).join(', ')})`;
}

function configRows(config: Config, splits: DataSplitsInput, opts: ResolvedTrainOptions, spec: ModelSpec): [string, string][] {
  const { train: tr, validation, test } = splits;
  const rows: [string, string][] = [['config', config.file]];
  if (config.description) rows.push(['description', config.description]);
  rows.push(['data', describeSource(config.data)], ['task', describeTask(tr)], ['features', String(tr.features)]);
  const counts = [`train ${tr.n}`];
  if (validation) counts.push(`validation ${validation.n}`);
  if (test) counts.push(`test ${test.n}`);
  rows.push(['rows', counts.join(', ')], ['scale', opts.scale]);
  rows.push(['layers', layerSizes(spec)], ['parameters', paramLayout(spec).count.toLocaleString('en-US')], ['loss', spec.loss]);
  if (opts.rule !== 'backprop') rows.push(['rule', opts.rule]);
  rows.push(['epochs', String(opts.epochs)]);
  rows.push(['batch size', opts.batchSize === 'full' ? `full (${tr.n})` : String(opts.batchSize)]);
  rows.push(['learning rate', String(opts.lr)], ['optimizer', describeOptimizer(opts.optimizer)], ['schedule', describeSchedule(opts.schedule)]);
  if (opts.stop) {
    const s = [Number.isFinite(opts.stop.lossBelow) ? `loss below ${opts.stop.lossBelow}` : '', Number.isFinite(opts.stop.patience) ? `patience ${opts.stop.patience}` : ''];
    rows.push(['stop', s.filter(Boolean).join(', ') || 'never']);
  }
  if (opts.earlyStopping) {
    const e = opts.earlyStopping;
    rows.push(['early stopping', `patience ${e.patience}, min delta ${e.minDelta}${e.restoreBest ? ', restore best' : ''}`]);
  }
  rows.push(['shuffle', String(opts.shuffle)], ['seed', String(opts.seed)]);
  rows.push(['threads', `${opts.threads} (of ${os.availableParallelism()} cores)`]);
  rows.push(['kernel', opts.kernel === 'auto' ? `auto (${simdSupported() ? 'wasm' : 'js'})` : opts.kernel]);
  if (opts.checkpoint) {
    const every = [opts.checkpoint.everyEpochs > 0 ? `every ${opts.checkpoint.everyEpochs} epochs` : '', opts.checkpoint.everySteps > 0 ? `every ${opts.checkpoint.everySteps} steps` : ''];
    rows.push(['checkpoint', `${displayPath(opts.checkpoint.path)} (${[...every.filter(Boolean), 'at the end'].join(', ')})`]);
  }
  if (typeof config.train.resume === 'string') rows.push(['resume from', displayPath(config.train.resume)]);
  if (config.out) rows.push(['out', displayPath(config.out)]);
  if (config.log) rows.push(['log', displayPath(config.log)]);
  return rows;
}

export function formatEpoch(r: EpochRecord, epochs: number, showLr: boolean): string {
  const parts = [`epoch ${r.epoch}/${epochs}`, `loss ${formatLoss(r.loss)}`];
  if (r.accuracy !== undefined) parts.push(`acc ${pct(r.accuracy)}`);
  if (r.valLoss !== undefined) parts.push(`val_loss ${formatLoss(r.valLoss)}`);
  if (r.valAccuracy !== undefined) parts.push(`val_acc ${pct(r.valAccuracy)}`);
  if (showLr) parts.push(`lr ${r.lr === 0 ? '0' : formatLoss(r.lr)}`);
  parts.push(`${formatRate(r.samplesPerSec)} samples/s`);
  return parts.join(' | ');
}

/** One line of metrics; train's test line and evaluate print the same shape. */
export function formatMetrics(m: Metrics, n: number): string {
  if (m.accuracy !== undefined) {
    const correct = Math.round(m.accuracy * n);
    return `loss ${formatLoss(m.loss)} | acc ${pct(m.accuracy)} (${correct}/${n})`;
  }
  return `loss ${formatLoss(m.loss)} | mse ${formatLoss(m.mse!)} | mae ${formatLoss(m.mae!)} | r2 ${m.r2 === undefined ? '-' : m.r2.toFixed(4)}`;
}

/** confusion[actual][predicted] with class names down the side and across the top. */
export function formatConfusion(confusion: readonly (readonly number[])[], classNames: readonly string[] | undefined): string {
  const k = confusion.length;
  const names = Array.from({ length: k }, (_, i) => classNames?.[i] ?? String(i));
  const side = Math.max('actual \\ predicted'.length, ...names.map((n) => n.length));
  const cells = confusion.flat().map(String);
  const width = Math.max(...names.map((n) => n.length), ...cells.map((c) => c.length));
  const lines = [`${'actual \\ predicted'.padEnd(side)}  ${names.map((n) => n.padStart(width)).join('  ')}`];
  confusion.forEach((row, i) => lines.push(`${names[i]!.padEnd(side)}  ${row.map((c) => String(c).padStart(width)).join('  ')}`));
  return lines.join('\n');
}

function printMetricsBlock(label: string, m: Metrics, n: number, classNames: readonly string[] | undefined): void {
  out(`${label}: ${formatMetrics(m, n)}`);
  if (m.confusion) {
    if (m.confusion.length <= 20) {
      out(`confusion matrix (${label}; rows: actual, columns: predicted)`);
      out(formatConfusion(m.confusion, classNames));
    } else {
      out(`confusion matrix omitted: ${m.confusion.length} classes`);
    }
  }
}

function describeStop(result: TrainResult, stepsPerEpoch: number): string {
  const last = result.history.at(-1);
  const epochs = result.history.length;
  const at = result.position;
  switch (result.stopReason) {
    case 'epochs':
      return `all ${epochs} epochs done`;
    case 'loss_below':
      return `training loss ${formatLoss(last!.loss)} fell below ${result.options.stop!.lossBelow} at epoch ${epochs}`;
    case 'no_improvement':
      return `training loss did not improve for ${result.options.stop!.patience} epochs (stopped at epoch ${epochs})`;
    case 'early_stopping':
      return `early stopping: validation loss did not improve for ${result.options.earlyStopping!.patience} epochs (stopped at epoch ${epochs}` +
        `${result.bestEpoch ? `, restored the weights of epoch ${result.bestEpoch}` : ''})`;
    case 'interrupted':
      return at.step > 0 ? `interrupted in epoch ${at.epoch + 1}, after ${at.step} of its ${stepsPerEpoch} steps` : `interrupted after epoch ${at.epoch}`;
  }
}

// ---------------------------------------------------------------------------------------
// train

async function trainCommand(a: Record<string, unknown>): Promise<number> {
  const file = String(a.config);
  const config = applyOverrides(loadConfig(file), {
    epochs: a.epochs, lr: a.lr, batchSize: a['batch-size'], seed: a.seed, threads: a.threads, kernel: a.kernel, out: a.out, log: a.log,
    checkpoint: a.checkpoint, resume: a.resume, checkpointEvery: a['checkpoint-every'], checkpointEverySteps: a['checkpoint-every-steps'],
    logEverySteps: a['log-every-steps'],
  });
  const data = loadConfigData(config);
  const splits: DataSplitsInput = 'train' in data && (data as DataSplitsInput).train !== undefined ? (data as DataSplitsInput) : { train: data as Dataset };
  const options = { ...config.train, data };
  const { opts, spec } = withConfigFile(file, () => {
    const layers = config.train.model.layers;
    return {
      opts: resolveTrainOptions(options),
      spec: { inputs: splits.train.features, layers, loss: resolveLoss(layers, config.train.model.loss) } as ModelSpec,
    };
  });
  out(formatTable(configRows(config, splits, opts, spec)));

  const n = splits.train.n;
  const batch = opts.batchSize === 'full' ? n : Math.min(opts.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / batch);
  const progress = createProgress(process.stdout, { totalEpochs: opts.epochs, stepsPerEpoch });
  let log: JsonlLog | undefined;
  if (config.log) {
    // A log describes one run: a rerun with the same path starts it afresh rather than
    // appending a second run's epochs 1..N that a plot would draw as one zigzag curve.
    fs.rmSync(config.log, { force: true });
    log = openJsonlLog(config.log);
  }
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      err('\ninterrupted again: quitting now');
      process.exit(130);
    }
    progress.done();
    err('\ninterrupt: stopping at the next step (press Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    let epochsRun = 0;
    let lastCheckpoint: { path: string; epoch: number; step: number } | undefined;
    const showLr = opts.schedule.type !== 'constant';
    const started = performance.now();
    let result: TrainResult;
    try {
      result = await withConfigFileAsync(file, () =>
        train(options, {
          signal: controller.signal,
          onCheckpoint: (info) => (lastCheckpoint = info),
          ...(log && config.logEverySteps ? { stepLogEvery: config.logEverySteps, onStep: (record: StepRecord) => log!.write(record) } : {}),
          onProgress: (p) => progress.step({ epoch: p.epoch, step: p.step, loss: p.loss, samplesPerSec: p.samplesPerSec }),
          onEpoch: (record) => {
            epochsRun++;
            log?.write(record);
            progress.epochEnd(formatEpoch(record, opts.epochs, showLr));
          },
        }),
      );
    } finally {
      progress.done();
      log?.close();
    }
    const seconds = (performance.now() - started) / 1000;
    for (const w of result.warnings) err(`warning: ${w}`);
    out();
    out(`stopped: ${describeStop(result, stepsPerEpoch)}`);
    const partial = result.position.step > 0 ? ` and ${result.position.step} step${result.position.step === 1 ? '' : 's'}` : '';
    out(`trained ${epochsRun} epoch${epochsRun === 1 ? '' : 's'}${partial} in ${seconds < 60 ? `${seconds.toFixed(1)}s` : formatDuration(seconds)} on ${result.threads} thread${result.threads === 1 ? '' : 's'}, ${result.kernel} kernel`);
    const classNames = result.model.classNames;
    const last = result.history.at(-1);
    if (last && !result.test) {
      out(`last epoch: loss ${formatLoss(last.loss)}${last.accuracy !== undefined ? ` | acc ${pct(last.accuracy)}` : ''} (measured while training)`);
    }
    if (result.validation && splits.validation) out(`validation: ${formatMetrics(result.validation, splits.validation.n)}`);
    if (result.test && splits.test) printMetricsBlock('test', result.test, splits.test.n, classNames);
    if (config.out) {
      result.model.save(config.out);
      out(`saved model to ${displayPath(config.out)} (${layerSizes(result.model.spec)}, ${paramLayout(result.model.spec).count.toLocaleString('en-US')} parameters${result.stopReason === 'interrupted' ? ', as trained when interrupted' : ''})`);
    } else if (result.stopReason === 'interrupted') {
      out('no model saved: give --out FILE to keep the weights of an interrupted run');
    }
    if (config.log) out(`wrote epoch log to ${displayPath(config.log)}`);
    if (lastCheckpoint) {
      out(`checkpoint: ${displayPath(lastCheckpoint.path)} (epoch ${lastCheckpoint.epoch}, step ${lastCheckpoint.step})`);
      if (result.stopReason === 'interrupted') out(`resume with: threadtrain train --config ${file} --resume ${displayPath(lastCheckpoint.path)}`);
    }
    return result.stopReason === 'interrupted' ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function withConfigFileAsync<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    // Rethrown through the sync wrapper so the same rewording applies.
    return withConfigFile(file, () => {
      throw error;
    });
  }
}

// ---------------------------------------------------------------------------------------
// evaluate / predict: data for a saved model

interface ModelData {
  readonly what: string;
  readonly x: Float32Array;
  readonly n: number;
  /** With labels (always for builtin and idx, when the CSV has the label column). */
  readonly ds: Dataset | undefined;
}

function parseBuiltinSpec(spec: string): { name: string; options: BuiltinOptions } {
  const [name = '', ...rest] = spec.split(',');
  const options: Record<string, number> = { seed: 1 };
  for (const part of rest) {
    const m = /^(\w+)=(.+)$/.exec(part.trim());
    const value = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(value)) {
      throw new ConfigError(`--data builtin:${spec}: expected key=value options after the name, found ${describe(part)}`, 'e.g. --data builtin:spirals,n=500,seed=2');
    }
    options[m[1]!] = value;
  }
  if (!(BUILTIN_DATASETS as readonly string[]).includes(name)) {
    throw new ConfigError(`--data builtin:${name}: unknown built-in dataset`, `built-in datasets: ${BUILTIN_DATASETS.join(', ')}`);
  }
  return { name, options: options as unknown as BuiltinOptions };
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
function readCsvForModel(file: string, model: Model, modelFile: string, requireLabel: boolean, label: string | undefined): ModelData {
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
  if (hasLabel) {
    const last = Array.from({ length: k }, (_, i) => i - k);
    ds = loadCsv(file, {
      task: model.task, header,
      label: labelSpec ?? (model.task === 'classification' ? -1 : last),
      ...(model.task === 'classification' && model.classNames ? { classNames: model.classNames } : {}),
    });
    x = ds.x;
    checkFeatures(model, file, modelFile, ds.features);
  } else {
    // Every column is a feature: read the last one as a numeric "target", then put it back.
    const all = loadCsv(file, { task: 'regression', header, label: -1 });
    const d = all.features + 1;
    x = new Float32Array(all.n * d);
    for (let r = 0; r < all.n; r++) {
      x.set(all.x.subarray(r * (d - 1), (r + 1) * (d - 1)), r * d);
      x[r * d + d - 1] = all.y[r]!;
    }
  }
  if (header && model.featureNames) {
    const found = probe.featureNames!.slice(0, model.inputs);
    if (labelSpec === undefined && found.some((name, i) => name !== model.featureNames![i])) {
      throw new DataError(
        `${file}: the feature columns are ${found.join(', ')}, but the model ${modelFile} was trained on ${model.featureNames.join(', ')}`,
        'give the features in the order the model was trained on',
      );
    }
  }
  const n = ds ? ds.n : x.length / model.inputs;
  return { what: `${displayPath(file)} (${n} rows${ds ? '' : ', no labels'})`, x, n, ds };
}

function readDataForModel(spec: string, model: Model, modelFile: string, requireLabel: boolean, label: string | undefined): ModelData {
  let ds: Dataset;
  let what: string;
  if (spec.startsWith('builtin:')) {
    const { name, options } = parseBuiltinSpec(spec.slice('builtin:'.length));
    ds = builtinDataset(name, options);
    what = `builtin ${spec.slice('builtin:'.length)} (${ds.n} rows)`;
  } else if (spec.startsWith('idx:')) {
    const files = spec.slice('idx:'.length).split(',');
    if (files.length !== 2 || files.some((f) => f === '')) {
      throw new ConfigError(`--data ${spec}: expected idx:IMAGES,LABELS (two files), found ${files.length}`, 'e.g. --data idx:t10k-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz');
    }
    ds = loadIdx(files[0]!, files[1]!);
    what = `idx ${files[0]} (${ds.n} rows)`;
  } else {
    return readCsvForModel(spec, model, modelFile, requireLabel, label);
  }
  checkFeatures(model, spec, modelFile, ds.features);
  if (ds.task !== model.task) {
    throw new DataError(`${spec}: is a ${ds.task} dataset, but the model ${modelFile} is for ${model.task}`, 'use data of the kind the model was trained on');
  }
  return { what, x: ds.x, n: ds.n, ds };
}

function loadModel(file: string): Model {
  if (!fs.existsSync(file)) throw new ConfigError(`${file}: no such model file`, 'train one with: threadtrain train --config FILE --out FILE');
  return Model.load(file);
}

function evaluateCommand(a: Record<string, unknown>): number {
  const modelFile = String(a.model);
  const model = loadModel(modelFile);
  const data = readDataForModel(String(a.data), model, modelFile, true, a.label as string | undefined);
  const metrics = model.evaluate(data.ds!);
  out(`model: ${displayPath(modelFile)} (${layerSizes(model.spec)}, ${model.task})`);
  out(`data: ${data.what}`);
  printMetricsBlock('evaluate', metrics, data.n, model.classNames);
  return 0;
}

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

function plotCommand(a: Record<string, unknown>): number {
  plotFile(String(a.log), String(a.out));
  out(`wrote ${String(a.out)}`);
  return 0;
}

// ---------------------------------------------------------------------------------------
// Parsing

const fromConfig = 'from the config';

/** Parse `args` (argv without node and the script) and run the command; resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  // `threadtrain predict ... | head` closes the pipe early; that is the reader's choice,
  // not an error worth a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  let code = 0;
  const run = (fn: (a: Record<string, unknown>) => number | Promise<number>) => async (a: Record<string, unknown>) => {
    code = await fn(a);
  };
  const cli = yargs([...args])
    .scriptName('threadtrain')
    .usage('$0 <command> [options]\n\nData-parallel MLP training on worker threads.')
    .command(
      'train',
      'Train a model from a config file; flags override the config',
      (y) =>
        y
          .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'JSON config file (see configs/)' })
          // No `type` on the numeric flags: a value like "abc" then reaches the config
          // checks as itself and the message can echo it, instead of yargs' NaN.
          .option('epochs', { requiresArg: true, describe: 'passes over the training data', defaultDescription: fromConfig })
          .option('lr', { requiresArg: true, describe: 'learning rate', defaultDescription: fromConfig })
          .option('batch-size', { requiresArg: true, describe: 'rows per step, or "full"', defaultDescription: fromConfig })
          .option('seed', { requiresArg: true, describe: 'seed for initialisation, shuffling and the split', defaultDescription: fromConfig })
          .option('threads', { requiresArg: true, describe: 'worker threads', defaultDescription: 'from the config, else the number of cores' })
          .option('kernel', { type: 'string', choices: ['auto', 'wasm', 'js'], describe: 'compute kernel', defaultDescription: 'from the config, else auto' })
          .option('out', { alias: 'o', type: 'string', requiresArg: true, describe: 'write the trained model here', defaultDescription: 'the config\'s "out", else none' })
          .option('log', { type: 'string', requiresArg: true, describe: 'write a JSON Lines epoch log here', defaultDescription: 'the config\'s "log", else none' })
          .option('checkpoint', { type: 'string', requiresArg: true, describe: 'write checkpoints (to resume from) here, at the end and at the config\'s cadence', defaultDescription: 'the config\'s train.checkpoint, else none' })
          .option('checkpoint-every', { requiresArg: true, describe: 'write a checkpoint every N epochs', defaultDescription: 'the config\'s, else only at the end' })
          .option('checkpoint-every-steps', { requiresArg: true, describe: 'write a checkpoint every N updates', defaultDescription: 'the config\'s, else off' })
          .option('log-every-steps', { requiresArg: true, describe: 'also log a step record (loss, lr, per-layer gradient norms) every N updates', defaultDescription: 'the config\'s "logEverySteps", else epochs only' })
          .option('resume', { type: 'string', requiresArg: true, describe: 'continue bit for bit from a checkpoint of this config (epochs, threads and kernel may differ)', defaultDescription: 'none' })
          .example('$0 train --config configs/spirals.json --epochs 50 --out spirals.ttm', ''),
      run(trainCommand),
    )
    .command(
      'evaluate',
      'Loss and accuracy (or MSE, MAE, R²) of a saved model on labelled data',
      (y) =>
        y
          .option('model', { alias: 'm', type: 'string', demandOption: true, requiresArg: true, describe: 'model file written by train --out' })
          .option('data', { alias: 'd', type: 'string', demandOption: true, requiresArg: true, describe: 'FILE.csv (features, then the label), builtin:NAME[,key=value...] or idx:IMAGES,LABELS' })
          .option('label', { type: 'string', requiresArg: true, describe: 'the CSV label column (name or 0-based index)', defaultDescription: 'the last column' })
          .example('$0 evaluate --model spirals.ttm --data builtin:spirals,n=1000,seed=7', ''),
      run(evaluateCommand),
    )
    .command(
      'predict',
      'Predictions of a saved model as CSV: the class and each class\'s probability, or the target values',
      (y) =>
        y
          .option('model', { alias: 'm', type: 'string', demandOption: true, requiresArg: true, describe: 'model file written by train --out' })
          .option('data', { alias: 'd', type: 'string', demandOption: true, requiresArg: true, describe: 'FILE.csv (features; a label column is ignored), builtin:NAME[,key=value...] or idx:IMAGES,LABELS' })
          .option('label', { type: 'string', requiresArg: true, describe: 'the CSV label column to skip (name or 0-based index)', defaultDescription: 'detected by the column count' })
          .option('out', { alias: 'o', type: 'string', requiresArg: true, describe: 'write the CSV here (atomically)', defaultDescription: 'stdout' })
          .example('$0 predict --model iris.ttm --data new_flowers.csv --out predictions.csv', ''),
      run(predictCommand),
    )
    .command(
      'plot <log>',
      'Draw a training log (or scaling-benchmark lines) as an SVG chart',
      (y) =>
        y
          .positional('log', { type: 'string', describe: 'JSON Lines file written by train --log' })
          .option('out', { alias: 'o', type: 'string', demandOption: true, requiresArg: true, describe: 'SVG file to write' })
          .example('$0 plot run.jsonl --out curves.svg', ''),
      run(plotCommand),
    )
    .demandCommand(1, 'give a command: train, evaluate, predict or plot')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .epilog('Run "threadtrain <command> --help" for the flags of a command. Configs: see configs/*.json.')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, error, y) => {
      // yargs reports its own parse errors (a flag without its value) as YError; those are
      // usage errors like the rest. Anything else came out of a command handler.
      if (error && error.name !== 'YError') throw error;
      y.showHelp((s: string) => err(s));
      err('');
      throw new UsageError(msg ?? error?.message ?? 'invalid command line');
    });
  try {
    await cli.parseAsync();
    return code;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`error: ${error.message}`);
      return 2;
    }
    if (error instanceof ThreadtrainError) {
      err(`error: ${error.message}`);
      return 1;
    }
    err(`internal error (a bug in threadtrain; please report it with the command you ran):`);
    err((error as Error)?.stack ?? String(error));
    return 1;
  }
}

// Run when executed directly (`tsx src/cli.ts`); bin.js imports this file and calls main.
function runDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && fs.realpathSync(path.resolve(process.argv[1])) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (runDirectly()) process.exitCode = await main(hideBin(process.argv));
