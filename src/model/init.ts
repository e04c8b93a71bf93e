// Seeded weight initialisation into the flat parameter buffer. Draw order is fixed
// (layer by layer, W row-major), so a seed gives the same bits everywhere. Biases start
// at zero; prelu slopes start at the layer's alpha (0.25 unless given).
//   glorot_uniform U(±√(6/(in+out)))   glorot_normal N(0, √(2/(in+out)))
//   he_uniform     U(±√(6/in))         he_normal     N(0, √(2/in))
//   lecun_normal   N(0, √(1/in))       zeros

import type { Rng } from '../rng.ts';
import { view, type ParamLayout } from './layout.ts';
import { defaultInitializer, layerAlpha, type InitializerName, type ModelSpec } from './spec.ts';

/** Explicit weights for one layer: w is OUT rows of IN numbers, b is OUT numbers. */
export interface ExplicitLayerWeights {
  readonly w: readonly (readonly number[])[];
  readonly b?: readonly number[];
  readonly a?: readonly number[];
}

export function initializeParams(
  spec: ModelSpec, layout: ParamLayout, params: Float32Array | Float64Array, rng: Rng,
  explicit?: readonly (ExplicitLayerWeights | undefined)[],
): void {
  params.fill(0);
  spec.layers.forEach((layer, l) => {
    const slots = layout.layers[l]!;
    const w = view(params, slots.w);
    const given = explicit?.[l];
    if (given) {
      for (let j = 0; j < slots.units; j++)
        for (let k = 0; k < slots.inputs; k++) w[j * slots.inputs + k] = given.w[j]![k]!;
      if (given.b) view(params, slots.b).set(given.b);
    } else {
      fillInitializer(w, layer.init ?? defaultInitializer(layer.activation), slots.inputs, slots.units, rng);
    }
    if (slots.a) {
      const a = view(params, slots.a);
      if (given?.a) a.set(given.a);
      else a.fill(layerAlpha(layer));
    }
  });
}

export function fillInitializer(w: Float32Array | Float64Array, init: InitializerName, fanIn: number, fanOut: number, rng: Rng): void {
  switch (init) {
    case 'zeros':
      w.fill(0);
      return;
    case 'glorot_uniform':
      return fillUniform(w, Math.sqrt(6 / (fanIn + fanOut)), rng);
    case 'he_uniform':
      return fillUniform(w, Math.sqrt(6 / fanIn), rng);
    case 'glorot_normal':
      return fillNormal(w, Math.sqrt(2 / (fanIn + fanOut)), rng);
    case 'he_normal':
      return fillNormal(w, Math.sqrt(2 / fanIn), rng);
    case 'lecun_normal':
      return fillNormal(w, Math.sqrt(1 / fanIn), rng);
  }
}

function fillUniform(w: Float32Array | Float64Array, limit: number, rng: Rng): void {
  for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * limit;
}

function fillNormal(w: Float32Array | Float64Array, std: number, rng: Rng): void {
  for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
}
