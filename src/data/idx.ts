// IDX, the MNIST file format: a big-endian header (two zero bytes, a data-type byte, a
// dimension count, then one uint32 per dimension) followed by the values. Only unsigned
// bytes (type 0x08), the type MNIST uses, are supported. Files may be gzipped; gzip is
// recognised by its magic bytes, so a renamed file still reads.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { DataError } from '../errors.ts';
import type { ClassificationDataset } from './dataset.ts';
import { withDecodedCache } from './decoded_cache.ts';

export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex = (v: number, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;

/** Parse IDX bytes that are already decompressed; `file` is only used in messages. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) {
    throw new DataError(
      `${file}: not an IDX file: expected a 4-byte magic number, found ${bytes.length} byte${bytes.length === 1 ? '' : 's'}`,
      'the file is empty or truncated; download it again',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(
      `${file}: not an IDX file: expected a magic number 0x000008NN, found ${hex(magic, 8)}`,
      'MNIST files are named like train-images-idx3-ubyte(.gz); check the path',
    );
  }
  const type = bytes[2]!;
  if (type !== 0x08) {
    const name = TYPE_NAMES[type];
    throw new DataError(
      `${file}: IDX data type ${hex(type, 2)}${name ? ` (${name})` : ''} is not supported: expected 0x08 (unsigned byte)`,
      'only byte-valued IDX files (such as MNIST) can be read',
    );
  }
  const ndims = bytes[3]!;
  if (ndims === 0) {
    throw new DataError(`${file}: IDX header declares 0 dimensions (magic ${hex(magic, 8)}); expected at least 1`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataError(
      `${file}: truncated IDX header: ${ndims} dimensions need ${headerBytes} header bytes, found ${bytes.length}`,
      'the file is truncated; download it again',
    );
  }
  const dims: number[] = [];
  let expected = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d);
    dims.push(size);
    expected *= size;
  }
  const found = bytes.length - headerBytes;
  if (found !== expected) {
    throw new DataError(
      `${file}: IDX data ${found < expected ? 'is truncated' : 'has trailing bytes'}: dimensions ${dims.join(' × ')} need ${expected} bytes, found ${found}`,
      found < expected ? 'the file is truncated; download it again' : 'the header count may be wrong for this data',
    );
  }
  // A plain Uint8Array view, not a Buffer: Buffer's slice() shares memory, unlike Uint8Array's.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, expected) };
}

/** Read an IDX file, raw or gzipped. */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(
      `${path}: cannot read the IDX file (${code ?? (err as Error).message})`,
      code === 'ENOENT' ? 'check the path; relative paths are resolved from the current directory' : undefined,
    );
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new DataError(
        `${path}: the file starts like gzip but does not decompress (${(err as Error).message})`,
        'the download is probably incomplete; fetch it again',
      );
    }
  }
  return parseIdx(bytes, path);
}

/** Bytes read from the start of a file for its header: a gzipped one inflates them only (1 KiB holds the IDX header, and inflates to 1 MiB at most). */
const HEADER_PROBE_BYTES = 1024;

/**
 * An IDX file's dimensions from its header alone, before it is read: so a run can plan the
 * memory its rows need and refuse before loading gigabytes. Undefined when the start of the
 * file is not a readable IDX header; loading it then says what is wrong.
 */
export function readIdxDims(path: string): number[] | undefined {
  let head: Uint8Array;
  try {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(HEADER_PROBE_BYTES);
      head = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0));
    } finally {
      closeSync(fd);
    }
    // A sync flush inflates what the first bytes hold without asking for the rest of the stream.
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) head = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return undefined;
  }
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0 || head[3] === 0 || head.length < 4 + 4 * head[3]!) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return Array.from({ length: head[3]! }, (_, d) => view.getUint32(4 + 4 * d));
}

/**
 * Load an IDX image file (count × rows × cols) and its label file (count) as a
 * classification dataset with rows·cols features, each pixel × `scale` (default 1/255,
 * so pixels land in [0, 1]). `classes` is the largest label + 1 — 10 for MNIST; a subset
 * without its top digit gets fewer, so pass a saved model's class count when that matters.
 * A pair read before with the same scale, and unchanged since, comes from the decoded-data
 * cache unless `cache` is false or THREADTRAIN_NO_CACHE=1.
 */
export function loadIdx(
  imagesPath: string,
  labelsPath: string,
  options: { readonly scale?: number; readonly cache?: boolean } = {},
): ClassificationDataset {
  const scale = options.scale ?? 1 / 255;
  // A pixel of 255 times the scale must still be a float32 number (1e37 would give Infinity).
  if (!Number.isFinite(scale) || !Number.isFinite(Math.fround(255 * scale))) {
    throw new DataError(`IDX scale: expected a number that keeps 255 × scale within float32's range, found ${scale}`, 'the default 1/255 maps pixels to [0, 1]');
  }
  return withDecodedCache('idx', [imagesPath, labelsPath], { scale }, options.cache, () => decodeIdxPair(imagesPath, labelsPath, scale));
}

function decodeIdxPair(imagesPath: string, labelsPath: string, scale: number): ClassificationDataset {
  const images = readIdx(imagesPath);
  if (images.dims.length !== 3) {
    throw new DataError(
      `${imagesPath}: expected IDX images with magic 0x00000803 (count × rows × cols), found magic ${hex(0x800 + images.dims.length, 8)} (${images.dims.length} dimension${images.dims.length === 1 ? '' : 's'})`,
      images.dims.length === 1 ? 'this looks like a label file; the images file comes first' : undefined,
    );
  }
  const labels = readIdx(labelsPath);
  if (labels.dims.length !== 1) {
    throw new DataError(
      `${labelsPath}: expected IDX labels with magic 0x00000801 (count), found magic ${hex(0x800 + labels.dims.length, 8)} (${labels.dims.length} dimensions)`,
      labels.dims.length === 3 ? 'this looks like an images file; the labels file comes second' : undefined,
    );
  }
  const [n, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new DataError(
      `${labelsPath}: holds ${labels.dims[0]} labels but ${imagesPath} holds ${n} images; expected the same count`,
      'pair each images file with its own labels file (train with train, t10k with t10k)',
    );
  }
  if (n === 0 || rows === 0 || cols === 0) {
    throw new DataError(`${imagesPath}: holds no pixels: dimensions ${n} × ${rows} × ${cols}`, 'the file is empty of data; download it again');
  }
  const features = rows * cols;
  // A 256-entry table keeps the conversion exact and the same for every pixel.
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v * scale;
  const x = new Float32Array(n * features);
  const pixels = images.data;
  for (let i = 0; i < x.length; i++) x[i] = table[pixels[i]!]!;
  const y = new Int32Array(n);
  let maxLabel = 0;
  for (let i = 0; i < n; i++) {
    const label = labels.data[i]!;
    y[i] = label;
    if (label > maxLabel) maxLabel = label;
  }
  const classes = maxLabel + 1;
  return {
    task: 'classification',
    n,
    features,
    x,
    y,
    classes,
    classNames: Array.from({ length: classes }, (_, k) => String(k)),
  };
}
