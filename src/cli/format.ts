// Shared output of the commands: the llm.c-style settings table, result lines, numbers,
// and the error line every command prints. Pure string functions, except out/err.

import type { Dataset } from '../data/dataset.ts';
import { ThreadtrainError } from '../errors.ts';
import type { ModelSpec } from '../model/spec.ts';
import { formatLoss, formatRate } from '../report/progress.ts';
import type { EpochRecord } from '../report/log.ts';
import type { Metrics } from '../model/metrics.ts';

export const out = (line = '') => process.stdout.write(`${line}\n`);
export const err = (line: string) => process.stderr.write(`${line}\n`);

export const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? String(x) : `${(x * 100).toFixed(2)}%`);
/** Up to 7 significant digits: all a float32 holds, without its binary noise. */
export const num = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(7))) : String(x));

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

/** A box like formatTable's with any number of columns; a column of numbers is right-aligned. */
export function formatColumns(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d,.]+[×%]?$/.test(r[i] ?? '')));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const row = (cells: readonly string[]) => `| ${widths.map((w, i) => (numeric[i] ? (cells[i] ?? '').padStart(w) : (cells[i] ?? '').padEnd(w))).join(' | ')} |`;
  return [rule, row(header), rule, ...rows.map(row), rule].join('\n');
}

/** 12,345 */
export const int = (n: number) => n.toLocaleString('en-US');

/** Bytes with their binary unit: "1,234,567 bytes (1.18 MiB)" — the same words the memory limit uses. */
export { bytesInWords as formatBytes } from '../limits.ts';

export function describeTask(ds: Dataset): string {
  if (ds.task === 'regression') return `regression, ${ds.targets} target${ds.targets === 1 ? '' : 's'}`;
  const names = ds.classNames.length <= 10 ? ` (${ds.classNames.join(', ')})` : '';
  return `classification, ${ds.classes} classes${names}`;
}

export function layerSizes(spec: ModelSpec): string {
  return `${[spec.inputs, ...spec.layers.map((l) => l.units)].join('-')} (${spec.layers.map((l) => l.activation).join(', ')})`;
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

export function printMetricsBlock(label: string, m: Metrics, n: number, classNames: readonly string[] | undefined): void {
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


/** Bad flags or a missing command: exit 2 with the usage. */
export class UsageError extends Error {}

/**
 * Print an error the way every command does and return the exit code: one `error:` line and
 * its hint for errors a person can act on (2 for usage, 1 otherwise); a stack trace only for
 * anything else, because that is a bug.
 */
export function printError(error: unknown): number {
  if (error instanceof UsageError) {
    err(`error: ${error.message}`);
    return 2;
  }
  if (error instanceof ThreadtrainError) {
    err(`error: ${error.message}`);
    return 1;
  }
  err('internal error (a bug in threadtrain; please report it with the command you ran):');
  err((error as Error)?.stack ?? String(error));
  return 1;
}
