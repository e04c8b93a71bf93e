// wasm.ts — the WebAssembly SIMD128 kernel (matmul.wat) as a Kernel<Float32Array>.
// The arrays are views into one WebAssembly.Memory (the engine's shared memory), so a
// view's byteOffset is the wasm pointer and nothing is copied. Instantiate one kernel per
// thread on the same memory: the compiled module is cached per thread, the memory shared.
// A kernel may be given scratch memory of its own (a view no other thread or array uses):
// dW then packs doutᵀ's panels there (matmul.wat). Without it every product still runs, unpacked.
// The kernel never writes outside the output arrays it is given and its scratch.

import {
  checkDims, checkUnits, type Kernel, U_DECAY, U_DECAY2, U_EPS, U_GAIN, U_GAIN2, U_L2, U_LR, U_RSQRT_BC2, U_SCALE, U_SHRINK, U_STEP,
  UPDATE_ADAM, UPDATE_RMSPROP, UPDATE_SGD, type UpdateRule,
} from './kernel.ts';
import { MATMUL_WASM_BASE64 } from './matmul_wasm.generated.ts';

const KERNEL = 'wasm kernel';

interface MatmulExports {
  gemm(c: number, ldc: number, a: number, sam: number, sar: number, b: number, ldb: number,
    M: number, N: number, K: number, bias: number, e: number, mode: number, scratch: number, scratchBytes: number): void;
  colsum(out: number, d: number, ldd: number, M: number, N: number): void;
  transpose(wt: number, w: number, IN: number, OUT: number, j0: number, j1: number): void;
  update(kind: number, p: number, g: number, m: number, v: number, n: number, ...c: number[]): void;
  updateUnits(kind: number, w: number, g: number, m: number, v: number, wt: number, IN: number, OUT: number, j0: number, j1: number,
    ...c: number[]): void;
  sgdUnitsT(wt: number, g: number, IN: number, OUT: number, j0: number, j1: number, lr: number, s: number, wd: number): void;
}

/** matmul.wat's "no bias" pointer: no float can start at an odd address. */
const NO_BIAS = -1;

/** gemm's epilogue modes (matmul.wat): none; E = relu(C) after C (forward); C = E > 0 ? C : +0 (dX). */
const NO_EPILOGUE = 0, RELU_OUT = 1, RELU_MASK = 2;

let compiled: WebAssembly.Module | undefined;

// V8 (Node 20) hands every shared WebAssembly.Memory a fresh `buffer` object whenever any
// shared memory in the thread grows, even an unrelated one; views made earlier keep the old
// object and still address the same bytes. So a view is "in the memory" when its buffer is
// any object this thread has seen as memory.buffer (when a kernel was made or called), not
// only the current one. A memory that grew twice between a view being made and the kernel
// looking would still be missed; the engine allocates its memory once and never grows it.
const seenBuffers = new WeakMap<WebAssembly.Memory, WeakSet<ArrayBufferLike>>();

function knownBuffers(memory: WebAssembly.Memory): WeakSet<ArrayBufferLike> {
  let seen = seenBuffers.get(memory);
  if (seen === undefined) {
    seen = new WeakSet();
    seenBuffers.set(memory, seen);
  }
  seen.add(memory.buffer);
  return seen;
}

/** The compiled kernel module (compiled once per thread; a Module can also be posted to workers). */
export function matmulModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(MATMUL_WASM_BASE64, 'base64'));
  return compiled;
}

/**
 * When matmul.wat's gemm packs dW's doutᵀ panel: the same test as its (units ≥ 8, inputs ≥ 64,
 * batch rows ≥ 64; below that the copy costs more than it saves). A test checks the two agree.
 */
export const PACK_MIN_UNITS = 8, PACK_MIN_INPUTS = 64, PACK_MIN_ROWS = 64;
/** gemm packs K in chunks of this many rows (matmul.wat), each 64 bytes a row in the scratch. */
export const PACK_CHUNK_ROWS = 256;

/**
 * Bytes of scratch that let dW pack its panels at up to `rows` batch rows (64 bytes a row of
 * K, at most PACK_CHUNK_ROWS of them), or 0 when no layer (inputs, units) is one gemm would pack.
 */
export function kernelScratchBytes(rows: number, layers: readonly { readonly inputs: number; readonly units: number }[]): number {
  const packs = rows >= PACK_MIN_ROWS && layers.some((l) => l.units >= PACK_MIN_UNITS && l.inputs >= PACK_MIN_INPUTS);
  return packs ? 64 * Math.min(rows, PACK_CHUNK_ROWS) : 0;
}

export interface WasmKernelOptions {
  /** matmul.wat's compiled module by default; bench/matmul_ab.ts passes a build of another .wat to time it. */
  readonly module?: WebAssembly.Module | undefined;
  /**
   * Memory only this kernel writes, in `memory` (kernelScratchBytes of it lets dW pack doutᵀ;
   * less, or none, runs unpacked). It must not overlap any array passed to the kernel; one per thread.
   */
  readonly scratch?: Float32Array | undefined;
}

/** Kernel over Float32Array views into `memory`; see kernel.ts for the contract. */
export function createWasmKernel(memory: WebAssembly.Memory, options: WasmKernelOptions = {}): Kernel<Float32Array> {
  const module = options.module ?? matmulModule();
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new TypeError(`createWasmKernel: expected a WebAssembly.Memory, got ${typeName(memory)}\n` +
      'hint: pass the engine\'s memory, e.g. new WebAssembly.Memory({ initial, maximum, shared: true })');
  }
  if (!(memory.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError('createWasmKernel: the memory must be shared (the module imports a shared memory, ' +
      'so that every worker thread computes on the same bytes)\n' +
      'hint: new WebAssembly.Memory({ initial, maximum, shared: true })');
  }
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const wasm = instance.exports as unknown as MatmulExports;

  // The hot loops trust their inputs, but these pointers address raw shared memory: a
  // view from another buffer or a shape larger than the view would silently read or
  // overwrite someone else's data, so every call checks what the wasm will touch.
  const seen = knownBuffers(memory);
  const ptr = (op: string, name: string, a: Float32Array, need: number): number => {
    if (!(a instanceof Float32Array) || !(seen.has(a.buffer) || knownBuffers(memory).has(a.buffer))) {
      throw new TypeError(`wasm kernel ${op}: ${name} must be a Float32Array view into the kernel's ` +
        `WebAssembly.Memory, got ${describeArray(a)}\n` +
        'hint: allocate it as new Float32Array(memory.buffer, byteOffset, length), or use the js kernel');
    }
    if (a.length < need) {
      throw new RangeError(`wasm kernel ${op}: ${name} has ${a.length} floats, the shape needs ${need}\n` +
        'hint: check B, IN and OUT against the arrays passed');
    }
    return a.byteOffset;
  };
  const scratchPtr = options.scratch === undefined ? 0 : ptr('createWasmKernel', 'scratch', options.scratch, 0);
  const scratchBytes = options.scratch === undefined ? 0 : options.scratch.byteLength;
  // The scratch is overwritten by dW: an array passed to it that shares a byte would be corrupted.
  const apartFromScratch = (op: string, name: string, p: number, bytes: number): void => {
    if (scratchBytes > 0) disjoint(op, name, p, bytes, 'the kernel\'s scratch', scratchPtr, scratchBytes);
  };

  // The state buffers' pointers for a rule (0 for buffers it does not read, never dereferenced).
  const statePointers = (op: string, rule: UpdateRule, s0: Float32Array | undefined, s1: Float32Array | undefined, need: number): [number, number] => {
    if (!Number.isInteger(rule.kind) || rule.kind < UPDATE_SGD || rule.kind > UPDATE_RMSPROP) {
      throw new RangeError(`wasm kernel ${op}: unknown update kind ${String(rule.kind)}`);
    }
    const count = stateCount(rule.kind);
    if ((count > 0 && s0 === undefined) || (count > 1 && s1 === undefined)) {
      throw new RangeError(`wasm kernel ${op}: update kind ${rule.kind} needs ${count} state buffers`);
    }
    return [count > 0 ? ptr(op, 's0', s0!, need) : 0, count > 1 ? ptr(op, 's1', s1!, need) : 0];
  };

  return {
    name: 'wasm',

    linearForward(out, x, wt, b, B, IN, OUT, reluOut, j0 = 0, j1 = OUT) {
      checkDims(KERNEL, 'linearForward', B, IN, OUT);
      checkUnits(KERNEL, 'linearForward', j0, j1, OUT);
      const op = 'linearForward';
      const outp = ptr(op, 'out', out, B * OUT), xp = ptr(op, 'x', x, B * IN);
      const wtp = ptr(op, 'wt', wt, IN * OUT), bp = ptr(op, 'b', b, OUT);
      let ep = 0, mode = NO_EPILOGUE;
      if (reluOut !== undefined) {
        ep = ptr(op, 'reluOut', reluOut, B * OUT);
        mode = RELU_OUT;
        // reluOut is written after out, tile by tile: out itself is fine (it then ends as
        // relu(z)), a partial overlap or an input it would overwrite mid-product is not.
        const n = 4 * B * OUT;
        if (ep !== outp) disjoint(op, 'reluOut', ep, n, 'out', outp, n);
        disjoint(op, 'reluOut', ep, n, 'x', xp, 4 * B * IN);
        disjoint(op, 'reluOut', ep, n, 'wt', wtp, 4 * IN * OUT);
        disjoint(op, 'reluOut', ep, n, 'b', bp, 4 * OUT);
      }
      if (j1 === j0) return;
      // out[:, j0:j1] (B, units) = x (B, IN) · wt[:, j0:j1] (IN, units) + b[j0:j1]: A = x read
      // along rows, B = wt's columns from j0, rows OUT floats apart as in the full product.
      const col = 4 * j0;
      wasm.gemm(outp + col, OUT * 4, xp, IN * 4, 4, wtp + col, OUT * 4, B, j1 - j0, IN, bp + col, ep + col, mode, 0, 0);
    },

    linearBackwardWeights(dw, db, dout, x, B, IN, OUT, j0, j1) {
      checkDims(KERNEL, 'linearBackwardWeights', B, IN, OUT);
      checkUnits(KERNEL, 'linearBackwardWeights', j0, j1, OUT);
      const op = 'linearBackwardWeights';
      const dwp = ptr(op, 'dw', dw, OUT * IN), dbp = ptr(op, 'db', db, OUT);
      const doutp = ptr(op, 'dout', dout, B * OUT), xp = ptr(op, 'x', x, B * IN);
      if (j1 === j0) return;
      apartFromScratch(op, 'dw', dwp, 4 * OUT * IN);
      apartFromScratch(op, 'dout', doutp, 4 * B * OUT);
      apartFromScratch(op, 'x', xp, 4 * B * IN);
      // dw[j0:j1] (units, IN) = doutᵀ (units, B) · x (B, IN): A = doutᵀ, read down columns
      // (packed into the scratch where gemm finds that pays).
      wasm.gemm(dwp + j0 * IN * 4, IN * 4, doutp + j0 * 4, 4, OUT * 4, xp, IN * 4, j1 - j0, IN, B, NO_BIAS, 0, NO_EPILOGUE, scratchPtr, scratchBytes);
      wasm.colsum(dbp + j0 * 4, doutp + j0 * 4, OUT * 4, B, j1 - j0);
    },

    linearBackwardInput(dx, dout, w, B, IN, OUT, reluMaskZ) {
      checkDims(KERNEL, 'linearBackwardInput', B, IN, OUT);
      const op = 'linearBackwardInput';
      const dxp = ptr(op, 'dx', dx, B * IN), doutp = ptr(op, 'dout', dout, B * OUT), wp = ptr(op, 'w', w, OUT * IN);
      let ep = 0, mode = NO_EPILOGUE;
      if (reluMaskZ !== undefined) {
        ep = ptr(op, 'reluMaskZ', reluMaskZ, B * IN);
        mode = RELU_MASK;
        // The mask is read tile by tile as dx is written (and the last, shifted tile reads
        // a few columns again), so it must not share a byte with dx; reading it where
        // dout or w are is harmless.
        disjoint(op, 'reluMaskZ', ep, 4 * B * IN, 'dx', dxp, 4 * B * IN);
      }
      // dx (B, IN) = dout (B, OUT) · w (OUT, IN): A = dout read along rows, B = w.
      wasm.gemm(dxp, IN * 4, doutp, OUT * 4, 4, wp, IN * 4, B, IN, OUT, NO_BIAS, ep, mode, 0, 0);
    },

    transposeUnits(wt, w, IN, OUT, j0, j1) {
      checkDims(KERNEL, 'transposeUnits', 1, IN, OUT);
      checkUnits(KERNEL, 'transposeUnits', j0, j1, OUT);
      const op = 'transposeUnits';
      wasm.transpose(ptr(op, 'wt', wt, IN * OUT), ptr(op, 'w', w, OUT * IN), IN, OUT, j0, j1);
    },

    update(rule, params, grads, s0, s1, lo, hi) {
      const op = 'update';
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo) {
        throw new RangeError(`wasm kernel ${op}: [lo, hi) must be a range of indices, got [${String(lo)}, ${String(hi)})`);
      }
      const [m, v] = statePointers(op, rule, s0, s1, hi);
      const c = rule.c;
      wasm.update(rule.kind, ptr(op, 'params', params, hi) + 4 * lo, ptr(op, 'grads', grads, hi) + 4 * lo,
        m + 4 * lo, v + 4 * lo, hi - lo,
        c[U_LR]!, c[U_SCALE]!, c[U_L2]!, c[U_SHRINK]!, c[U_EPS]!, c[U_DECAY]!, c[U_GAIN]!, c[U_DECAY2]!, c[U_GAIN2]!, c[U_STEP]!, c[U_RSQRT_BC2]!);
    },

    updateUnits(rule, w, grads, s0, s1, wt, IN, OUT, j0, j1) {
      checkDims(KERNEL, 'updateUnits', 1, IN, OUT);
      checkUnits(KERNEL, 'updateUnits', j0, j1, OUT);
      const op = 'updateUnits', n = IN * OUT;
      const [m, v] = statePointers(op, rule, s0, s1, n);
      const c = rule.c;
      wasm.updateUnits(rule.kind, ptr(op, 'w', w, n), ptr(op, 'grads', grads, n), m, v, ptr(op, 'wt', wt, n), IN, OUT, j0, j1,
        c[U_LR]!, c[U_SCALE]!, c[U_L2]!, c[U_SHRINK]!, c[U_EPS]!, c[U_DECAY]!, c[U_GAIN]!, c[U_DECAY2]!, c[U_GAIN2]!, c[U_STEP]!, c[U_RSQRT_BC2]!);
    },

    sgdUnitsTransposed(rule, wt, grads, IN, OUT, j0, j1) {
      checkDims(KERNEL, 'sgdUnitsTransposed', 1, IN, OUT);
      checkUnits(KERNEL, 'sgdUnitsTransposed', j0, j1, OUT);
      const op = 'sgdUnitsTransposed', n = IN * OUT;
      if (rule.kind !== UPDATE_SGD) throw new RangeError(`wasm kernel ${op}: SGD only (update kind 0), got kind ${String(rule.kind)}`);
      const c = rule.c;
      wasm.sgdUnitsT(ptr(op, 'wt', wt, n), ptr(op, 'grads', grads, n), IN, OUT, j0, j1, c[U_LR]!, c[U_SCALE]!, c[U_L2]!);
    },
  };
}

/** How many state buffers each update kind reads (kernel.ts: UpdateRule). */
function stateCount(kind: number): number {
  return kind === UPDATE_SGD ? 0 : kind === UPDATE_ADAM ? 2 : 1;
}

/** Throws unless the byte ranges [p, p + n) and [q, q + m) share no byte (empty ranges never do). */
function disjoint(op: string, name: string, p: number, n: number, other: string, q: number, m: number): void {
  if (n > 0 && m > 0 && p < q + m && q < p + n) {
    throw new RangeError(`wasm kernel ${op}: ${name} overlaps ${other} (bytes [${p}, ${p + n}) and [${q}, ${q + m}))\n` +
      `hint: give ${name} its own array${name === 'reluOut' ? ', or pass out itself to keep only relu(z)' : ''}`);
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

function describeArray(a: unknown): string {
  if (!ArrayBuffer.isView(a)) return typeName(a);
  const buf = a.buffer;
  return `a ${typeName(a)} over a ${typeName(buf)} of ${buf.byteLength} bytes`;
}
