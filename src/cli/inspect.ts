// threadtrain inspect: what a config would train, or what a model file holds, without
// training: the layers and their parameters, FLOPs per sample, and for a config the thread
// count, the kernel and the shared memory the engine would allocate — taken from the run's
// own plan (train/train.ts planRun, engine/plan.ts), not worked out again here.

import type { Argv } from 'yargs';
import { displayPath } from '../errors.ts';
import { sharedMemorySize } from '../engine/plan.ts';
import { layerFlops, flopsPerSample } from '../model/flops.ts';
import { paramLayout } from '../model/layout.ts';
import type { Model } from '../model/model.ts';
import type { ModelSpec } from '../model/spec.ts';
import { DATA_SOURCES } from '../options/data_source.ts';
import { commandLineValues } from '../options/flags.ts';
import { loadConfigData, parseCommandLine, runOptionsOf } from '../options/parse.ts';
import { memoryBudget } from '../limits.ts';
import { planRun, prepareData, rowCopies, runMemory, type RunMemory } from '../train/train.ts';
import type { CommandHandler } from './command.ts';
import { err, formatBytes, formatColumns, formatTable, int, layerSizes, num, out, UsageError } from './format.ts';
import { loadModelFile } from './model_data.ts';
import type { RunKernel } from '../kernels/select.ts';

export interface LayerInfo {
  readonly layer: number;
  readonly inputs: number;
  readonly units: number;
  readonly activation: string;
  readonly params: number;
  readonly flopsForward: number;
  readonly flopsBackward: number;
}

/** What inspect prints with --json: one object, the same for a config and a model file (model-only and config-only fields apart). */
export interface InspectReport {
  readonly source: { readonly config: string } | { readonly model: string };
  readonly inputs: number;
  readonly layers: LayerInfo[];
  readonly loss: string;
  readonly parameters: number;
  /** FLOPs per sample (model/flops.ts): forward alone, and forward plus backward (a training step). */
  readonly flopsPerSample: { readonly forward: number; readonly forwardBackward: number };
  /** The kernel that runs: the config's (auto → wasm when SIMD is available), or for a model the one predict and evaluate use. */
  readonly kernel: { readonly requested: string; readonly runs: RunKernel };
  /** Config only: the run the engine would start. */
  readonly run?: {
    readonly data: string;
    readonly rows: { readonly train: number; readonly validation: number; readonly test: number };
    readonly batchSize: number;
    readonly stepsPerEpoch: number;
    readonly threads: number;
    /** The config's (or --threads') value: a count, or "auto". */
    readonly threadsRequested: number | 'auto';
    /** Why that many: as asked, or planned from the step's work for "auto". */
    readonly threadsReason: string;
    /** "auto" on more than one thread: the run times its first steps against one thread and keeps the faster. */
    readonly threadsTrial: boolean;
    /** The bytes the memory plan lays out, and the whole 64 KiB pages of WebAssembly.Memory allocated for them. */
    readonly sharedMemory: { readonly bytes: number; readonly pages: number; readonly allocatedBytes: number };
    /** The whole run's planned memory (shared, worker threads, rows outside), as train checks it, and the budget it is checked against. */
    readonly memory: RunMemory & { readonly budget: { readonly bytes: number; readonly what: string } };
  };
  /** Model file only: what it holds besides the weights. */
  readonly file?: {
    readonly formatVersion: number;
    readonly task: string;
    readonly classNames: readonly string[] | null;
    readonly featureNames: readonly string[] | null;
    readonly scaling: { readonly method: string; readonly offset: number[]; readonly scale: number[] } | null;
  };
}

export function describeLayers(spec: ModelSpec): LayerInfo[] {
  const layout = paramLayout(spec);
  const flops = layerFlops(spec);
  return spec.layers.map((layer, l) => {
    const s = layout.layers[l]!;
    return {
      layer: l, inputs: s.inputs, units: s.units, activation: layer.activation,
      params: s.w.length + s.b.length + (s.a?.length ?? 0), flopsForward: flops[l]!.forward, flopsBackward: flops[l]!.backward,
    };
  });
}

function modelFacts(spec: ModelSpec): Pick<InspectReport, 'inputs' | 'layers' | 'loss' | 'parameters' | 'flopsPerSample'> {
  return { inputs: spec.inputs, layers: describeLayers(spec), loss: spec.loss, parameters: paramLayout(spec).count, flopsPerSample: flopsPerSample(spec) };
}

/** The report for a config (and command-line values on top of it): loads its data, plans the run, starts nothing. */
export function inspectConfig(file: string, args: Record<string, unknown>): { report: InspectReport; spec: ModelSpec } {
  const config = parseCommandLine(file, commandLineValues({ threads: args.threads, kernel: args.kernel }));
  const { data: input, model, resume: _resume, ...opts } = runOptionsOf(config, loadConfigData(config));
  const data = prepareData(input, opts);
  const plan = planRun(model, opts, data);
  for (const w of plan.warnings) err(`warning: ${w}`);
  const report: InspectReport = {
    source: { config: file },
    ...modelFacts(plan.spec),
    kernel: { requested: opts.kernel, runs: plan.kernel },
    run: {
      data: DATA_SOURCES.describe(config.data),
      rows: { train: data.train.n, validation: data.validation?.n ?? 0, test: data.test?.n ?? 0 },
      batchSize: plan.batchSize, stepsPerEpoch: plan.stepsPerEpoch, threads: plan.threads, threadsRequested: opts.threads, threadsReason: plan.threadPlan.reason,
      threadsTrial: plan.trial !== undefined,
      sharedMemory: sharedMemorySize(plan.memory),
      memory: { ...runMemory(plan.memory, plan.threads, rowCopies(opts.scale)), budget: memoryBudget() },
    },
  };
  return { report, spec: plan.spec };
}

export function inspectModel(file: string, model: Model, formatVersion: number): InspectReport {
  const s = model.scaler;
  return {
    source: { model: file },
    ...modelFacts(model.spec),
    // Model.predict runs in-process on the TypeScript kernel (model/model.ts), whatever the machine has.
    kernel: { requested: 'js', runs: 'js' },
    file: {
      formatVersion, task: model.task, classNames: model.classNames ?? null, featureNames: model.featureNames ?? null,
      scaling: s ? { method: s.method, offset: Array.from(s.offset), scale: Array.from(s.scale) } : null,
    },
  };
}

/** A list shown whole when short, else its first few and a count. */
function shortList(items: readonly string[], max = 12): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, … (${items.length} in all)`;
}

function printReport(r: InspectReport, spec: ModelSpec): void {
  const rows: [string, string][] = [];
  if ('config' in r.source) rows.push(['config', r.source.config]);
  else rows.push(['model file', displayPath(r.source.model)]);
  if (r.file) {
    rows.push(['format version', String(r.file.formatVersion)], ['task', r.file.task]);
    if (r.file.classNames) rows.push(['classes', `${r.file.classNames.length}: ${shortList(r.file.classNames)}`]);
    if (r.file.featureNames) rows.push(['features', `${r.file.featureNames.length}: ${shortList(r.file.featureNames)}`]);
    else rows.push(['features', `${r.inputs} (unnamed)`]);
    const sc = r.file.scaling;
    rows.push(['scaling', !sc || sc.method === 'none' ? 'none' : `${sc.method}: x' = (x − offset) × scale`]);
    if (sc && sc.method !== 'none') rows.push(['offset', shortList(sc.offset.map(num), 8)], ['scale', shortList(sc.scale.map(num), 8)]);
  }
  rows.push(['layers', layerSizes(spec)], ['loss', r.loss], ['parameters', int(r.parameters)]);
  rows.push(['FLOPs per sample', `${int(r.flopsPerSample.forward)} forward, ${int(r.flopsPerSample.forwardBackward)} forward + backward`]);
  if (r.run) {
    rows.push(['data', r.run.data]);
    rows.push(['rows', `train ${r.run.rows.train}, validation ${r.run.rows.validation}, test ${r.run.rows.test}`]);
    rows.push(['batch size', `${r.run.batchSize} (${r.run.stepsPerEpoch} steps per epoch)`]);
    const trial = r.run.threadsTrial ? '; the run times its first steps against 1 thread and keeps the faster' : '';
    rows.push(['threads', r.run.threadsRequested === 'auto' ? `${r.run.threads} (${r.run.threadsReason}${trial})` : String(r.run.threads)]);
    rows.push(['kernel', r.kernel.requested === r.kernel.runs ? r.kernel.runs : `${r.kernel.requested} (${r.kernel.runs})`]);
    const m = r.run.sharedMemory;
    rows.push(['shared memory', `${formatBytes(m.bytes)} planned`], ['allocated', `${formatBytes(m.allocatedBytes)}: ${int(m.pages)} pages of 64 KiB`]);
    const all = r.run.memory;
    const workers = all.workers === 0 ? 'no worker threads' : `${all.workers} worker threads × ${formatBytes(all.perWorker)}`;
    rows.push(['run memory', `${formatBytes(all.total)}: the shared memory, ${workers}, ${formatBytes(all.rows)} of rows outside; limit ${formatBytes(all.budget.bytes)} (${all.budget.what})`]);
  } else {
    rows.push(['kernel', 'js (predict and evaluate run the TypeScript kernel in-process)']);
  }
  out(formatTable(rows));
  out();
  out(formatColumns(
    ['layer', 'inputs', 'units', 'activation', 'params', 'FLOPs forward', 'FLOPs backward'],
    r.layers.map((l) => [String(l.layer), int(l.inputs), int(l.units), l.activation, int(l.params), int(l.flopsForward), int(l.flopsBackward)]),
  ));
  out('FLOPs per sample: every product and every sum of the dense layers\' matrix products and bias terms;');
  out('activations, the loss and the optimizer are not counted. Backward has no input gradient for the first layer.');
}

function inspectCommand(a: Record<string, unknown>): number {
  let r: { report: InspectReport; spec: ModelSpec };
  if (a.config !== undefined) {
    r = inspectConfig(String(a.config), a);
  } else {
    const file = String(a.model);
    const { model, formatVersion } = loadModelFile(file);
    r = { report: inspectModel(file, model, formatVersion), spec: model.spec };
  }
  if (a.json === true) out(JSON.stringify(r.report));
  else printReport(r.report, r.spec);
  return 0;
}

export const inspect: CommandHandler = {
  builder: (y: Argv) =>
    y
      .option('config', { alias: 'c', type: 'string', requiresArg: true, describe: 'JSON config file: the run it would start (its data is loaded to size the plan)' })
      .option('model', { alias: 'm', type: 'string', requiresArg: true, describe: 'model file written by train --out: its layers and metadata' })
      .option('threads', { requiresArg: true, describe: 'with --config: the thread count to plan for', defaultDescription: 'the config\'s' })
      .option('kernel', { requiresArg: true, describe: 'with --config: auto, wasm or js', defaultDescription: 'the config\'s' })
      .option('json', { type: 'boolean', describe: 'print one JSON object instead of tables' })
      .conflicts('config', 'model')
      .check((args) => {
        if (args.config === undefined && args.model === undefined) throw new UsageError('inspect: give --config FILE or --model FILE');
        if (args.model !== undefined && (args.threads !== undefined || args.kernel !== undefined)) {
          throw new UsageError('--threads and --kernel go with --config (a model file has no run to plan)');
        }
        return true;
      })
      .example('$0 inspect --config configs/mnist.json --threads 2', 'the MNIST run: layers, FLOPs, shared memory on 2 threads')
      .example('$0 inspect --model spirals.ttm --json', 'a saved model\'s layers and metadata as one JSON object'),
  run: inspectCommand,
};
