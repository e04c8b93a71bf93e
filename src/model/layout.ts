// All parameters of a model live in one flat Float32 buffer (llm.c style). The layout
// table says where each tensor sits: layer l has W{l} (OUT, IN), b{l} (OUT) and, for
// prelu, a{l} (OUT). Every tensor starts on a 16-float (64-byte) boundary so that no two
// threads that own different tensors ever write the same cache line, and SIMD loads
// stay aligned. Gradients and optimizer state use the same layout, offset for offset.

import { fanIn, type ModelSpec } from './spec.ts';

export const ALIGN_FLOATS = 16;

export function alignUp(n: number, to = ALIGN_FLOATS): number {
  return Math.ceil(n / to) * to;
}

export interface TensorSlot {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly length: number;
}

export interface LayerSlots {
  readonly inputs: number;
  readonly units: number;
  readonly w: TensorSlot;
  readonly b: TensorSlot;
  /** Learned prelu slopes, one per unit; absent for other activations. */
  readonly a: TensorSlot | undefined;
}

export interface ParamLayout {
  readonly tensors: readonly TensorSlot[];
  readonly layers: readonly LayerSlots[];
  /** Floats in the buffer, padding included. */
  readonly size: number;
  /** Trainable numbers, padding excluded. */
  readonly count: number;
}

export function paramLayout(spec: ModelSpec): ParamLayout {
  const tensors: TensorSlot[] = [];
  const layers: LayerSlots[] = [];
  let offset = 0;
  let count = 0;
  const add = (name: string, shape: number[]): TensorSlot => {
    const length = shape.reduce((p, d) => p * d, 1);
    const slot = { name, shape, offset, length };
    tensors.push(slot);
    offset = alignUp(offset + length);
    count += length;
    return slot;
  };
  spec.layers.forEach((layer, l) => {
    const IN = fanIn(spec, l);
    const OUT = layer.units;
    const w = add(`W${l}`, [OUT, IN]);
    const b = add(`b${l}`, [OUT]);
    const a = layer.activation === 'prelu' ? add(`a${l}`, [OUT]) : undefined;
    layers.push({ inputs: IN, units: OUT, w, b, a });
  });
  return { tensors, layers, size: offset, count };
}

/** A view of one tensor inside a flat buffer laid out by `paramLayout`. */
export function view<F extends Float32Array | Float64Array>(buffer: F, slot: TensorSlot): F {
  return buffer.subarray(slot.offset, slot.offset + slot.length) as F;
}
