// bench/sweep_jobs.ts — the sweep benchmark's 16 runs (bench/sweep.ts: 16-128-64-26 on `blobs`,
// a grid of 4 learning rates × 4 seeds) timed as whole jobs, each a process of its own from
// spawn to exit, its data generated inside, from the compiled package:
//   one   — one process running the 16 runs one after another with train() on one thread;
//   two   — two processes at once, each running every other run (8 each): the best split of the
//           work across the cores there is, with no sweep code at all;
//   sweep — one process running sweep() on all the cores.
// The three alternate within each repeat (the order rotating), so a host whose speed moves from
// minute to minute slows all three alike. Ratios: sweep over one (the goal of issue 13, ≥ 0.9 ×
// cores), two over one (what the host gives this work), and the sweep's time over two's (what
// the packing costs against independent processes). The models of the sweep must equal those of
// `one`, bit for bit, every repeat.
//
//   npx tsx bench/sweep_jobs.ts [--repeats 6] [--n 50000] [--epochs 4] [--json FILE]
//
// bench/sweep.ts times the same runs inside one already-started process, with the baseline's
// rows made before its clock starts; this benchmark charges every way for everything it does.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as ModelModule from '../src/model/model.ts';
import { command, JsonLines, load, machine, median, oneInt, parseFlags, revision, sweepBenchConfig, table } from './common.ts';

const USAGE = 'npx tsx bench/sweep_jobs.ts [--repeats 6] [--n 50000] [--epochs 4] [--json FILE]';
const flags = parseFlags(process.argv.slice(2), ['repeats', 'n', 'epochs', 'json'], USAGE);
const repeats = oneInt(flags.repeats ?? '6', 'repeats', USAGE);
const n = oneInt(flags.n ?? '50000', 'n', USAGE);
const epochs = oneInt(flags.epochs ?? '4', 'epochs', USAGE);
const json = new JsonLines(flags.json);
const cores = os.availableParallelism();

execFileSync('npm', ['run', 'build'], { cwd: new URL('..', import.meta.url), stdio: 'ignore' });
const dist = (source: string) => new URL(`../dist/${source}`, import.meta.url).href;
const { Model } = await import(dist('src/model/model.js')) as typeof ModelModule;

const config = sweepBenchConfig(n, epochs);

// The job a process runs: argv[1] is "runs" (with the share k of m, and a folder for the
// models) or "sweep" (with its output folder). Plain JavaScript on the compiled package.
const JOB = `
  const [what, a, b, c] = process.argv.slice(2);
  const config = JSON.parse(process.env.SWEEP_JOB_CONFIG);
  const { loadSweep, sweepRunData, sweep } = await import(${JSON.stringify(dist('src/sweep/sweep.js'))});
  if (what === 'sweep') {
    const r = await sweep({ config, file: 'bench/sweep_jobs.ts', out: a });
    if (r.ran !== 16 || r.failed !== 0) throw new Error('the sweep ran ' + r.ran + ' runs, ' + r.failed + ' failed');
  } else {
    const { runTrainOptions } = await import(${JSON.stringify(dist('src/sweep/run_config.js'))});
    const { train } = await import(${JSON.stringify(dist('src/api.js'))});
    const { writeFileSync } = await import('node:fs');
    const k = Number(a), m = Number(b);
    for (const run of loadSweep({ config, file: 'bench/sweep_jobs.ts' }).runs.filter((r) => r.index % m === k)) {
      const result = await train(runTrainOptions(run.raw, sweepRunData(run), 1));
      writeFileSync(c + '/' + run.id + '.f32', new Uint8Array(result.model.params.buffer, result.model.params.byteOffset, result.model.params.byteLength));
    }
  }`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sweep-jobs-'));
// A file, not `node -e`: the sweep's trainer threads inherit the process's execArgv, and
// `--input-type` there breaks their loading.
const jobFile = path.join(tmp, 'job.mjs');
fs.writeFileSync(jobFile, JOB);

/** Seconds from spawn to exit of `node` running JOB with `args`; a job that fails fails the benchmark. */
function job(args: string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [jobFile, ...args], {
      env: { ...process.env, SWEEP_JOB_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`job ${args.join(' ')} exited with ${code}:\n${stderr}`))));
  });
}

const loadBefore = load();
console.log(`machine: ${machine()}`);
console.log(`command: ${command('bench/sweep_jobs.ts')}`);
console.log(`revision: ${revision()}`);
console.log(`16 runs of 16-128-64-26 on blobs (n ${n}, 10% validation), ${epochs} epochs at batch 32; whole processes, compiled package; sweep on ${cores} cores\n`);

interface Row { repeat: number; oneS: number; twoS: number; sweepS: number }
const rows: Row[] = [];
try {
  for (let rep = 0; rep < repeats; rep++) {
    const dir = path.join(tmp, `rep-${rep}`);
    for (const d of ['one', 'two']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    let oneS = 0, twoS = 0, sweepS = 0;
    const ways = [
      async () => { oneS = await job(['runs', '0', '1', path.join(dir, 'one')]); },
      async () => {
        const t0 = performance.now();
        await Promise.all([0, 1].map((k) => job(['runs', String(k), '2', path.join(dir, 'two')])));
        twoS = (performance.now() - t0) / 1000;
      },
      async () => { sweepS = await job(['sweep', path.join(dir, 'sweep')]); },
    ];
    for (let k = 0; k < ways.length; k++) await ways[(rep + k) % ways.length]!();
    // Every model of the sweep and of the two processes equals the one process's, bit for bit.
    for (const id of fs.readdirSync(path.join(dir, 'one'))) {
      const want = fs.readFileSync(path.join(dir, 'one', id));
      const runId = id.replace(/\.f32$/, '');
      const swept = Model.load(path.join(dir, 'sweep', 'runs', runId, 'model.ttm')).params;
      if (!Buffer.from(swept.buffer, swept.byteOffset, swept.byteLength).equals(want)) throw new Error(`run ${runId}: the sweep's model differs from the one process's`);
      if (!fs.readFileSync(path.join(dir, 'two', id)).equals(want)) throw new Error(`run ${runId}: the two processes' model differs from the one process's`);
    }
    if (fs.readdirSync(path.join(dir, 'one')).length !== 16) throw new Error('the one process did not write 16 models');
    const row = { repeat: rep + 1, oneS, twoS, sweepS };
    rows.push(row);
    json.write({ bench: 'sweep_jobs', ...row, cores, n, epochs });
    console.log(`repeat ${rep + 1}: one ${oneS.toFixed(2)} s, two ${twoS.toFixed(2)} s, sweep ${sweepS.toFixed(2)} s`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

console.log('');
console.log(table(['repeat', 'one process (s)', 'two processes (s)', 'sweep (s)', 'two over one', 'sweep over one', 'sweep / two'], rows.map((r) => [
  String(r.repeat), r.oneS.toFixed(2), r.twoS.toFixed(2), r.sweepS.toFixed(2),
  `${(r.oneS / r.twoS).toFixed(2)}×`, `${(r.oneS / r.sweepS).toFixed(2)}×`, `${(r.sweepS / r.twoS).toFixed(2)}×`,
])));
const ratio = median(rows.map((r) => r.oneS / r.sweepS));
console.log('');
console.log(`median: two processes over one ${median(rows.map((r) => r.oneS / r.twoS)).toFixed(2)}×, the sweep's time over two processes' ${median(rows.map((r) => r.sweepS / r.twoS)).toFixed(2)}×`);
console.log(`median throughput ratio, sweep over one process: ${ratio.toFixed(2)}× on ${cores} cores (goal ≥ ${(0.9 * cores).toFixed(2)}×: ${ratio >= 0.9 * cores ? 'met' : 'not met'})`);
console.log(`load (1/5/15 min): ${loadBefore} before, ${load()} after`);
