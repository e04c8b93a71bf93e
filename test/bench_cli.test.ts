// threadtrain bench and its library half (train/scaling.ts): the speedup and efficiency
// arithmetic, the bit comparison, a real 1- and 2-thread run of a tiny config (fields and
// their arithmetic, never a timing), and the command's --json and --plot output.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseThreadList } from '../src/cli/bench.ts';
import { TrainingError } from '../src/errors.ts';
import { loadConfigData, parseCommandLine, runOptionsOf } from '../src/options/parse.ts';
import { assertSameBits, firstDifference, measureScaling, runSamplesPerSec, speedups } from '../src/train/scaling.ts';
import { runTraining } from '../src/train/train.ts';
import { runCli, runMain } from './helpers/cli.ts';

let dir: string;
const tmp = (name: string) => path.join(dir, name);

const TINY = {
  data: { builtin: 'spirals', n: 600, seed: 3 },
  model: { layers: [{ units: 8, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
  train: { epochs: 3, batchSize: 32, lr: 0.05, seed: 4, optimizer: { name: 'momentum' } },
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-bench-'));
  fs.writeFileSync(tmp('tiny.json'), JSON.stringify(TINY));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('scaling arithmetic', () => {
  it('speedup = samples/s ÷ one thread\'s; efficiency = speedup ÷ threads', () => {
    const rows = speedups([{ threads: 1, samplesPerSec: 1000 }, { threads: 2, samplesPerSec: 1500 }, { threads: 4, samplesPerSec: 2000 }]);
    expect(rows.map((r) => [r.threads, r.speedup, r.efficiency])).toEqual([[1, 1, 1], [2, 1.5, 0.75], [4, 2, 0.5]]);
    expect(() => speedups([{ threads: 2, samplesPerSec: 1 }])).toThrow(/threads 1/);
  });

  it('a run\'s samples/s is the median of its epochs after the first', () => {
    expect(runSamplesPerSec([5, 30, 10, 20])).toBe(20);
    expect(runSamplesPerSec([5, 30, 10])).toBe(20);
    expect(runSamplesPerSec([7])).toBe(7);
  });

  it('weights are compared by their bits: −0 is not 0, and a NaN\'s payload counts', () => {
    expect(firstDifference(Float32Array.of(1, 2, 3), Float32Array.of(1, 2, 3))).toBe(-1);
    expect(firstDifference(Float32Array.of(1, 0, 3), Float32Array.of(1, -0, 3))).toBe(1);
    const nan = new Float32Array(new Uint32Array([0x7fc00000, 0x7fc00001]).buffer);
    expect(firstDifference(nan.subarray(0, 1), nan.subarray(1, 2))).toBe(0);
    expect(firstDifference(Float32Array.of(1, 2), Float32Array.of(1, 2, 3))).toBe(2);
    let error: unknown;
    try {
      assertSameBits('threads 2 against threads 1', Float32Array.of(1, 2, 3), Float32Array.of(1, 2.5, 3));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as Error).message).toBe(
      'threads 2 against threads 1: final weights differ at parameter 1 (2 vs 2.5); the same seed must give the same bits on any thread count\n' +
        'hint: this is a bug in threadtrain: please report it with the config and the thread counts',
    );
  });

  it('--threads takes a list or a range that holds 1', () => {
    expect(parseThreadList('1,2')).toEqual([1, 2]);
    expect(parseThreadList('1..4')).toEqual([1, 2, 3, 4]);
    expect(() => parseThreadList('2,4')).toThrow(/^--threads: expected 1 among the thread counts \(speedup is measured against one thread\), found "2,4"\nhint: e\.g\. --threads 1,2,4$/);
    expect(() => parseThreadList('1,x')).toThrow(/^--threads: expected thread counts as "1,2,4" or "1\.\.4", found "1,x"/);
    expect(() => parseThreadList('1,1')).toThrow(/each thread count once/);
  });
});

describe('measureScaling on 1 and 2 threads', () => {
  it('gives a point per thread count with its arithmetic, and the final loss a plain run gives', async () => {
    const config = parseCommandLine(tmp('tiny.json'), []);
    const run = runOptionsOf(config, loadConfigData(config));
    const result = await measureScaling(run, [1, 2]);
    expect(result.bitIdentical).toBe(true);
    expect(result.interrupted).toBe(false);
    expect(result.epochs).toBe(3);
    expect(result.points.map((p) => p.threads)).toEqual([1, 2]);
    const [one, two] = result.points;
    for (const p of result.points) {
      expect(p.epochSamplesPerSec).toHaveLength(3);
      expect(p.samplesPerSec).toBe(runSamplesPerSec(p.epochSamplesPerSec));
      expect(p.samplesPerSec).toBeGreaterThan(0);
      expect(p.efficiency).toBe(p.speedup / p.threads);
    }
    expect(one!.speedup).toBe(1);
    expect(two!.speedup).toBe(two!.samplesPerSec / one!.samplesPerSec);
    // The final loss is the run's: the same as a plain training run of the config.
    const plain = await runTraining({ ...run, threads: 1 });
    expect(result.finalLoss).toBe(plain.history.at(-1)!.loss);
  });
});

describe('threadtrain bench (the command)', () => {
  it('--json prints one object (points with their arithmetic, the bit check); --plot writes the chart', async () => {
    const r = await runCli(['bench', '--config', tmp('tiny.json'), '--threads', '1,2', '--epochs', '2', '--json', '--plot', tmp('scaling.svg')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['bench', 'config', 'points', 'bitIdentical', 'epochs', 'kernel', 'finalLoss', 'interrupted', 'machine', 'date']);
    expect(j.bitIdentical).toBe(true);
    expect(j.epochs).toBe(2);
    expect(j.points.map((p: { threads: number }) => p.threads)).toEqual([1, 2]);
    for (const p of j.points) {
      expect(Object.keys(p).sort()).toEqual(['efficiency', 'epochSamplesPerSec', 'samplesPerSec', 'seconds', 'speedup', 'startupSeconds', 'threads']);
      expect(p.startupSeconds).toBeLessThanOrEqual(p.seconds);
      expect(p.speedup).toBe(p.samplesPerSec / j.points[0].samplesPerSec);
      expect(p.efficiency).toBe(p.speedup / p.threads);
    }
    const svg = fs.readFileSync(tmp('scaling.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Speedup over one thread');
    expect(svg).toContain('ideal (y = x)');
  });

  it('prints the table and says the weights were bit-identical; a bad --threads is one error line', async () => {
    const r = await runMain(['bench', '--config', tmp('tiny.json'), '--threads', '1,2', '--epochs', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('final weights: bit-identical across threads 1, 2');
    expect(r.stdout).toMatch(/^\| threads \| samples\/s \| speedup \| efficiency \| start-up s \| run s \|$/m);
    expect(r.stdout).toMatch(/^\| +1 \| +[\d,]+ \| +1\.00× \| +100% \| +[\d.]+ \| +[\d.]+ \|$/m);
    const bad = await runMain(['bench', '--config', tmp('tiny.json'), '--threads', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('error: --threads: expected 1 among the thread counts (speedup is measured against one thread), found "2"\nhint: e.g. --threads 1,2\n');
  });
});
