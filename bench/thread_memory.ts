// bench/thread_memory.ts — what one more worker thread costs in resident memory, with a net so
// small that the shared memory and the data are negligible: the number behind limits.ts's
// WORKER_THREAD_BYTES, which the memory plan charges per worker thread (issue 14 item 3).
//
//   flock /work/wt/timing.lock npx tsx bench/thread_memory.ts [--threads 2,4,8] [--repeats 3] [--units 16]
//
// Each thread count runs in a fresh child process (this file with --child N): train() a
// 2-UNITS-2 net on 512 spiral points for 3 epochs on N threads, then report
// process.resourceUsage().maxRSS (the kernel's peak resident set of the whole process, every
// thread included). "--child 1" trains in-process (no pool) and is the baseline. The cost of a
// worker is the least-squares slope of maxRSS over the pooled thread counts (medians of the
// repeats), so the one-time cost of starting a pool is not charged to each thread.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { train } from '../src/api.ts';
import { spirals } from '../src/data/synthetic.ts';
import { command, fixed, intList, load, machine, median, parseFlags, revision, table } from './common.ts';

const USAGE = 'npx tsx bench/thread_memory.ts [--threads 2,4,8] [--repeats 3] [--units 16]';
const MiB = 1024 * 1024;

async function child(threads: number, units: number): Promise<void> {
  await train({
    model: { layers: [{ units, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
    data: spirals({ n: 512, noise: 0.1, seed: 1 }), epochs: 3, batchSize: 64, lr: 0.05, seed: 1, threads,
  });
  console.log(JSON.stringify({ threads, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
}

function runChild(threads: number, units: number): number {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [...process.execArgv, self, '--child', String(threads), '--units', String(units)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child with ${threads} threads failed (status ${r.status}):\n${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { maxRssBytes: number }).maxRssBytes;
}

/** Least-squares slope of y against x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i]! - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['threads', 'repeats', 'units', 'child'], USAGE);
  const units = intList(flags.units ?? '16', '--units')[0]!;
  if (flags.child !== undefined) return child(Number(flags.child), units);
  const pooled = intList(flags.threads ?? '2,4,8', '--threads').filter((t) => t > 1);
  const repeats = intList(flags.repeats ?? '3', '--repeats')[0]!;
  const loadBefore = load();
  const started = new Date();
  // The commit as the runs start: the children load the sources then, whatever is committed while they run.
  const code = revision();
  const counts = [1, ...pooled];
  const peaks = new Map<number, number[]>(counts.map((t) => [t, []]));
  // Interleaved repeats: a change in the machine's state spreads over every count alike.
  for (let rep = 0; rep < repeats; rep++) {
    for (const t of counts) {
      const bytes = runChild(t, units);
      peaks.get(t)!.push(bytes);
      process.stderr.write(`  repeat ${rep + 1}/${repeats}, ${t} thread(s): maxRSS ${fixed(bytes / MiB, 1)} MiB\n`);
    }
  }
  const med = (t: number) => median(peaks.get(t)!);
  const perWorker = slope(pooled, pooled.map(med));
  console.log(`## Resident memory per worker thread (bench/thread_memory.ts)\n`);
  console.log(`- Machine: ${machine()}`);
  console.log(`- Command: \`flock /work/wt/timing.lock ${command('bench/thread_memory.ts')}\``);
  console.log(`- Code: ${code}; date ${started.toISOString()}; load ${loadBefore} → ${load()}`);
  console.log(`- Each run: a fresh process, train() of a 2-${units}-2 tanh/softmax net on 512 spiral points, 3 epochs, batch 64; maxRSS of the whole process; median of ${repeats}.\n`);
  console.log(table(['threads', 'maxRSS MiB (median)', 'maxRSS MiB (each repeat)', '+ over 1 thread (in-process) MiB'],
    counts.map((t) => [String(t), fixed(med(t) / MiB, 1), peaks.get(t)!.map((b) => fixed(b / MiB, 1)).join(', '), t === 1 ? '—' : fixed((med(t) - med(1)) / MiB, 1)])));
  console.log(`\n- Per extra worker thread (least-squares slope of the medians over ${pooled.join(', ')} threads): ${fixed(perWorker / MiB, 1)} MiB (${Math.round(perWorker).toLocaleString('en-US')} bytes).`);
}

await main();
