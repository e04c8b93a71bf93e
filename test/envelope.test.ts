// The model/checkpoint envelope: round trip of typed arrays with their exact bits, every
// corruption reported as a ModelFileError with its message, and atomic writes that leave
// the previous file intact (and no temp file) when writing fails part-way.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelFileError } from '../src/errors.ts';
import {
  decodeEnvelope,
  encodeEnvelope,
  readEnvelopeFile,
  writeEnvelopeFile,
  writeFileAtomic,
} from '../src/io/envelope.ts';

const bits = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

function payload() {
  const weights = new Float32Array([1.5, -0, Number.NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38]);
  // A NaN with a non-default payload, to show the bytes are copied rather than re-encoded.
  new Uint32Array(weights.buffer)[2] = 0x7fc01234;
  return {
    spec: { inputs: 4, layers: [{ units: 3, activation: 'relu' }, { units: 2, activation: 'softmax' }], loss: 'cross_entropy' },
    step: 1234,
    lr: 0.001,
    loss: Number.NaN,
    weights,
    optimizer: { name: 'adam', state: [new Float32Array([0.1, 0.2]), new Float32Array([1e-8, -0])] },
    rng: new Uint32Array([0xdeadbeef, 1, 2, 0xffffffff]),
    order: new Int32Array([-1, 0, 2 ** 31 - 1]),
    history: new Float64Array([Math.PI, -0, Number.NaN]),
    tags: ['a', 'ü', ''],
    nothing: null,
  };
}

function firstLine(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    expect((e as ModelFileError).hint).toBeTruthy();
    return (e as Error).message.split('\n')[0]!;
  }
  throw new Error('expected a ModelFileError, but nothing was thrown');
}

describe('round trip', () => {
  it('keeps nested structure, typed-array types and exact bits (NaN payloads and −0 included)', () => {
    const original = payload();
    const { version, payload: back } = decodeEnvelope(encodeEnvelope('checkpoint', 3, original), 'checkpoint', 'ck.ttc');
    expect(version).toBe(3);
    const b = back as ReturnType<typeof payload>;
    expect(b.spec).toEqual(original.spec);
    expect(b.step).toBe(1234);
    expect(b.lr).toBe(0.001);
    expect(b.loss).toBeNaN();
    expect(b.tags).toEqual(['a', 'ü', '']);
    expect(b.nothing).toBeNull();
    const typed: [unknown, ArrayBufferView][] = [
      [b.weights, original.weights],
      [b.optimizer.state[0], original.optimizer.state[0]!],
      [b.optimizer.state[1], original.optimizer.state[1]!],
      [b.rng, original.rng],
      [b.order, original.order],
      [b.history, original.history],
    ];
    for (const [got, want] of typed) {
      expect(got).toBeInstanceOf(want.constructor);
      expect(bits(got as ArrayBufferView)).toEqual(bits(want));
    }
    expect(Object.is(b.weights[1], -0)).toBe(true);
    expect(Object.is(b.history[1], -0)).toBe(true);
    // Decoded arrays own an aligned buffer, so they can be copied into shared memory directly.
    expect(b.weights.byteOffset % 4).toBe(0);
  });

  it('encodes the same payload to the same bytes', () => {
    expect(bits(encodeEnvelope('model', 1, payload()))).toEqual(bits(encodeEnvelope('model', 1, payload())));
  });

  it('is not disturbed by a second encode reusing msgpackr\'s buffer', () => {
    const first = encodeEnvelope('model', 1, { w: new Float32Array([1, 2, 3]) });
    encodeEnvelope('model', 1, { w: new Float32Array([9, 9, 9, 9, 9]) });
    const { payload: back } = decodeEnvelope(first, 'model', 'm');
    expect(Array.from((back as { w: Float32Array }).w)).toEqual([1, 2, 3]);
  });

  it('starts with the magic, the kind and the version', () => {
    const bytes = encodeEnvelope('model', 7, {});
    expect(Buffer.from(bytes.subarray(0, 13)).toString('latin1')).toBe('THREADTRAIN\0M');
    expect(new DataView(bytes.buffer).getUint32(16, true)).toBe(7);
    expect(encodeEnvelope('checkpoint', 7, {})[12]).toBe('C'.charCodeAt(0));
  });
});

describe('corruption', () => {
  const good = encodeEnvelope('model', 2, payload());

  it('a flipped byte in the payload fails the checksum', () => {
    const bad = good.slice();
    bad[40] = bad[40]! ^ 0x01;
    expect(firstLine(() => decodeEnvelope(bad, 'model', 'net.ttm'))).toMatch(
      /^net\.ttm: corrupted: SHA-256 checksum mismatch \(stored [0-9a-f]{64}, computed [0-9a-f]{64}\)$/,
    );
  });

  it('a flipped byte in the checksum itself is also caught', () => {
    const bad = good.slice();
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x80;
    // Both hashes whole: a flip in the last byte shows as two hashes that differ at their end.
    const m = /checksum mismatch \(stored ([0-9a-f]{64}), computed ([0-9a-f]{64})\)$/.exec(firstLine(() => decodeEnvelope(bad, 'model', 'net.ttm')))!;
    expect(m[1]!.slice(0, 62)).toBe(m[2]!.slice(0, 62));
    expect(parseInt(m[1]!.slice(62), 16) ^ parseInt(m[2]!.slice(62), 16)).toBe(0x80);
  });

  it('a flipped kind byte is caught by the checksum, not misreported as the other kind', () => {
    const bad = good.slice();
    bad[12] = 'C'.charCodeAt(0);
    expect(firstLine(() => decodeEnvelope(bad, 'checkpoint', 'net.ttm'))).toMatch(/corrupted: SHA-256 checksum mismatch/);
  });

  it('an empty file', () => {
    expect(firstLine(() => decodeEnvelope(new Uint8Array(0), 'model', 'net.ttm'))).toBe(
      'net.ttm: expected a threadtrain model file, found an empty file',
    );
  });

  it.each([5, 12, 20, 27])('cut inside the header (%i bytes)', (n) => {
    expect(firstLine(() => decodeEnvelope(good.subarray(0, n), 'model', 'net.ttm'))).toBe(
      `net.ttm: truncated: expected a 28-byte header, found only ${n} bytes`,
    );
  });

  it.each([28, 29, 100, -33, -1])('cut in the payload or checksum (%i)', (n) => {
    const cut = good.subarray(0, n < 0 ? good.length + n : n);
    expect(firstLine(() => decodeEnvelope(cut, 'model', 'net.ttm'))).toBe(
      `net.ttm: truncated: the header announces ${good.length} bytes (payload ${good.length - 60} + header and checksum), found ${cut.length}`,
    );
  });

  it('extra bytes after the checksum', () => {
    const long = new Uint8Array(good.length + 3);
    long.set(good);
    expect(firstLine(() => decodeEnvelope(long, 'model', 'net.ttm'))).toBe(
      `net.ttm: corrupted: expected ${good.length} bytes, found ${good.length + 3} (3 extra bytes after the checksum)`,
    );
  });

  it('a file that is not a threadtrain file (text)', () => {
    const json = new TextEncoder().encode('{"weights": [1, 2, 3]}');
    expect(firstLine(() => decodeEnvelope(json, 'model', 'model.json'))).toBe(
      'model.json: expected a threadtrain model file (starting with "THREADTRAIN"), found "{\\"weights\\": "',
    );
  });

  it('a file that is not a threadtrain file (binary)', () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(firstLine(() => decodeEnvelope(zip, 'checkpoint', 'ck.zip'))).toBe(
      'ck.zip: expected a threadtrain checkpoint (starting with "THREADTRAIN"), found bytes 504b03040000000000000000',
    );
  });

  it('a checkpoint where a model was expected', () => {
    const ck = encodeEnvelope('checkpoint', 1, {});
    let error: unknown;
    try {
      decodeEnvelope(ck, 'model', 'run/ck-100.ttc');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message.split('\n')[0]).toBe('run/ck-100.ttc: expected a model file, found a checkpoint');
    expect((error as ModelFileError).hint).toMatch(/resuming; pass the model file/);
  });

  it('a model where a checkpoint was expected', () => {
    const model = encodeEnvelope('model', 1, {});
    expect(firstLine(() => decodeEnvelope(model, 'checkpoint', 'net.ttm'))).toBe('net.ttm: expected a checkpoint, found a model file');
  });

  it('returns a newer version unchanged, for the caller to judge', () => {
    expect(decodeEnvelope(encodeEnvelope('model', 99, 1), 'model', 'm').version).toBe(99);
  });
});

describe('files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'threadtrain-envelope-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes and reads back through the file system, replacing an existing file', () => {
    const path = join(dir, 'net.ttm');
    writeEnvelopeFile(path, 'model', 1, { w: new Float32Array([1]) });
    writeEnvelopeFile(path, 'model', 2, { w: new Float32Array([2, 3]) });
    const { version, payload: back } = readEnvelopeFile(path, 'model');
    expect(version).toBe(2);
    expect((back as { w: Float32Array }).w).toEqual(new Float32Array([2, 3]));
    expect(readdirSync(dir)).toEqual(['net.ttm']);
  });

  it('a missing file names the path', () => {
    const path = join(dir, 'nope.ttm');
    expect(firstLine(() => readEnvelopeFile(path, 'model'))).toMatch(/^cannot read model file .*nope\.ttm: ENOENT: /);
  });

  it('reports corruption found on disk with the path', () => {
    const path = join(dir, 'net.ttm');
    writeEnvelopeFile(path, 'model', 1, { w: new Float32Array(100) });
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    expect(firstLine(() => readEnvelopeFile(path, 'model'))).toMatch(new RegExp(`^${path.replace(/[.\\/]/g, '\\$&')}: truncated: `));
  });

  it('when the payload cannot be encoded, the old file stays and no temp file is left', () => {
    const path = join(dir, 'net.ttm');
    writeEnvelopeFile(path, 'model', 1, { w: new Float32Array([1, 2]) });
    const before = readFileSync(path);
    const poisoned = { get w(): never { throw new Error('boom'); } };
    expect(() => writeEnvelopeFile(path, 'model', 1, poisoned)).toThrow('boom');
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['net.ttm']);
  });

  it('when the disk fills part-way through the write, the old file stays and the temp file is removed', () => {
    const path = join(dir, 'net.ttm');
    writeEnvelopeFile(path, 'model', 1, { w: new Float32Array([1, 2]) });
    const before = readFileSync(path);
    const realWrite = fs.writeSync.bind(fs) as (fd: number, b: Uint8Array, off: number, len: number) => number;
    let calls = 0;
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, b: Uint8Array, off: number, len: number) => {
      // First call writes half the bytes for real, the second fails as a full disk would.
      if (calls++ === 0) return realWrite(fd, b, off, Math.floor(len / 2));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as never);
    const big = { w: new Float32Array(10_000).fill(7) };
    expect(firstLine(() => writeEnvelopeFile(path, 'model', 2, big))).toMatch(
      /^cannot write .*net\.ttm: ENOSPC: no space left on device, write$/,
    );
    expect(calls).toBe(2);
    vi.restoreAllMocks();
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['net.ttm']);
    expect(readEnvelopeFile(path, 'model').version).toBe(1);
  });

  it('when fsync fails, nothing is renamed into place', () => {
    const path = join(dir, 'fresh.ttm');
    vi.spyOn(fs, 'fsyncSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });
    expect(firstLine(() => writeFileAtomic(path, new Uint8Array([1, 2, 3])))).toMatch(/^cannot write .*fresh\.ttm: EIO: /);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('missing folders are created (the output-path rule)', () => {
    const path = join(dir, 'missing', 'deeper', 'net.ttm');
    writeFileAtomic(path, new Uint8Array([1, 2]));
    expect([...readFileSync(path)]).toEqual([1, 2]);
  });

  it('removes the temp files of dead processes for the same file, keeps those of live ones and of other files', () => {
    const path = join(dir, 'net.ttm');
    // A process that has exited: its pid names no process now.
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = join(dir, `.net.ttm.${gone}.abc123.tmp`);
    const live = join(dir, `.net.ttm.${process.ppid}.def456.tmp`);
    const other = join(dir, `.other.ttm.${gone}.abc123.tmp`);
    for (const f of [stale, live, other]) writeFileSync(f, 'left behind by kill -9');
    writeFileAtomic(path, new Uint8Array([3]));
    expect(readdirSync(dir).sort()).toEqual([`.net.ttm.${process.ppid}.def456.tmp`, `.other.ttm.${gone}.abc123.tmp`, 'net.ttm']);
  });
});
