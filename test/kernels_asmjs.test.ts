// kernels_asmjs.test.ts — the js kernel's products run as asm.js (blocked_asm.ts): V8 must
// validate the source (else the kernel silently runs at a third of its speed), the asm.js run
// must give the bits the same source gives as plain JavaScript, and the staging through the
// private heap (blocked.ts) must survive the heap growing between calls and reject arrays too
// short for the shape. Bit-equality with the wasm kernel and the float64 oracle on random
// shapes is in kernels_wasm.test.ts and kernels.test.ts.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsKernel } from '../src/kernels/blocked.ts';
import { createRng } from '../src/rng.ts';
import { fill } from './helpers/kernel_inputs.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function runProbe(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', 'test/helpers/asmjs_probe.ts'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The contract's sum for one forward element, written out: acc = f32(acc + f32(x·w)), then + b. */
function forwardReference(x: Float32Array, wt: Float32Array, b: Float32Array, B: number, IN: number, OUT: number): Float32Array {
  const out = new Float32Array(B * OUT);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < OUT; j++) {
      let acc = 0;
      for (let k = 0; k < IN; k++) acc = Math.fround(acc + Math.fround(x[i * IN + k]! * wt[k * OUT + j]!));
      out[i * OUT + j] = Math.fround(acc + b[j]!);
    }
  }
  return out;
}

describe('js kernel as asm.js', () => {
  it('validates as asm.js, and gives the bits the same source gives as plain JS', async () => {
    const { code, stdout, stderr } = await runProbe();
    expect(code, stderr).toBe(0);
    // V8 reports a source that fails validation as "Invalid asm.js: <why>" on stderr.
    expect(stderr).not.toMatch(/Invalid asm\.js/);
    // ...and says that the SharedArrayBuffer heap made it run the source as plain JS.
    expect(stderr).toMatch(/Linking failure in asm\.js: Invalid heap type: SharedArrayBuffer/);
    expect(JSON.parse(stdout)).toEqual({ validated: true, cases: 54, mismatches: 0 });
  });

  it('keeps the contract\'s bits while its heap grows between calls and shrinks back to small shapes', () => {
    const rng = createRng(7);
    // 1 MiB heap to start; the middle shape needs about 2.1 MiB of operands.
    for (const [B, IN, OUT] of [[3, 5, 7], [150, 1000, 300], [9, 6, 5], [150, 1000, 300]] as const) {
      const x = fill(new Float32Array(B * IN), rng), wt = fill(new Float32Array(IN * OUT), rng);
      const b = fill(new Float32Array(OUT), rng), out = new Float32Array(B * OUT);
      jsKernel.linearForward(out, x, wt, b, B, IN, OUT);
      expect(new Uint32Array(out.buffer)).toEqual(new Uint32Array(forwardReference(x, wt, b, B, IN, OUT).buffer));
    }
  });

  it('writes only the rows of dw it was asked for, and leaves views longer than the shape alone past it', () => {
    const rng = createRng(11);
    const B = 6, IN = 5, OUT = 9;
    const dout = fill(new Float32Array(B * OUT), rng), x = fill(new Float32Array(B * IN + 3), rng);
    const dw = new Float32Array(OUT * IN + 2).fill(42), db = new Float32Array(OUT).fill(42);
    jsKernel.linearBackwardWeights(dw, db, dout, x, B, IN, OUT, 2, 7);
    for (let j = 0; j < OUT; j++) {
      for (let k = 0; k < IN; k++) {
        let acc = 0;
        for (let i = 0; i < B; i++) acc = Math.fround(acc + Math.fround(dout[i * OUT + j]! * x[i * IN + k]!));
        expect(dw[j * IN + k]).toBe(j >= 2 && j < 7 ? acc : 42);
      }
    }
    expect(Array.from(dw.subarray(OUT * IN))).toEqual([42, 42]);
    expect(Array.from(db.subarray(0, 2))).toEqual([42, 42]);
    expect(Array.from(db.subarray(7))).toEqual([42, 42]);
  });

  it('names the array that is too short for the shape instead of reading past it', () => {
    const x = new Float32Array(2 * 3), wt = new Float32Array(3 * 4), b = new Float32Array(4);
    expect(() => jsKernel.linearForward(new Float32Array(7), x, wt, b, 2, 3, 4))
      .toThrow(/js kernel linearForward: out has 7 floats, the shape needs 8/);
    expect(() => jsKernel.linearBackwardInput(new Float32Array(6), new Float32Array(8), new Float32Array(11), 2, 3, 4))
      .toThrow(/js kernel linearBackwardInput: w has 11 floats, the shape needs 12/);
    expect(() => jsKernel.linearBackwardWeights(new Float32Array(12), b, new Float32Array(8), x, 2, 3, 4, 1, 5))
      .toThrow(/units \[j0, j1\) must satisfy 0 <= j0 <= j1 <= OUT = 4, got \[1, 5\)/);
  });
});
