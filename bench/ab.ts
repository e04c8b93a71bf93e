// bench/ab.ts — train() side by side: variants of one run (a thread count, "auto", or the
// same run on another checkout of threadtrain) interleaved round by round in one process,
// so that a load that comes and goes on a shared machine falls on every variant alike.
//
//   npx tsx bench/ab.ts [--cases mnist:32,mnist:128,blobs:32,config:xor] [--variants 1,auto]
//                       [--base DIR] [--rounds 3] [--epochs 3]
//
// A variant is THREADS or TREE:THREADS, TREE being `new` (this checkout) or `base` (the
// checkout at --base, e.g. an older commit exported with `git archive`; it must have
// train()'s threads option and a node_modules; config cases need the options layer, src/options). Cases: mnist:BATCH (784-256-128-10, SGD lr
// 0.05, the shared 22,699 training images), blobs:BATCH (the small tabular net of issue 11:
// 16 features, 26 classes, 16,000 rows, 16-128-64-26 ReLU), config:NAME (configs/NAME.json,
// its data and settings, epochs capped at --epochs). Each run trains --epochs epochs;
// samples/s is the median over the epochs after the first (the first compiles the code),
// and `run s` is the whole train() call, startup and evaluation included. Medians over the
// rounds. Every variant of a case must end with the same weights, bit for bit.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { blobs } from '../src/data/synthetic.ts';
import type { RunOptions, TrainOptions } from '../src/options/schema.ts';
import type { TrainResult } from '../src/train/train.ts';
import { command, fixed, load, loadMnist, machine, median, MNIST_LAYERS, MNIST_LR, parseFlags, revision, SEED, table } from './common.ts';

const USAGE = 'npx tsx bench/ab.ts [--cases mnist:32,blobs:32,config:xor] [--variants 1,auto | base:2,new:2] [--base DIR] [--rounds 3] [--epochs 3]';
const here = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

interface Variant {
  readonly label: string;
  readonly tree: string;
  readonly threads: number | 'auto';
}

interface Case {
  readonly label: string;
  run(tree: string, epochs: number, threads: number | 'auto'): Promise<TrainResult>;
}

const load$ = (tree: string, file: string) => import(pathToFileURL(path.join(tree, file)).href);

/** A checkout's train(): in src/api.ts, or in src/train/train.ts before the options moved to their own layer. */
async function trainOf(tree: string): Promise<(options: TrainOptions) => Promise<TrainResult>> {
  return existsSync(path.join(tree, 'src/api.ts')) ? (await load$(tree, 'src/api.ts')).train : (await load$(tree, 'src/train/train.ts')).train;
}

function parseCase(text: string): Case {
  const [kind, arg] = text.split(':');
  if (kind === 'mnist') {
    const batch = Number(arg);
    let data: ReturnType<typeof loadMnist> | undefined;
    return {
      label: `MNIST 784-256-128-10, batch ${batch}`,
      run: async (tree, epochs, threads) =>
        (await trainOf(tree))({ model: { layers: MNIST_LAYERS }, data: (data ??= loadMnist('train')), epochs, batchSize: batch, lr: MNIST_LR, seed: SEED, threads }),
    };
  }
  if (kind === 'blobs') {
    const batch = Number(arg);
    const data = blobs({ n: 16_000, classes: 26, features: 16, spread: 0.6, seed: 7 });
    const layers = [{ units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }, { units: 26, activation: 'softmax' }] as const;
    return {
      label: `blobs 16-128-64-26, 16,000 rows, batch ${batch}`,
      run: async (tree, epochs, threads) => (await trainOf(tree))({ model: { layers }, data, epochs, batchSize: batch, lr: 0.05, seed: SEED, threads }),
    };
  }
  if (kind === 'config' && arg) {
    return {
      label: `configs/${arg}.json`,
      async run(tree, epochs, threads) {
        // The config as the CLI reads it, through the checkout under test's own loader.
        const parse = await load$(tree, 'src/options/parse.ts');
        const { runTraining } = await load$(tree, 'src/train/train.ts');
        const config = parse.loadConfig(path.join(tree, 'configs', `${arg}.json`));
        const run: RunOptions = parse.runOptionsOf(config, parse.loadConfigData(config));
        return runTraining({ ...run, epochs: Math.min(run.epochs, epochs), threads });
      },
    };
  }
  throw new Error(`--cases: "${text}" is not mnist:BATCH, blobs:BATCH or config:NAME\nhint: ${USAGE}`);
}

function parseVariant(text: string, base: string | undefined): Variant {
  const [a, b] = text.includes(':') ? text.split(':') : ['new', text];
  const tree = a === 'new' ? here : a === 'base' && base ? path.resolve(base) : undefined;
  if (!tree) throw new Error(`--variants: "${text}" names tree "${a}"; use new, or base with --base DIR\nhint: ${USAGE}`);
  const threads = b === 'auto' ? 'auto' : Number(b);
  if (threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1)) throw new Error(`--variants: "${text}": threads must be a count or auto\nhint: ${USAGE}`);
  return { label: text, tree, threads };
}

const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = bitsOf(a);
  const y = bitsOf(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

interface Sample { samplesPerSec: number; runSec: number; threads: number; reason: string }

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['cases', 'variants', 'base', 'rounds', 'epochs'], USAGE);
  const cases = (flags.cases ?? 'mnist:32,mnist:128,blobs:32').split(',').map(parseCase);
  const variants = (flags.variants ?? '1,auto').split(',').map((v) => parseVariant(v, flags.base));
  const rounds = Number(flags.rounds ?? 3);
  const epochs = Number(flags.epochs ?? 3);
  if (!(rounds >= 3) || !(epochs >= 2)) throw new Error(`--rounds must be ≥ 3 (a median) and --epochs ≥ 2 (the first is warm-up)\nhint: ${USAGE}`);
  console.log(`# bench/ab.ts — ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}`);
  console.log(`command: ${command('bench/ab.ts')}`);
  console.log(`new = ${revision()}${flags.base ? `; base = ${path.resolve(flags.base)}` : ''}`);
  console.log(`load before: ${load()}\n`);

  const samples = new Map<string, Sample[]>();
  const finals = new Map<string, Float32Array>();
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      // Rotate the order each round: no variant always runs first (cold) or last.
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const v of order) {
        const t0 = performance.now();
        const r = await c.run(v.tree, epochs, v.threads);
        const runSec = (performance.now() - t0) / 1000;
        const timed = r.history.slice(1).map((h) => h.samplesPerSec);
        const key = `${c.label}|${v.label}`;
        const plan = (r as { threadPlan?: { reason: string } }).threadPlan;
        samples.set(key, [...(samples.get(key) ?? []), { samplesPerSec: median(timed), runSec, threads: r.threads, reason: plan?.reason ?? '' }]);
        const ref = finals.get(c.label);
        if (!ref) finals.set(c.label, r.model.params);
        else if (!sameBits(ref, r.model.params)) throw new Error(`BITS DIFFER: ${c.label}, variant ${v.label} against ${variants[0]!.label}`);
      }
    }
    console.log(`round ${round + 1} of ${rounds} done, load ${load()}`);
  }

  const rows: string[][] = [];
  for (const c of cases) {
    const first = samples.get(`${c.label}|${variants[0]!.label}`)!;
    const refRate = median(first.map((s) => s.samplesPerSec));
    const refRun = median(first.map((s) => s.runSec));
    for (const v of variants) {
      const s = samples.get(`${c.label}|${v.label}`)!;
      const rate = median(s.map((x) => x.samplesPerSec));
      const run = median(s.map((x) => x.runSec));
      rows.push([
        c.label, v.label, String(s[0]!.threads), Math.round(rate).toLocaleString('en-US'),
        s.map((x) => Math.round(x.samplesPerSec).toLocaleString('en-US')).join(' / '), `${fixed(rate / refRate, 2)}×`,
        fixed(run, 2), `${fixed(refRun / run, 2)}×`,
      ]);
    }
  }
  console.log(`\nsamples/s: median over rounds of each run's median epoch after the first; speed = against variant ${variants[0]!.label}`);
  console.log('(samples/s ratio, and run-time ratio of the whole train() call). Final weights bitwise identical across variants ✓\n');
  console.log(table(['case', 'variant', 'threads', 'samples/s', 'rounds', 'speed', 'run s', 'run speed'], rows));
  const reasons = new Set([...samples.values()].map((s) => s[0]!.reason).filter(Boolean));
  if (reasons.size > 0) console.log(`\nthread plans:\n${[...reasons].map((r) => `- ${r}`).join('\n')}`);
  console.log(`\nload after: ${load()}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
