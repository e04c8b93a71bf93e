// The limits a run is planned against, in one place: how many threads a run may ask for,
// how many bytes its shared memory may take, how many the whole run may take, and what a
// worker thread costs. Each is checked before anything is allocated, generated or loaded (the
// option schema for threads; the memory plan for bytes, from the config's sizes or a data
// file's header), so a run that cannot fit is refused up front with the bytes it needs and
// the limit, never discovered as a crash or a long silence.
//
// THREADTRAIN_MEMORY_LIMIT (bytes, or a number with KiB, MiB, GiB or TiB) replaces the
// machine's memory as the budget: the memory a container may use, or a small limit in tests.

import os from 'node:os';
import { ConfigError } from './errors.ts';

/** Threads per core a run may ask for: beyond the cores they only wait at barriers, and 1000 threads cost ~15 GB. */
export const MAX_THREADS_PER_CORE = 4;

/** The most worker threads a run may ask for on this machine. */
export function maxThreads(): number {
  return MAX_THREADS_PER_CORE * os.availableParallelism();
}

/** WebAssembly's limit for one memory: 65,536 pages of 64 KiB (4 GiB); the whole run lives in one. */
export const WASM_MEMORY_BYTES = 65536 * 65536;

/** The environment variable that sets the memory budget instead of the machine's memory. */
export const MEMORY_LIMIT_ENV = 'THREADTRAIN_MEMORY_LIMIT';

/**
 * Resident bytes one more worker thread adds to the process, whatever the model: its V8
 * isolate and heap, the modules it loads (with tsx's loader when run from a checkout) and
 * the compiled wasm kernel. Measured with bench/thread_memory.ts (a fresh process per thread
 * count, train() of a 2-16-2 net on 512 rows, maxRSS of the whole process): the slope over
 * 2, 4 and 8 threads was 31.2 MiB per worker (31.0 in an earlier run) on the 2-core Xeon of
 * bench/RESULTS.md (Node 20.20, 2026-11-29), rounded up here.
 */
export const WORKER_THREAD_BYTES = 32 * 1024 * 1024;

/**
 * Resident bytes per unit block (16 units, engine/partition.ts unitBlockCount) that each
 * worker adds on top: its own list of the blocks, their runs and its share of them. The same
 * measurement with 100,000 hidden units (6,251 blocks) gave 33.1 MiB per worker, 1.9 MiB over
 * the small net (33.6 and 2.6 in the earlier run): 310–440 bytes a block, rounded up here.
 */
export const UNIT_BLOCK_BYTES = 512;

/** "2GiB" or "2147483648" → bytes; undefined when the text is neither. */
function parseByteCount(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)?\s*$/.exec(text);
  if (!m) return undefined;
  const scale = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 }[m[2] ?? 'B']!;
  const bytes = Math.floor(Number(m[1]) * scale);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** The bytes a whole run may take: THREADTRAIN_MEMORY_LIMIT when set, else the machine's memory. */
export function memoryBudget(env: NodeJS.ProcessEnv = process.env): { bytes: number; what: string } {
  const set = env[MEMORY_LIMIT_ENV];
  if (set === undefined || set === '') return { bytes: os.totalmem(), what: "this machine's memory" };
  const bytes = parseByteCount(set);
  if (bytes === undefined) {
    throw new ConfigError(
      `${MEMORY_LIMIT_ENV}: expected a number of bytes such as 2147483648 or 2GiB, found ${JSON.stringify(set)}`,
      `set it to the memory this process may use, or unset it to use the machine's (${bytesInWords(os.totalmem())})`,
    );
  }
  return { bytes, what: MEMORY_LIMIT_ENV };
}

/** The bytes a run's shared memory may take: WebAssembly's 4 GiB, or the memory budget if that is less. */
export function memoryLimit(): { bytes: number; what: string } {
  const budget = memoryBudget();
  return budget.bytes < WASM_MEMORY_BYTES ? budget : { bytes: WASM_MEMORY_BYTES, what: "WebAssembly's limit for one shared memory" };
}

/** "12,000,000,000 bytes (11.18 GiB)" */
export function bytesInWords(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = '';
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  const whole = bytes < 1e21 ? bytes.toLocaleString('en-US', { maximumFractionDigits: 0 }) : bytes.toExponential(3);
  return unit === '' ? `${whole} bytes` : `${whole} bytes (${value.toFixed(2)} ${unit})`;
}

/** "66.0 MiB": a part of a total, in a message that also gives the total in full. */
export function shortBytes(bytes: number): string {
  return bytesInWords(bytes).replace(/^.*\((.*)\)$/, '$1');
}

/** Refuse `bytes` over `limit` (by default the shared memory's): `where` says what needs them, `hint` what to make smaller. */
export function checkMemory(where: string, bytes: number, hint: string, limit = memoryLimit()): void {
  if (!(bytes <= limit.bytes)) {
    throw new ConfigError(`${where}: needs ${bytesInWords(bytes)}, over the limit of ${bytesInWords(limit.bytes)} (${limit.what})`, hint);
  }
}
