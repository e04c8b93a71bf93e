// asmjs_probe.ts — run by kernels_asmjs.test.ts in a child `node --allow-natives-syntax`
// (V8's test intrinsics cannot be parsed inside vitest's transformed modules). It asks V8
// whether the js kernel's asm.js source (blocked_asm.ts) validated, then runs the same source
// twice on the same operands: on an ArrayBuffer heap (asm.js, float32 arithmetic) and on a
// SharedArrayBuffer heap, which asm.js refuses, so V8 runs it as plain JavaScript (and says so
// on stderr). Prints one JSON line: whether it validated, how many cases, how many differ
// (NaNs compared as NaNs).

import { blockedGemm, blockedGemmModule } from '../../src/kernels/blocked_asm.ts';
import { createRng } from '../../src/rng.ts';

const isAsmWasmCode = new Function('f', 'return %IsAsmWasmCode(f)') as (f: unknown) => boolean;

const HEAP_BYTES = 1 << 22;
const fastHeap = new ArrayBuffer(HEAP_BYTES);
const fast = blockedGemm(fastHeap);
const validated = isAsmWasmCode(blockedGemmModule());
const plainHeap = new SharedArrayBuffer(HEAP_BYTES);
const plain = blockedGemm(plainHeap);

const rng = createRng(20261124);
const SPECIALS = [0, -0, NaN, Infinity, -Infinity, 2 ** -130, -(2 ** -140), 2 ** 100, 1e-30];
const value = (): number => (rng.uniform() < 0.05 ? SPECIALS[rng.int(SPECIALS.length)]! : rng.uniform() * 2 - 1);

// [M, N, K, A read down columns (as dW reads dout)]: tiles, every edge, K = 0 and 1.
const SHAPES: [number, number, number, boolean][] = [
  [1, 1, 1, false], [3, 5, 7, false], [4, 4, 4, false], [5, 9, 13, true], [17, 6, 33, false],
  [8, 3, 0, false], [64, 40, 100, true], [7, 12, 1, false], [128, 20, 50, false],
];

let cases = 0, mismatches = 0;
let firstMismatch: string | undefined;
for (const [M, N, K, aByColumns] of SHAPES) {
  for (const mode of [0, 1, 2]) {
    for (const withBias of [false, true]) {
      const a = 0, b = a + M * K, bias = b + K * N, e = bias + N, c = e + M * N, end = c + M * N;
      const inputs = Float32Array.from({ length: end }, value);
      const results: Uint32Array[] = [];
      for (const [kernel, heap] of [[fast, fastHeap], [plain, plainHeap]] as const) {
        new Float32Array(heap, 0, end).set(inputs);
        const [sam, sar] = aByColumns ? [4, 4 * M] : [4 * K, 4];
        kernel.gemm(4 * c, 4 * N, 4 * a, sam, sar, 4 * b, 4 * N, M, N, K, withBias ? 4 * bias : -1, 4 * e, mode);
        // Bits, every NaN made the canonical one: x86's float32 and float64 paths give NaNs of
        // different sign, and the kernel contract (like IEEE 754) leaves a NaN's bits open.
        const out = new Float32Array(heap, 4 * e, end - e);
        results.push(Uint32Array.from(new Uint32Array(heap, 4 * e, end - e), (u, k) => (Number.isNaN(out[k]) ? 0x7fc00000 : u)));
      }
      cases++;
      const i = results[0]!.findIndex((bits, k) => bits !== results[1]![k]);
      if (i >= 0) {
        mismatches++;
        firstMismatch ??= `M=${M} N=${N} K=${K} mode=${mode} bias=${withBias}: float ${i} of E|C, ${results[0]![i]!.toString(16)} vs ${results[1]![i]!.toString(16)}`;
      }
    }
  }
}
console.log(JSON.stringify({ validated, cases, mismatches, firstMismatch }));
