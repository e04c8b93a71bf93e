// The one edge where options are parsed: a config file, command-line values on top of it,
// or a train() call. Each goes through its schema (schema.ts) once; what comes out is
// resolved and typed, and nothing below checks it again. File paths in a config resolve
// from the config's directory (so a config means the same run from any working
// directory); paths given on the command line resolve from the current directory.

import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Dataset } from '../data/dataset.ts';
import { csvBound, type CsvBound } from '../data/csv.ts';
import { datasetFiles } from '../data/download.ts';
import { readIdxDims } from '../data/idx.ts';
import { loadData, type DataSplits } from '../data/load.ts';
import { builtinShape, type BuiltinOptions } from '../data/synthetic.ts';
import { checkRunMemory, planMemory, planThreadCount, rowCopies, runMemoryFits } from '../train/train.ts';
import { readSafetensorsWeights } from '../io/safetensors.ts';
import { ConfigError, displayPath } from '../errors.ts';
import { dotted, parseWith, schemaAt, unionMember, unwrap, type Where } from './errors.ts';
import type { CsvSource, DataSource } from './data_source.ts';
import { FLAGS } from './flags.ts';
import { findJsonSyntaxError } from './json_error.ts';
import type { OptimizerConfig } from '../optim/optimizers.ts';
import type { Schedule } from '../optim/schedules.ts';
import {
  configSchema, optimizerSchema, scheduleSchema, trainOptionsSchema, type ConfigValues, type OptimizerOptions, type RunOptions, type ScheduleOptions, type TrainOptions,
} from './schema.ts';

type Path = readonly PropertyKey[];

/** A parsed config: the schema's output, and where it came from. */
export type Config = ConfigValues & {
  /** The config file as it was named, for messages; undefined when the run is all flags. */
  readonly file: string | undefined;
  /** Absolute directory relative paths resolved from. */
  readonly baseDir: string;
};

// ---------------------------------------------------------------------------------------
// train()

/** train()'s options, resolved. Messages name the option path ("model.layers[0].units"). */
export function parseTrainOptions(options: unknown): z.output<typeof trainOptionsSchema> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    // Said here rather than by the schema: "options: expected an object" would not say which.
    throw new ConfigError(
      `train(options): expected an options object with model and data, found ${options === undefined ? 'nothing' : JSON.stringify(options) ?? String(options)}`,
      'call train({ model: { layers: [...] }, data })',
    );
  }
  const label = (p: Path) => (p.length === 0 ? 'options' : dotted(p));
  return parseWith(trainOptionsSchema, options as TrainOptions, label, label);
}

// ---------------------------------------------------------------------------------------
// File paths inside option values

/**
 * `value` with every file-path field (meta `path`) passed through `fn`, found by walking
 * the schema beside the value. `fn` gets the field's path and whether it names an input.
 */
export function mapPathFields(schema: z.ZodType, value: unknown, fn: (p: string, at: Path, input: boolean) => string, at: Path = []): unknown {
  const { core, meta } = unwrap(schema);
  if (meta.path && typeof value === 'string' && value !== '') return fn(value, at, meta.path === 'input');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const def = (core as unknown as { _zod: { def: { type: string; shape?: Record<string, z.ZodType> } } })._zod.def;
  if (def.type === 'union') {
    const m = unionMember(core, value);
    return m ? mapPathFields(m.member, value, fn, at) : value;
  }
  if (def.type !== 'object' || !def.shape) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, v] of Object.entries(out)) {
    const s = def.shape[key];
    if (s) out[key] = mapPathFields(s, v, fn, [...at, key]);
  }
  return out;
}

/** An input file a value names, to check once the value has parsed (a misspelt key is the likelier mistake). */
interface InputFile {
  readonly at: Path;
  readonly abs: string;
  readonly where: string;
  readonly hint: string;
}

/** Relative paths made absolute from `baseDir`; the input files they name are added to `inputs`. */
function resolvePaths(schema: z.ZodType, value: unknown, baseDir: string, where: Where, fromHint: string, inputs: InputFile[]): unknown {
  return mapPathFields(schema, value, (p, at, input) => {
    const abs = path.resolve(baseDir, p);
    if (input) inputs.push({ at, abs, where: where(at), hint: fromHint });
    return abs;
  });
}

/** Every input file named must exist. */
function checkInputs(inputs: readonly InputFile[]): void {
  for (const f of inputs) {
    if (!fs.existsSync(f.abs)) throw new ConfigError(`${f.where}: expected an existing file, found no file at ${displayPath(f.abs)}`, f.hint);
  }
}

/** Paths typed on the command line resolve from the current directory; `flag` names them in messages. */
export function resolveShellPaths(schema: z.ZodType, value: unknown, flag: string, inputs: InputFile[] = []): unknown {
  return resolvePaths(schema, value, process.cwd(), () => flag, 'relative paths on the command line resolve from the current directory', inputs);
}

/** `value` parsed by `schema` (a section given whole on the command line, like --data), its input files checked. */
export function parseFromShell<S extends z.ZodType>(schema: S, value: unknown, flag: string): z.output<S> {
  const inputs: InputFile[] = [];
  const resolved = resolveShellPaths(schema, value, flag, inputs);
  const parsed = parseWith(schema, resolved, (p) => (p.length === 0 ? flag : `${flag} ${dotted(p)}`), (p) => dotted(p));
  checkInputs(inputs);
  return parsed;
}

// ---------------------------------------------------------------------------------------
// Config files

/** 1-based line and column of character `offset` in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: Math.min(offset, text.length) - start + 1 };
}

/** The JSON value of a config file; errors name the file (and the line and column of a syntax error). */
export function readConfigJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `${file}: expected a readable config file, found ${code ?? (error as Error).message}`,
      code === 'ENOENT' ? 'check the path; the configs/ directory has examples such as configs/default.json' : 'check that the path is a readable file',
    );
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (error) {
    // JSON.parse names a position for some errors only: find the first bad token ourselves.
    const found = findJsonSyntaxError(text);
    const { line, column } = lineColumn(text, found?.offset ?? text.length);
    throw new ConfigError(
      `${file} line ${line}, column ${column}: expected ${found?.expected ?? 'valid JSON'}, found ${found?.found ?? (error as Error).message}`,
      found?.hint ?? 'JSON has no comments or trailing commas, and needs double quotes around every key and string',
    );
  }
}

const configLabel = (p: Path) => (p.length === 0 ? 'the config' : dotted(p));

const configHint = (baseDir: string) =>
  `paths in a config file are relative to the config file's directory (${displayPath(baseDir) || '.'}), not to the current directory`;

/** Check a config object; `file` names it in messages, relative paths resolve from `baseDir`. */
export function parseConfig(value: unknown, file: string, baseDir: string): Config {
  const dir = path.resolve(baseDir);
  const where: Where = (p) => `${file}: ${configLabel(p)}`;
  const inputs: InputFile[] = [];
  const resolved = resolvePaths(configSchema, value, dir, where, configHint(dir), inputs);
  const parsed = parseWith(configSchema, resolved, where, configLabel);
  checkInputs(inputs);
  return { ...parsed, file, baseDir: dir };
}

/** Read, parse and check a config file. Errors name `file` as given. */
export function loadConfig(file: string): Config {
  return parseConfig(readConfigJson(file), file, path.dirname(path.resolve(file)));
}

// ---------------------------------------------------------------------------------------
// Command-line values on top of a config

/** One value from the command line: where it goes in the config, and the flag that gave it. */
export interface CommandLineValue {
  readonly path: readonly string[];
  readonly value: unknown;
  /** As typed, for messages: "--lr" or "--set train.lr". */
  readonly flag: string;
}

function setAt(root: Record<string, unknown>, at: readonly string[], value: unknown): void {
  let node = root;
  at.slice(0, -1).forEach((key, i) => {
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = /^\d+$/.test(at[i + 1]!) ? [] : {};
    else node[key] = Array.isArray(next) ? [...next] : { ...next };
    node = node[key] as Record<string, unknown>;
  });
  node[at[at.length - 1]!] = value;
}

function startsWith(p: Path, prefix: readonly string[]): boolean {
  return prefix.length <= p.length && prefix.every((k, i) => String(p[i]) === k);
}

/**
 * A config file (or none) with command-line values in place of its own, parsed once.
 * Messages name the flag for what a flag gave, and the file for the rest.
 */
export function parseCommandLine(file: string | undefined, values: readonly CommandLineValue[]): Config {
  const baseDir = file === undefined ? process.cwd() : path.dirname(path.resolve(file));
  const fileWhere: Where = (p) => (file === undefined ? (p.length === 0 ? 'the command line' : `${dotted(p)}${flagsFor(p)}`) : `${file}: ${configLabel(p)}`);
  const raw = file === undefined ? {} : readConfigJson(file);
  const inputs: InputFile[] = [];
  let merged = resolvePaths(configSchema, raw, baseDir, fileWhere, configHint(baseDir), inputs) as Record<string, unknown>;
  if (merged === null || typeof merged !== 'object' || Array.isArray(merged)) return parseConfig(raw, file!, baseDir);
  merged = { ...merged };
  const origins: CommandLineValue[] = [];
  const fromFile = { ...merged };
  // A flag names a path it set, one under a path it set, or one it created (a key --set
  // misspelt is not in the file, and the flag is what to fix).
  const originOf = (p: Path) =>
    origins.filter((o) => startsWith(p, o.path)).sort((a, b) => b.path.length - a.path.length)[0] ??
    (p.length > 0 && valueAtPath(fromFile, p.map(String)) === undefined ? origins.find((o) => startsWith(o.path, p.map(String))) : undefined);
  const where: Where = (p) => originOf(p)?.flag ?? fileWhere(p);
  for (const v of values) {
    // Paths typed on the command line resolve from the current directory.
    const fromShell = resolveShellPaths(configSchema, pathValueObject(v), v.flag, inputs);
    // A new optimizer name or schedule type starts its section afresh: the config's fields
    // for the old one (its momentum, say) may not apply to the new one.
    const parent = v.path.slice(0, -1);
    const section = schemaAt(configSchema, parent, merged);
    const disc = section && (unwrap(section).core as unknown as { _zod: { def: { discriminator?: string } } })._zod.def.discriminator;
    if (disc === v.path[v.path.length - 1] && (valueAtPath(merged, v.path) ?? v.value) !== v.value) setAt(merged, parent, {});
    setAt(merged, v.path, valueAtPath(fromShell, v.path));
    origins.push(v);
  }
  const parsed = parseWith(configSchema, merged, where, configLabel);
  // A flag's file replaces the config's: only the files still named must exist.
  checkInputs(inputs.filter((f) => valueAtPath(merged, f.at.map(String)) === f.abs));
  return { ...parsed, file, baseDir };
}

/** Without a config file, a missing section is given by flags: " (--layers, --loss)" names them. */
function flagsFor(p: Path): string {
  const names = p[0] === 'data' ? ['--data'] : FLAGS.filter((f) => startsWith(f.path, p.map(String))).map((f) => `--${f.name}`);
  return names.length === 0 || names.length > 3 ? '' : ` (${names.join(', ')})`;
}

/** `{ a: { b: value } }` for path a.b: so the path resolver sees the value where the schema has it. */
function pathValueObject(v: CommandLineValue): unknown {
  const root: Record<string, unknown> = {};
  setAt(root, v.path, v.value);
  return root;
}

function valueAtPath(obj: unknown, at: readonly string[]): unknown {
  return at.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

// ---------------------------------------------------------------------------------------
// One section on its own (benchmarks and tests build engine settings without a whole run)

/** An optimizer section resolved; messages name `${where}.field`. */
export function resolveOptimizer(options: OptimizerOptions = {}, where = 'optimizer'): OptimizerConfig {
  const label = (p: Path) => dotted([where, ...p]);
  return parseWith(optimizerSchema, options, label, label);
}

/** A schedule section resolved (none: constant); messages name `${where}.field`. */
export function resolveSchedule(options: ScheduleOptions = { type: 'constant' }, where = 'schedule'): Schedule {
  const label = (p: Path) => dotted([where, ...p]);
  return parseWith(scheduleSchema, options, label, label);
}

// ---------------------------------------------------------------------------------------
// A parsed config as a run

/** The rows a config names, held out as its split section says, with the run's seed (as train() would split them). */
export function loadConfigData(config: Config): Dataset | DataSplits {
  checkRunFitsBeforeLoading(config);
  return loadData(config.data, { ...config.split, seed: config.train.seed });
}

/** What a source will hold, known before a row is generated or read: its rows (or a bound on them), and what they came from. */
interface PlannedRows {
  readonly rows: number;
  readonly features: number;
  readonly task: Dataset['task'];
  /** The files and how their rows were known, for messages; undefined for a built-in dataset (its config names it). */
  readonly source?: string | undefined;
}

/**
 * A run's memory is planned before its rows exist (limits.ts): a built-in dataset's size is
 * in the config (blobs with 1,000,000 features spent 85 s generating before its plan was
 * refused), an IDX file's is in its header, and a CSV file's rows are bounded by its size —
 * or, when that bound is over the limit, by its line count. Every row counts as a training
 * row: an upper bound on the real plan by at most the held-out rows' order and outputs,
 * which train() checks exactly once the rows exist. A file whose start cannot be read is
 * left to its loader, which says what is wrong with it.
 */
function checkRunFitsBeforeLoading(config: Config): void {
  const check = (planned: PlannedRows | undefined, enforce: boolean): boolean => {
    if (planned === undefined) return true;
    const spec = { inputs: planned.features, layers: config.model.layers, loss: config.model.loss };
    const batchRows = config.train.batchSize === 'full' ? planned.rows : Math.min(config.train.batchSize, planned.rows);
    const threads = planThreadCount(config.train.threads, spec, batchRows).threads;
    const memory = planMemory(spec, config.train, planned.task, [planned.rows, 0, 0], threads);
    if (enforce) checkRunMemory(memory, threads, rowCopies(config.scale), planned.source);
    return runMemoryFits(memory, threads, rowCopies(config.scale));
  };
  const source = config.data;
  if (source.kind !== 'csv') {
    check(plannedRows(source), true);
  } else if (!check(plannedCsvRows(source, false), false)) {
    // The size's bound is over a limit: count the lines for one as tight as the file.
    check(plannedCsvRows(source, true), true);
  }
}

function plannedRows(source: Exclude<DataSource, CsvSource>): PlannedRows | undefined {
  switch (source.kind) {
    case 'builtin': {
      const { kind: _kind, name, ...options } = source;
      const shape = builtinShape(name, options as Omit<BuiltinOptions, 'seed'>);
      return { rows: shape.n, features: shape.features, task: shape.task };
    }
    case 'idx':
      return plannedIdxRows([source.images, ...(source.testImages !== undefined ? [source.testImages] : [])]);
    case 'dataset': {
      const files = datasetFiles(source.name, source.dir);
      return plannedIdxRows([files.images, files.testImages]);
    }
  }
}

/** IDX image files' rows and features, exactly, from their headers. */
function plannedIdxRows(images: readonly string[]): PlannedRows | undefined {
  const dims = images.map(readIdxDims);
  if (!dims.every((d): d is [number, number, number] => d !== undefined && d.length === 3)) return undefined;
  const features = dims[0]![1] * dims[0]![2];
  const rows = dims.reduce((n, d) => n + d[0], 0);
  const source = images.map((file, i) => `${displayPath(file)} (${dims[i]![0].toLocaleString('en-US')} images of ${dims[i]![1]} × ${dims[i]![2]} pixels, from its IDX header)`).join(' + ');
  return { rows, features, task: 'classification', source };
}

/** A CSV source's rows, bounded by its files' sizes (or counted lines), and its features: its columns less the label columns. */
function plannedCsvRows(source: CsvSource, countLines: boolean): PlannedRows | undefined {
  const files = [source.path, source.testPath, source.validationPath].filter((f): f is string => f !== undefined);
  const bounds = files.map((file) => csvBound(file, source, countLines));
  if (!bounds.every((b): b is CsvBound => b !== undefined)) return undefined;
  const labels = Array.isArray(source.label) ? source.label.length : 1;
  const features = bounds[0]!.columns - labels;
  if (features < 1) return undefined;
  const how = (b: CsvBound) => (b.by === 'size' ? `bounded by its size, ${b.bytes.toLocaleString('en-US')} bytes` : 'counted from its lines');
  const sourceText = files.map((file, i) => `${displayPath(file)} (at most ${bounds[i]!.rows.toLocaleString('en-US')} rows of ${features.toLocaleString('en-US')} features, ${how(bounds[i]!)})`).join(' + ');
  return { rows: bounds.reduce((n, b) => n + b.rows, 0), features, task: source.task ?? 'classification', source: sourceText };
}

/**
 * A config's run: its train section with its model, split and scale, on `data`. Already
 * resolved: no second parse. A weights file (model.weights, --init-from) is read here,
 * where the data gives the input width its first layer must have.
 */
export function runOptionsOf(config: Config, data: Dataset | DataSplits): RunOptions {
  const { weights: weightsFile, ...model } = config.model;
  const inputs = ('train' in data && (data as DataSplits).train !== undefined ? (data as DataSplits).train : (data as Dataset)).features;
  const weights = weightsFile === undefined ? undefined : readSafetensorsWeights(weightsFile, model.layers, inputs);
  return { ...config.train, model: { ...model, ...(weights ? { weights } : {}) }, split: config.split, scale: config.scale, data };
}
