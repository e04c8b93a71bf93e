// The decoded-data cache: a dataset decoded from CSV or IDX is kept as raw float32/int32
// arrays under <cache folder>/decoded/, so loading the same source again is a couple of
// reads instead of a parse. One file per source path + parse options; inside it, a JSON
// header records the sources' fingerprints (size, mtime, a checksum of the first and last
// 64 KiB) and a CRC-32 of the arrays. Nothing in it is trusted until both match: a changed
// source, a truncated or corrupt file, or another format version means decode again and
// overwrite. Writes go to a temporary file renamed into place, so a reader never sees half
// a file. Turned off by THREADTRAIN_NO_CACHE=1 or a loader's `cache: false`; a cache that
// cannot be read or written never fails a load.

import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { cacheRoot, cachesEnabled, writeCacheFile } from './cache_dir.ts';
import type { ClassificationDataset, Dataset, RegressionDataset } from './dataset.ts';

const MAGIC = 'TTDECODE';
/** Bump when the layout or the meaning of a decoded file changes: older files are then rebuilt. */
// 2: CSV cells that overflow float32 (1e39) are refused, so a version-1 entry may hold ±Infinity.
const FORMAT_VERSION = 2;
/** Sources smaller than this in all are decoded every time: they parse in about the time a cache lookup takes. */
export const MIN_CACHED_SOURCE_BYTES = 256 * 1024;
/** Bytes hashed at each end of a source: catches a rewrite that keeps the size and restores the mtime. */
const EDGE_BYTES = 64 * 1024;
const PREFIX_BYTES = 16; // magic, version, header length

/** Whether the decoded-data cache is on: not when the loader's option says false, nor under THREADTRAIN_NO_CACHE (any value but "" or "0"). */
export function decodedCacheEnabled(option: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return option !== false && cachesEnabled(env);
}

interface Fingerprint {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** CRC-32 of the first and of the last EDGE_BYTES. */
  readonly head: number;
  readonly tail: number;
}

function fingerprint(file: string): Fingerprint {
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    const edge = Buffer.alloc(Math.min(EDGE_BYTES, st.size));
    const head = crc32(edge.subarray(0, readFully(fd, edge, 0)));
    const tail = crc32(edge.subarray(0, readFully(fd, edge, Math.max(0, st.size - edge.length))));
    return { path: path.resolve(file), size: st.size, mtimeMs: st.mtimeMs, head, tail };
  } finally {
    closeSync(fd);
  }
}

/** Reads into all of `target` from `position` (or to the end of the file); returns the bytes read. */
function readFully(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.length) {
    const got = readSync(fd, target, done, target.length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}

const bytesOf = (a: Float32Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** What identifies a decoded file's contents: everything a decode depends on. */
interface Key {
  readonly format: number;
  readonly kind: string;
  readonly littleEndian: boolean;
  readonly options: unknown;
  readonly sources: readonly Fingerprint[];
}

interface Header {
  readonly key: Key;
  /** The dataset without its arrays. */
  readonly meta: Record<string, unknown>;
  readonly xLength: number;
  readonly yLength: number;
  readonly crc: number;
}

/**
 * The dataset `decode` produces for `sources` read with `options`, from the cache when a
 * valid entry exists, else decoded and stored. `decode` reports unreadable sources itself.
 */
export function withDecodedCache<D extends Dataset>(
  kind: 'csv' | 'idx',
  sources: readonly string[],
  options: Record<string, unknown>,
  enabled: boolean | undefined,
  decode: () => D,
): D {
  if (!decodedCacheEnabled(enabled)) return decode();
  let key: Key;
  try {
    key = { format: FORMAT_VERSION, kind, littleEndian: os.endianness() === 'LE', options, sources: sources.map(fingerprint) };
  } catch {
    return decode(); // a missing or unreadable source: the decoder words the error
  }
  if (key.sources.reduce((sum, s) => sum + s.size, 0) < MIN_CACHED_SOURCE_BYTES) return decode();
  const file = cacheFile(kind, key);
  const hit = readDecoded(file, key);
  if (hit) return hit as D;
  const ds = decode();
  // A source that changed while it was decoded would be stored under the wrong fingerprint.
  let unchanged = false;
  try {
    unchanged = JSON.stringify(sources.map(fingerprint)) === JSON.stringify(key.sources);
  } catch {
    unchanged = false;
  }
  if (unchanged) writeDecoded(file, key, ds);
  return ds;
}

/** One file per source path(s) + options: a changed source overwrites its old entry rather than adding one. */
function cacheFile(kind: string, key: Key, root: string = cacheRoot()): string {
  const identity = JSON.stringify({ kind, options: key.options, paths: key.sources.map((s) => s.path) });
  const name = createHash('sha256').update(identity).digest('hex').slice(0, 32);
  return path.join(root, 'decoded', `${kind}-${name}.bin`);
}

function readDecoded(file: string, key: Key): Dataset | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const prefix = Buffer.alloc(PREFIX_BYTES);
    if (readFully(fd, prefix, 0) !== PREFIX_BYTES || prefix.toString('latin1', 0, 8) !== MAGIC) return undefined;
    if (prefix.readUInt32LE(8) !== FORMAT_VERSION) return undefined;
    const headerLength = prefix.readUInt32LE(12);
    if (headerLength > size - PREFIX_BYTES) return undefined;
    const headerBytes = Buffer.alloc(headerLength);
    if (readFully(fd, headerBytes, PREFIX_BYTES) !== headerLength) return undefined;
    const header = JSON.parse(headerBytes.toString('utf8')) as Header;
    if (JSON.stringify(header.key) !== JSON.stringify(key)) return undefined;
    const ds = emptyDataset(header);
    if (ds === undefined) return undefined;
    const dataStart = align8(PREFIX_BYTES + headerLength);
    if (size !== dataStart + ds.x.byteLength + ds.y.byteLength) return undefined;
    const xBytes = bytesOf(ds.x);
    const yBytes = bytesOf(ds.y);
    if (readFully(fd, xBytes, dataStart) !== xBytes.length) return undefined;
    if (readFully(fd, yBytes, dataStart + xBytes.length) !== yBytes.length) return undefined;
    if (crc32(yBytes, crc32(xBytes)) !== header.crc) return undefined;
    if (ds.task === 'classification') {
      const { y, classes } = ds;
      for (let r = 0; r < y.length; r++) if (!(y[r]! >= 0 && y[r]! < classes)) return undefined;
    }
    return ds;
  } catch {
    return undefined; // unreadable or not JSON: rebuilt
  } finally {
    closeSync(fd);
  }
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Zeroed arrays of the header's shape under its meta, or undefined if the header does not describe a dataset. */
function emptyDataset(header: Header): Dataset | undefined {
  const meta = header.meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const { n, features } = meta as { n: unknown; features: unknown };
  if (!isCount(n) || !isCount(features) || header.xLength !== n * features) return undefined;
  if (meta.featureNames !== undefined && !(isNames(meta.featureNames) && meta.featureNames.length === features)) return undefined;
  if (meta.task === 'classification') {
    const { classes, classNames } = meta as { classes: unknown; classNames: unknown };
    if (!isCount(classes) || !isNames(classNames) || classNames.length !== classes || header.yLength !== n) return undefined;
    return { ...(meta as object), x: new Float32Array(header.xLength), y: new Int32Array(header.yLength) } as ClassificationDataset;
  }
  if (meta.task === 'regression') {
    const { targets } = meta as { targets: unknown };
    if (!isCount(targets) || header.yLength !== n * targets) return undefined;
    if (meta.targetNames !== undefined && !(isNames(meta.targetNames) && meta.targetNames.length === targets)) return undefined;
    return { ...(meta as object), x: new Float32Array(header.xLength), y: new Float32Array(header.yLength) } as RegressionDataset;
  }
  return undefined;
}

/** Stores `ds` (cache_dir.ts writeCacheFile: a temporary file renamed into place, failures ignored). */
function writeDecoded(file: string, key: Key, ds: Dataset): void {
  const { x, y, ...meta } = ds;
  const xBytes = bytesOf(x);
  const yBytes = bytesOf(y);
  const header: Header = { key, meta, xLength: x.length, yLength: y.length, crc: crc32(yBytes, crc32(xBytes)) };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(align8(PREFIX_BYTES + json.length));
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(FORMAT_VERSION, 8);
  prefix.writeUInt32LE(json.length, 12);
  json.copy(prefix, PREFIX_BYTES);
  writeCacheFile(file, [prefix, xBytes, yBytes]);
}
