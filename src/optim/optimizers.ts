// Optimizer update rules over flat Float32 buffers. Each worker thread calls
// `applyUpdate` on the parameter range it owns, so every rule here is a pure per-element
// function of (param, grad, state) at the same index: no reductions, no cross-element
// reads. The result is therefore bit-identical however [lo, hi) is split across threads.
// Validation of user options lives in `resolveOptimizer`; the hot loop assumes valid input.

import { ConfigError, describe } from '../errors.ts';

// `describe` goes through JSON, which prints NaN and Infinity as null.
const show = (value: unknown): string => (typeof value === 'number' ? String(value) : describe(value));

export const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface OptimizerOptions {
  name?: OptimizerName;
  /** momentum/nesterov: μ in [0, 1), default 0.9. */
  momentum?: number;
  /** adam/adamw: β1 in [0, 1), default 0.9. */
  beta1?: number;
  /** adam/adamw: β2 in [0, 1), default 0.999. */
  beta2?: number;
  /** adam/adamw/rmsprop: added to the denominator, default 1e-8. */
  eps?: number;
  /** rmsprop smoothing constant in [0, 1), default 0.99. */
  alpha?: number;
  /** L2 penalty added to the gradient (decoupled for adamw). Default 0, or 0.01 for adamw (as PyTorch). */
  weightDecay?: number;
  /** Global-norm gradient clipping threshold; 0 or undefined turns clipping off. */
  clipNorm?: number;
}

/** Every field resolved; fields that do not apply to `name` hold their defaults and are ignored. */
export interface OptimizerConfig {
  readonly name: OptimizerName;
  readonly momentum: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly alpha: number;
  readonly weightDecay: number;
  /** 0 = off. */
  readonly clipNorm: number;
}

const DEFAULTS = {
  name: 'sgd',
  momentum: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  alpha: 0.99,
  clipNorm: 0,
} as const;

// Which tuning fields each optimizer reads. A field set for an optimizer that ignores it
// is almost always a mistake (e.g. `beta1` with `sgd`), so it is rejected, not dropped.
const FIELDS: Record<OptimizerName, readonly (keyof OptimizerOptions)[]> = {
  sgd: ['weightDecay', 'clipNorm'],
  momentum: ['momentum', 'weightDecay', 'clipNorm'],
  nesterov: ['momentum', 'weightDecay', 'clipNorm'],
  adam: ['beta1', 'beta2', 'eps', 'weightDecay', 'clipNorm'],
  adamw: ['beta1', 'beta2', 'eps', 'weightDecay', 'clipNorm'],
  rmsprop: ['alpha', 'eps', 'weightDecay', 'clipNorm'],
};

const ALL_FIELDS: readonly string[] = ['name', 'momentum', 'beta1', 'beta2', 'eps', 'alpha', 'weightDecay', 'clipNorm'];

/** Validate user options and fill in defaults. Throws ConfigError naming `${where}.field`. */
export function resolveOptimizer(options: OptimizerOptions, where = 'optimizer'): OptimizerConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(
      `${where} must be an object (got ${show(options)})`,
      `write e.g. { "name": "adam", "beta1": 0.9 }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!ALL_FIELDS.includes(key)) {
      throw new ConfigError(
        `${where}.${key} is not an optimizer option`,
        `known options: ${ALL_FIELDS.join(', ')}; the learning rate and its schedule are set outside the optimizer`,
      );
    }
  }
  const name = options.name ?? DEFAULTS.name;
  if (!(OPTIMIZERS as readonly unknown[]).includes(name)) {
    throw new ConfigError(
      `${where}.name must be one of ${OPTIMIZERS.join(', ')} (got ${show(name)})`,
      'names are lower case; use "nesterov" for SGD with Nesterov momentum',
    );
  }
  for (const key of ALL_FIELDS) {
    if (key === 'name') continue;
    const value = options[key as keyof OptimizerOptions];
    if (value !== undefined && !FIELDS[name].includes(key as keyof OptimizerOptions)) {
      throw new ConfigError(
        `${where}.${key} does not apply to optimizer "${name}" (got ${show(value)})`,
        `"${name}" reads only ${FIELDS[name].join(', ')}; remove ${key} or pick another optimizer`,
      );
    }
  }

  const fraction = (key: 'momentum' | 'beta1' | 'beta2' | 'alpha', fallback: number, hint: string): number => {
    const value = options[key] ?? fallback;
    if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
      throw new ConfigError(`${where}.${key} must be in [0, 1) (got ${show(value)})`, hint);
    }
    return value;
  };
  const nonNegative = (key: 'weightDecay' | 'clipNorm', fallback: number, hint: string): number => {
    const value = options[key] ?? fallback;
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new ConfigError(`${where}.${key} must be a finite number >= 0 (got ${show(value)})`, hint);
    }
    return value;
  };

  const momentum = fraction('momentum', DEFAULTS.momentum, 'typical values are 0.9 or 0.99');
  if (name === 'nesterov' && momentum === 0) {
    throw new ConfigError(
      `${where}.momentum must be > 0 for nesterov (got 0)`,
      'Nesterov with zero momentum is plain SGD; use "sgd" instead',
    );
  }
  const beta1 = fraction('beta1', DEFAULTS.beta1, 'the Adam paper and PyTorch use beta1 = 0.9');
  const beta2 = fraction('beta2', DEFAULTS.beta2, 'the Adam paper and PyTorch use beta2 = 0.999');
  const alpha = fraction('alpha', DEFAULTS.alpha, 'PyTorch RMSprop uses alpha = 0.99');
  const eps = options.eps ?? DEFAULTS.eps;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw new ConfigError(
      `${where}.eps must be a finite number > 0 (got ${show(eps)})`,
      'eps keeps the division finite where the second moment is 0; 1e-8 is the usual value',
    );
  }
  const weightDecay = nonNegative('weightDecay', name === 'adamw' ? 0.01 : 0, 'typical values are 0 to 1e-2');
  const clipNorm = nonNegative('clipNorm', DEFAULTS.clipNorm, 'use 0 to turn clipping off, or e.g. 1.0 to clip the global gradient norm');
  return { name, momentum, beta1, beta2, eps, alpha, weightDecay, clipNorm };
}

/** How many parameter-sized Float32 state buffers the optimizer keeps (same layout as params). */
export function stateBuffers(cfg: OptimizerConfig): number {
  switch (cfg.name) {
    case 'sgd': return 0;
    case 'momentum':
    case 'nesterov':
    case 'rmsprop': return 1;
    case 'adam':
    case 'adamw': return 2;
  }
}

/** Factor that brings the gradient's global L2 norm down to `clipNorm` (PyTorch `clip_grad_norm_`). */
export function clipScale(globalNorm: number, clipNorm: number): number {
  if (!(clipNorm > 0)) return 1;
  // NaN norms propagate as NaN so that the non-finite check downstream still fires.
  return Math.min(1, clipNorm / (globalNorm + 1e-6));
}

/**
 * One update of params[lo, hi) in place, following PyTorch's `torch.optim` conventions
 * (dampening 0, no amsgrad, no centered RMSprop). With g = grads[i]·gradScale:
 *
 * - sgd:      g += wd·p;  p −= lr·g
 * - momentum: g += wd·p;  buf = μ·buf + g;  p −= lr·buf
 *             (buf starts at 0, so the first step gives buf = g, as PyTorch's clone)
 * - nesterov: g += wd·p;  buf = μ·buf + g;  g' = g + μ·buf;  p −= lr·g'
 * - adam:     g += wd·p (L2);  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;
 *             m̂ = m/(1−β1^t);  v̂ = v/(1−β2^t);  p −= lr·m̂/(√v̂ + eps)
 * - adamw:    p ·= (1 − lr·wd) (decoupled decay), then the adam step with no L2 term
 * - rmsprop:  g += wd·p;  v = α·v + (1−α)·g²;  p −= lr·g/(√v + eps)
 *
 * State buffers: momentum/nesterov [buf]; adam/adamw [m, v]; rmsprop [v]. All start at 0.
 * `t` is the 1-based update count (Adam bias correction). Arithmetic is in doubles;
 * params and state are rounded to float32 once per element when stored.
 * The gradient buffer is only read.
 */
export function applyUpdate(
  cfg: OptimizerConfig,
  params: Float32Array,
  grads: Float32Array,
  state: readonly Float32Array[],
  lo: number,
  hi: number,
  lr: number,
  t: number,
  gradScale: number,
): void {
  const wd = cfg.weightDecay;
  const s = gradScale;
  if (state.length < stateBuffers(cfg)) {
    throw new RangeError(`optimizer "${cfg.name}" needs ${stateBuffers(cfg)} state buffers, got ${state.length}`);
  }
  switch (cfg.name) {
    case 'sgd': {
      for (let i = lo; i < hi; i++) {
        const p = params[i]!;
        const g = grads[i]! * s + wd * p;
        params[i] = p - lr * g;
      }
      return;
    }
    case 'momentum': {
      const buf = state[0]!;
      const mu = cfg.momentum;
      for (let i = lo; i < hi; i++) {
        const p = params[i]!;
        const g = grads[i]! * s + wd * p;
        const b = mu * buf[i]! + g;
        buf[i] = b;
        params[i] = p - lr * b;
      }
      return;
    }
    case 'nesterov': {
      const buf = state[0]!;
      const mu = cfg.momentum;
      for (let i = lo; i < hi; i++) {
        const p = params[i]!;
        const g = grads[i]! * s + wd * p;
        const b = mu * buf[i]! + g;
        buf[i] = b;
        params[i] = p - lr * (g + mu * b);
      }
      return;
    }
    case 'adam':
    case 'adamw': {
      const m = state[0]!;
      const v = state[1]!;
      const { beta1, beta2, eps } = cfg;
      // Both corrections depend only on t, so every thread computes the same doubles.
      const bc1 = 1 - Math.pow(beta1, t);
      const bc2 = 1 - Math.pow(beta2, t);
      const decoupled = cfg.name === 'adamw';
      const l2 = decoupled ? 0 : wd;
      const shrink = decoupled ? 1 - lr * wd : 1;
      for (let i = lo; i < hi; i++) {
        const p = params[i]! * shrink;
        const g = grads[i]! * s + l2 * params[i]!;
        const mi = beta1 * m[i]! + (1 - beta1) * g;
        const vi = beta2 * v[i]! + (1 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        params[i] = p - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
      }
      return;
    }
    case 'rmsprop': {
      const v = state[0]!;
      const { alpha, eps } = cfg;
      for (let i = lo; i < hi; i++) {
        const p = params[i]!;
        const g = grads[i]! * s + wd * p;
        const vi = alpha * v[i]! + (1 - alpha) * g * g;
        v[i] = vi;
        params[i] = p - (lr * g) / (Math.sqrt(vi) + eps);
      }
      return;
    }
  }
}
