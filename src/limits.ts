// The limits a run is planned against, in one place: how many threads a run may ask for,
// and how many bytes its shared memory and data may take. Each is checked before anything
// is allocated or generated (the option schema for threads, the memory plan and the
// built-in generators for bytes), so a run that cannot fit is refused up front with the
// bytes it needs and the limit, never discovered as a crash or a long silence.

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

/** The bytes a run's shared memory may take: WebAssembly's 4 GiB, or the machine's memory if that is less. */
export function memoryLimit(): { bytes: number; what: string } {
  const machine = os.totalmem();
  return machine < WASM_MEMORY_BYTES
    ? { bytes: machine, what: "this machine's memory" }
    : { bytes: WASM_MEMORY_BYTES, what: "WebAssembly's limit for one shared memory" };
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

/** Refuse `bytes` over the memory limit: `where` says what needs them, `hint` what to make smaller. */
export function checkMemory(where: string, bytes: number, hint: string): void {
  const limit = memoryLimit();
  if (!(bytes <= limit.bytes)) {
    throw new ConfigError(`${where}: needs ${bytesInWords(bytes)}, over the limit of ${bytesInWords(limit.bytes)} (${limit.what})`, hint);
  }
}
