// code_cache.ts — runs the installed CLI's bundle (dist/src/cli/threadtrain.cjs, one CommonJS
// file: see build_bundle.ts) with V8's code cache, so a second start deserializes compiled
// functions instead of parsing and compiling ~1.5 MB of JavaScript again. Node 20 has no
// compile cache for modules (module.enableCompileCache arrived in Node 22), but vm.Script
// takes V8's cachedData — the technique of the v8-compile-cache package, on one file.
//
// The cache lives in <cache folder>/code/, one file per bundle path. V8 checks its own version
// and flags, but identifies the source only by its length, so the file also records a CRC-32
// of the bundle's bytes and one of the cached data: a changed bundle or a corrupt file is
// recompiled and rewritten, never trusted. Written as every cache entry is (cache_dir.ts writeCacheFile).
// THREADTRAIN_NO_CACHE turns it off; a cache that cannot be read or written never fails a run.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { crc32 } from 'node:zlib';
import { cacheRoot, cachesEnabled, writeCacheFile } from '../data/cache_dir.ts';

const MAGIC = 'TTCODE01';

/** What became of the cache when the script was compiled. */
export type CodeCacheState = 'off' | 'hit' | 'missing' | 'stale' | 'corrupt' | 'rejected';

export interface CachedScript {
  /** The CommonJS module's exports. */
  readonly exports: Record<string, unknown>;
  readonly state: CodeCacheState;
  /** Writes the cache (with every function compiled so far) unless it was a hit or is off. Never throws. */
  save(): void;
}

interface Header {
  readonly v8: string;
  readonly arch: string;
  readonly sourceLength: number;
  readonly sourceCrc: number;
  readonly dataLength: number;
  readonly dataCrc: number;
}

/** The cache file for the script at `file`: one per path, so an upgrade overwrites its old entry. */
export function codeCacheFile(file: string, root: string = cacheRoot()): string {
  const name = createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 32);
  return path.join(root, 'code', `${name}.bin`);
}

/** The cached data in `bytes` if its header matches `expected` and its CRC checks; else why not. */
function cachedData(bytes: Buffer | undefined, expected: Omit<Header, 'dataLength' | 'dataCrc'>): Buffer | Exclude<CodeCacheState, 'hit' | 'off' | 'rejected'> {
  if (bytes === undefined) return 'missing';
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) return 'corrupt';
  const headerLength = bytes.readUInt32LE(8);
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength)) as Header;
  } catch {
    return 'corrupt';
  }
  for (const key of ['v8', 'arch', 'sourceLength', 'sourceCrc'] as const) if (header[key] !== expected[key]) return 'stale';
  const data = bytes.subarray(12 + headerLength);
  return data.length === header.dataLength && crc32(data) === header.dataCrc ? data : 'corrupt';
}

/**
 * Compiles and runs the CommonJS file `file` as Node would require it (module wrapper,
 * require relative to the file), through the code cache in `cacheFile` (by default the
 * file's entry in the cache folder that `env` names).
 */
export function runCachedScript(file: string, cacheFile?: string, env: NodeJS.ProcessEnv = process.env): CachedScript {
  const sourceBytes = fs.readFileSync(file);
  const source = sourceBytes.toString('utf8');
  const expected = { v8: process.versions.v8, arch: process.arch, sourceLength: sourceBytes.length, sourceCrc: crc32(sourceBytes) };
  let enabled = cachesEnabled(env);
  if (enabled && cacheFile === undefined) {
    try {
      cacheFile = codeCacheFile(file, cacheRoot(env));
    } catch {
      enabled = false; // no home folder to put a cache in: run without one
    }
  }
  let found: ReturnType<typeof cachedData> = 'missing';
  if (enabled) {
    let bytes: Buffer | undefined;
    try {
      bytes = fs.readFileSync(cacheFile!);
    } catch {
      bytes = undefined;
    }
    found = cachedData(bytes, expected);
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, ...(typeof found === 'string' ? {} : { cachedData: found }) });
  const state: CodeCacheState = !enabled ? 'off' : typeof found === 'string' ? found : script.cachedDataRejected ? 'rejected' : 'hit';
  const module = { exports: {} as Record<string, unknown> };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return {
    exports: module.exports,
    state,
    save: () => {
      if (state === 'hit' || state === 'off') return;
      try {
        const data = script.createCachedData();
        const header = Buffer.from(JSON.stringify({ ...expected, dataLength: data.length, dataCrc: crc32(data) } satisfies Header), 'utf8');
        const prefix = Buffer.alloc(12);
        prefix.write(MAGIC, 0, 'latin1');
        prefix.writeUInt32LE(header.length, 8);
        writeCacheFile(cacheFile!, [prefix, header, data]);
      } catch {
        // a cache is an optimization: never fail a run over it
      }
    },
  };
}
