// bench/memory.ts — peak resident memory of a full MNIST training run with 1 and 2 threads.
// The dataset is loaded once into the shared WebAssembly.Memory that every thread reads, so a
// thread should add only its V8 isolate and per-thread state, never another copy of the data.
//
//   npx tsx bench/memory.ts [--threads 1,2,3] [--epochs 3] [--repeats 3] [--json FILE]   (npm run bench:memory)
//
// Each configuration runs in a fresh child process (this file with --child N): load the MNIST
// train and t10k sets, train the 784-256-128-10 MLP (batch 128, SGD lr 0.05) for --epochs with
// N threads, evaluate the test set, then report process.resourceUsage().maxRSS (the kernel's
// peak resident set of the whole process, all threads included) and the peak of
// process.memoryUsage() sampled every 10 ms. "--child 0" loads the data and does not train:
// the baseline that the training runs add to. Medians over repeats. One thread trains in-process
// (no pool); N ≥ 2 threads are N pool workers, so 2 − 1 threads is two worker isolates, and 3
// threads (more than this 2-core machine's cores: slower, but the memory is what is measured)
// gives the cost of one more worker directly.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { layoutShared } from '../src/engine/plan.ts';
import type { ModelSpec } from '../src/model/spec.ts';
import { train } from '../src/api.ts';
import { command, fixed, intList, JsonLines, load, loadMnist, machine, median, MNIST_LAYERS, MNIST_LR, parseFlags, revision, SEED, table } from './common.ts';

const USAGE = 'npx tsx bench/memory.ts [--threads 1,2,3] [--epochs 3] [--repeats 3] [--json FILE]';
const MiB = 1024 * 1024;
const BATCH = 128;

interface ChildReport {
  threads: number;
  maxRssMiB: number;
  sampledRssMiB: number;
  sampledHeapMiB: number;
  sampledExternalMiB: number;
  rssAfterLoadMiB: number;
  testAccuracy: number | null;
  seconds: number;
}

async function child(threads: number, epochs: number): Promise<void> {
  const peak = { rss: 0, heap: 0, external: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
    peak.external = Math.max(peak.external, m.external + m.arrayBuffers);
  };
  const timer = setInterval(sample, 10);
  const t0 = performance.now();
  const trainSet = loadMnist('train');
  const testSet = loadMnist('t10k');
  sample();
  const rssAfterLoad = process.memoryUsage().rss;
  let testAccuracy: number | null = null;
  if (threads > 0) {
    const r = await train({ model: { layers: MNIST_LAYERS }, data: { train: trainSet, test: testSet }, epochs, batchSize: BATCH, lr: MNIST_LR, seed: SEED, threads });
    testAccuracy = r.test?.accuracy ?? null;
  }
  sample();
  clearInterval(timer);
  const report: ChildReport = {
    threads, maxRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB, sampledRssMiB: peak.rss / MiB, sampledHeapMiB: peak.heap / MiB,
    sampledExternalMiB: peak.external / MiB, rssAfterLoadMiB: rssAfterLoad / MiB, testAccuracy, seconds: (performance.now() - t0) / 1000,
  };
  console.log(JSON.stringify(report));
}

function runChild(threads: number, epochs: number): ChildReport {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [...process.execArgv, self, '--child', String(threads), '--epochs', String(epochs)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child with ${threads} threads failed (status ${r.status}):\n${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as ChildReport;
}

/** Bytes of the shared memory train() allocates for this run (the same plan, measured by the same layout code). */
function sharedBytes(trainRows: number, testRows: number): number {
  const spec: ModelSpec = { inputs: 784, layers: MNIST_LAYERS, loss: 'cross_entropy' };
  return layoutShared(undefined, {
    spec, rule: 'backprop', targetKind: 'class', maxRows: Math.max(BATCH, 256), optimizerBuffers: 0, splitRows: [trainRows, 0, testRows], threads: 1,
  }).bytes;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['threads', 'epochs', 'repeats', 'json', 'child'], USAGE);
  const epochs = intList(flags.epochs ?? '3', '--epochs')[0]!;
  if (flags.child !== undefined) return child(Number(flags.child), epochs);
  const threadList = intList(flags.threads ?? '1,2,3', '--threads');
  const repeats = intList(flags.repeats ?? '3', '--repeats')[0]!;
  const json = new JsonLines(flags.json);
  const cmd = command('bench/memory.ts');
  const mach = machine();
  const loadStart = load();
  console.log(`threadtrain peak memory: MNIST MLP 784-256-128-10, batch ${BATCH}, ${epochs} epochs + test evaluation, one child process per run`);
  console.log(`machine: ${mach}`);
  console.log(`command: ${cmd}`);
  console.log(`code: ${revision()}`);
  console.log(`load average at start (1/5/15 min): ${loadStart}\n`);

  const configs = [0, ...threadList];
  const reports = new Map<number, ChildReport[]>(configs.map((t) => [t, []]));
  for (let rep = 0; rep < repeats; rep++) {
    for (const t of configs) {
      const r = runChild(t, epochs);
      reports.get(t)!.push(r);
      process.stderr.write(`  repeat ${rep + 1}/${repeats}, ${t === 0 ? 'data only' : `${t} thread(s)`}: maxRSS ${fixed(r.maxRssMiB, 1)} MiB\n`);
    }
  }
  const trainSet = loadMnist('train');
  const testSet = loadMnist('t10k');
  const shared = sharedBytes(trainSet.n, testSet.n) / MiB;
  const dataMiB = (trainSet.x.byteLength + trainSet.y.byteLength + testSet.x.byteLength + testSet.y.byteLength) / MiB;
  const med = (t: number, f: (r: ChildReport) => number) => median(reports.get(t)!.map(f));
  const baseline = med(0, (r) => r.maxRssMiB);
  const one = threadList.includes(1) ? med(1, (r) => r.maxRssMiB) : NaN;
  const rows = configs.map((t) => {
    const peak = med(t, (r) => r.maxRssMiB);
    return [
      t === 0 ? 'data only (no training)' : `${t} thread${t === 1 ? '' : 's'}`, fixed(peak, 1), fixed(med(t, (r) => r.sampledRssMiB), 1),
      fixed(med(t, (r) => r.sampledHeapMiB), 1), fixed(med(t, (r) => r.sampledExternalMiB), 1),
      t === 0 ? '—' : fixed(peak - baseline, 1), t <= 1 ? '—' : fixed(peak - one, 1),
      t === 0 ? '—' : fixed(100 * med(t, (r) => r.testAccuracy ?? NaN), 2) + '%',
    ];
  });
  console.log(`peak memory, MiB, median of ${repeats} child processes. maxRSS: the kernel's peak resident set (all threads); sampled: peaks of`);
  console.log('process.memoryUsage() every 10 ms (rss, main-thread V8 heap used, external + array buffers as the main thread sees them).\n');
  console.log(table(['run', 'maxRSS', 'sampled rss', 'main heap used', 'external + ArrayBuffers', '+ over data only', '+ over 1 thread', 'test accuracy'], rows));
  console.log(`\nfor scale: the float32 MNIST arrays as loaded (train + t10k, x and y) are ${fixed(dataMiB, 1)} MiB; the shared memory train() allocates for`);
  console.log(`this run (dataset copy, parameters, gradients, Wᵀ, per-batch scratch) is ${fixed(shared, 1)} MiB.`);
  const pooled = threadList.filter((t) => t > 1).sort((a, b) => a - b);
  if (pooled.length > 0 && threadList.includes(1)) {
    const t = pooled[0]!;
    console.log(`1 thread trains in-process; ${t} threads run ${t} pool workers: ${t} threads − 1 thread = ${fixed(med(t, (r) => r.maxRssMiB) - one, 1)} MiB, ` +
      `${fixed((med(t, (r) => r.maxRssMiB) - one) / t, 1)} MiB per worker.`);
  }
  if (pooled.length > 1) {
    const [a, b] = [pooled[0]!, pooled[pooled.length - 1]!];
    console.log(`per extra pool worker, ${a} → ${b} threads: ${fixed((med(b, (r) => r.maxRssMiB) - med(a, (r) => r.maxRssMiB)) / (b - a), 1)} MiB.`);
  }
  console.log(`load average at end (1/5/15 min): ${load()}`);
  for (const t of configs) {
    json.write({
      bench: 'memory', threads: t, maxRssMiB: med(t, (r) => r.maxRssMiB), sampledRssMiB: med(t, (r) => r.sampledRssMiB),
      runs: reports.get(t)!, overDataOnlyMiB: t === 0 ? null : med(t, (r) => r.maxRssMiB) - baseline,
      sharedMemoryMiB: shared, datasetMiB: dataMiB, epochs, batch: BATCH, repeats, loadStart, machine: mach, command: cmd, revision: revision(), date: new Date().toISOString(),
    });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
