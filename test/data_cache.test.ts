// The decoded-data cache: a second load of an unchanged CSV or IDX source is served from
// <cache>/decoded/, and nothing in that file is trusted when the source, the options, the
// file's length or its checksum disagree: the loader decodes again and overwrites it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { loadCsv, parseCsv } from '../src/data/csv.ts';
import type { ClassificationDataset, Dataset } from '../src/data/dataset.ts';
import { decodedCacheEnabled, MIN_CACHED_SOURCE_BYTES } from '../src/data/decoded_cache.ts';
import { loadIdx } from '../src/data/idx.ts';

let dir = '';
let cacheDir = '';
const saved = { dir: process.env.THREADTRAIN_CACHE_DIR, off: process.env.THREADTRAIN_NO_CACHE };
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-cache-test-'));
  cacheDir = path.join(dir, 'cache');
  process.env.THREADTRAIN_CACHE_DIR = cacheDir;
  delete process.env.THREADTRAIN_NO_CACHE;
});
afterEach(() => {
  process.env.THREADTRAIN_CACHE_DIR = saved.dir;
  if (saved.off === undefined) delete process.env.THREADTRAIN_NO_CACHE;
  else process.env.THREADTRAIN_NO_CACHE = saved.off;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Deep equality, with the arrays compared as bytes (vitest's element-wise walk is slow on 60k floats). */
function expectSame(got: Dataset, want: Dataset, what = ''): void {
  const { x: gx, y: gy, ...gotMeta } = got;
  const { x: wx, y: wy, ...wantMeta } = want;
  expect(gotMeta, what).toEqual(wantMeta);
  const bytes = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  expect(gx.constructor, what).toBe(wx.constructor);
  expect(gy.constructor, what).toBe(wy.constructor);
  expect(bytes(gx).equals(bytes(wx)), `${what} x`).toBe(true);
  expect(bytes(gy).equals(bytes(wy)), `${what} y`).toBe(true);
}

const decodedFiles = (): string[] => {
  const d = path.join(cacheDir, 'decoded');
  return fs.existsSync(d) ? fs.readdirSync(d).map((f) => path.join(d, f)) : [];
};

/** A CSV over the cache's size threshold: 3 features and a string label per row. */
function csvText(rows: number, shift = 0): string {
  let text = 'a,b,c,kind\n';
  for (let r = 0; r < rows; r++) text += `${(r + shift) / 8},${-r},${(r % 17) * 0.5},${['x', 'y', 'z'][r % 3]}\n`;
  return text;
}
const ROWS = 20_000;

function writeCsv(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  expect(fs.statSync(file).size).toBeGreaterThan(MIN_CACHED_SOURCE_BYTES);
  return file;
}

/** Rewrites the data part of a cache file: negates x[0] and fixes the CRC, so a load that returns the change read the cache. */
function forgeFirstFeature(cacheFile: string): void {
  const bytes = fs.readFileSync(cacheFile);
  const headerLength = bytes.readUInt32LE(12);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + headerLength));
  const dataStart = Math.ceil((16 + headerLength) / 8) * 8;
  const x0 = bytes.readFloatLE(dataStart);
  bytes.writeFloatLE(x0 === 0 ? 1234.5 : -x0, dataStart);
  header.crc = crc32(bytes.subarray(dataStart));
  // Laid out again as the writer does: 16-byte prefix, JSON header, zero padding to 8 bytes, data.
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(Math.ceil((16 + json.length) / 8) * 8);
  bytes.copy(prefix, 0, 0, 12);
  prefix.writeUInt32LE(json.length, 12);
  json.copy(prefix, 16);
  fs.writeFileSync(cacheFile, Buffer.concat([prefix, bytes.subarray(dataStart)]));
}

describe('decoded-data cache: CSV', () => {
  it('stores the first load and serves the second from the cache, with the same dataset', () => {
    const text = csvText(ROWS);
    const file = writeCsv('data.csv', text);
    const want = parseCsv(text, { file });
    const first = loadCsv(file);
    expectSame(first, want);
    const files = decodedFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/csv-[0-9a-f]{32}\.bin$/);
    expectSame(loadCsv(file), want);
    // Proof that the second load read the cache: a forged (but checksummed) entry is what comes back.
    forgeFirstFeature(files[0]!);
    const forged = loadCsv(file);
    expect(forged.x[0]).toBe(1234.5);
    expect(Buffer.from(forged.x.buffer, forged.x.byteOffset + 4, forged.x.byteLength - 4).equals(Buffer.from(want.x.buffer, want.x.byteOffset + 4, want.x.byteLength - 4))).toBe(true);
  });

  it('decodes again when the source changes: new size, or same size and mtime but different edge bytes', () => {
    const file = writeCsv('data.csv', csvText(ROWS));
    loadCsv(file);
    const grown = csvText(ROWS + 1);
    fs.writeFileSync(file, grown);
    fs.utimesSync(file, 1e9, 1e9);
    expectSame(loadCsv(file), parseCsv(grown, { file }), 'grown');

    const same = grown.replace(/,x\n$/, ',z\n'); // the last row's label changed, same length
    expect(same.length).toBe(grown.length);
    fs.writeFileSync(file, same);
    fs.utimesSync(file, 1e9, 1e9);
    const ds = loadCsv(file) as ClassificationDataset;
    expectSame(ds, parseCsv(same, { file }), 'same size and mtime');
    expect(ds.y[ROWS]).toBe(2);
    expect(decodedFiles()).toHaveLength(1); // the entry was overwritten, not added to
  });

  it('keeps one entry per set of parse options', () => {
    const file = writeCsv('data.csv', csvText(ROWS));
    const reordered = loadCsv(file, { classNames: ['z', 'y', 'x'] }) as ClassificationDataset;
    const byDefault = loadCsv(file) as ClassificationDataset;
    expect(decodedFiles()).toHaveLength(2);
    expectSame(loadCsv(file, { classNames: ['z', 'y', 'x'] }), reordered);
    expectSame(loadCsv(file), byDefault);
    expect(Array.from(reordered.y.subarray(0, 3))).toEqual([2, 1, 0]);
    expect(Array.from(byDefault.y.subarray(0, 3))).toEqual([0, 1, 2]);
  });

  it('never trusts a truncated, corrupted, foreign or garbage cache file: it decodes and rewrites it', () => {
    const text = csvText(ROWS);
    const file = writeCsv('data.csv', text);
    const want = parseCsv(text, { file });
    loadCsv(file);
    const [cacheFile] = decodedFiles();
    const good = fs.readFileSync(cacheFile!);
    const damages: [string, (b: Buffer) => Buffer][] = [
      ['truncated by one byte', (b) => b.subarray(0, b.length - 1)],
      ['truncated into the header', (b) => b.subarray(0, 40)],
      ['a flipped data bit', (b) => {
        const c = Buffer.from(b);
        c[c.length - 100]! ^= 0x10;
        return c;
      }],
      ['one extra byte', (b) => Buffer.concat([b, Buffer.from([0])])],
      ['another format version', (b) => {
        const c = Buffer.from(b);
        c.writeUInt32LE(999, 8);
        return c;
      }],
      ['a header length past the end', (b) => {
        const c = Buffer.from(b);
        c.writeUInt32LE(0xffffffff, 12);
        return c;
      }],
      ['garbage', () => Buffer.from('not a cache file at all')],
      ['empty', () => Buffer.alloc(0)],
    ];
    for (const [what, damage] of damages) {
      fs.writeFileSync(cacheFile!, damage(good));
      expectSame(loadCsv(file), want, what);
      expect(fs.readFileSync(cacheFile!).equals(good), what).toBe(true);
    }
    expect(fs.readdirSync(path.dirname(cacheFile!)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('is off under THREADTRAIN_NO_CACHE=1 and with cache: false, and for small files', () => {
    const file = writeCsv('data.csv', csvText(ROWS));
    process.env.THREADTRAIN_NO_CACHE = '1';
    expect(loadCsv(file).n).toBe(ROWS);
    expect(decodedFiles()).toEqual([]);
    delete process.env.THREADTRAIN_NO_CACHE;
    expect(loadCsv(file, { cache: false }).n).toBe(ROWS);
    expect(decodedFiles()).toEqual([]);
    const small = path.join(dir, 'small.csv');
    fs.writeFileSync(small, csvText(100));
    expect(loadCsv(small).n).toBe(100);
    expect(decodedFiles()).toEqual([]);
    expect(decodedCacheEnabled(undefined, {})).toBe(true);
    expect(decodedCacheEnabled(undefined, { THREADTRAIN_NO_CACHE: '0' })).toBe(true);
    expect(decodedCacheEnabled(undefined, { THREADTRAIN_NO_CACHE: 'yes' })).toBe(false);
    expect(decodedCacheEnabled(false, {})).toBe(false);
  });

  it('still loads when the cache folder cannot be written, and still reports bad data', () => {
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, '');
    process.env.THREADTRAIN_CACHE_DIR = blocker; // decoded/ cannot be made under a file
    const file = writeCsv('data.csv', csvText(ROWS));
    expect(loadCsv(file).n).toBe(ROWS);
    process.env.THREADTRAIN_CACHE_DIR = cacheDir;
    const bad = writeCsv('bad.csv', `${csvText(ROWS)}1,2,oops,x\n`);
    expect(() => loadCsv(bad)).toThrow(`${bad} line ${ROWS + 2}, column "c" (3 of 4): expected a number, found "oops"`);
    expect(() => loadCsv(bad)).toThrow(/oops/);
    expect(decodedFiles()).toEqual([]);
    expect(() => loadCsv(path.join(dir, 'missing.csv'))).toThrow(/cannot read the CSV file \(ENOENT\)/);
  });
});

describe('decoded-data cache: IDX', () => {
  function writeIdx(count: number, seed: number): [string, string] {
    const images = Buffer.alloc(16 + count * 28 * 28);
    images.writeUInt32BE(0x803, 0);
    images.writeUInt32BE(count, 4);
    images.writeUInt32BE(28, 8);
    images.writeUInt32BE(28, 12);
    for (let i = 16; i < images.length; i++) images[i] = (i * seed) % 256;
    const labels = Buffer.alloc(8 + count);
    labels.writeUInt32BE(0x801, 0);
    labels.writeUInt32BE(count, 4);
    for (let i = 0; i < count; i++) labels[8 + i] = (i * 7 + seed) % 10;
    const imagesPath = path.join(dir, 'images-idx3-ubyte');
    const labelsPath = path.join(dir, 'labels-idx1-ubyte');
    fs.writeFileSync(imagesPath, images);
    fs.writeFileSync(labelsPath, labels);
    return [imagesPath, labelsPath];
  }

  it('serves an unchanged pair from the cache, keyed by both files and the scale', () => {
    const [images, labels] = writeIdx(400, 3);
    const want = loadIdx(images, labels, { cache: false });
    expect(decodedFiles()).toEqual([]);
    expect(want.x[1]).toBe(Math.fround(51 / 255)); // pixel 1 is byte 17: 17·3 = 51
    expectSame(loadIdx(images, labels), want);
    expect(decodedFiles()).toHaveLength(1);
    forgeFirstFeature(decodedFiles()[0]!);
    expect(loadIdx(images, labels).x[0]).toBe(-want.x[0]!);
    const unscaled = loadIdx(images, labels, { scale: 1 });
    expect(unscaled.x[1]).toBe(51);
    expect(decodedFiles()).toHaveLength(2);
    writeIdx(400, 5); // both files rewritten with other contents, same sizes
    const changed = loadIdx(images, labels);
    expectSame(changed, loadIdx(images, labels, { cache: false }));
    expect(changed.x[1]).toBe(Math.fround(85 / 255));
  });
});
