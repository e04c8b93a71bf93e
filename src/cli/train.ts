// threadtrain train: a run from a config file, flags, or both. The config and every flag
// go through the schema once (options/parse.ts); the data is loaded as the config says;
// the resolved settings print as a table before anything runs, then one line per epoch.

import os from 'node:os';
import path from 'node:path';
import type { Argv } from 'yargs';
import type { Dataset } from '../data/dataset.ts';
import type { DataSplits } from '../data/load.ts';
import { ConfigError, displayPath, firstLine, OutputError } from '../errors.ts';
import { prepareOutput, recoveryPaths, writeFirstWorking } from '../io/output_path.ts';
import { simdSupported } from '../kernels/select.ts';
import { paramLayout } from '../model/layout.ts';
import type { Model } from '../model/model.ts';
import type { ModelSpec } from '../model/spec.ts';
import { DATA_SOURCES } from '../options/data_source.ts';
import { commandLineValues, DATA_FLAGS, FLAGS } from '../options/flags.ts';
import { loadConfigData, parseCommandLine, runOptionsOf, type Config } from '../options/parse.ts';
import type { ResolvedTrainOptions } from '../options/schema.ts';
import { openJsonlLog, type JsonlLog, type StepRecord } from '../report/log.ts';
import { createProgress, formatDuration, formatLoss } from '../report/progress.ts';
import { CheckpointWriteError, describePosition, runTraining, type TrainResult } from '../train/train.ts';
import type { CommandHandler } from './command.ts';
import { onStopSignals } from './stop_signals.ts';
import { describeTask, err, formatEpoch, formatMetrics, formatTable, layerSizes, out, pct, printMetricsBlock } from './format.ts';

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

function configRows(config: Config, splits: DataSplits, opts: ResolvedTrainOptions, spec: ModelSpec): [string, string][] {
  const { train: tr, validation, test } = splits;
  const rows: [string, string][] = [['config', config.file ?? 'none (flags only)']];
  if (config.description) rows.push(['description', config.description]);
  if (config.sweep) rows.push(['sweep', 'not run: this is the base run (threadtrain sweep runs the sweep)']);
  rows.push(['data', DATA_SOURCES.describe(config.data)], ['task', describeTask(tr)], ['features', String(tr.features)]);
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
  rows.push(['threads', `${opts.threads === 'auto' ? 'auto, planned from the step\'s work' : opts.threads} (of ${os.availableParallelism()} cores)`]);
  rows.push(['kernel', opts.kernel === 'auto' ? `auto (${simdSupported() ? 'wasm' : 'js'})` : opts.kernel]);
  if (opts.checkpoint) {
    const every = [opts.checkpoint.everyEpochs > 0 ? `every ${opts.checkpoint.everyEpochs} epochs` : '', opts.checkpoint.everySteps > 0 ? `every ${opts.checkpoint.everySteps} steps` : ''];
    rows.push(['checkpoint', `${displayPath(opts.checkpoint.path)} (${[...every.filter(Boolean), 'at the end'].join(', ')})`]);
  }
  if (config.model.weights !== undefined) rows.push(['initial weights', displayPath(config.model.weights)]);
  if (config.train.resume !== undefined) rows.push(['resume from', displayPath(config.train.resume)]);
  if (config.out) rows.push(['out', displayPath(config.out)]);
  if (config.log) rows.push(['log', displayPath(config.log)]);
  return rows;
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

/** A library ConfigError about this run (a model that does not fit the data) names the config file first. */
function inConfigFile<T>(file: string | undefined, error: unknown): T {
  if (file === undefined || !(error instanceof ConfigError) || error.message.startsWith(`${file}: `)) throw error;
  const suffix = error.hint === undefined ? '' : `\nhint: ${error.hint}`;
  throw new ConfigError(`${file}: ${error.message.slice(0, error.message.length - suffix.length)}`, error.hint);
}

/**
 * Save the trained model to `out`, or, when that fails (or there is no `out` but the run must
 * not be lost), to the first fallback path that works. Returns where it went and the error of
 * `out`, if any.
 */
function saveModel(model: Model, out: string | undefined, checkpoint: string | undefined): { saved: string | undefined; error: unknown } {
  let error: unknown;
  if (out !== undefined) {
    try {
      model.save(out);
      return { saved: out, error: undefined };
    } catch (e) {
      error = e;
    }
  }
  const name = out ? path.basename(out, path.extname(out)) : 'model';
  return { saved: writeFirstWorking(recoveryPaths(name, '.ttm', checkpoint), (file) => model.save(file)), error };
}

async function trainCommand(a: Record<string, unknown>): Promise<number> {
  const config = parseCommandLine(a.config === undefined ? undefined : String(a.config), commandLineValues(a));
  const file = config.file;
  // Every output path is checked before the data loads and training starts (io/output_path.ts).
  const checkpointPath = config.train.checkpoint?.path;
  if (config.out) prepareOutput(config.out, 'out');
  if (checkpointPath) prepareOutput(checkpointPath, 'train.checkpoint.path');
  if (config.log) prepareOutput(config.log, 'log', 'append');
  const data = loadConfigData(config);
  const splits: DataSplits = 'train' in data && (data as DataSplits).train !== undefined ? (data as DataSplits) : { train: data as Dataset };
  const run = runOptionsOf(config, data);
  const { data: _data, model: _model, resume: _resume, ...opts } = run;
  const spec: ModelSpec = { inputs: splits.train.features, layers: config.model.layers, loss: config.model.loss };

  const n = splits.train.n;
  const batch = opts.batchSize === 'full' ? n : Math.min(opts.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / batch);
  const progress = createProgress(process.stdout, { totalEpochs: opts.epochs, stepsPerEpoch });
  const controller = new AbortController();
  // A log describes one run: a rerun with the same path starts it afresh rather than
  // appending a second run's epochs 1..N that a plot would draw as one zigzag curve.
  const log: JsonlLog | undefined = config.log ? openJsonlLog(config.log, { fresh: true }) : undefined;
  // A log that cannot be written (a full disk) stops the run at the next step, like a signal:
  // the model trained so far is saved and the failure reported once, at the end.
  let logFailure: unknown;
  const writeLog = (record: object) => {
    if (logFailure !== undefined) return;
    try {
      log!.write(record);
    } catch (error) {
      logFailure = error;
      controller.abort();
    }
  };
  const signals = onStopSignals(() => controller.abort(), {
    stopping: 'stopping at the next step; the model and checkpoint will be written',
    quitting: 'quitting now',
  }, () => progress.done());
  // The settings table is printed once the stop signals are listened for: a caller that stops
  // the run on seeing it must not kill the process outright.
  out(formatTable(configRows(config, splits, opts, spec)));
  try {
    let epochsRun = 0;
    let lastCheckpoint: { path: string; epoch: number; step: number } | undefined;
    const showLr = opts.schedule.type !== 'constant';
    const started = performance.now();
    let result: TrainResult;
    let checkpointFailure: CheckpointWriteError | undefined;
    try {
      result = await runTraining(run, {
        signal: controller.signal,
        onCheckpoint: (info) => (lastCheckpoint = info),
        // Before the first step, where it can still change the user's mind (not after the run).
        onWarning: (w) => err(`warning: ${w}`),
        ...(log && config.logEverySteps ? { stepLogEvery: config.logEverySteps, onStep: (record: StepRecord) => writeLog(record) } : {}),
        onProgress: (p) => progress.step({ epoch: p.epoch, step: p.step, loss: p.loss, samplesPerSec: p.samplesPerSec }),
        onEpoch: (record) => {
          epochsRun++;
          if (log) writeLog(record);
          progress.epochEnd(formatEpoch(record, opts.epochs, showLr));
        },
      }).catch((error: unknown) => {
        // The run stopped at a checkpoint it could not write: its model is in the error.
        if (error instanceof CheckpointWriteError) {
          checkpointFailure = error;
          return error.result;
        }
        return inConfigFile<TrainResult>(file, error);
      });
    } finally {
      progress.done();
      log?.close();
    }
    const seconds = (performance.now() - started) / 1000;
    out();
    const cutShort = logFailure !== undefined ? 'the log could not be written' : checkpointFailure && result.stopReason === 'interrupted' ? 'the checkpoint could not be written' : undefined;
    out(`stopped: ${cutShort ?? describeStop(result, stepsPerEpoch)}`);
    const partial = result.position.step > 0 ? ` and ${result.position.step} step${result.position.step === 1 ? '' : 's'}` : '';
    out(`trained ${epochsRun} epoch${epochsRun === 1 ? '' : 's'}${partial} in ${seconds < 60 ? `${seconds.toFixed(1)}s` : formatDuration(seconds)} on ${result.threads} thread${result.threads === 1 ? '' : 's'}, ${result.kernel} kernel`);
    if (opts.threads === 'auto') out(result.threadPlan.reason);
    const classNames = result.model.classNames;
    const last = result.history.at(-1);
    if (last && !result.test) {
      out(`last epoch: loss ${formatLoss(last.loss)}${last.accuracy !== undefined ? ` | acc ${pct(last.accuracy)}` : ''} (measured while training)`);
    }
    if (result.validation && splits.validation) out(`validation: ${formatMetrics(result.validation, splits.validation.n)}`);
    if (result.test && splits.test) printMetricsBlock('test', result.test, splits.test.n, classNames);
    const cut = result.stopReason === 'interrupted' ? ', as trained when stopped' : '';
    // A run cut short by its log or a checkpoint keeps its model even without --out.
    const failed = logFailure !== undefined || checkpointFailure !== undefined;
    const saved = config.out || failed ? saveModel(result.model, config.out, checkpointPath) : undefined;
    if (saved?.saved !== undefined && saved.error === undefined) {
      out(`saved model to ${displayPath(saved.saved)} (${layerSizes(result.model.spec)}, ${paramLayout(result.model.spec).count.toLocaleString('en-US')} parameters${cut})`);
    } else if (result.stopReason === 'interrupted' && !failed && !config.out) {
      out('no model saved: give --out FILE to keep the weights of an interrupted run');
    }
    if (config.log && logFailure === undefined) out(`wrote epoch log to ${displayPath(config.log)}`);
    if (lastCheckpoint) {
      out(`checkpoint: ${displayPath(lastCheckpoint.path)} (epoch ${lastCheckpoint.epoch}, step ${lastCheckpoint.step})`);
      if (result.stopReason === 'interrupted') {
        const again = file !== undefined ? `--config ${file}` : process.argv.slice(3).join(' ');
        out(`resume with: threadtrain train ${again} --resume ${displayPath(lastCheckpoint.path)}`);
      }
    }
    const kept = saved?.saved === undefined ? 'the model could not be saved anywhere'
      : saved.saved === config.out ? `the model trained so far is in ${displayPath(saved.saved)}` : `the trained model was saved to ${displayPath(saved.saved)} instead`;
    if (checkpointFailure !== undefined) {
      const folder = displayPath(path.dirname(checkpointPath!));
      throw new OutputError(`${firstLine(checkpointFailure)}; ${kept}`, checkpointFailure.recovered !== undefined
        ? `continue with --resume ${displayPath(checkpointFailure.recovered)} once ${folder} can be written: check it, its permissions and the free disk space`
        : `free some disk space or fix ${folder}; the run starts again from its last checkpoint that was written`);
    }
    if (saved?.error !== undefined) {
      throw new OutputError(`cannot save the model to ${displayPath(config.out!)} (${firstLine(saved.error)}); ${kept}`,
        'move the saved model where you want it; check the path, its permissions and the free disk space');
    }
    if (logFailure !== undefined) {
      const at = result.position;
      throw new OutputError(`${firstLine(logFailure)}; training stopped ${describePosition(at)} and ${kept}`,
        (logFailure as OutputError).hint);
    }
    return result.stopReason === 'interrupted' ? (signals.exitCode ?? 130) : 0;
  } finally {
    signals.dispose();
  }
}


export const train: CommandHandler = {
  builder: (y: Argv) => {
    let b = y
      .option('config', { alias: 'c', type: 'string', requiresArg: true, describe: 'JSON config file (see configs/; its schema: configs/threadtrain.schema.json)' })
      .option('data', { alias: 'd', type: 'string', requiresArg: true, describe: DATA_FLAGS.data.describe, defaultDescription: 'the config\'s data' })
      .option('label', { type: 'string', requiresArg: true, describe: DATA_FLAGS.label.describe, defaultDescription: 'the last column' })
      .option('set', { type: 'string', requiresArg: true, describe: DATA_FLAGS.set.describe });
    // Every config field as a flag (options/flags.ts). No `type`: a value like "abc" reaches
    // the schema as itself, so the message can echo it, instead of yargs' NaN.
    for (const f of FLAGS) {
      b = b.option(f.name, {
        requiresArg: true, describe: f.description,
        defaultDescription: f.defaultValue === undefined ? 'from the config' : `from the config, else ${JSON.stringify(f.defaultValue)}`,
        ...(f.name === 'out' ? { alias: 'o' } : {}),
      });
    }
    return b.example('$0 train --config configs/spirals.json --epochs 50 --out spirals.ttm', '')
      .example('$0 train --data builtin:xor --layers \'[{"units":2,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]\' --optimizer adam', '');
  },
  run: trainCommand,
};
