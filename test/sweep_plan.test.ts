// The sweep's planning, without training: expansion counts and ids, folds, shards, the
// packing of runs onto cores, and the per-configuration statistics, each against numbers
// worked out by hand.

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blobs, sine } from '../src/data/synthetic.ts';
import { expandSweep, formatRunList, SEED_STRIDE } from '../src/sweep/expand.ts';
import { foldAssignment, foldSplit } from '../src/sweep/folds.ts';
import { contentHash } from '../src/sweep/hash.ts';
import { sweepPanels } from '../src/sweep/output.ts';
import { packRuns, threadsForRun } from '../src/sweep/pack.ts';
import { bestRun, resultsCsv, summarize, type RunRecord } from '../src/sweep/results.ts';
import { parseShard, selectShard, shardFromEnv } from '../src/sweep/shard.ts';
import { loadSweep } from '../src/sweep/sweep.ts';
import type { ModelSpec } from '../src/model/spec.ts';

const base = {
  data: { builtin: 'blobs', n: 120, classes: 3, features: 4, seed: 2 },
  split: { test: 0.2 },
  model: { layers: [{ units: 8, activation: 'tanh' }, { units: 3, activation: 'softmax' }] },
  train: { epochs: 2, batchSize: 16, lr: 0.1, seed: 5 },
};

describe('expandSweep', () => {
  const sweep = {
    grid: { 'train.lr': [0.05, 0.2], 'model.layers.0.units': [4, 8, 16] },
    random: { n: 3, seed: 7, space: { 'train.batchSize': { min: 4, max: 64, log: true, integer: true }, 'train.optimizer': { choice: [{ name: 'sgd' }, { name: 'adam' }] } } },
    folds: 4,
    seeds: 2,
  };

  it('makes grid × random × seeds × folds complete, distinct runs', () => {
    const e = expandSweep({ ...base, sweep }, 'sweep.json', '.');
    expect(e.runs.length).toBe(2 * 3 * 3 * 2 * 4);
    expect(new Set(e.runs.map((r) => r.id)).size).toBe(144);
    expect(new Set(e.runs.map((r) => r.configId)).size).toBe(2 * 3 * 3);
    expect(e.paths).toEqual(['model.layers.0.units', 'train.lr', 'train.batchSize', 'train.optimizer']);
    // Seeds derive from the base seed, 3 apart, and vary slowest; folds vary fastest.
    expect(e.runs.slice(0, 8).map((r) => [r.seed, r.fold!.index])).toEqual([[5, 0], [5, 1], [5, 2], [5, 3], [5, 0], [5, 1], [5, 2], [5, 3]]);
    expect(e.runs[0]!.configId).not.toBe(e.runs[4]!.configId);
    expect(e.runs.slice(72).every((r) => r.seed === 8)).toBe(true);
    expect(e.runs[72]!.configId).toBe(e.runs[0]!.configId);
    expect(SEED_STRIDE).toBe(3);
    for (const r of e.runs) {
      const raw = r.raw as typeof base & { train: Record<string, unknown> };
      expect(raw.model.layers[0]!.units).toBe(r.values['model.layers.0.units']);
      expect(raw.train.lr).toBe(r.values['train.lr']);
      expect(raw.train.seed).toBe(r.seed);
      const b = raw.train.batchSize as number;
      expect(Number.isInteger(b) && b >= 4 && b <= 64).toBe(true);
      expect(r.config.train.batchSize).toBe(b);
    }
    // The base object is not changed by expansion.
    expect(base.model.layers[0]!.units).toBe(8);
  });

  it('gives the same ids whatever the key order, and a new sweep id when the definition changes', () => {
    const a = expandSweep({ ...base, sweep }, 'a.json', '.');
    const reordered = { sweep: { seeds: 2, folds: 4, random: sweep.random, grid: { 'model.layers.0.units': [4, 8, 16], 'train.lr': [0.05, 0.2] } }, train: base.train, model: base.model, split: base.split, data: base.data };
    const b = expandSweep(reordered, 'b.json', '.');
    expect(b.sweepId).toBe(a.sweepId);
    expect(b.runs.map((r) => r.id)).toEqual(a.runs.map((r) => r.id));
    const c = expandSweep({ ...base, sweep: { ...sweep, seeds: 3 } }, 'c.json', '.');
    expect(c.sweepId).not.toBe(a.sweepId);
    // A run's id is its config's: the same run in a bigger sweep keeps it.
    expect(c.runs.filter((r) => r.seed !== 11).map((r) => r.id)).toEqual(a.runs.map((r) => r.id));
  });

  it('draws log-uniform values with the seed, spread over the decades', () => {
    const e = expandSweep({ ...base, sweep: { random: { n: 400, seed: 3, space: { 'train.lr': { min: 0.001, max: 1, log: true } } } } }, 's.json', '.');
    const lrs = e.runs.map((r) => r.values['train.lr'] as number);
    // Each of the three decades gets about a third of the draws (binomial sd ≈ 9.4).
    const perDecade = [0, 1, 2].map((d) => lrs.filter((v) => v >= 10 ** (d - 3) && v < 10 ** (d - 2)).length);
    for (const c of perDecade) expect(Math.abs(c - 400 / 3)).toBeLessThan(40);
    expect(Math.min(...lrs)).toBeGreaterThanOrEqual(0.001);
    expect(Math.max(...lrs)).toBeLessThanOrEqual(1);
    const again = expandSweep({ ...base, sweep: { random: { n: 400, seed: 3, space: { 'train.lr': { min: 0.001, max: 1, log: true } } } } }, 's.json', '.');
    expect(again.runs.map((r) => r.values['train.lr'])).toEqual(lrs);
  });

  it('names the file, the path and the run in its errors', () => {
    const fails = (sweep: unknown) => () => expandSweep({ ...base, sweep }, 'bad.json', '.');
    expect(fails({ grid: { 'model.layers.5.units': [1, 2] } })).toThrow(/^bad\.json: sweep path "model\.layers\.5\.units": model\.layers has 2 entries, so index 5 does not exist\nhint: indices count from 0, up to 1$/);
    expect(fails({ grid: { 'train.lr': [0.1, -1] } })).toThrow(/^bad\.json: train\.lr: expected a number > 0, found -1 \(in the sweep's run with train\.lr=-1\)\nhint: /);
    expect(fails({ grid: { 'train.threads': [1, 2] } })).toThrow(/^bad\.json: sweep\.grid\["train\.threads"\]: "train\.threads" cannot be swept\nhint: results are the same bits for any thread count/);
    expect(fails({ grid: { 'train.lr': [] } })).toThrow(/^bad\.json: sweep\.grid\["train\.lr"\]: expected a non-empty list, found \[\]\nhint: /);
    expect(fails({ grid: { 'train lr': [1] } })).toThrow(/"train lr" is not an option path\nhint: write dotted paths/);
    expect(fails({ folds: 1 })).toThrow(/^bad\.json: sweep\.folds: expected an integer ≥ 2 or an object, found 1/);
    expect(fails({ folds: 2, grid: { 'split.validation': [0.1] } })).toThrow(/sweep\.folds and a validation split of the run's own/);
    expect(fails({ metric: 'val_acc' })).toThrow(/^bad\.json: sweep\.metric: expected one of validation\.accuracy, /);
    expect(fails({ grdi: {} })).toThrow(/^bad\.json: sweep\.grdi: unknown option; did you mean sweep\.grid\?/);
    expect(fails({ random: { n: 2, space: { 'train.lr': { min: 0, max: 1, log: true } } } })).toThrow(/sweep\.random\.space\["train\.lr"\]\.min: a log range needs min > 0 \(found 0\)/);
    expect(fails({ random: { n: 2, space: { 'train.lr': { min: 2, max: 1 } } } })).toThrow(/min must not exceed max \(found min 2, max 1\)/);
    expect(fails({ random: { n: 1, space: { 'train.lr': { choice: [] } } } })).toThrow(/sweep\.random\.space\["train\.lr"\]\.choice: expected a non-empty list, found \[\]/);
    expect(fails({ grid: { 'train.lr': [0.1] }, random: { n: 1, space: { 'train.lr': { min: 0.1, max: 1 } } } })).toThrow(/"train\.lr" is also in sweep\.grid/);
    expect(fails({ seeds: [1, 1] })).toThrow(/sweep\.seeds: lists a seed twice/);
    expect(fails({ seeds: 2, grid: { 'train.seed': [1, 2] } })).toThrow(/sweep\.seeds: is given and train\.seed is also swept/);
    expect(() => expandSweep({ ...base, train: { ...base.train, checkpoint: { path: 'x.ckpt' } }, sweep: { seeds: 2 } }, 'bad.json', '.')).toThrow(/train\.checkpoint cannot be used in a sweep/);
    expect(() => expandSweep(base, 'bad.json', '.')).toThrow(/bad\.json: no "sweep" section/);
  });

  it('hashes content, not key order', () => {
    expect(contentHash({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(contentHash({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
    expect(contentHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('folds', () => {
  it('partition the rows, keep each class\'s share in every fold, and follow the seed', () => {
    // 103 rows of 3 classes: 35, 34, 34 rows (blobs deals classes round-robin).
    const ds = blobs({ n: 103, classes: 3, features: 2, spread: 0.2, seed: 4 });
    const k = 5;
    const fold = foldAssignment(ds, k, 9, true);
    const sizes = Array.from({ length: k }, (_, f) => fold.filter((x) => x === f).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(103);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (let c = 0; c < 3; c++) {
      const classRows = ds.y.filter((y) => y === c).length;
      const perFold = Array.from({ length: k }, (_, f) => ds.y.filter((y, i) => y === c && fold[i] === f).length);
      // Each fold holds ⌊n_c / k⌋ or ⌈n_c / k⌉ rows of class c: 7 for 35 rows, 6 or 7 for 34.
      expect(perFold.reduce((a, b) => a + b, 0)).toBe(classRows);
      for (const count of perFold) expect([Math.floor(classRows / k), Math.ceil(classRows / k)]).toContain(count);
    }
    // The splits: fold i validates, the rest train, every row used once for validation.
    let validated = 0;
    for (let f = 0; f < k; f++) {
      const s = foldSplit(ds, fold, f);
      expect(s.train.n + s.validation.n).toBe(103);
      expect(s.validation.n).toBe(sizes[f]);
      validated += s.validation.n;
      // The first validation row is the first row of fold f, its features copied.
      const row = fold.indexOf(f);
      expect(Array.from(s.validation.x.subarray(0, 2))).toEqual(Array.from(ds.x.subarray(2 * row, 2 * row + 2)));
    }
    expect(validated).toBe(103);
    expect(Array.from(foldAssignment(ds, k, 9, true))).toEqual(Array.from(fold));
    expect(Array.from(foldAssignment(ds, k, 10, true))).not.toEqual(Array.from(fold));
  });

  it('deal regression rows without classes, and refuse more folds than rows', () => {
    const ds = sine({ n: 11, noise: 0, seed: 1 });
    const fold = foldAssignment(ds, 3, 1, true);
    expect([0, 1, 2].map((f) => fold.filter((x) => x === f).length).sort()).toEqual([3, 4, 4]);
    expect(() => foldAssignment(ds, 12, 1, false)).toThrow(/11 training rows cannot be split into 12 folds/);
  });
});

describe('shards', () => {
  it('parse I/N and the schedulers\' environment variables', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(() => parseShard('3/3')).toThrow(/shard index must be an integer in \[0, 2\] \(got 3\)/);
    expect(() => parseShard('1-3')).toThrow(/--shard must be I\/N/);
    expect(shardFromEnv(4, { JOB_COMPLETION_INDEX: '2' })).toEqual({ index: 2, count: 4 });
    expect(shardFromEnv(4, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 3, count: 4 });
    expect(() => shardFromEnv(3, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/--shards 3, but this Slurm array has 4 tasks/);
    expect(() => shardFromEnv(3, {})).toThrow(/neither is set/);
  });

  it('split the runs into disjoint shares that make up the whole', () => {
    const runs = Array.from({ length: 10 }, (_, index) => ({ index }));
    const shares = [0, 1, 2].map((i) => selectShard(runs, { index: i, count: 3 }).map((r) => r.index));
    expect(shares).toEqual([[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]);
  });
});

describe('packing', () => {
  it('takes the engine\'s thread plan: one thread for small nets, more for big ones', () => {
    const net = (inputs: number, units: number[]): ModelSpec => ({
      inputs, loss: 'cross_entropy', layers: units.map((u, i) => ({ units: u, activation: i === units.length - 1 ? 'softmax' : 'relu' })),
    });
    // 16-128-64-26 at batch 32: 2·32·(16·128·2 + 128·64·3 + 64·26·3) = 2.15 MFLOP a step, under the 4 MFLOP one thread needs.
    expect(threadsForRun(net(16, [128, 64, 26]), 32, 10_000, 16)).toBe(1);
    // 784-256-128-10 at batch 128: 128.9 MFLOP, 16 rows of 8 and 16 first-layer blocks: 16 threads, or the cores.
    expect(threadsForRun(net(784, [256, 128, 10]), 128, 60_000, 16)).toBe(16);
    expect(threadsForRun(net(784, [256, 128, 10]), 128, 60_000, 2)).toBe(2);
    // A full batch of 20 rows is 20 rows: 20.1 MFLOP but only 2 groups of 8 rows.
    expect(threadsForRun(net(784, [256, 128, 10]), 'full', 20, 16)).toBe(2);
  });

  it('never runs more threads than cores, and fills cores with runs that fit', async () => {
    const threads = [2, 1, 1, 2, 1, 3, 1];
    let inUse = 0;
    let peak = 0;
    const order: number[] = [];
    const release: (() => void)[] = [];
    const done = packRuns(threads.map((_, i) => i), (i) => threads[i]!, 3, (i) => {
      order.push(i);
      inUse += threads[i]!;
      peak = Math.max(peak, inUse);
      return new Promise<void>((resolve) => release.push(() => { inUse -= threads[i]!; resolve(); }));
    }, () => false);
    // Runs 0 (2 threads) and 1 (1) fill 3 cores; nothing else starts until one ends.
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([0, 1]);
    // Run 0 ends, freeing 2 cores: run 2 (1 thread) starts, run 3 (2) no longer fits, run 4 (1) does.
    release.shift()!();
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([0, 1, 2, 4]);
    while (release.length) {
      release.shift()!();
      await new Promise((r) => setTimeout(r, 5));
    }
    await done;
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(3);
  });

  it('starts nothing more once stopped, and refuses a run wider than the machine', async () => {
    let started = 0;
    let stop = false;
    await packRuns([1, 1, 1, 1], () => 1, 1, async () => {
      started++;
      stop = true;
    }, () => stop);
    expect(started).toBe(1);
    await expect(packRuns([1], () => 3, 2, async () => {}, () => false)).rejects.toThrow(/asks for 3 threads, outside \[1, 2\]/);
  });
});

describe('results', () => {
  const rec = (index: number, configId: string, acc: number | undefined, values: Record<string, unknown>, status: 'done' | 'failed' = 'done'): RunRecord => ({
    sweepId: 's', id: `r${index}`, index, configId, values, seed: 1, fold: index % 3, status, metrics: acc === undefined ? {} : { 'validation.accuracy': acc },
    threads: 1, seconds: 0.5, ...(status === 'failed' ? { error: 'boom, "quoted"' } : {}),
  });
  const records = [
    rec(0, 'a', 0.5, { 'train.lr': 0.01 }), rec(1, 'a', 0.7, { 'train.lr': 0.01 }), rec(2, 'a', 0.9, { 'train.lr': 0.01 }),
    rec(3, 'b', 0.8, { 'train.lr': 1 }), rec(4, 'b', undefined, { 'train.lr': 1 }, 'failed'), rec(5, 'b', 0.6, { 'train.lr': 1 }),
  ];

  it('give each configuration its mean ± sample std, and pick the best', () => {
    const [a, b] = summarize(records);
    // a: (0.5 + 0.7 + 0.9) / 3 = 0.7, std √((0.04 + 0 + 0.04) / 2) = 0.2.
    expect(a!.mean['validation.accuracy']).toBeCloseTo(0.7, 15);
    expect(a!.std['validation.accuracy']).toBeCloseTo(0.2, 15);
    // b: (0.8 + 0.6) / 2 = 0.7 (the failed run is left out), std √(0.02 / 1).
    expect(b!.done).toBe(2);
    expect(b!.failed).toBe(1);
    expect(b!.std['validation.accuracy']).toBeCloseTo(Math.sqrt(0.02), 15);
    // Means tie at 0.7 (to rounding): a's is 0.7000000000000001 > b's 0.7.
    const best = bestRun(records, 'validation.accuracy')!;
    expect(best.run.index).toBe(2);
    expect(bestRun(records, 'validation.loss')).toBeUndefined();
  });

  it('write a csv with the swept values, metrics and quoted errors', () => {
    const csv = resultsCsv(records, ['train.lr']).split('\n');
    expect(csv[0]).toBe('index,id,train.lr,seed,fold,status,epochs,validation.accuracy,error');
    expect(csv[1]).toBe('0,r0,0.01,1,0,done,,0.5,');
    expect(csv[5]).toBe('4,r4,1,1,1,failed,,,"boom, ""quoted"""');
  });

  it('plot the mean and the best run per value, on a log axis across decades', () => {
    const [panel] = sweepPanels(records, ['train.lr'], 'validation.accuracy');
    expect(panel!.log).toBe(true);
    expect(panel!.mean.map(([x]) => x)).toEqual([-2, 0]);
    expect(panel!.mean[0]![1]).toBeCloseTo(0.7, 15);
    expect(panel!.best).toEqual([[-2, 0.9], [0, 0.8]]);
  });
});

describe('shipped sweep configs', () => {
  it('expand into checked runs', () => {
    const e = loadSweep({ config: new URL('../configs/sweeps/blobs.json', import.meta.url).pathname });
    // 3 learning rates × 2 widths × 3 folds.
    expect(e.runs.length).toBe(18);
    expect(new Set(e.runs.map((r) => r.configId)).size).toBe(6);
  });
});

describe('the README\'s sweep example', () => {
  it('is a valid sweep of 3 × 2 × 4 × 2 × 3 runs', () => {
    const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const json = readme.split('## Sweeps')[1]!.split('```json')[1]!.split('```')[0]!;
    const e = loadSweep({ config: JSON.parse(json), baseDir: new URL('../configs/sweeps', import.meta.url).pathname });
    expect(e.runs.length).toBe(144);
  });
});

describe('formatRunList', () => {
  it('lists each run with its values, seed and fold', () => {
    const e = expandSweep({ ...base, sweep: { grid: { 'train.lr': [0.05, 0.2] }, folds: 2 } }, 'l.json', '.');
    const lines = formatRunList(e).split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^run {2}id {16}train\.lr {2}seed {2}fold$/);
    expect(lines[1]).toBe(`0    ${e.runs[0]!.id}  0.05      5     1/2`);
    expect(lines[4]).toBe(`3    ${e.runs[3]!.id}  0.2       5     2/2`);
  });
});
