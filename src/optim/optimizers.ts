// Optimizer update rules over flat Float32 buffers. Each worker thread runs the rule
// (`applyRule`, or the wasm kernel's bit-identical copy of it, kernel.ts `update`/`updateUnits`)
// on the parameter range it owns, with the step's constants from `updateRule`. Every rule is a pure per-element
// function of (param, grad, state) at the same index: no reductions, no cross-element
// reads. The result is therefore bit-identical however [lo, hi) is split across threads.
// User options are parsed and defaulted by the options schema (options/schema.ts); the hot
// loop takes the resolved config as given.

import {
  U_DECAY, U_DECAY2, U_EPS, U_GAIN, U_GAIN2, U_L2, U_LR, U_RSQRT_BC2, U_SCALE, U_SHRINK, U_STEP, UPDATE_ADAM, UPDATE_CONSTANTS,
  UPDATE_MOMENTUM, UPDATE_NESTEROV, UPDATE_RMSPROP, UPDATE_SGD, type UpdateRule,
} from '../kernels/kernel.ts';

export const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

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
 * One update's constants, built once per step from the optimizer, the learning rate, the
 * step number and the clipping scale: the kernel's UpdateRule (kernel.ts), doubles at fixed
 * slots. `applyRule` (TypeScript) and matmul.wat's `update` (wasm) both run the per-element
 * formulas of `applyUpdate` on these same doubles, so both give the same bits.
 */
export function updateRule(cfg: OptimizerConfig, lr: number, t: number, gradScale: number): UpdateRule {
  const c = new Float64Array(UPDATE_CONSTANTS);
  c[U_LR] = lr;
  c[U_SCALE] = gradScale;
  // AdamW's decay is decoupled: no L2 term in the gradient, p shrunk by (1 − lr·wd) instead.
  c[U_L2] = cfg.name === 'adamw' ? 0 : cfg.weightDecay;
  c[U_SHRINK] = cfg.name === 'adamw' ? 1 - lr * cfg.weightDecay : 1;
  c[U_EPS] = cfg.eps;
  switch (cfg.name) {
    case 'sgd':
      return { kind: UPDATE_SGD, c };
    case 'momentum':
    case 'nesterov':
      c[U_DECAY] = cfg.momentum;
      return { kind: cfg.name === 'momentum' ? UPDATE_MOMENTUM : UPDATE_NESTEROV, c };
    case 'adam':
    case 'adamw':
      c[U_DECAY] = cfg.beta1;
      c[U_GAIN] = 1 - cfg.beta1;
      c[U_DECAY2] = cfg.beta2;
      c[U_GAIN2] = 1 - cfg.beta2;
      // PyTorch's form of the bias corrections: step = lr/(1 − β1^t) and √v̂ = √v/√(1 − β2^t),
      // here a product with 1/√(1 − β2^t), so an element costs one division and one square
      // root. Both depend only on t, so every thread computes the same doubles.
      c[U_STEP] = lr / (1 - Math.pow(cfg.beta1, t));
      c[U_RSQRT_BC2] = 1 / Math.sqrt(1 - Math.pow(cfg.beta2, t));
      return { kind: UPDATE_ADAM, c };
    case 'rmsprop':
      c[U_DECAY] = cfg.alpha;
      c[U_GAIN] = 1 - cfg.alpha;
      return { kind: UPDATE_RMSPROP, c };
  }
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
 *             p −= step·m/(√v·r + eps), step = lr/(1−β1^t), r = 1/√(1−β2^t)
 *             (PyTorch's form of m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), p −= lr·m̂/(√v̂ + eps))
 * - adamw:    p ·= (1 − lr·wd) (decoupled decay), then the adam step with no L2 term
 * - rmsprop:  g += wd·p;  v = α·v + (1−α)·g²;  p −= lr·g/(√v + eps)
 *
 * State buffers: momentum/nesterov [buf]; adam/adamw [m, v]; rmsprop [v]. All start at 0.
 * `t` is the 1-based update count (Adam bias correction). Arithmetic is in doubles;
 * params and state are rounded to float32 once per element when stored. (Not float32 per
 * operation: near a minimum a step lr·g of about the size of p leaves a small p − lr·g, and
 * float32 roundings of the step's terms then cost up to 40 float32 ulps of the result against
 * a float64 reference, where doubles stay within one. The wasm update computes in f64x2
 * lanes for the same reason, and so gives these exact bits.)
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
  if (state.length < stateBuffers(cfg)) {
    throw new RangeError(`optimizer "${cfg.name}" needs ${stateBuffers(cfg)} state buffers, got ${state.length}`);
  }
  applyRule(updateRule(cfg, lr, t, gradScale), params, grads, state[0], state[1], lo, hi);
}

/** `applyUpdate` on a rule already built (the engine builds one per step): the loops themselves. */
export function applyRule(
  rule: UpdateRule, params: Float32Array, grads: Float32Array, s0: Float32Array | undefined, s1: Float32Array | undefined,
  lo: number, hi: number,
): void {
  const c = rule.c;
  const lr = c[U_LR]!, s = c[U_SCALE]!, wd = c[U_L2]!, eps = c[U_EPS]!;
  switch (rule.kind) {
    case UPDATE_SGD:
      if (wd === 0 && s === 1) {
        // Plain SGD: g·1 is g, and + 0·p adds nothing to a finite p (PyTorch, too, adds the
        // decay term only when weight_decay ≠ 0). The wasm update takes the same shortcut.
        for (let i = lo; i < hi; i++) params[i] = params[i]! - lr * grads[i]!;
        return;
      }
      for (let i = lo; i < hi; i++) {
        const p = params[i]!;
        const g = grads[i]! * s + wd * p;
        params[i] = p - lr * g;
      }
      return;
    case UPDATE_MOMENTUM:
    case UPDATE_NESTEROV: {
      const buf = s0!;
      const mu = c[U_DECAY]!;
      const nesterov = rule.kind === UPDATE_NESTEROV;
      for (let i = lo; i < hi; i++) {
        const p = params[i]!;
        const g = grads[i]! * s + wd * p;
        const b = mu * buf[i]! + g;
        buf[i] = b;
        params[i] = p - lr * (nesterov ? g + mu * b : b);
      }
      return;
    }
    case UPDATE_ADAM: {
      const m = s0!, v = s1!;
      const beta1 = c[U_DECAY]!, gain1 = c[U_GAIN]!, beta2 = c[U_DECAY2]!, gain2 = c[U_GAIN2]!;
      const step = c[U_STEP]!, r = c[U_RSQRT_BC2]!, shrink = c[U_SHRINK]!;
      for (let i = lo; i < hi; i++) {
        const p = params[i]! * shrink;
        const g = grads[i]! * s + wd * params[i]!;
        const mi = beta1 * m[i]! + gain1 * g;
        const vi = beta2 * v[i]! + gain2 * g * g;
        m[i] = mi;
        v[i] = vi;
        params[i] = p - (step * mi) / (Math.sqrt(vi) * r + eps);
      }
      return;
    }
    case UPDATE_RMSPROP: {
      const v = s0!;
      const alpha = c[U_DECAY]!, gain = c[U_GAIN]!;
      for (let i = lo; i < hi; i++) {
        const p = params[i]!;
        const g = grads[i]! * s + wd * p;
        const vi = alpha * v[i]! + gain * g * g;
        v[i] = vi;
        params[i] = p - (lr * g) / (Math.sqrt(vi) + eps);
      }
      return;
    }
  }
}
