// Floating-point operations per training sample of a dense network, counted as the kernels
// compute them (kernels/kernel.ts): every product and every sum is one FLOP. Forward, each
// output unit is IN products, IN sums and the bias add: (2·IN + 1)·OUT per layer. Backward,
// the weight gradient is IN products and IN sums per weight (2·IN·OUT), the bias gradient one
// sum per unit (OUT), and the input gradient 2·IN·OUT — except for the first layer, whose
// input gradient nothing needs, so the engine never computes it. Activations, the loss and
// the optimizer's update are not counted: they are per value, not per weight.

import { fanIn, type ModelSpec } from './spec.ts';

export interface LayerFlops {
  readonly forward: number;
  readonly backward: number;
}

export function layerFlops(spec: ModelSpec): LayerFlops[] {
  return spec.layers.map((layer, l) => {
    const IN = fanIn(spec, l);
    const OUT = layer.units;
    const weightGrad = 2 * IN * OUT + OUT;
    const inputGrad = l === 0 ? 0 : 2 * IN * OUT;
    return { forward: (2 * IN + 1) * OUT, backward: weightGrad + inputGrad };
  });
}

/** Per sample: the forward pass alone (prediction), and forward plus backward (a training step). */
export function flopsPerSample(spec: ModelSpec): { forward: number; forwardBackward: number } {
  const layers = layerFlops(spec);
  const forward = layers.reduce((s, l) => s + l.forward, 0);
  return { forward, forwardBackward: forward + layers.reduce((s, l) => s + l.backward, 0) };
}
