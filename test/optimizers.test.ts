// Optimizer rules against an independent float64 reference written here (its own loop per
// rule, transcribed from the PyTorch docs' pseudo-code), a hand-worked literal, Adam's bias
// correction at t = 1, bit-identity under any split of the index range, and one test per
// validation message.

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.ts';
import {
  applyUpdate,
  clipScale,
  OPTIMIZERS,
  stateBuffers,
  type OptimizerConfig,
  type OptimizerName,
} from '../src/optim/optimizers.ts';
import { resolveOptimizer } from '../src/options/parse.ts';

// ---- independent float64 reference ---------------------------------------------------

interface Hyper {
  lr: number;
  mu: number;
  b1: number;
  b2: number;
  eps: number;
  alpha: number;
  wd: number;
}

/** One step of `name` on float64 arrays, written from the PyTorch algorithm boxes. */
function referenceStep(name: OptimizerName, h: Hyper, p: Float64Array, grad: Float64Array, s1: Float64Array, s2: Float64Array, t: number): void {
  for (let i = 0; i < p.length; i++) {
    let g = grad[i]!;
    if (name === 'adamw') {
      p[i] = p[i]! - h.lr * h.wd * p[i]!;
    } else {
      g = g + h.wd * p[i]!;
    }
    if (name === 'sgd') {
      p[i] = p[i]! - h.lr * g;
    } else if (name === 'momentum' || name === 'nesterov') {
      s1[i] = t === 1 ? g : h.mu * s1[i]! + g; // PyTorch: buf = clone(g) on the first step
      const d = name === 'nesterov' ? g + h.mu * s1[i]! : s1[i]!;
      p[i] = p[i]! - h.lr * d;
    } else if (name === 'adam' || name === 'adamw') {
      s1[i] = h.b1 * s1[i]! + (1 - h.b1) * g;
      s2[i] = h.b2 * s2[i]! + (1 - h.b2) * g * g;
      const mHat = s1[i]! / (1 - h.b1 ** t);
      const vHat = s2[i]! / (1 - h.b2 ** t);
      p[i] = p[i]! - (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
    } else {
      s1[i] = h.alpha * s1[i]! + (1 - h.alpha) * g * g;
      p[i] = p[i]! - (h.lr * g) / (Math.sqrt(s1[i]!) + h.eps);
    }
  }
}

/** Deterministic pseudo-random values in [-1, 1) (a small LCG; no dependency on src/rng). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Largest |got − want| measured in float32 ulps of max(|want|, floor). */
function maxUlps(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-3): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const ulp = Math.max(Math.abs(want[i]!), floor) * 2 ** -23;
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / ulp);
  }
  return worst;
}

const CASES: { name: OptimizerName; lr: number; options: Record<string, number> }[] = [
  { name: 'sgd', lr: 0.1, options: { weightDecay: 0.01 } },
  { name: 'momentum', lr: 0.05, options: { momentum: 0.9, weightDecay: 0.01 } },
  { name: 'nesterov', lr: 0.05, options: { momentum: 0.8, weightDecay: 0.02 } },
  { name: 'adam', lr: 0.01, options: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } },
  { name: 'adamw', lr: 0.01, options: { beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 } },
  { name: 'rmsprop', lr: 0.01, options: { alpha: 0.9, eps: 1e-8, weightDecay: 0.01 } },
];

describe('each optimizer matches a float64 reference', () => {
  // A quadratic bowl: loss = ½ Σ c_i (p_i − target_i)², grad = c·(p − target) · gradScale.
  const N = 37;
  const STEPS = 8;
  const target = values(N, 1).map((v) => 3 * v);
  const curvature = values(N, 2).map((v) => 1.5 + v);
  const start = values(N, 3).map((v) => 2 * v);
  const gradScale = 0.75;

  for (const { name, lr, options } of CASES) {
    it(`${name} over ${STEPS} steps on a quadratic`, () => {
      const cfg = resolveOptimizer({ name, ...options });
      const h: Hyper = { lr, mu: cfg.momentum, b1: cfg.beta1, b2: cfg.beta2, eps: cfg.eps, alpha: cfg.alpha, wd: cfg.weightDecay };

      const params = Float32Array.from(start);
      const grads = new Float32Array(N);
      const state = Array.from({ length: stateBuffers(cfg) }, () => new Float32Array(N));
      const p64 = Float64Array.from(start);
      const g64 = new Float64Array(N);
      const s1 = new Float64Array(N);
      const s2 = new Float64Array(N);

      for (let t = 1; t <= STEPS; t++) {
        for (let i = 0; i < N; i++) {
          grads[i] = curvature[i]! * (params[i]! - target[i]!);
          // The reference is fed the same float32 gradient so the comparison measures only the update rule.
          g64[i] = grads[i]! * gradScale;
        }
        applyUpdate(cfg, params, grads, state, 0, N, lr, t, gradScale);
        referenceStep(name, h, p64, g64, s1, s2, t);
        expect(maxUlps(params, p64), `${name} params after step ${t}`).toBeLessThanOrEqual(4);
        if (state[0]) expect(maxUlps(state[0], s1), `${name} state[0] after step ${t}`).toBeLessThanOrEqual(4);
        if (state[1]) expect(maxUlps(state[1], s2, 1e-6), `${name} state[1] after step ${t}`).toBeLessThanOrEqual(4);
        // Feed the reference our rounded params so float32 storage error does not compound.
        p64.set(params);
        s1.set(state[0] ?? s1);
        s2.set(state[1] ?? s2);
      }
      // Every rule should have made progress on the bowl.
      const dist = (p: ArrayLike<number>) => target.reduce((acc, v, i) => acc + (p[i]! - v) ** 2, 0);
      expect(dist(params)).toBeLessThan(dist(start));
    });
  }
});

describe('hand-worked values', () => {
  it('SGD with momentum 0.9, lr 0.1, over 2 steps', () => {
    // p = 1, g = 0.5 then 0.25.
    // step 1: buf = 0.5;              p = 1 − 0.1·0.5 = 0.95
    // step 2: buf = 0.9·0.5 + 0.25 = 0.7;  p = 0.95 − 0.1·0.7 = 0.88
    const cfg = resolveOptimizer({ name: 'momentum', momentum: 0.9 });
    const p = new Float32Array([1]);
    const buf = new Float32Array(1);
    applyUpdate(cfg, p, new Float32Array([0.5]), [buf], 0, 1, 0.1, 1, 1);
    expect(buf[0]).toBe(0.5);
    expect(p[0]).toBe(Math.fround(0.95));
    applyUpdate(cfg, p, new Float32Array([0.25]), [buf], 0, 1, 0.1, 2, 1);
    expect(buf[0]).toBe(Math.fround(0.7));
    expect(p[0]).toBeCloseTo(0.88, 7);
  });

  it('Nesterov looks ahead: p −= lr·(g + μ·buf) after the buf update', () => {
    // step 1: buf = 0.5; p = 1 − 0.1·(0.5 + 0.9·0.5) = 0.905
    const cfg = resolveOptimizer({ name: 'nesterov', momentum: 0.9 });
    const p = new Float32Array([1]);
    const buf = new Float32Array(1);
    applyUpdate(cfg, p, new Float32Array([0.5]), [buf], 0, 1, 0.1, 1, 1);
    expect(p[0]).toBeCloseTo(0.905, 7);
  });

  it('gradScale multiplies the gradient before weight decay is added', () => {
    // g = 2·0.5 + 0.1·4 = 1.4; p = 4 − 0.5·1.4 = 3.3
    const cfg = resolveOptimizer({ name: 'sgd', weightDecay: 0.1 });
    const p = new Float32Array([4]);
    applyUpdate(cfg, p, new Float32Array([2]), [], 0, 1, 0.5, 1, 0.5);
    expect(p[0]).toBeCloseTo(3.3, 6);
  });

  it('AdamW decays decoupled: with a zero gradient only p·(1 − lr·wd) remains', () => {
    const cfg = resolveOptimizer({ name: 'adamw', weightDecay: 0.5 });
    const p = new Float32Array([2, -3]);
    const m = new Float32Array(2);
    const v = new Float32Array(2);
    applyUpdate(cfg, p, new Float32Array(2), [m, v], 0, 2, 0.1, 1, 1);
    expect(Array.from(p)).toEqual([Math.fround(2 * 0.95), Math.fround(-3 * 0.95)]);
    // Adam with the same wd as L2 would instead move each weight by ≈ lr, since m̂/√v̂ = ±1.
    const adam = resolveOptimizer({ name: 'adam', weightDecay: 0.5 });
    const q = new Float32Array([2, -3]);
    applyUpdate(adam, q, new Float32Array(2), [new Float32Array(2), new Float32Array(2)], 0, 2, 0.1, 1, 1);
    expect(q[0]).toBeCloseTo(1.9, 6);
    expect(q[1]).toBeCloseTo(-2.9, 6);
  });
});

describe('Adam bias correction', () => {
  it('the first step moves each weight by ≈ lr·sign(g), whatever the gradient scale', () => {
    const cfg = resolveOptimizer({ name: 'adam' });
    // |g| ≫ eps (1e-8) everywhere, so the step lr·g/(|g| + eps) is lr·sign(g) to 5 digits.
    const g = new Float32Array([1e-3, 5, -200, -0.25, 1e-4]);
    const p = new Float32Array(g.length).fill(1);
    applyUpdate(cfg, p, g, [new Float32Array(g.length), new Float32Array(g.length)], 0, g.length, 0.01, 1, 1);
    for (let i = 0; i < g.length; i++) {
      // Without the correction the step would be lr·(1−β1)/√(1−β2) ≈ 3.16·lr, or lr·0.1 with only m corrected.
      expect(1 - p[i]!, `weight ${i}`).toBeCloseTo(0.01 * Math.sign(g[i]!), 5);
    }
  });

  it('at t = 3 with a constant gradient the step is still ≈ lr', () => {
    const cfg = resolveOptimizer({ name: 'adam' });
    const p = new Float32Array([0]);
    const state = [new Float32Array(1), new Float32Array(1)];
    for (let t = 1; t <= 3; t++) applyUpdate(cfg, p, new Float32Array([0.3]), state, 0, 1, 0.01, t, 1);
    expect(p[0]).toBeCloseTo(-0.03, 6);
  });
});

describe('range splitting', () => {
  it.each(OPTIMIZERS)('%s: the whole range and 3 uneven pieces give bit-identical params and state', (name) => {
    const N = 101;
    const options = name === 'sgd' ? { weightDecay: 0.01 } : name === 'momentum' || name === 'nesterov'
      ? { weightDecay: 0.01, momentum: 0.9 } : { weightDecay: 0.01 };
    const cfg: OptimizerConfig = resolveOptimizer({ name, ...options });
    const a = Float32Array.from(values(N, 7));
    const b = a.slice();
    const sa = Array.from({ length: stateBuffers(cfg) }, () => new Float32Array(N));
    const sb = Array.from({ length: stateBuffers(cfg) }, () => new Float32Array(N));
    for (let t = 1; t <= 4; t++) {
      const g = Float32Array.from(values(N, 100 + t));
      applyUpdate(cfg, a, g, sa, 0, N, 0.03, t, 0.9);
      for (const [lo, hi] of [[0, 7], [7, 64], [64, N]] as const) applyUpdate(cfg, b, g, sb, lo, hi, 0.03, t, 0.9);
    }
    const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer));
    expect(bits(b)).toEqual(bits(a));
    sa.forEach((s, k) => expect(bits(sb[k]!)).toEqual(bits(s)));
  });

  it('leaves elements outside [lo, hi) and the gradient buffer untouched', () => {
    const cfg = resolveOptimizer({ name: 'adam' });
    const p = new Float32Array([1, 2, 3, 4]);
    const g = new Float32Array([1, 1, 1, 1]);
    const state = [new Float32Array(4), new Float32Array(4)];
    applyUpdate(cfg, p, g, state, 1, 3, 0.1, 1, 1);
    expect(p[0]).toBe(1);
    expect(p[3]).toBe(4);
    expect(Array.from(g)).toEqual([1, 1, 1, 1]);
    expect(state[0]![0]).toBe(0);
    expect(state[1]![3]).toBe(0);
  });
});

describe('stateBuffers and clipScale', () => {
  it('counts state buffers per optimizer', () => {
    const counts = Object.fromEntries(OPTIMIZERS.map((name) => [name, stateBuffers(resolveOptimizer({ name }))]));
    expect(counts).toEqual({ sgd: 0, momentum: 1, nesterov: 1, adam: 2, adamw: 2, rmsprop: 1 });
  });

  it('clipScale is 1 when off or under the threshold, clipNorm/(norm + 1e-6) above it', () => {
    expect(clipScale(100, 0)).toBe(1);
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(4, 1)).toBe(1 / (4 + 1e-6));
    expect(clipScale(Number.NaN, 1)).toBeNaN();
  });

  it('scaling by clipScale brings the global norm down to clipNorm', () => {
    const grads = Float32Array.from(values(50, 9).map((v) => 10 * v));
    const norm = Math.hypot(...grads);
    const scale = clipScale(norm, 2);
    const cfg = resolveOptimizer({ name: 'sgd', clipNorm: 2 });
    const p = new Float32Array(50);
    applyUpdate(cfg, p, grads, [], 0, 50, 1, 1, scale);
    // With p = 0 and lr = 1 the update is exactly −scale·g.
    expect(Math.hypot(...p)).toBeCloseTo(2, 5);
  });
});

describe('resolveOptimizer', () => {
  it('fills PyTorch defaults', () => {
    expect(resolveOptimizer({})).toEqual({
      name: 'sgd', momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, alpha: 0.99, weightDecay: 0, clipNorm: 0,
    });
    expect(resolveOptimizer({ name: 'adamw' }).weightDecay).toBe(0.01);
    expect(resolveOptimizer({ name: 'adam' }).weightDecay).toBe(0);
  });

  const rejects = (options: unknown, message: string, where?: string, hint?: string) => {
    let error: unknown;
    try {
      resolveOptimizer(options as never, where);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split('\n')[0]).toBe(message);
    expect((error as ConfigError).hint).toBeTruthy();
    if (hint !== undefined) expect((error as ConfigError).hint).toBe(hint);
  };

  it('rejects a non-object', () => rejects('adam', 'optimizer: expected an object, found "adam"'));
  it('rejects an unknown option', () => rejects({ lr: 0.1 }, 'optimizer.lr: unknown option'));
  it('rejects an unknown name', () =>
    rejects({ name: 'Adam' }, 'optimizer.name: expected one of sgd, momentum, nesterov, adam, adamw, rmsprop, found "Adam"; did you mean "adam"?'));
  it('rejects an option that the optimizer does not read, naming the ones it does', () =>
    rejects({ name: 'sgd', beta1: 0.9 }, 'optimizer.beta1: unknown option', 'optimizer', 'optimizer with name "sgd" takes name, weightDecay, clipNorm'));
  it('rejects a beta1 outside [0, 1)', () => rejects({ name: 'adam', beta1: 1.5 }, 'optimizer.beta1: expected a number in [0, 1), found 1.5'));
  it('rejects a beta2 of exactly 1', () => rejects({ name: 'adam', beta2: 1 }, 'optimizer.beta2: expected a number in [0, 1), found 1'));
  it('rejects a negative momentum', () => rejects({ name: 'momentum', momentum: -0.1 }, 'optimizer.momentum: expected a number in [0, 1), found -0.1'));
  it('rejects a non-numeric alpha', () => rejects({ name: 'rmsprop', alpha: '0.9' }, 'optimizer.alpha: expected a number in [0, 1), found "0.9"'));
  it('rejects nesterov without momentum', () =>
    rejects({ name: 'nesterov', momentum: 0 }, 'optimizer.momentum: expected a momentum > 0 for nesterov, found 0'));
  it('rejects eps <= 0', () => rejects({ name: 'adam', eps: 0 }, 'optimizer.eps: expected a number > 0, found 0'));
  it('rejects a negative weightDecay', () =>
    rejects({ weightDecay: -1 }, 'optimizer.weightDecay: expected a number ≥ 0, found -1'));
  it('rejects a NaN clipNorm, showing NaN', () =>
    rejects({ clipNorm: Number.NaN }, 'optimizer.clipNorm: expected a number ≥ 0, found NaN'));
  it('names the field under the caller\'s path', () =>
    rejects({ name: 'adam', beta1: 2 }, 'config.optimizer.beta1: expected a number in [0, 1), found 2', 'config.optimizer'));
});
