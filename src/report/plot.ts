// Standalone SVG charts, written by hand so the package needs no plotting or browser
// dependency: training curves (loss and accuracy per epoch) from a training log, and the
// speedup-vs-threads chart from the scaling benchmark's JSON lines. Each chart is one
// self-contained file with a viewBox, so it scales in a browser, a README or a PR.

import { basename } from 'node:path';
import { DataError } from '../errors.ts';
import { writeFileAtomic } from '../io/envelope.ts';
import { readJsonlLines, type EpochRecord } from './log.ts';

export interface ScalingRow {
  threads: number;
  speedup: number;
  batch?: number;
}

export interface PlotOptions {
  /** Chart title; defaults to a description of the chart. */
  title?: string;
}

export const TRAIN_COLOR = '#1f77b4';
export const VALIDATION_COLOR = '#ff7f0e';
export const IDEAL_COLOR = '#7f7f7f';
/** Tableau 10 without its grey, which the ideal line uses. */
export const SERIES_COLORS = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#17becf',
] as const;
const AXIS_COLOR = '#333333';
const GRID_COLOR = '#e6e6e6';
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

type Point = readonly [x: number, y: number | null];

interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  points: readonly Point[];
}

interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  integerX: boolean;
  /** Forced domains; otherwise fitted to the data. */
  xDomain?: readonly [number, number];
  yDomain?: readonly [number, number];
}

/**
 * Loss (train and validation) and accuracy (train and validation) against epoch, side by
 * side. Absent series are left out, and so is the accuracy panel when no record has an
 * accuracy. Null or non-finite values (a diverged loss) leave a gap in the line. If the
 * log holds the same epoch twice (a resumed run appended to it), the later record wins.
 */
export function renderTrainingSvg(records: readonly EpochRecord[], opts: PlotOptions = {}): string {
  const byEpoch = new Map<number, EpochRecord>();
  for (const r of records) if (r.type === 'epoch' && finite(r.epoch)) byEpoch.set(r.epoch, r);
  const rows = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  const series = (label: string, color: string, field: 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy'): Series[] => {
    const points = rows.map((r): Point => [r.epoch, finite(r[field]) ? r[field] : null]);
    return points.some((p) => p[1] !== null) ? [{ label, color, points }] : [];
  };
  const panels: Panel[] = [];
  const loss = [...series('train', TRAIN_COLOR, 'loss'), ...series('validation', VALIDATION_COLOR, 'valLoss')];
  const accuracy = [...series('train', TRAIN_COLOR, 'accuracy'), ...series('validation', VALIDATION_COLOR, 'valAccuracy')];
  panels.push({ title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: loss, integerX: true });
  if (accuracy.length > 0) panels.push({ title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy', series: accuracy, integerX: true });
  return renderFigure(opts.title ?? 'Training curves', panels, 960, 420);
}

/**
 * Speedup against thread count, one line per batch size (rows without a batch form one
 * line), with the ideal linear speedup y = x as a dashed grey line.
 */
export function renderScalingSvg(rows: readonly ScalingRow[], opts: PlotOptions = {}): string {
  const groups = new Map<number | undefined, ScalingRow[]>();
  for (const row of rows) {
    if (!finite(row.threads) || !finite(row.speedup)) continue;
    const key = finite(row.batch) ? row.batch : undefined;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(row);
  }
  const keys = [...groups.keys()].sort((a, b) => (a ?? -Infinity) - (b ?? -Infinity));
  const series: Series[] = keys.map((key, i) => ({
    label: key === undefined ? 'measured' : `batch ${key}`,
    color: SERIES_COLORS[i % SERIES_COLORS.length]!,
    points: groups.get(key)!.slice().sort((a, b) => a.threads - b.threads).map((r): Point => [r.threads, r.speedup]),
  }));
  const maxThreads = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const maxSpeedup = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1] ?? 0)));
  const xTicks = niceTicks(0, maxThreads, 6, true);
  const yTicks = niceTicks(0, Math.max(maxSpeedup, maxThreads), 6, false);
  const top = Math.min(xTicks.hi, yTicks.hi);
  series.push({ label: 'ideal (y = x)', color: IDEAL_COLOR, dashed: true, points: [[0, 0], [top, top]] });
  const panel: Panel = {
    title: 'Speedup over one thread',
    xLabel: 'threads',
    yLabel: 'speedup',
    series,
    integerX: true,
    xDomain: [xTicks.lo, xTicks.hi],
    yDomain: [yTicks.lo, yTicks.hi],
  };
  return renderFigure(opts.title ?? 'Data-parallel scaling', [panel], 640, 460);
}

/** One swept option's panel: the metric against the option's values. */
export interface SweepPanel {
  readonly path: string;
  /** Names of the values when they are not numbers; x is then the index into this list. */
  readonly categories?: readonly string[];
  /** x is log10 of the value (for options spanning decades, like learning rates). */
  readonly log?: boolean;
  /** Per value: the mean over the runs that had it, and the best of those runs. */
  readonly mean: readonly (readonly [x: number, y: number])[];
  readonly best: readonly (readonly [x: number, y: number])[];
}

/** A sweep's metric against each swept option, one panel per option, side by side. */
export function renderSweepSvg(metric: string, panels: readonly SweepPanel[], opts: PlotOptions = {}): string {
  const drawn: Panel[] = panels.map((p) => ({
    title: p.path,
    xLabel: p.categories ? `${p.path}: ${p.categories.map((c, i) => `${i} = ${c}`).join(', ')}` : p.log ? `log10(${p.path})` : p.path,
    yLabel: metric,
    integerX: p.categories !== undefined,
    series: [
      { label: 'mean of runs', color: TRAIN_COLOR, points: p.mean },
      { label: 'best run', color: VALIDATION_COLOR, points: p.best },
    ],
  }));
  return renderFigure(opts.title ?? `Sweep: ${metric} against each swept option`, drawn, Math.max(640, 480 * drawn.length), 420);
}

/**
 * Read a JSON Lines file and write an SVG chart of it: a training log (records with a
 * `type`, of which the `epoch` ones are plotted) gives training curves; benchmark lines
 * (every record has numeric `threads` and `speedup`) give the scaling chart.
 */
export function plotFile(input: string, output: string): void {
  const lines = readJsonlLines(input);
  if (lines.length === 0) {
    throw new DataError(`${input}: expected training-log or scaling-benchmark records, found an empty file`,
      'plot a log written during training, or the JSON lines printed by the scaling benchmark');
  }
  const first = lines[0]!.record;
  let svg: string;
  if (typeof first.type === 'string') {
    const epochs: EpochRecord[] = [];
    for (const { line, record } of lines) {
      if (typeof record.type !== 'string') {
        throw new DataError(`${input}:${line}: expected a log record with a "type" field like the lines before it, found ${keysOf(record)}`,
          'a file must hold either a training log or scaling-benchmark lines, not both');
      }
      if (record.type !== 'epoch') continue;
      if (!finite(record.epoch)) {
        throw new DataError(`${input}:${line}: expected a numeric "epoch" in an epoch record, found ${JSON.stringify(record.epoch)}`,
          'epoch records are written by the trainer; was the log edited by hand?');
      }
      epochs.push(record as unknown as EpochRecord);
    }
    if (epochs.length === 0) {
      throw new DataError(`${input}: expected at least one record with "type": "epoch", found only ${[...new Set(lines.map((l) => JSON.stringify(l.record.type)))].join(', ')} records`,
        'training curves need epoch records; the log gets one at the end of each epoch, so let a run finish an epoch');
    }
    svg = renderTrainingSvg(epochs, { title: `Training curves: ${basename(input)}` });
  } else if ('threads' in first && 'speedup' in first) {
    const rows: ScalingRow[] = [];
    for (const { line, record } of lines) {
      if (!finite(record.threads) || !finite(record.speedup)) {
        throw new DataError(`${input}:${line}: expected numeric "threads" and "speedup" like the lines before it, found ${keysOf(record)}`,
          'a file must hold either a training log or scaling-benchmark lines, not both');
      }
      rows.push({ threads: record.threads, speedup: record.speedup, ...(finite(record.batch) ? { batch: record.batch } : {}) });
    }
    svg = renderScalingSvg(rows, { title: `Scaling: ${basename(input)}` });
  } else {
    throw new DataError(`${input}:${lines[0]!.line}: expected a training-log record (with "type") or a scaling-benchmark line (with "threads" and "speedup"), found ${keysOf(first)}`,
      'plot a log written during training, or the JSON lines printed by the scaling benchmark');
  }
  writeSvg(output, svg);
}

/** Write a chart atomically: a failed write leaves no half-written file, and says why in one line. */
export function writeSvg(output: string, svg: string): void {
  writeFileAtomic(output, Buffer.from(svg));
}

// ---- drawing -------------------------------------------------------------------------

const MARGIN = { left: 64, right: 20, bottom: 52 };
const TITLE_HEIGHT = 34;
/** Panel title and legend row above the plot area. */
const HEADER_HEIGHT = 30;

function renderFigure(title: string, panels: readonly Panel[], width: number, height: number): string {
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600" fill="${AXIS_COLOR}">${esc(title)}</text>`,
  );
  const panelWidth = width / panels.length;
  panels.forEach((panel, i) => out.push(renderPanel(panel, i * panelWidth, TITLE_HEIGHT, panelWidth, height - TITLE_HEIGHT)));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function renderPanel(panel: Panel, x0: number, y0: number, w: number, h: number): string {
  const left = x0 + MARGIN.left;
  const right = x0 + w - MARGIN.right;
  const top = y0 + HEADER_HEIGHT;
  const bottom = y0 + h - MARGIN.bottom;
  const ys = panel.series.flatMap((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null));
  const xs = panel.series.flatMap((s) => s.points.map((p) => p[0]));
  const xt = panel.xDomain ? niceTicks(panel.xDomain[0], panel.xDomain[1], 6, panel.integerX) : niceTicks(min(xs, 0), max(xs, 1), 6, panel.integerX);
  const yt = panel.yDomain ? niceTicks(panel.yDomain[0], panel.yDomain[1], 6, false) : niceTicks(min(ys, 0), max(ys, 1), 6, false);
  const sx = (v: number) => left + ((v - xt.lo) / (xt.hi - xt.lo)) * (right - left);
  const sy = (v: number) => bottom - ((v - yt.lo) / (yt.hi - yt.lo)) * (bottom - top);

  const out: string[] = [`<g class="panel">`];
  out.push(`<text x="${fmt(left)}" y="${fmt(y0 + 18)}" font-size="14" font-weight="600" fill="${AXIS_COLOR}">${esc(panel.title)}</text>`);
  // Legend in the header row, right-aligned, so it never covers data.
  let lx = right;
  const legend: string[] = [];
  for (const s of [...panel.series].reverse()) {
    const textWidth = s.label.length * 6.5;
    lx -= textWidth;
    legend.push(`<text x="${fmt(lx)}" y="${fmt(y0 + 18)}" fill="${AXIS_COLOR}">${esc(s.label)}</text>`);
    lx -= 26;
    legend.push(`<line x1="${fmt(lx)}" y1="${fmt(y0 + 14)}" x2="${fmt(lx + 20)}" y2="${fmt(y0 + 14)}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    lx -= 14;
  }
  out.push(`<g class="legend">`, ...legend.reverse(), `</g>`);

  out.push(`<g class="grid" stroke="${GRID_COLOR}" stroke-width="1">`);
  for (const v of yt.ticks) out.push(`<line x1="${fmt(left)}" y1="${fmt(sy(v))}" x2="${fmt(right)}" y2="${fmt(sy(v))}"/>`);
  for (const v of xt.ticks) out.push(`<line x1="${fmt(sx(v))}" y1="${fmt(top)}" x2="${fmt(sx(v))}" y2="${fmt(bottom)}"/>`);
  out.push('</g>');

  out.push(`<g class="axes" fill="${AXIS_COLOR}">`);
  out.push(`<rect class="plot-area" x="${fmt(left)}" y="${fmt(top)}" width="${fmt(right - left)}" height="${fmt(bottom - top)}" fill="none" stroke="${AXIS_COLOR}" stroke-width="1"/>`);
  for (const v of xt.ticks) {
    out.push(`<line x1="${fmt(sx(v))}" y1="${fmt(bottom)}" x2="${fmt(sx(v))}" y2="${fmt(bottom + 5)}" stroke="${AXIS_COLOR}"/>`);
    out.push(`<text x="${fmt(sx(v))}" y="${fmt(bottom + 18)}" text-anchor="middle">${esc(tickLabel(v, xt.step))}</text>`);
  }
  for (const v of yt.ticks) {
    out.push(`<line x1="${fmt(left - 5)}" y1="${fmt(sy(v))}" x2="${fmt(left)}" y2="${fmt(sy(v))}" stroke="${AXIS_COLOR}"/>`);
    out.push(`<text x="${fmt(left - 8)}" y="${fmt(sy(v) + 4)}" text-anchor="end">${esc(tickLabel(v, yt.step))}</text>`);
  }
  out.push(`<text x="${fmt((left + right) / 2)}" y="${fmt(bottom + 38)}" text-anchor="middle">${esc(panel.xLabel)}</text>`);
  const cy = (top + bottom) / 2;
  out.push(`<text x="${fmt(x0 + 16)}" y="${fmt(cy)}" text-anchor="middle" transform="rotate(-90 ${fmt(x0 + 16)} ${fmt(cy)})">${esc(panel.yLabel)}</text>`);
  out.push('</g>');

  if (panel.series.length === 0) {
    out.push(`<text x="${fmt((left + right) / 2)}" y="${fmt(cy)}" text-anchor="middle" fill="${AXIS_COLOR}">no finite values to plot</text>`);
  }
  // Reference lines (dashed) go underneath the measurements.
  for (const s of [...panel.series].sort((a, b) => Number(b.dashed ?? false) - Number(a.dashed ?? false))) {
    // Round caps would eat into the dash gaps, so dashed lines keep butt caps.
    const attrs = `fill="none" stroke="${s.color}" stroke-width="2.5" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="6 4"' : ' stroke-linecap="round"'}`;
    out.push(`<g class="series" data-label="${esc(s.label)}">`);
    for (const run of segments(s.points)) {
      if (run.length > 1) out.push(`<polyline ${attrs} points="${run.map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`).join(' ')}"/>`);
    }
    // Markers show where the measurements are; with many points they would only blur the line.
    const defined = s.points.filter((p): p is readonly [number, number] => p[1] !== null);
    if (!s.dashed && defined.length <= 40) {
      for (const [x, y] of defined) out.push(`<circle cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="3" fill="${s.color}"/>`);
    }
    out.push('</g>');
  }
  out.push('</g>');
  return out.join('\n');
}

/** Runs of consecutive defined points; a null splits the line. */
function segments(points: readonly Point[]): (readonly [number, number])[][] {
  const runs: (readonly [number, number])[][] = [];
  let run: (readonly [number, number])[] = [];
  for (const [x, y] of points) {
    if (y === null) {
      if (run.length) runs.push(run);
      run = [];
    } else run.push([x, y]);
  }
  if (run.length) runs.push(run);
  return runs;
}

/** Round axis bounds and a 1/2/5·10^k tick step covering [lo, hi] with about `count` ticks. */
export function niceTicks(lo: number, hi: number, count: number, integer: boolean): { lo: number; hi: number; step: number; ticks: number[] } {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const unit = raw / mag;
  let step = (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const nlo = Math.floor(lo / step + 1e-9) * step;
  const nhi = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; nlo + i * step <= nhi + step * 1e-9; i++) ticks.push(nlo + i * step);
  return { lo: nlo, hi: nhi, step, ticks };
}

function tickLabel(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  const text = v.toFixed(decimals);
  return text === `-${(0).toFixed(decimals)}` ? text.slice(1) : text;
}

function fmt(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Escape text for SVG element content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function min(values: readonly number[], fallback: number): number {
  return values.length ? values.reduce((a, b) => Math.min(a, b)) : fallback;
}

function max(values: readonly number[], fallback: number): number {
  return values.length ? values.reduce((a, b) => Math.max(a, b)) : fallback;
}

function keysOf(record: Record<string, unknown>): string {
  const keys = Object.keys(record);
  return keys.length ? `an object with fields ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}` : 'an empty object';
}
