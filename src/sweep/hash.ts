// Content hashes that name sweeps and runs. A run's id is the hash of its complete run
// config, so the same run gets the same id on every machine and every rerun: that is what
// lets a rerun skip finished runs and `collect` merge the folders of many machines. Keys
// are sorted before hashing, so the order a person wrote them in changes nothing.

import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

/**
 * The first 16 hex digits (64 bits) of the SHA-256 of `value`'s canonical JSON: short
 * enough for a folder name, long enough that two runs of one sweep never collide
 * (a million runs collide with odds of about 3e-8).
 */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/** A swept value as tables and messages show it: strings bare, anything else as JSON. */
export function formatValue(v: unknown): string {
  return typeof v === 'string' ? v : canonicalJson(v);
}
