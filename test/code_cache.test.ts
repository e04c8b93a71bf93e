// The installed CLI's code cache (src/cli/code_cache.ts): a CommonJS script runs as require
// would run it; the first run writes V8's cached data, the second is served from it; a
// changed script, a file from another V8, and a corrupt or truncated file are recompiled and
// rewritten, never trusted; THREADTRAIN_NO_CACHE writes nothing.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeCacheFile, runCachedScript } from '../src/cli/code_cache.ts';

let dir = '';
let script = '';
let cache = '';

const SOURCE = `'use strict';
const path = require('node:path');
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
exports.answer = fib(20);
exports.where = path.basename(__filename) + ' in ' + path.basename(__dirname);
exports.self = module.exports === exports;
`;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-codecache-'));
  script = path.join(dir, 'bundle.cjs');
  cache = path.join(dir, 'cache', 'code', 'bundle.bin');
  fs.writeFileSync(script, SOURCE);
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const load = (env: NodeJS.ProcessEnv = {}) => runCachedScript(script, cache, env);

describe('runCachedScript', () => {
  it('runs a CommonJS file with its module wrapper: exports, require, __filename, __dirname', () => {
    const r = load();
    expect(r.exports).toEqual({ answer: 6765, where: `bundle.cjs in ${path.basename(dir)}`, self: true });
  });

  it('writes the cache after the first run and is served from it the next time', () => {
    const first = load();
    expect(first.state).toBe('missing');
    expect(fs.existsSync(cache)).toBe(false); // written on save(), once the command has run
    first.save();
    expect(fs.readFileSync(cache).toString('latin1', 0, 8)).toBe('TTCODE01');
    const second = load();
    expect(second.state).toBe('hit');
    expect(second.exports.answer).toBe(6765);
    const before = fs.statSync(cache).mtimeMs;
    second.save(); // a hit is not rewritten
    expect(fs.statSync(cache).mtimeMs).toBe(before);
    expect(fs.readdirSync(path.dirname(cache))).toEqual(['bundle.bin']); // no temporary file left
  });

  it('recompiles a changed script of the same length instead of trusting the old code', () => {
    load().save();
    const changed = SOURCE.replace('fib(20)', 'fib(21)');
    expect(changed.length).toBe(SOURCE.length); // V8 alone would take the old cache for it
    fs.writeFileSync(script, changed);
    const r = load();
    expect(r.state).toBe('stale');
    expect(r.exports.answer).toBe(10946);
    r.save();
    expect(load().state).toBe('hit');
  });

  it('rebuilds a corrupt, truncated or foreign cache file', () => {
    load().save();
    const good = fs.readFileSync(cache);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10]! ^= 0xff;
    const foreignHeader = Buffer.from(good.toString('latin1').replace(process.versions.v8, '0.0.0.0'.padEnd(process.versions.v8.length, '0')), 'latin1');
    for (const [bytes, state] of [[flipped, 'corrupt'], [good.subarray(0, good.length - 100), 'corrupt'], [Buffer.from('not a cache'), 'corrupt'],
      [foreignHeader, 'stale']] as const) {
      fs.writeFileSync(cache, bytes);
      const r = load();
      expect(r.state).toBe(state);
      expect(r.exports.answer).toBe(6765);
      r.save();
      expect(load().state).toBe('hit');
    }
  });

  it('neither reads nor writes under THREADTRAIN_NO_CACHE, and a cache folder it cannot write is no error', () => {
    const off = load({ THREADTRAIN_NO_CACHE: '1' });
    expect(off.state).toBe('off');
    off.save();
    expect(fs.existsSync(cache)).toBe(false);
    fs.writeFileSync(path.join(dir, 'cache'), 'a file where the folder should be');
    const blocked = load();
    expect(blocked.state).toBe('missing');
    expect(() => blocked.save()).not.toThrow();
    expect(blocked.exports.answer).toBe(6765);
  });

  it('keeps one cache file per script path, under the cache folder', () => {
    const root = path.join(dir, 'root');
    expect(codeCacheFile(script, root)).toBe(codeCacheFile(path.relative(process.cwd(), script), root));
    expect(codeCacheFile(script, root)).not.toBe(codeCacheFile(path.join(dir, 'other.cjs'), root));
    expect(path.dirname(codeCacheFile(script, root))).toBe(path.join(root, 'code'));
    // Without a cache file named, the entry is the one under the cache folder the environment gives.
    const r = runCachedScript(script, undefined, { THREADTRAIN_CACHE_DIR: root });
    r.save();
    expect(fs.existsSync(codeCacheFile(script, root))).toBe(true);
    expect(runCachedScript(script, undefined, { THREADTRAIN_CACHE_DIR: root }).state).toBe('hit');
  });
});
