// threadtrain sweep and sweep collect as a person runs them: three shard processes at once
// (one told its shard by --shard, one by a Kubernetes index, one by a Slurm array task)
// collected into the table the whole sweep gives in one process; then, through main() in
// this process (its output captured), --dry-run, train on a sweep config, usage errors.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweep } from '../src/sweep/sweep.ts';
import { cli, runMain } from './helpers/cli.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-sweep-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const config = {
  data: { builtin: 'blobs', n: 150, classes: 3, features: 4, spread: 0.4, seed: 2 },
  split: { test: 0.2 },
  model: { layers: [{ units: 6, activation: 'tanh' }, { units: 3, activation: 'softmax' }] },
  train: { epochs: 2, batchSize: 16, lr: 0.1, seed: 5 },
  sweep: { grid: { 'train.lr': [0.05, 0.3], 'model.layers.0.units': [4, 6] }, folds: 2, out: 'sharded' },
};
const file = path.join(tmp, 'blobs-sweep.json');
fs.writeFileSync(file, JSON.stringify(config));

describe('threadtrain sweep', () => {
  it('runs as three shard processes whose collected tables equal the whole sweep\'s', async () => {
    const [a, b, c] = await Promise.all([
      cli(['sweep', '--config', file, '--shard', '0/3', '--cores', '1']),
      cli(['sweep', '--config', file, '--shards', '3', '--cores', '1'], { env: { JOB_COMPLETION_INDEX: '1' } }),
      cli(['sweep', '--config', file, '--shards', '3', '--cores', '1'], { env: { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' } }),
    ]);
    for (const r of [a, b, c]) expect(r.stderr).toBe('');
    expect([a.code, b.code, c.code]).toEqual([0, 0, 0]);
    // 8 runs: shard 0 has runs 0, 3, 6; shard 1 has 1, 4, 7; shard 2 has 2, 5.
    expect(a.stdout).toContain('shard 0/3: 3 of them (runs 0, 3, 6)');
    expect(b.stdout).toContain('shard 1/3: 3 of them (runs 1, 4, 7)');
    expect(c.stdout).toContain('shard 2/3: 2 of them (runs 2, 5)');
    expect(c.stdout).toMatch(/\[2\/2\] .*validation\.accuracy \d\.\d{4} \(/);
    const shards = [0, 1, 2].map((i) => path.join(tmp, 'sharded', 'shards', `${i}-of-3`));
    const merged = await cli(['sweep', 'collect', ...shards]);
    expect(merged.code).toBe(0);
    expect(merged.stdout).toContain(`8 runs from 3 folders into ${path.join(tmp, 'sharded')}`);

    const whole = await sweep({ config, baseDir: tmp, out: path.join(tmp, 'whole'), cores: 2 });
    expect(whole.ran).toBe(8);
    for (const f of ['results.csv', 'summary.csv', 'best.ttm']) {
      expect(fs.readFileSync(path.join(tmp, 'sharded', f)).equals(fs.readFileSync(path.join(tmp, 'whole', f)))).toBe(true);
    }
    expect(merged.stdout).toContain(whole.table);
  });

  it('stops at Ctrl-C with exit 130, and a rerun does only the rest', async () => {
    const slow = { ...config, data: { ...config.data, n: 3000 }, train: { ...config.train, epochs: 30, batchSize: 4 }, sweep: { grid: { 'train.lr': [0.01, 0.02, 0.03] }, out: 'stopped' } };
    const slowFile = path.join(tmp, 'slow-sweep.json');
    fs.writeFileSync(slowFile, JSON.stringify(slow));
    let sent = false;
    const r = await cli(['sweep', '--config', slowFile, '--cores', '1'], {
      timeoutMs: 120_000,
      onStdout: (text, child) => {
        if (!sent && text.includes('packing runs onto 1 core')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupt: stopping the running runs at their next step');
    expect(r.stdout).toMatch(/stopped: [1-3] runs not done; rerun the same command to do them/);
    const done = Number(/ran (\d) run/.exec(r.stdout)![1]);
    const rerun = await runMain(['sweep', '--config', slowFile, '--cores', '1']);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`ran ${3 - done} run${3 - done === 1 ? '' : 's'} in`);
    if (done > 0) expect(rerun.stdout).toContain(`${done} of 3 runs already finished`);
  });

  it('lists the runs with --dry-run and runs nothing', async () => {
    const r = await runMain(['sweep', '--config', file, '--dry-run']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^sweep [0-9a-f]{16}: 8 runs = 2 model\.layers\.0\.units × 2 train\.lr × 2 folds$/);
    expect(lines.slice(-9)[0]).toMatch(/^run +id +model\.layers\.0\.units +train\.lr +seed +fold$/);
    expect(lines.at(-1)).toMatch(/^7 +[0-9a-f]{16} +6 +0\.3 +5 +2\/2$/);
    expect(fs.existsSync(path.join(tmp, 'dry'))).toBe(false);
  });

  it('leaves a sweep config usable by train, which runs the base run and says so', async () => {
    const r = await runMain(['train', '--config', file, '--epochs', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\| sweep +\| not run: this is the base run \(threadtrain sweep runs the sweep\) +\|/);
    expect(r.stdout).toContain('all 1 epochs done');
  });

  it('says what is wrong with its command line', async () => {
    const noConfig = await runMain(['sweep']);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('error: sweep needs --config FILE');
    const both = await runMain(['sweep', '--config', file, '--shard', '0/2', '--shards', '2']);
    expect([both.code, both.stderr.trim()]).toEqual([2, 'error: give --shard I/N or --shards N, not both']);
    const noIndex = await runMain(['sweep', '--config', file, '--shards', '4', '--dry-run']);
    expect(noIndex.code).toBe(1);
    expect(noIndex.stderr).toMatch(/^error: --shards 4 needs this task's index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, and neither is set\nhint: /);
    const notSweep = await runMain(['sweep', 'collect', tmp]);
    expect(notSweep.code).toBe(2);
    expect(notSweep.stderr).toContain('error: give --out DIR');
    const notSweepOut = await runMain(['sweep', 'collect', tmp, '--out', path.join(tmp, 'x')]);
    expect(notSweepOut.code).toBe(1);
    expect(notSweepOut.stderr).toBe(`error: ${tmp}: not a sweep output folder (no sweep.json)\nhint: pass the folders that threadtrain sweep wrote, one per shard\n`);
  });
});
