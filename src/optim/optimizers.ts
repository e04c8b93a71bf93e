// Optimizer update rules over flat Float32 buffers. Each worker thread calls
// `applyUpdate` on the parameter range it owns, so every rule here is a pure per-element
// function of (param, grad, state) at the same index: no reductions, no cross-element
// reads. The result is therefore bit-identical however [lo, hi) is split across threads.
// User options are parsed and defaulted by the options schema (options/schema.ts); the hot
// loop takes the resolved config as given.

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
