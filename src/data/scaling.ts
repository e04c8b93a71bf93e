// Per-feature input scaling as x' = (x − offset) · scale: one affine form covers
// standardisation, min-max and identity, and serialises as two arrays beside a model.
// Fit it on the training split only, then apply the same scaler to validation, test and
// anything evaluated later, so no statistic leaks from held-out rows.

import { ConfigError, DataError, describe } from '../errors.ts';
import type { Dataset } from './dataset.ts';

export const SCALER_METHODS = ['standard', 'minmax', 'none'] as const;
export type ScalerMethod = (typeof SCALER_METHODS)[number];

export interface Scaler {
  readonly method: ScalerMethod;
  readonly offset: Float32Array;
  readonly scale: Float32Array;
}

/** 1/spread, or 1 where the column is constant (or so flat its inverse overflows float32). */
function inverse(spread: number): number {
  const inv = 1 / spread;
  return spread > 0 && Number.isFinite(Math.fround(inv)) ? inv : 1;
}

/**
 * Fit a scaler on `ds` (the training split). standard: offset = mean, scale = 1/σ with
 * the population σ; minmax: offset = min, scale = 1/(max − min), mapping to [0, 1]; none:
 * the identity. Sums run in float64, two-pass for the variance. A constant column gets
 * scale 1, so it maps to 0 instead of dividing by zero.
 */
export function fitScaler(method: ScalerMethod, ds: Dataset): Scaler {
  if (!SCALER_METHODS.includes(method)) {
    throw new ConfigError(
      `scaler method must be one of ${SCALER_METHODS.map((m) => describe(m)).join(', ')}, found ${describe(method)}`,
      '"standard" suits most inputs; "minmax" keeps values in [0, 1]',
    );
  }
  const { n, features: f, x } = ds;
  const offset = new Float32Array(f);
  const scale = new Float32Array(f).fill(1);
  if (method === 'none') return { method, offset, scale };
  if (n === 0) throw new DataError('cannot fit a scaler on a dataset with no rows', 'fit on the training split');

  const a = new Float64Array(f);
  const b = new Float64Array(f);
  if (method === 'standard') {
    for (let r = 0; r < n; r++) for (let j = 0; j < f; j++) a[j]! += x[r * f + j]!;
    for (let j = 0; j < f; j++) a[j]! /= n;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < f; j++) {
        const d = x[r * f + j]! - a[j]!;
        b[j]! += d * d;
      }
    }
    for (let j = 0; j < f; j++) b[j] = Math.sqrt(b[j]! / n);
  } else {
    a.fill(Infinity);
    b.fill(-Infinity);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < f; j++) {
        const v = x[r * f + j]!;
        // NaN fails every comparison, so it would slip past min/max; poison the column instead.
        if (v !== v) a[j] = b[j] = NaN;
        else if (v < a[j]!) a[j] = v;
        if (v > b[j]!) b[j] = v;
      }
    }
    for (let j = 0; j < f; j++) b[j] = b[j]! - a[j]!;
  }
  for (let j = 0; j < f; j++) {
    if (!Number.isFinite(a[j]!) || !Number.isFinite(b[j]!)) {
      throw new DataError(
        `cannot fit a ${method} scaler: feature ${j + 1} of ${f}${ds.featureNames?.[j] !== undefined ? ` (${describe(ds.featureNames[j])})` : ''} holds NaN or infinite values`,
        'clean the input data before training',
      );
    }
    offset[j] = a[j]!;
    scale[j] = inverse(b[j]!);
  }
  return { method, offset, scale };
}

/** A new dataset with scaled inputs; targets are shared with `ds`, not copied. */
export function applyScaler<D extends Dataset>(scaler: Scaler, ds: D): D {
  const f = ds.features;
  if (scaler.offset.length !== f || scaler.scale.length !== f) {
    throw new DataError(
      `scaler was fitted on ${scaler.offset.length} features but the dataset has ${f}`,
      'apply the scaler saved with the model to data with the same columns it was trained on',
    );
  }
  const src = ds.x;
  const x = new Float32Array(src.length);
  const { offset, scale } = scaler;
  for (let i = 0, j = 0; i < src.length; i++) {
    x[i] = (src[i]! - offset[j]!) * scale[j]!;
    if (++j === f) j = 0;
  }
  return { ...ds, x };
}
