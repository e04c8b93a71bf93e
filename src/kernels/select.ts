// select.ts — picks the float32 kernel for a run: the WebAssembly SIMD128 kernel where the
// runtime supports SIMD on a shared memory, the plain TypeScript kernel otherwise. Both give
// the same bits (kernel.ts), so the choice changes speed, never results.

import { ConfigError, describe } from '../errors.ts';
import { jsKernel } from './blocked.ts';
import type { Kernel } from './kernel.ts';
import { createWasmKernel } from './wasm.ts';

/** The kernels a run may ask for: the one list, which the option schema takes its enum from. */
export const KERNEL_KINDS = ['auto', 'wasm', 'js'] as const;
export type KernelKind = (typeof KERNEL_KINDS)[number];
/** The kernel that actually runs, once `auto` is decided. */
export type RunKernel = Exclude<KernelKind, 'auto'>;

/**
 * The smallest module that needs what matmul.wat needs: a shared imported memory and the
 * SIMD ops it uses (load32_splat, f32x4.mul, f32x4.add). Its bytes are written out here
 * because wabt is a devDependency; test/kernels_wasm.test.ts checks they compile from this text.
 */
export const SIMD_PROBE_WAT = `(module
  (import "env" "memory" (memory 1 1 shared))
  (func (result v128)
    (f32x4.add (v128.load32_splat (i32.const 0)) (f32x4.mul (v128.load32_splat (i32.const 0)) (v128.load (i32.const 0))))))`;

export const SIMD_PROBE_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x02,
  0x10, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03, 0x01,
  0x01, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x1c, 0x01, 0x1a, 0x00, 0x41, 0x00, 0xfd, 0x09, 0x02, 0x00,
  0x41, 0x00, 0xfd, 0x09, 0x02, 0x00, 0x41, 0x00, 0xfd, 0x00, 0x04, 0x00, 0xfd, 0xe6, 0x01, 0xfd,
  0xe4, 0x01, 0x0b,
]);

let simd: boolean | undefined;

/** Whether this runtime validates WebAssembly SIMD128 with a shared memory (Node 20: yes, no flags). */
export function simdSupported(): boolean {
  simd ??= typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE_BYTES);
  return simd;
}

/**
 * The kernel for `kind`: 'wasm' needs SIMD support and the memory the arrays live in;
 * 'auto' takes wasm when both are there, else js; 'js' works on any Float32Array.
 * `scratch`: the wasm kernel's own memory in `memory` (wasm.ts WasmKernelOptions); js needs none.
 */
export function createKernel(kind: KernelKind, memory?: WebAssembly.Memory, scratch?: Float32Array): Kernel<Float32Array> {
  switch (kind) {
    case 'js':
      return jsKernel;
    case 'auto':
      return memory !== undefined && simdSupported() ? createWasmKernel(memory, { scratch }) : jsKernel;
    case 'wasm':
      if (!simdSupported()) {
        throw new ConfigError(
          `kernel 'wasm' needs WebAssembly SIMD128 with shared memory, which this runtime (Node ${process.version}) does not validate`,
          "use --kernel js (same results, slower) or --kernel auto",
        );
      }
      if (memory === undefined) {
        throw new TypeError("createKernel('wasm') needs the WebAssembly.Memory its arrays live in\n" +
          "hint: pass the engine's memory as the second argument, or ask for 'js'");
      }
      return createWasmKernel(memory, { scratch });
    default:
      throw new ConfigError(`unknown kernel ${describe(kind)}: expected 'wasm', 'js' or 'auto'`,
        'use --kernel auto unless you are comparing kernels');
  }
}
