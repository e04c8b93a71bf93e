// What a network is, as plain data: the input width and a list of dense layers, each
// with its width and activation, and the loss. User-supplied specs are checked by the
// options schema (options/schema.ts); this file only names things and derives shapes.

export const ACTIVATIONS = [
  'identity', 'step', 'sign', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'prelu', 'elu', 'softmax',
] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export const LOSSES = ['mse', 'bce', 'cross_entropy'] as const;
export type LossName = (typeof LOSSES)[number];

export const INITIALIZERS = [
  'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_normal', 'zeros',
] as const;
export type InitializerName = (typeof INITIALIZERS)[number];

export interface LayerSpec {
  readonly units: number;
  readonly activation: ActivationName;
  /** Slope for leaky_relu (default 0.01), scale for elu (default 1), initial slope for prelu (default 0.25). */
  readonly alpha?: number;
  /** Weight initializer; biases start at zero. Default: he_uniform for relu-like units, glorot_uniform otherwise. */
  readonly init?: InitializerName;
}

export interface ModelSpec {
  readonly inputs: number;
  readonly layers: readonly LayerSpec[];
  readonly loss: LossName;
}

/** Default alpha per activation (the value used when a layer gives none). */
export function defaultAlpha(activation: ActivationName): number {
  switch (activation) {
    case 'leaky_relu': return 0.01;
    case 'elu': return 1;
    case 'prelu': return 0.25;
    default: return 0;
  }
}

export function layerAlpha(layer: LayerSpec): number {
  return layer.alpha ?? defaultAlpha(layer.activation);
}

export function defaultInitializer(activation: ActivationName): InitializerName {
  return activation === 'relu' || activation === 'leaky_relu' || activation === 'prelu' || activation === 'elu'
    ? 'he_uniform'
    : 'glorot_uniform';
}

/** Input width of layer l. */
export function fanIn(spec: ModelSpec, l: number): number {
  return l === 0 ? spec.inputs : spec.layers[l - 1]!.units;
}

export function outputUnits(spec: ModelSpec): number {
  return spec.layers[spec.layers.length - 1]!.units;
}
