// bench/step_cost.ts — what one training step of a small net costs on one thread, and how
// much of it is the kernels (issue 11 item 5: the 16-128-64-26 ReLU net on `blobs`, 16
// features, 26 classes, 16,000 rows, SGD, batch 32).
//
//   npx tsx bench/step_cost.ts [--batch 32] [--rounds 5] [--epochs 2]
//
// Each round, interleaved: (a) the engine as train() runs it (planRun, startEngine, one
// engine.train command per epoch, in-process on one thread), µs per step = the epoch's wall
// time / its steps, median over the epochs after the first; (b) the same step's wasm kernel
// calls alone, back to back on the same workspace — each layer's forward product (ReLU
// fused), dX (ReLU mask fused) and dW with db, each layer's SGD update fused with its Wᵀ
// refresh (as the engine calls the wasm kernel) — with nothing between them, over as many steps as an epoch. (a) − (b) is the
// part of a step outside the kernels: gathering rows, the softmax and the loss (JS), the
// engine's loop, barriers, bookkeeping, and the calls' own JS. Medians over rounds, of the
// times and of each round's ratio (a and b run back to back, so a load that comes and goes
// on a shared machine falls on both), and the fastest round of each.

import { blobs } from '../src/data/synthetic.ts';
import { createKernel } from '../src/kernels/select.ts';
import { view } from '../src/model/layout.ts';
import { createRng } from '../src/rng.ts';
import { parseTrainOptions, resolveOptimizer } from '../src/options/parse.ts';
import { updateRule } from '../src/optim/optimizers.ts';
import type { TrainOptions } from '../src/options/schema.ts';
import { beginEpoch, planRun, prepareData, startEngine } from '../src/train/train.ts';
import { command, fixed, load, machine, median, parseFlags, revision, table } from './common.ts';

const USAGE = 'npx tsx bench/step_cost.ts [--batch 32] [--rounds 5] [--epochs 2]';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['batch', 'rounds', 'epochs'], USAGE);
  const batch = Number(flags.batch ?? 32);
  const rounds = Number(flags.rounds ?? 5);
  const epochs = Number(flags.epochs ?? 2);
  if (!(rounds >= 3) || !(epochs >= 2)) throw new Error(`--rounds must be ≥ 3 and --epochs ≥ 2 (the first is warm-up)\nhint: ${USAGE}`);
  console.log(`# bench/step_cost.ts — ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}`);
  console.log(`command: ${command('bench/step_cost.ts')}`);
  console.log(`${revision()}, load before: ${load()}\n`);

  const data = blobs({ n: 16_000, classes: 26, features: 16, spread: 0.6, seed: 7 });
  const options: TrainOptions = {
    model: { layers: [{ units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }, { units: 26, activation: 'softmax' }] },
    data, epochs: rounds * epochs, batchSize: batch, lr: 0.05, seed: 1, threads: 1, kernel: 'wasm',
  };
  const { data: _data, model, resume: _resume, ...opts } = parseTrainOptions(options);
  const prepared = prepareData(data, opts);
  const plan = planRun(model, opts, prepared);
  const engine = await startEngine(plan, prepared, { seed: opts.seed });
  const stepUs: number[] = [];
  const kernelUs: number[] = [];
  try {
    const { ws } = engine.views;
    const kernel = createKernel('wasm', engine.memory);
    const steps = plan.stepsPerEpoch;
    const layers = plan.spec.layers;
    const rng = createRng(opts.seed + 1);
    let epoch = 0;
    for (let round = 0; round < rounds; round++) {
      const perStep: number[] = [];
      for (let e = 0; e < epochs; e++, epoch++) {
        beginEpoch(engine, rng);
        const t0 = performance.now();
        await engine.train(epoch, 0, steps);
        if (e > 0) perStep.push(((performance.now() - t0) * 1000) / steps);
      }
      stepUs.push(median(perStep));
      // The kernels alone, on the last batch the engine gathered (the same shapes and sizes).
      // SGD at lr 0: the update's arithmetic, leaving the weights as they are.
      const rule = updateRule(resolveOptimizer({}), 0, 1, 1);
      const L = layers.length;
      const slots = ws.layout.layers;
      const replay = () => {
        for (let l = 0; l < L; l++) {
          const s = slots[l]!;
          const relu = layers[l]!.activation === 'relu';
          kernel.linearForward(ws.z[l]!, l === 0 ? ws.input : ws.a[l - 1]!, view(ws.paramsT, s.w), view(ws.params, s.b), batch, s.inputs, s.units, relu ? ws.a[l] : undefined);
        }
        for (let l = L - 1; l >= 1; l--) {
          const s = slots[l]!;
          kernel.linearBackwardInput(ws.delta[l - 1]!, ws.delta[l]!, view(ws.params, s.w), batch, s.inputs, s.units, ws.z[l - 1]);
        }
        for (let l = 0; l < L; l++) {
          const s = slots[l]!;
          kernel.linearBackwardWeights(view(ws.grads, s.w), view(ws.grads, s.b), ws.delta[l]!, l === 0 ? ws.input : ws.a[l - 1]!, batch, s.inputs, s.units, 0, s.units);
        }
        // The update as the engine makes it with the wasm kernel: weights fused with their Wᵀ, then biases.
        for (let l = 0; l < L; l++) {
          const s = slots[l]!;
          kernel.updateUnits!(rule, view(ws.params, s.w), view(ws.grads, s.w), undefined, undefined, view(ws.paramsT, s.w), s.inputs, s.units, 0, s.units);
          kernel.update!(rule, ws.params, ws.grads, undefined, undefined, s.b.offset, s.b.offset + s.b.length);
        }
      };
      for (let i = 0; i < steps; i++) replay(); // warm
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) replay();
      kernelUs.push(((performance.now() - t0) * 1000) / steps);
      console.log(`round ${round + 1}: step ${fixed(stepUs[round]!, 1)} µs, kernels ${fixed(kernelUs[round]!, 1)} µs, load ${load()}`);
    }
  } finally {
    await engine.close();
  }
  const step = median(stepUs);
  const kern = median(kernelUs);
  const ratios = stepUs.map((s, i) => s / kernelUs[i]!);
  const fastStep = Math.min(...stepUs);
  const fastKern = Math.min(...kernelUs);
  console.log(`\nblobs 16-128-64-26, batch ${batch}, 1 thread, wasm kernel, SGD (${rounds} rounds):\n`);
  console.log(table(
    ['', 'µs per step', 'kernels µs', 'outside kernels µs', 'step / kernels'],
    [
      ['median', fixed(step, 1), fixed(kern, 1), fixed(step - kern, 1), `${fixed(median(ratios), 2)}× (median of the rounds' ratios)`],
      ['fastest round', fixed(fastStep, 1), fixed(fastKern, 1), fixed(fastStep - fastKern, 1), `${fixed(fastStep / fastKern, 2)}×`],
    ],
  ));
  console.log(`\nrounds, step / kernels µs: ${stepUs.map((v, i) => `${fixed(v, 0)}/${fixed(kernelUs[i]!, 0)}`).join(', ')}`);
  console.log(`\nload after: ${load()}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
