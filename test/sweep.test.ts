// sweep() end to end on tiny nets: each run is the bits of the same config trained alone,
// shards collected equal the whole sweep, a stopped sweep resumes with only what was
// missing, and a run that throws is recorded while the others finish.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataSplits } from '../src/data/load.ts';
import { Model } from '../src/model/model.ts';
import { loadConfig, loadConfigData, runOptionsOf } from '../src/options/parse.ts';
import { runTraining } from '../src/train/train.ts';
import { collect, commonSweepFolder, loadSweep, sweep, sweepRunData } from '../src/sweep/sweep.ts';
import { foldAssignment, foldSplit } from '../src/sweep/folds.ts';
import type { RunRecord } from '../src/sweep/results.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-sweep-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const dir = (name: string) => path.join(tmp, name);

const base = {
  data: { builtin: 'blobs', n: 150, classes: 3, features: 4, spread: 0.4, seed: 2 },
  split: { test: 0.2 },
  scale: 'standard',
  model: { layers: [{ units: 6, activation: 'tanh' }, { units: 3, activation: 'softmax' }] },
  train: { epochs: 3, batchSize: 16, lr: 0.1, seed: 5 },
};

describe('sweep', () => {
  it('trains each run to the same bits as its config trained alone', async () => {
    const config = { ...base, sweep: { grid: { 'train.lr': [0.05, 0.3] }, folds: { k: 3, seed: 4 } } };
    const out = dir('bits');
    const r = await sweep({ config, out, cores: 2, threads: 1 });
    expect(r.ran).toBe(6);
    expect(r.failed).toBe(0);
    expect(r.metric).toBe('validation.accuracy');
    const expanded = loadSweep({ config });
    for (const run of expanded.runs.filter((x) => x.fold!.index !== 1)) {
      // The run alone: its config as a file, loaded and trained the way `threadtrain train`
      // does (config → runOptionsOf → runTraining), its fold carved off by hand.
      const file = path.join(tmp, `alone-${run.id}.json`);
      fs.writeFileSync(file, JSON.stringify({ ...run.raw, train: { ...(run.raw.train as object), threads: 1 } }));
      const cfg = loadConfig(file);
      const data = loadConfigData(cfg) as DataSplits;
      const fold = foldSplit(data.train, foldAssignment(data.train, 3, 4, true), run.fold!.index);
      const alone = await runTraining(runOptionsOf(cfg, { train: fold.train, validation: fold.validation, test: data.test }));
      const saved = Model.load(path.join(out, 'runs', run.id, 'model.ttm'));
      expect(Buffer.from(saved.params.buffer).equals(Buffer.from(alone.model.params.buffer))).toBe(true);
      const record = r.records.find((x) => x.id === run.id)!;
      expect(record.metrics['validation.accuracy']).toBe(alone.validation!.accuracy);
      expect(record.metrics['test.loss']).toBe(alone.test!.loss);
      expect(record.metrics['train.loss']).toBe(alone.history.at(-1)!.loss);
      // sweepRunData gives a person the same rows to rerun one run by hand.
      expect(Array.from(sweepRunData(run).validation!.y)).toEqual(Array.from(fold.validation.y));
    }
    // Run folders, tables and the best model, whose bits are the best run's.
    const files = fs.readdirSync(out).sort();
    expect(files).toEqual(['best.ttm', 'plot.svg', 'results.csv', 'results.jsonl', 'runs', 'summary.csv', 'sweep.json']);
    expect(fs.readFileSync(path.join(out, 'best.ttm')).equals(fs.readFileSync(path.join(out, 'runs', r.best!.id, 'model.ttm')))).toBe(true);
    const bestConfig = r.records.filter((x) => x.configId === r.best!.configId).map((x) => x.metrics['validation.accuracy']!);
    expect(r.best!.metrics['validation.accuracy']).toBe(Math.max(...bestConfig));
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(7);
    expect(fs.readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(fs.readFileSync(path.join(out, 'plot.svg'), 'utf8')).toContain('<title>Sweep: validation.accuracy against each swept option</title>');
    const log = fs.readFileSync(path.join(out, 'runs', r.records[0]!.id, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.map((e) => e.epoch)).toEqual([1, 2, 3]);
  });

  it('split into shards 0/3, 1/3, 2/3 and collected gives the whole sweep\'s tables', async () => {
    const config = { ...base, sweep: { grid: { 'train.lr': [0.05, 0.3], 'model.layers.0.units': [4, 6] }, seeds: 2 } };
    const whole = await sweep({ config, out: dir('whole'), cores: 2 });
    expect(whole.ran).toBe(8);
    const shares: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await sweep({ config, out: dir('sharded'), cores: 1, shard: { index: i, count: 3 } });
      expect(s.out).toBe(path.join(dir('sharded'), 'shards', `${i}-of-3`));
      shares.push(s.ran);
    }
    expect(shares).toEqual([3, 3, 2]);
    const shardDirs = [0, 1, 2].map((i) => path.join(dir('sharded'), 'shards', `${i}-of-3`));
    expect(commonSweepFolder(shardDirs)).toBe(dir('sharded'));
    expect(commonSweepFolder([...shardDirs, dir('whole')])).toBeUndefined();
    const merged = collect(shardDirs, { out: dir('merged') });
    expect(merged.missing).toBe(0);
    expect(merged.conflicts).toEqual([]);
    for (const f of ['results.csv', 'summary.csv', 'best.ttm', 'plot.svg']) {
      expect(fs.readFileSync(path.join(dir('merged'), f)).equals(fs.readFileSync(path.join(dir('whole'), f)))).toBe(true);
    }
    expect(merged.table).toBe(whole.table);
    // Collecting a shard into a folder that already holds the sweep keeps the runs it holds.
    const into = collect([shardDirs[1]!], { out: dir('whole') });
    expect([into.records.length, into.missing]).toEqual([8, 0]);
    expect(fs.readFileSync(path.join(dir('whole'), 'results.csv')).equals(fs.readFileSync(path.join(dir('merged'), 'results.csv')))).toBe(true);
    // Two shards alone leave runs missing, and say how many.
    expect(collect([shardDirs[0]!, shardDirs[2]!], { out: dir('partial') }).missing).toBe(3);
    // A folder of another sweep is refused.
    const other = await sweep({ config: { ...base, sweep: { grid: { 'train.lr': [0.2] } } }, out: dir('other'), cores: 1 });
    expect(other.ran).toBe(1);
    expect(() => collect([shardDirs[0]!, dir('other')], { out: dir('mixed') })).toThrow(new RegExp(`other holds sweep ${other.sweepId}, but .*0-of-3 holds sweep ${whole.sweepId}`));
    // An edited sweep run into the same folder reuses every run it shares with the old one.
    const wider = { ...base, sweep: { grid: { 'train.lr': [0.05, 0.3, 0.6], 'model.layers.0.units': [4, 6] }, seeds: 2 } };
    const again = await sweep({ config: wider, out: dir('whole'), cores: 2 });
    expect([again.skipped, again.ran]).toEqual([8, 4]);
    expect(again.sweepId).not.toBe(whole.sweepId);
    const oldIds = new Set(whole.records.map((r) => r.id));
    for (const r of again.records.filter((x) => oldIds.has(x.id))) {
      const before = whole.records.find((x) => x.id === r.id)!;
      expect([r.sweepId, r.metrics]).toEqual([again.sweepId, before.metrics]);
    }
  });

  it('stops cleanly and, rerun, trains only the runs that were missing', async () => {
    const config = { ...base, sweep: { grid: { 'train.lr': [0.05, 0.1, 0.2, 0.3] } } };
    const out = dir('resume');
    const controller = new AbortController();
    const first: string[] = [];
    const stopped = await sweep({ config, out, cores: 1 }, { signal: controller.signal, onRunEnd: (rec) => { first.push(rec.id); controller.abort(); } });
    expect(stopped.stopped).toBe(true);
    expect(first).toHaveLength(1);
    expect(stopped.records.map((x) => x.id)).toEqual(first);
    const progress: number[] = [];
    const second: string[] = [];
    const again = await sweep({ config, out, cores: 1 }, { onRunEnd: (rec) => second.push(rec.id), onProgress: (p) => progress.push(p.left) });
    expect(again.skipped).toBe(1);
    expect(again.ran).toBe(3);
    expect(second).toHaveLength(3);
    expect(second).not.toContain(first[0]);
    expect(again.records).toHaveLength(4);
    expect(progress.at(-1)).toBe(0);
    // A third time there is nothing left to do.
    const third = await sweep({ config, out, cores: 1 });
    expect([third.ran, third.skipped]).toEqual([0, 4]);
  });

  it('records a run that throws and finishes the others; a rerun retries it', async () => {
    // 5 output units for 3 classes: the config is well-formed, but train() refuses it.
    // On one core, in order: each seed's failing run comes before its good one.
    const config = { ...base, sweep: { grid: { 'model.layers.1.units': [5, 3] }, seeds: [1, 2] } };
    const out = dir('fail');
    const ended: RunRecord[] = [];
    const r = await sweep({ config, out, cores: 1 }, { onRunEnd: (rec) => ended.push(rec) });
    expect(ended.map((x) => x.status)).toEqual(['failed', 'done', 'failed', 'done']);
    expect([r.ran, r.failed]).toEqual([2, 2]);
    const failed = r.records.filter((x) => x.status === 'failed');
    expect(failed.map((x) => x.values['model.layers.1.units'])).toEqual([5, 5]);
    expect(failed[0]!.error).toBe('model.layers[1].units: expected 3 output units for data with 3 classes, found 5\nhint: use 3 output units');
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8')).toContain(',failed,,,,,,"model.layers[1].units: expected 3 output units for data with 3 classes, found 5\nhint: ');
    expect(r.best!.values['model.layers.1.units']).toBe(3);
    const rerun = await sweep({ config, out, cores: 1 });
    expect([rerun.skipped, rerun.ran, rerun.failed]).toEqual([2, 0, 2]);
  });
});
