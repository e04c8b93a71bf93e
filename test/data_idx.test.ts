import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadIdx, readIdx } from '../src/data/idx.ts';
import { DataError } from '../src/errors.ts';

/** An IDX file by hand: 0, 0, type, ndims, then big-endian uint32 dims, then the bytes. */
function idxBytes(dims: number[], data: number[], type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

let dir = '';
const at = (name: string) => path.join(dir, name);
const write = (name: string, bytes: Uint8Array) => {
  fs.writeFileSync(at(name), bytes);
  return at(name);
};

// 3 images of 2 × 2 pixels and their labels.
const PIXELS = [0, 255, 51, 102, 1, 2, 3, 4, 128, 64, 32, 16];
const LABELS = [3, 0, 7];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-idx-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('readIdx', () => {
  it('reads the header of a hand-built file: the header bytes are what we think they are', () => {
    const bytes = idxBytes([3, 2, 2], PIXELS);
    expect(Array.from(bytes.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2]);
    const file = write('raw-images', bytes);
    const { dims, data } = readIdx(file);
    expect(dims).toEqual([3, 2, 2]);
    expect(Array.from(data)).toEqual(PIXELS);
  });

  it('detects gzip by its magic bytes, not by the file name', () => {
    const gz = gzipSync(idxBytes([3], LABELS));
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    const unnamed = write('labels-no-extension', gz);
    expect(readIdx(unnamed)).toEqual({ dims: [3], data: Uint8Array.from(LABELS) });
    // And a raw file that happens to end in .gz still reads raw.
    const misnamed = write('labels-raw.gz', idxBytes([3], LABELS));
    expect(Array.from(readIdx(misnamed).data)).toEqual(LABELS);
  });

  it('rejects a file that is not IDX, showing the magic found', () => {
    const file = write('not-idx', Buffer.from([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 9]));
    expect(() => readIdx(file)).toThrow(DataError);
    expect(() => readIdx(file)).toThrow(`${file}: not an IDX file: expected a magic number 0x000008NN, found 0x12340801`);
  });

  it('rejects data types other than unsigned byte', () => {
    const file = write('floats', idxBytes([1], [0, 0, 0, 0], 0x0d));
    expect(() => readIdx(file)).toThrow(`${file}: IDX data type 0x0d (float32) is not supported: expected 0x08 (unsigned byte)`);
  });

  it('reports truncated data as expected vs found bytes', () => {
    const full = idxBytes([3, 2, 2], PIXELS);
    const file = write('short', full.subarray(0, full.length - 2));
    expect(() => readIdx(file)).toThrow(`${file}: IDX data is truncated: dimensions 3 × 2 × 2 need 12 bytes, found 10`);
    const gz = write('short.gz', gzipSync(full.subarray(0, full.length - 2)));
    expect(() => readIdx(gz)).toThrow(/need 12 bytes, found 10/);
  });

  it('reports trailing bytes after the data', () => {
    const file = write('long', Buffer.concat([idxBytes([3], LABELS), Buffer.from([1])]));
    expect(() => readIdx(file)).toThrow(/IDX data has trailing bytes: dimensions 3 need 3 bytes, found 4/);
  });

  it('reports a truncated header and a file too short for a magic number', () => {
    const file = write('header', idxBytes([3, 2, 2], []).subarray(0, 10));
    expect(() => readIdx(file)).toThrow(`${file}: truncated IDX header: 3 dimensions need 16 header bytes, found 10`);
    const tiny = write('tiny', Buffer.from([0, 0]));
    expect(() => readIdx(tiny)).toThrow(/not an IDX file: expected a 4-byte magic number, found 2 bytes/);
  });

  it('reports a gzip stream that does not decompress', () => {
    const gz = gzipSync(idxBytes([3], LABELS));
    const file = write('broken.gz', gz.subarray(0, 12));
    expect(() => readIdx(file)).toThrow(new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}: the file starts like gzip but does not decompress`));
  });

  it('reports a missing file', () => {
    expect(() => readIdx(at('absent'))).toThrow(`${at('absent')}: cannot read the IDX file (ENOENT)`);
  });
});

describe('loadIdx', () => {
  it('turns images and labels into a classification dataset with pixels / 255', () => {
    const images = write('img.gz', gzipSync(idxBytes([3, 2, 2], PIXELS)));
    const labels = write('lab', idxBytes([3], LABELS));
    const ds = loadIdx(images, labels);
    expect(ds.task).toBe('classification');
    expect(ds.n).toBe(3);
    expect(ds.features).toBe(4);
    expect(ds.x).toEqual(Float32Array.from(PIXELS.map((p) => p / 255)));
    expect(ds.x[1]).toBe(1);
    expect(ds.x[2]).toBe(Math.fround(0.2));
    expect(Array.from(ds.y)).toEqual(LABELS);
    // classes = largest label + 1.
    expect(ds.classes).toBe(8);
    expect(ds.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
  });

  it('multiplies by a given scale instead', () => {
    const ds = loadIdx(write('img2', idxBytes([3, 2, 2], PIXELS)), write('lab2', idxBytes([3], LABELS)), { scale: 1 });
    expect(Array.from(ds.x)).toEqual(PIXELS);
  });

  it('rejects images and labels of different counts', () => {
    const images = write('img3', idxBytes([3, 2, 2], PIXELS));
    const labels = write('lab3', idxBytes([2], [1, 2]));
    expect(() => loadIdx(images, labels)).toThrow(`${labels}: holds 2 labels but ${images} holds 3 images; expected the same count`);
  });

  it('rejects files in swapped roles by their magic numbers', () => {
    const images = write('img4', idxBytes([3, 2, 2], PIXELS));
    const labels = write('lab4', idxBytes([3], LABELS));
    expect(() => loadIdx(labels, images)).toThrow(
      `${labels}: expected IDX images with magic 0x00000803 (count × rows × cols), found magic 0x00000801 (1 dimension)`,
    );
    const twoLabels = write('lab5', idxBytes([3, 1], LABELS));
    expect(() => loadIdx(images, twoLabels)).toThrow(/expected IDX labels with magic 0x00000801 \(count\), found magic 0x00000802 \(2 dimensions\)/);
  });
});

const MNIST = fileURLToPath(new URL('../../shared/data/mnist', import.meta.url));
const haveMnist = fs.existsSync(path.join(MNIST, 'train-images-idx3-ubyte.gz'));
if (!haveMnist) console.warn(`data_idx.test: skipping the MNIST checks: ${MNIST} does not exist (the shared data folder is not mounted)`);

describe('MNIST from the shared data folder', () => {
  it.skipIf(!haveMnist)('loads the 22,699-image training subset with every class 2,000–2,600', () => {
    const ds = loadIdx(path.join(MNIST, 'train-images-idx3-ubyte.gz'), path.join(MNIST, 'train-labels-idx1-ubyte.gz'));
    expect(ds.n).toBe(22_699);
    expect(ds.features).toBe(784);
    expect(ds.classes).toBe(10);
    expect(ds.x.length).toBe(22_699 * 784);
    const counts = new Array<number>(10).fill(0);
    for (const label of ds.y) counts[label]!++;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(22_699);
    for (const c of counts) {
      expect(c).toBeGreaterThanOrEqual(2000);
      expect(c).toBeLessThanOrEqual(2600);
    }
    let min = Infinity;
    let max = -Infinity;
    for (const v of ds.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
  });

  it.skipIf(!haveMnist)('loads the 10,000-image standard test set with labels 0..9', () => {
    const ds = loadIdx(path.join(MNIST, 't10k-images-idx3-ubyte.gz'), path.join(MNIST, 't10k-labels-idx1-ubyte.gz'));
    expect(ds.n).toBe(10_000);
    expect(ds.features).toBe(784);
    expect(ds.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const seen = new Set(ds.y);
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The first test image is a 7, the second a 2 (the standard t10k order).
    expect([ds.y[0], ds.y[1]]).toEqual([7, 2]);
  });
});
