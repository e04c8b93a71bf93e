// The sweep's output folder: its manifest (sweep.json: the sweep's id, metric and every
// run), one folder per run (model.ttm, log.jsonl, metrics.json, the last written marking
// the run finished), and the report built from the runs' records: results.jsonl,
// results.csv, summary.csv, best.ttm and plot.svg. Every file is written atomically, so a
// stopped or killed sweep leaves whole files, and a rerun or `collect` can trust them.

import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, describe } from '../errors.ts';
import { writeFileAtomic } from '../io/envelope.ts';
import { renderSweepSvg, type SweepPanel } from '../report/plot.ts';
import type { MetricKey } from '../options/sweep.ts';
import { formatValue } from './hash.ts';
import { bestRun, formatSummaryTable, higherIsBetter, resultsCsv, resultsJsonl, summaryCsv, type RunRecord } from './results.ts';

export const MANIFEST_FORMAT = 1;

/** A run as the manifest lists it. */
export interface ManifestRun {
  readonly index: number;
  readonly id: string;
  readonly configId: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly fold: number | null;
}

/** sweep.json: what makes a folder one sweep's, the same in every shard's folder. */
export interface SweepManifest {
  readonly format: number;
  readonly sweepId: string;
  /** The config file it came from, as given (for people; not compared). */
  readonly config: string;
  readonly metric: MetricKey;
  readonly paths: readonly string[];
  readonly runs: readonly ManifestRun[];
}

export const runDir = (out: string, id: string): string => path.join(out, 'runs', id);
const encode = (text: string) => new TextEncoder().encode(text);

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, encode(`${JSON.stringify(value, null, 1)}\n`));
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The manifest of folder `dir`, or undefined when it has none. */
export function readManifest(dir: string): SweepManifest | undefined {
  const file = path.join(dir, 'sweep.json');
  if (!fs.existsSync(file)) return undefined;
  let m: Partial<SweepManifest>;
  try {
    m = readJson(file) as Partial<SweepManifest>;
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`, 'sweep.json is written by threadtrain sweep; restore it or rerun the sweep into a fresh folder');
  }
  if (m === null || typeof m !== 'object' || m.format !== MANIFEST_FORMAT || typeof m.sweepId !== 'string' || !Array.isArray(m.runs) || !Array.isArray(m.paths) || typeof m.metric !== 'string') {
    throw new ConfigError(`${file}: expected a sweep manifest of format ${MANIFEST_FORMAT}, found ${describe(m)}`, 'the folder was written by another threadtrain version, or edited');
  }
  return m as SweepManifest;
}

/**
 * The record in a run's folder, if the run finished or failed there. A run is known by its
 * id alone (the hash of its complete config and fold), so a record written by another
 * sweep that had the same run is as good: it comes back labelled as `run` of `sweepId`.
 */
export function readRunRecord(out: string, run: ManifestRun, sweepId: string): RunRecord | undefined {
  const file = path.join(runDir(out, run.id), 'metrics.json');
  if (!fs.existsSync(file)) return undefined;
  let r: RunRecord;
  try {
    r = readJson(file) as RunRecord;
  } catch {
    return undefined; // never left half-written by us (atomic); an edited file means the run is redone
  }
  if (r?.id !== run.id || (r.status !== 'done' && r.status !== 'failed')) return undefined;
  if (r.status === 'done' && !fs.existsSync(path.join(runDir(out, run.id), 'model.ttm'))) return undefined;
  return { ...r, sweepId, index: run.index, configId: run.configId, values: run.values, seed: run.seed, fold: run.fold };
}

/** The metric against each swept option: per value, the mean of its runs and the best run. */
export function sweepPanels(records: readonly RunRecord[], paths: readonly string[], metric: MetricKey): SweepPanel[] {
  const done = records.filter((r) => r.status === 'done' && Number.isFinite(r.metrics[metric]));
  return paths.map((p) => {
    const values = [...new Map(done.map((r) => [formatValue(r.values[p]), r.values[p]])).entries()];
    const numeric = values.every(([, v]) => typeof v === 'number');
    const nums = values.map(([, v]) => v as number);
    // A log axis when the values span two decades or more, as swept learning rates do.
    const log = numeric && nums.every((v) => v > 0) && Math.max(...nums) / Math.min(...nums) >= 100;
    const ordered = numeric ? values.sort((a, b) => (a[1] as number) - (b[1] as number)) : values;
    const categories = numeric ? undefined : ordered.map(([label]) => label);
    const mean: [number, number][] = [];
    const best: [number, number][] = [];
    ordered.forEach(([label, v], i) => {
      const ys = done.filter((r) => formatValue(r.values[p]) === label).map((r) => r.metrics[metric]!);
      const x = !numeric ? i : log ? Math.log10(v as number) : (v as number);
      mean.push([x, ys.reduce((a, b) => a + b, 0) / ys.length]);
      best.push([x, higherIsBetter(metric) ? Math.max(...ys) : Math.min(...ys)]);
    });
    return { path: p, ...(categories ? { categories } : {}), log, mean, best };
  });
}

/** Write the report files from the records; returns the terminal table and the best run. */
export function writeReport(out: string, manifest: SweepManifest, records: readonly RunRecord[], final: boolean): { table: string; best: RunRecord | undefined } {
  writeFileAtomic(path.join(out, 'results.jsonl'), encode(resultsJsonl(records)));
  writeFileAtomic(path.join(out, 'results.csv'), encode(resultsCsv(records, manifest.paths)));
  writeFileAtomic(path.join(out, 'summary.csv'), encode(summaryCsv(records, manifest.paths)));
  const best = bestRun(records, manifest.metric);
  if (final) {
    if (best) writeFileAtomic(path.join(out, 'best.ttm'), fs.readFileSync(path.join(runDir(out, best.run.id), 'model.ttm')));
    else fs.rmSync(path.join(out, 'best.ttm'), { force: true });
    if (manifest.paths.length > 0) {
      writeFileAtomic(path.join(out, 'plot.svg'), encode(renderSweepSvg(manifest.metric, sweepPanels(records, manifest.paths, manifest.metric))));
    }
  }
  return { table: formatSummaryTable(records, manifest.paths, manifest.metric), best: best?.run };
}
