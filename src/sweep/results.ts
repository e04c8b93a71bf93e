// What a sweep leaves behind and how it is summed up: one record per run (metrics.json in
// the run's folder, the source of truth), the tables built from those records
// (results.jsonl, results.csv, summary.csv), the mean ± std of each configuration over its
// folds and seeds, and the choice of the best run. The tables are a pure function of the
// records, so a sweep run on one machine and the same sweep collected from many give the
// same files; timings and thread counts, which differ between machines, stay in
// results.jsonl only.

import { canonicalJson, formatValue } from './hash.ts';
import { METRIC_KEYS, type MetricKey } from '../options/sweep.ts';

/** The result of one run, as metrics.json holds it. */
export interface RunRecord {
  readonly sweepId: string;
  readonly id: string;
  readonly index: number;
  readonly configId: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly seed: number;
  /** The validation fold, when the sweep cross-validates. */
  readonly fold: number | null;
  readonly status: 'done' | 'failed';
  /** The error message (with its hint) of a failed run. */
  readonly error?: string;
  /** Final metrics: validation.*, test.*, and train.* from the last epoch. */
  readonly metrics: Partial<Record<MetricKey, number>>;
  readonly epochs?: number;
  readonly stopReason?: string;
  /** Not part of the tables: they depend on the machine. */
  readonly threads: number;
  readonly seconds: number;
}

/** One configuration (the runs that differ only by seed or fold), summed up. */
export interface ConfigSummary {
  readonly configId: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Runs finished, and failed. */
  readonly done: number;
  readonly failed: number;
  /** Mean and sample standard deviation (n − 1) of each metric over the finished runs; std is null for one run. */
  readonly mean: Partial<Record<MetricKey, number>>;
  readonly std: Partial<Record<MetricKey, number | null>>;
}

/** Whether a larger value of the metric is better. */
export function higherIsBetter(metric: MetricKey): boolean {
  return metric.endsWith('.accuracy') || metric.endsWith('.r2');
}

/** Metrics present in any record, in the fixed METRIC_KEYS order. */
export function metricsPresent(records: readonly RunRecord[]): MetricKey[] {
  return METRIC_KEYS.filter((k) => records.some((r) => r.metrics[k] !== undefined));
}

/** Group finished and failed runs by configuration, in order of first appearance. */
export function summarize(records: readonly RunRecord[]): ConfigSummary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of [...records].sort((a, b) => a.index - b.index)) {
    let g = groups.get(r.configId);
    if (!g) groups.set(r.configId, (g = []));
    g.push(r);
  }
  const keys = metricsPresent(records);
  return [...groups.values()].map((runs) => {
    const done = runs.filter((r) => r.status === 'done');
    const mean: Partial<Record<MetricKey, number>> = {};
    const std: Partial<Record<MetricKey, number | null>> = {};
    for (const k of keys) {
      const xs = done.map((r) => r.metrics[k]).filter((v): v is number => v !== undefined);
      if (xs.length === 0) continue;
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      mean[k] = m;
      std[k] = xs.length < 2 ? null : Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
    }
    return { configId: runs[0]!.configId, values: runs[0]!.values, done: done.length, failed: runs.length - done.length, mean, std };
  });
}

/** `a` better than `b` on `metric` (finite beats missing or NaN). */
function better(a: number | undefined, b: number | undefined, metric: MetricKey): boolean {
  const fa = a !== undefined && Number.isFinite(a);
  const fb = b !== undefined && Number.isFinite(b);
  if (!fa) return false;
  if (!fb) return true;
  return higherIsBetter(metric) ? a! > b! : a! < b!;
}

/**
 * The best configuration by its mean `metric`, and its best run (the model `best.ttm`
 * copies). Ties go to the earlier configuration and run. undefined when no run has the metric.
 */
export function bestRun(records: readonly RunRecord[], metric: MetricKey): { config: ConfigSummary; run: RunRecord } | undefined {
  let best: ConfigSummary | undefined;
  for (const s of summarize(records)) if (better(s.mean[metric], best?.mean[metric], metric)) best = s;
  if (!best) return undefined;
  let run: RunRecord | undefined;
  for (const r of [...records].sort((a, b) => a.index - b.index)) {
    if (r.configId === best.configId && r.status === 'done' && better(r.metrics[metric], run?.metrics[metric], metric)) run = r;
  }
  return run ? { config: best, run } : undefined;
}

/** results.jsonl: every record, by index. */
export function resultsJsonl(records: readonly RunRecord[]): string {
  return [...records].sort((a, b) => a.index - b.index).map((r) => `${JSON.stringify(r)}\n`).join('');
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const text = typeof v === 'number' ? String(v) : formatValue(v);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** results.csv: one row per run (index, id, swept values, seed, fold, status, epochs, metrics, error). */
export function resultsCsv(records: readonly RunRecord[], paths: readonly string[]): string {
  const keys = metricsPresent(records);
  const header = ['index', 'id', ...paths, 'seed', 'fold', 'status', 'epochs', ...keys, 'error'];
  const rows = [...records].sort((a, b) => a.index - b.index).map((r) => [
    r.index, r.id, ...paths.map((p) => r.values[p]), r.seed, r.fold, r.status, r.epochs, ...keys.map((k) => r.metrics[k]), r.error,
  ]);
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** summary.csv: one row per configuration, each metric's mean and std over its folds and seeds. */
export function summaryCsv(records: readonly RunRecord[], paths: readonly string[]): string {
  const keys = metricsPresent(records);
  const header = ['config', ...paths, 'runs', 'failed', ...keys.flatMap((k) => [`${k} mean`, `${k} std`])];
  const rows = summarize(records).map((s) => [
    s.configId, ...paths.map((p) => s.values[p]), s.done, s.failed, ...keys.flatMap((k) => [s.mean[k], s.std[k]]),
  ]);
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** A number as the terminal table shows it. */
function show(v: number | undefined | null): string {
  if (v === undefined || v === null) return '—';
  return Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4);
}

/** The terminal table: one line per configuration with its mean ± std, the best marked. */
export function formatSummaryTable(records: readonly RunRecord[], paths: readonly string[], metric: MetricKey): string {
  const summaries = summarize(records);
  const best = bestRun(records, metric)?.config.configId;
  const header = [...(paths.length ? paths : ['configuration']), 'runs', `${metric} (mean ± std)`];
  const rows = summaries.map((s) => [
    ...(paths.length ? paths.map((p) => formatValue(s.values[p])) : ['base']),
    `${s.done}${s.failed ? ` (+${s.failed} failed)` : ''}`,
    `${show(s.mean[metric])} ± ${show(s.std[metric])}${s.configId === best ? '  ← best' : ''}`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Whether two records describe the same run result (the machine-dependent fields aside). */
export function sameResult(a: RunRecord, b: RunRecord): boolean {
  const strip = ({ threads: _t, seconds: _s, ...rest }: RunRecord) => rest;
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}
