// bench/common.ts — what the training benchmarks (scaling, peers, memory) share: the machine
// and load they ran on, the command that ran them, medians, a markdown table printer, a
// JSON Lines writer, argument parsing, and the MNIST files. Every number a benchmark
// prints is a measured one; these helpers only describe and format it.

import { spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClassificationDataset } from '../src/data/dataset.ts';
import { loadIdx } from '../src/data/idx.ts';
import type { LayerSpec } from '../src/model/spec.ts';

/** CPU model, logical cores, Node and V8 versions. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${os.availableParallelism()} logical cores, Node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.release()}`;
}

/** The 1/5/15-minute load averages, e.g. "0.12 0.30 0.41". */
export function load(): string {
  return os.loadavg().map((v) => v.toFixed(2)).join(' ');
}

/** How this benchmark was started, as a command to paste. */
export function command(script: string): string {
  return `npx tsx ${script}${process.argv.slice(2).map((a) => ` ${a}`).join('')}`;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A markdown table, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Appends one JSON object per line to `file` (truncated when opened); a no-op without a file. */
export class JsonLines {
  constructor(private readonly file: string | undefined) {
    if (file !== undefined) writeFileSync(file, '');
  }
  write(record: object): void {
    if (this.file !== undefined) appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }
}

/**
 * `--name value` flags into a record; every flag must be listed in `known`, and each
 * takes one value. Throws with the usage line on anything else.
 */
export function parseFlags(argv: readonly string[], known: readonly string[], usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const name = flag.replace(/^--/, '');
    if (!flag.startsWith('--') || !known.includes(name) || value === undefined) {
      throw new Error(`unknown or incomplete argument ${flag}\nhint: ${usage}`);
    }
    out[name] = value;
  }
  return out;
}

/** "1..4" → [1, 2, 3, 4]; "1,2,4" → [1, 2, 4]. */
export function intList(text: string, what: string): number[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(text);
  const list = range
    ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i)
    : text.split(',').map(Number);
  if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`${what} must be positive integers as "1..4" or "128,512" (got "${text}")`);
  }
  return list;
}

/** One positive integer from a flag's text (intList's syntax, one value). */
export function oneInt(text: string, what: string, usage: string): number {
  const list = intList(text, what);
  if (list.length !== 1) throw new Error(`${what} takes one positive integer (got "${text}")\nhint: ${usage}`);
  return list[0]!;
}

/**
 * The sweep benchmarks' 16 runs (bench/sweep.ts, bench/sweep_jobs.ts): issue 13's small net,
 * 16-128-64-26 ReLU on built-in `blobs` (16 features, 26 classes), SGD at batch 32, a grid of 4
 * learning rates × 4 seeds.
 */
export function sweepBenchConfig(n: number, epochs: number) {
  return {
    data: { builtin: 'blobs', n, classes: 26, features: 16, spread: 1, seed: 1 },
    split: { validation: 0.1 },
    model: { layers: [{ units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }, { units: 26, activation: 'softmax' }] },
    train: { epochs, batchSize: 32, lr: 0.05, seed: 1, kernel: 'wasm' },
    sweep: { grid: { 'train.lr': [0.01, 0.02, 0.05, 0.1] }, seeds: 4 },
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** ../shared/data/mnist, read in place (never copied into the repository). */
export const MNIST_DIR = path.resolve(here, '../../shared/data/mnist');

export function loadMnist(split: 'train' | 't10k'): ClassificationDataset {
  return loadIdx(path.join(MNIST_DIR, `${split}-images-idx3-ubyte.gz`), path.join(MNIST_DIR, `${split}-labels-idx1-ubyte.gz`));
}

/** The benchmark model: 784-256-128-10, ReLU, softmax cross-entropy (He init for ReLU, Glorot for softmax). */
export const MNIST_LAYERS: readonly LayerSpec[] = [
  { units: 256, activation: 'relu' },
  { units: 128, activation: 'relu' },
  { units: 10, activation: 'softmax' },
];
export const MNIST_LR = 0.05;
export const SEED = 1;

/** "12345" → "12,345". */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');

/** The commit measured, and any uncommitted changes under src/ or workers/ (another engineer's work in progress). */
export function revision(): string {
  const git = (args: string[]) => spawnSync('git', args, { encoding: 'utf8' }).stdout?.trimEnd() ?? '';
  const head = git(['rev-parse', '--short', 'HEAD']);
  // A copy made with `git archive` has no .git: its maker says which commit it is.
  if (!head) return process.env.BENCH_REVISION ? `commit ${process.env.BENCH_REVISION} (exported copy)` : 'unknown (not a git checkout)';
  const dirty = git(['status', '--porcelain', '--', 'src', 'workers']).split('\n').filter(Boolean).map((l) => l.slice(3));
  return dirty.length === 0 ? `commit ${head}` : `commit ${head} + uncommitted changes in ${dirty.join(', ')}`;
}

/** A timed cell: calibrated once (after warm-up), then sampled again in every round. */
export class Cell {
  private calls = 1;
  readonly samples: number[] = [];
  constructor(private readonly fn: () => void, minMs: number) {
    const warmUntil = performance.now() + Math.max(200, 4 * minMs); // long enough for V8 to tier wasm and JS up
    do fn();
    while (performance.now() < warmUntil);
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < this.calls; i++) fn();
      const ms = performance.now() - t0;
      if (ms >= minMs) break;
      this.calls = Math.max(this.calls + 1, Math.ceil((this.calls * minMs * 1.2) / Math.max(ms, 0.01)));
    }
  }

  /** `repeats` samples of seconds per call. */
  sample(repeats: number): void {
    this.fn(); // one untimed call brings this cell's arrays back into cache
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      for (let i = 0; i < this.calls; i++) this.fn();
      this.samples.push((performance.now() - t0) / 1000 / this.calls);
    }
  }

  median(): number {
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  }

  /**
   * The fastest sample: on a loaded machine, the sample least disturbed by other processes
   * (reported beside the median, never instead of it).
   */
  fastest(): number {
    return Math.min(...this.samples);
  }
}

/** Float32Array views laid one after another from `base` in `memory`, each 64-byte aligned; `end` is the next free byte. */
export function viewAllocator(memory: WebAssembly.Memory, base: number): { alloc(n: number): Float32Array; readonly end: number } {
  let next = base;
  return {
    alloc(n: number): Float32Array {
      const a = new Float32Array(memory.buffer, next, n);
      next = (next + 4 * n + 63) & ~63;
      return a;
    },
    get end() {
      return next;
    },
  };
}

/**
 * What the host gives `threads` busy threads at once, against one: the summed rate of a
 * plain arithmetic loop on `threads` worker threads over its rate on one, each timed for
 * `ms`. About `threads` on idle dedicated cores; less when other processes, or a virtual
 * machine's neighbours, take CPU time. Printed beside every speedup and throughput ratio so
 * that a low ratio can be told apart from a machine that could not have given more.
 */
export async function hostParallelism(threads: number, ms = 1000): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = new Float64Array(1024).fill(1.0001);
    let x = 1, n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < workerData) { for (let i = 0; i < 1024; i++) x = x * a[i] + 1e-9; n++; }
    parentPort.postMessage(x > 0 ? n / workerData : 0);`;
  const spin = (count: number) => Promise.all(Array.from({ length: count }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData: ms });
    w.once('message', (rate: number) => { resolve(rate); void w.terminate(); });
    w.once('error', reject);
  })));
  const [one] = await spin(1);
  const many = await spin(threads);
  return many.reduce((a, b) => a + b, 0) / one!;
}
