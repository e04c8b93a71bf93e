// The memory plan (issue 14 items 2 and 3): a run's bytes are its shared memory, a worker
// isolate per thread and the rows held outside the shared memory, checked against a budget
// (the machine's memory, or THREADTRAIN_MEMORY_LIMIT) before any thread starts; and a CSV
// or IDX file's rows are planned before the file is read — IDX exactly from its header, CSV
// bounded by its size, then by its line count — so a file too large is refused naming it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { train } from '../src/api.ts';
import { csvBound } from '../src/data/csv.ts';
import { readIdxDims } from '../src/data/idx.ts';
import { xorDataset } from '../src/data/synthetic.ts';
import { sharedMemorySize } from '../src/engine/plan.ts';
import { ConfigError } from '../src/errors.ts';
import { maxThreads, MEMORY_LIMIT_ENV, memoryBudget, memoryLimit, UNIT_BLOCK_BYTES, WASM_MEMORY_BYTES, WORKER_THREAD_BYTES } from '../src/limits.ts';
import { planMemory, runMemory } from '../src/train/train.ts';
import { runMain } from './helpers/cli.ts';

let dir: string;
const at = (name: string) => path.join(dir, name);
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tt-memplan-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[MEMORY_LIMIT_ENV];
});

const MiB = 2 ** 20;
const int = (n: number) => n.toLocaleString('en-US');

/** An IDX file by hand: 0, 0, type 0x08, ndims, big-endian dims, the bytes. */
function idx(dims: number[], data: Uint8Array = new Uint8Array(0)): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** `rows` data lines of `features` numbers "0.dddddd" and a label a/b, after a header. */
function csvText(rows: number, features: number): string {
  const head = [...Array.from({ length: features }, (_, j) => `f${j}`), 'label'].join(',');
  const lines = Array.from({ length: rows }, (_, i) => [...Array.from({ length: features }, (_, j) => ((i * 7 + j * 13) % 997 / 997).toFixed(6)), i % 2 ? 'a' : 'b'].join(','));
  return `${head}\n${lines.join('\n')}\n`;
}

describe('limits.ts: the budget and its environment variable', () => {
  it('THREADTRAIN_MEMORY_LIMIT in bytes or KiB/MiB/GiB/TiB replaces the machine\'s memory; the shared memory keeps WebAssembly\'s 4 GiB', () => {
    expect(memoryBudget({})).toEqual({ bytes: os.totalmem(), what: "this machine's memory" });
    expect(memoryBudget({ [MEMORY_LIMIT_ENV]: '' })).toEqual({ bytes: os.totalmem(), what: "this machine's memory" });
    expect(memoryBudget({ [MEMORY_LIMIT_ENV]: '123456' })).toEqual({ bytes: 123456, what: MEMORY_LIMIT_ENV });
    expect(memoryBudget({ [MEMORY_LIMIT_ENV]: '1.5GiB' }).bytes).toBe(1.5 * 2 ** 30);
    expect(memoryBudget({ [MEMORY_LIMIT_ENV]: '64 MiB' }).bytes).toBe(64 * MiB);
    expect(memoryBudget({ [MEMORY_LIMIT_ENV]: '2TiB' }).bytes).toBe(2 * 2 ** 40);
    for (const bad of ['abc', '-5', '0', '12 MB', '1e9']) {
      expect(() => memoryBudget({ [MEMORY_LIMIT_ENV]: bad })).toThrow(
        `${MEMORY_LIMIT_ENV}: expected a number of bytes such as 2147483648 or 2GiB, found ${JSON.stringify(bad)}\nhint: set it to the memory this process may use, or unset it to use the machine's`,
      );
    }
    process.env[MEMORY_LIMIT_ENV] = '3MiB';
    expect(memoryLimit()).toEqual({ bytes: 3 * MiB, what: MEMORY_LIMIT_ENV });
    process.env[MEMORY_LIMIT_ENV] = '64GiB';
    expect(memoryLimit()).toEqual({ bytes: WASM_MEMORY_BYTES, what: "WebAssembly's limit for one shared memory" });
  });
});

describe('runMemory: shared memory + a worker isolate per thread + the rows outside', () => {
  // 3 inputs, 20 tanh units, 2 softmax outputs, 100 training rows, 50 test rows.
  const spec = { inputs: 3, layers: [{ units: 20, activation: 'tanh' as const }, { units: 2, activation: 'softmax' as const }], loss: 'cross_entropy' as const };
  const plan = planMemory(spec, { batchSize: 32, rule: 'backprop', optimizer: { name: 'sgd' } as never }, 'classification', [100, 0, 50]);
  const shared = sharedMemorySize(plan).allocatedBytes;
  // Unit blocks of 16: ceil(20/16) + ceil(2/16) = 3; softmax scratch: 2 float64s.
  const perWorker = 32 * MiB + 3 * 512 + 2 * 8;
  // A row outside: 3 float32 features and an int32 class id, 150 rows.
  const rowBytes = 150 * (3 * 4 + 4);

  it('counts each part by hand', () => {
    expect([WORKER_THREAD_BYTES, UNIT_BLOCK_BYTES]).toEqual([32 * MiB, 512]);
    expect(runMemory(plan, 8, 2)).toEqual({ shared, workers: 8, perWorker, rows: 2 * rowBytes, total: shared + 8 * perWorker + 2 * rowBytes });
    // One thread runs in-process: no worker isolate.
    expect(runMemory(plan, 1, 1)).toEqual({ shared, workers: 0, perWorker, rows: rowBytes, total: shared + rowBytes });
    // Regression rows hold their targets as float32s, one per output.
    const reg = planMemory({ ...spec, layers: [{ units: 20, activation: 'tanh' }, { units: 2, activation: 'identity' }], loss: 'mse' }, { batchSize: 32, rule: 'backprop', optimizer: { name: 'sgd' } as never }, 'regression', [100, 0, 0]);
    expect(runMemory(reg, 2, 1).rows).toBe(100 * (3 * 4 + 2 * 4));
  });
});

describe('threads cost memory: the maximum thread count on a small budget is refused before a thread starts (item 3)', () => {
  const layers = [{ units: 2, activation: 'softmax' as const }];
  const xorNeed = (threads: number) => runMemory(planMemory({ inputs: 2, layers, loss: 'cross_entropy' }, { batchSize: 32, rule: 'backprop', optimizer: { name: 'sgd' } as never }, 'classification', [4, 0, 0]), threads, 1);

  it('train(): a ConfigError with the parts and the limit; no pool is made', async () => {
    const threads = maxThreads();
    const need = xorNeed(threads);
    expect(need.total).toBeGreaterThan(100 * MiB);
    process.env[MEMORY_LIMIT_ENV] = '100MiB';
    let pools = 0;
    const started = performance.now();
    const error = await train({ model: { layers }, data: xorDataset(), epochs: 1, threads }, { onPool: () => pools++ }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).toBe(
      `the run's memory (64.00 KiB shared, ${threads} worker threads × 32.00 MiB, 48 bytes of rows outside the shared memory): needs ${int(need.total)} bytes (${(need.total / MiB).toFixed(2)} MiB), ` +
        `over the limit of 104,857,600 bytes (100.00 MiB) (${MEMORY_LIMIT_ENV})\n` +
        `hint: use fewer threads (each worker thread takes about 32.00 MiB), or fewer or narrower layers, a smaller batch size, or less data (fewer rows or features); or raise ${MEMORY_LIMIT_ENV}`,
    );
    expect(pools).toBe(0);
    expect(performance.now() - started).toBeLessThan(2000);
    // Two threads fit the same budget, and train.
    expect(xorNeed(2).total).toBeLessThan(100 * MiB);
    const ok = await train({ model: { layers }, data: xorDataset(), epochs: 1, threads: 2 }, { onPool: () => pools++ });
    expect([ok.threads, pools]).toEqual([2, 1]);
  });

  it('the CLI: one error line and a hint before the settings table', async () => {
    const threads = maxThreads();
    process.env[MEMORY_LIMIT_ENV] = '100MiB';
    const run = await runMain(['train', '--data', 'builtin:xor', '--layers', JSON.stringify(layers), '--epochs', '1', '--threads', String(threads)]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^error: the run's memory \\(64\\.00 KiB shared, ${threads} worker threads × 32\\.00 MiB, 48 bytes of rows outside the shared memory\\): needs ${int(xorNeed(threads).total)} bytes .*\\(${MEMORY_LIMIT_ENV}\\)\nhint: use fewer threads .*\n$`));
  });
});

describe('IDX files: rows planned from the header, before the file is read (item 2)', () => {
  it('readIdxDims reads the header of a plain and of a gzipped file (only its first KiB inflated), and nothing else', () => {
    const pixels = new Uint8Array(255 * 28 * 28).map((_, i) => (i * 2654435761) >>> 24);
    fs.writeFileSync(at('img'), idx([255, 28, 28], pixels));
    fs.writeFileSync(at('img.gz'), gzipSync(idx([255, 28, 28], pixels)));
    expect(fs.statSync(at('img.gz')).size).toBeGreaterThan(4096);
    expect(readIdxDims(at('img'))).toEqual([255, 28, 28]);
    expect(readIdxDims(at('img.gz'))).toEqual([255, 28, 28]);
    fs.writeFileSync(at('lbl'), idx([3], Uint8Array.of(1, 2, 3)));
    expect(readIdxDims(at('lbl'))).toEqual([3]);
    // Not an IDX header (or no file): left to the loader, which words the problem.
    fs.writeFileSync(at('text'), 'hello, not idx');
    expect(readIdxDims(at('text'))).toBeUndefined();
    expect(readIdxDims(at('absent'))).toBeUndefined();
  });

  it('a header of 1,000,000 images of 28 × 28 over a 1 GiB budget is refused naming the file, before its (missing) pixels are read', async () => {
    // Only the header: had the loader run, it would have said the data is truncated.
    const images = at('big-images');
    const labels = at('big-labels');
    fs.writeFileSync(images, idx([1_000_000, 28, 28]));
    fs.writeFileSync(labels, idx([1_000_000]));
    process.env[MEMORY_LIMIT_ENV] = '1GiB';
    const layers = [{ units: 10, activation: 'softmax' as const }];
    const shared = sharedMemorySize(planMemory({ inputs: 784, layers, loss: 'cross_entropy' }, { batchSize: 32, rule: 'backprop', optimizer: { name: 'sgd' } as never }, 'classification', [1_000_000, 0, 0])).allocatedBytes;
    // The rows alone: 1e6 × (784 float32 pixels + an int32 label).
    expect(shared).toBeGreaterThan(1_000_000 * 785 * 4);
    const run = await runMain(['train', '--data', `idx:${images},${labels}`, '--layers', JSON.stringify(layers), '--epochs', '1']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `error: ${images} (1,000,000 images of 28 × 28 pixels, from its IDX header): the run's shared memory (7,850 parameters with gradients and optimizer state, 1,000,000 rows of 784 features, a batch workspace of 256 rows): ` +
        `needs ${int(shared)} bytes (${(shared / 2 ** 30).toFixed(2)} GiB), over the limit of 1,073,741,824 bytes (1.00 GiB) (${MEMORY_LIMIT_ENV})\n` +
        'hint: use fewer or narrower layers, a smaller batch size, or less data (fewer rows or features)\n',
    );
  });
});

describe('CSV files: rows bounded by the file\'s size, then by its lines, before it is parsed (item 2)', () => {
  it('csvBound: columns from the first record (quotes, a BOM and blank lines allowed), rows ≤ (bytes + 1) / (2 × columns − 1), or newlines + 1', () => {
    const file = at('bound.csv');
    fs.writeFileSync(file, '\ufeff\n\n"a,1",b,label\n1,2,x\n3,4,y');
    const bytes = fs.statSync(file).size;
    expect(csvBound(file, {})).toEqual({ columns: 3, rows: Math.floor((bytes + 1) / 5), by: 'size', bytes });
    expect(csvBound(file, {}, true)).toEqual({ columns: 3, rows: 5, by: 'lines', bytes });
    // The size bound holds for the densest file: three 1-character cells per row.
    const dense = at('dense.csv');
    fs.writeFileSync(dense, 'a,b,c\n'.repeat(999) + 'a,b,c');
    expect(csvBound(dense, {})!.rows).toBeGreaterThanOrEqual(1000);
    fs.writeFileSync(at('semi.csv'), 'a;b;c;d\n1;2;3;x\n');
    expect(csvBound(at('semi.csv'), { delimiter: ';' })!.columns).toBe(4);
    fs.writeFileSync(at('open.csv'), '"never closed,1,2\n');
    expect(csvBound(at('open.csv'), {})).toBeUndefined();
  });

  it('a file whose size bound is over the budget but whose lines fit trains; one whose lines do not is refused naming it, before it is parsed', async () => {
    const features = 9;
    const file = at('train.csv');
    fs.writeFileSync(file, csvText(1000, features));
    const bySize = csvBound(file, {})!;
    const byLines = csvBound(file, {}, true)!;
    expect([bySize.columns, byLines.rows]).toEqual([10, 1002]);
    expect(bySize.rows).toBeGreaterThan(4 * byLines.rows);
    const layers = [{ units: 2, activation: 'softmax' as const }];
    const need = (rows: number) => runMemory(planMemory({ inputs: features, layers, loss: 'cross_entropy' }, { batchSize: 32, rule: 'backprop', optimizer: { name: 'sgd' } as never }, 'classification', [rows, 0, 0]), 1, 1).total;
    const args = ['train', '--data', file, '--layers', JSON.stringify(layers), '--epochs', '1', '--threads', '1'];

    // Between the two bounds: the line count shows the file fits.
    process.env[MEMORY_LIMIT_ENV] = String(Math.floor((need(byLines.rows) + need(bySize.rows)) / 2));
    const fits = await runMain(args);
    expect(fits.stderr).toBe('');
    expect(fits.code).toBe(0);

    // Below the line count's need: refused, the file named with its bound. A bad cell on line 3
    // shows the file was not parsed: the loader would have refused it first.
    fs.writeFileSync(file, csvText(1000, features).replace(/\n([^\n]*)\n/, '\n$1\nnot-a-number'));
    const limit = need(byLines.rows) - 1;
    process.env[MEMORY_LIMIT_ENV] = String(limit);
    const refused = await runMain(args);
    const total = need(csvBound(file, {}, true)!.rows);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    const [error, hint] = refused.stderr.split('\n');
    expect(error).toMatch(new RegExp(
      `^error: ${file} \\(at most 1,002 rows of 9 features, counted from its lines\\): the run's memory \\([\\d.]+ KiB shared, no worker threads \\(one thread runs in-process\\), [\\d.]+ KiB of rows outside the shared memory\\): ` +
        `needs ${int(total)} bytes \\([\\d.]+ KiB\\), over the limit of ${int(limit)} bytes \\([\\d.]+ KiB\\) \\(${MEMORY_LIMIT_ENV}\\)$`));
    expect(hint).toBe(`hint: use fewer or narrower layers, a smaller batch size, or less data (fewer rows or features); or raise ${MEMORY_LIMIT_ENV}`);

    // Without the tight limit the same file reaches its loader, which finds the bad cell.
    delete process.env[MEMORY_LIMIT_ENV];
    const parsed = await runMain(args);
    expect(parsed.stderr).toMatch(/^error: .*train\.csv line 3/);
  });
});
