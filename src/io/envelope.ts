// The container for model files and checkpoints: a fixed header, a MessagePack payload
// and a SHA-256 trailer, written atomically. This file knows nothing about what is inside
// the payload: the model-file and checkpoint code decide that and check the version.
//
// Layout (all integers little-endian):
//   0  12  magic "THREADTRAIN\0"
//  12   1  kind: 'M' model, 'C' checkpoint
//  13   1  byte order of typed-array data in the payload: 'L' little, 'B' big
//  14   2  reserved, 0
//  16   4  format version (u32), chosen by the caller
//  20   8  payload length in bytes (u64)
//  28   n  payload: msgpack, typed arrays as msgpackr ext 0x74 so they keep their type
//  28+n 32 SHA-256 of bytes [0, 28+n)
//
// msgpackr is imported from its pure-JS entry points: the bare 'msgpackr' import loads a
// native addon, which fails inside worker threads and buys nothing for float arrays.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Packr } from 'msgpackr/pack';
import { Unpackr } from 'msgpackr/unpack';
import { ModelFileError, systemMessage } from '../errors.ts';
import { staleTempFiles } from './output_path.ts';

export type EnvelopeKind = 'model' | 'checkpoint';

const MAGIC = new TextEncoder().encode('THREADTRAIN\0');
const HEADER_BYTES = 28;
const HASH_BYTES = 32;
const KIND_BYTE: Record<EnvelopeKind, number> = { model: 0x4d /* M */, checkpoint: 0x43 /* C */ };
const HOST_ORDER = endianness() === 'LE' ? 0x4c /* L */ : 0x42 /* B */;

// msgpackr's packer returns a view into a buffer it reuses on the next call, so the
// bytes are copied out straight away (see `encodeEnvelope`).
const packr = new Packr({ moreTypes: true, useRecords: false });
const unpackr = new Unpackr({ moreTypes: true, useRecords: false });

// Said when a file of kind K turns up where the other kind was expected.
const WRONG_KIND_HINT: Record<EnvelopeKind, string> = {
  model: 'a model file holds only the weights, not the optimizer state needed to resume; pass a checkpoint written during training',
  checkpoint: 'a checkpoint holds training state for resuming; pass the model file that training saved instead',
};

/**
 * Header + payload + checksum as one buffer. Scalars and plain objects/arrays round-trip
 * as MessagePack does (objects come back as plain objects, Maps as objects, a scalar −0 as
 * 0); Float32/Float64/Int32/Uint32/… arrays come back with their type and exact bits.
 */
export function encodeEnvelope(kind: EnvelopeKind, version: number, payload: unknown): Uint8Array {
  if (!Number.isInteger(version) || version < 0 || version > 0xffffffff) {
    throw new RangeError(`envelope version must be a u32 integer (got ${version})`);
  }
  const body = packr.pack(payload);
  const bytes = new Uint8Array(HEADER_BYTES + body.length + HASH_BYTES);
  bytes.set(MAGIC, 0);
  bytes[12] = KIND_BYTE[kind];
  bytes[13] = HOST_ORDER;
  const view = new DataView(bytes.buffer);
  view.setUint32(16, version, true);
  view.setBigUint64(20, BigInt(body.length), true);
  bytes.set(body, HEADER_BYTES);
  const end = HEADER_BYTES + body.length;
  bytes.set(sha256(bytes.subarray(0, end)), end);
  return bytes;
}

/** Check and unpack an envelope. Every failure is a ModelFileError naming `file`. */
export function decodeEnvelope(bytes: Uint8Array, expectedKind: EnvelopeKind, file: string): { version: number; payload: unknown } {
  const what = expectedKind === 'model' ? 'model file' : 'checkpoint';
  const fail = (problem: string, hint: string): never => {
    throw new ModelFileError(`${file}: ${problem}`, hint);
  };
  const truncatedHint = 'the file was cut short (interrupted copy or download, full disk); use an intact copy';

  if (bytes.length === 0) fail(`expected a threadtrain ${what}, found an empty file`, truncatedHint);
  const magicSeen = bytes.subarray(0, MAGIC.length);
  if (!magicSeen.every((b, i) => b === MAGIC[i])) {
    fail(
      `expected a threadtrain ${what} (starting with "THREADTRAIN"), found ${printable(magicSeen)}`,
      'threadtrain reads only the model files and checkpoints it wrote itself; check the path',
    );
  }
  if (bytes.length < HEADER_BYTES) {
    fail(`truncated: expected a ${HEADER_BYTES}-byte header, found only ${bytes.length} bytes`, truncatedHint);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(16, true);
  const payloadBytes = view.getBigUint64(20, true);
  const expectedTotal = BigInt(HEADER_BYTES + HASH_BYTES) + payloadBytes;
  if (BigInt(bytes.length) < expectedTotal) {
    fail(
      `truncated: the header announces ${expectedTotal} bytes (payload ${payloadBytes} + header and checksum), found ${bytes.length}`,
      truncatedHint,
    );
  }
  if (BigInt(bytes.length) > expectedTotal) {
    fail(
      `corrupted: expected ${expectedTotal} bytes, found ${bytes.length} (${BigInt(bytes.length) - expectedTotal} extra bytes after the checksum)`,
      'something appended to the file, or two files were concatenated; use an intact copy',
    );
  }
  const end = HEADER_BYTES + Number(payloadBytes);
  const stored = bytes.subarray(end, end + HASH_BYTES);
  const actual = sha256(bytes.subarray(0, end));
  if (!stored.every((b, i) => b === actual[i])) {
    fail(
      `corrupted: SHA-256 checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})`,
      'the bytes changed after the file was written (disk or transfer error, or an edit); use an intact copy',
    );
  }

  const kindByte = bytes[12]!;
  const foundKind = (Object.keys(KIND_BYTE) as EnvelopeKind[]).find((k) => KIND_BYTE[k] === kindByte);
  if (foundKind === undefined) {
    fail(`expected kind 'M' (model) or 'C' (checkpoint), found byte 0x${kindByte.toString(16).padStart(2, '0')}`,
      'the file may come from a newer threadtrain; upgrade threadtrain');
  }
  if (foundKind !== expectedKind) {
    fail(`expected a ${what}, found a ${foundKind === 'model' ? 'model file' : 'checkpoint'}`, WRONG_KIND_HINT[foundKind!]);
  }
  const orderByte = bytes[13];
  if (orderByte !== HOST_ORDER) {
    const order = orderByte === 0x4c ? 'little-endian' : orderByte === 0x42 ? 'big-endian' : `unknown (0x${orderByte!.toString(16)})`;
    fail(`written with ${order} arrays, but this machine is ${HOST_ORDER === 0x4c ? 'little' : 'big'}-endian`,
      'reading files across byte orders is not supported; export the weights on a machine of the same order');
  }

  let payload: unknown;
  try {
    payload = unpackr.unpack(bytes.subarray(HEADER_BYTES, end));
  } catch (err) {
    fail(`the checksum matches but the payload cannot be decoded (${(err as Error).message})`,
      'the writer produced an invalid file; please report this with the file attached');
  }
  return { version, payload };
}

/**
 * Replace `path` with `bytes` so that a reader sees either the old file or the new one,
 * never a mix: write a temporary file in the same directory, fsync it, rename it over
 * `path`, then fsync the directory so the rename itself survives a crash. Missing folders
 * are created; stale temp files of dead processes for the same `path` are removed first.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  let fd: number | undefined;
  try {
    // The output-path rule (io/output_path.ts): missing folders are created.
    fs.mkdirSync(dir, { recursive: true });
    // A process killed mid-write (kill -9, power loss) leaves its temp file; the next write
    // of the same file removes those of processes that no longer exist.
    for (const stale of staleTempFiles(path)) {
      try { fs.unlinkSync(stale); } catch { /* another writer removed it first */ }
    }
    fd = fs.openSync(tmp, 'wx');
    let offset = 0;
    while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* already failing; the original error matters more */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* never created, or already gone */ }
    const e = err as NodeJS.ErrnoException;
    const error = new ModelFileError(
      `cannot write ${path}: ${systemMessage(e)}`,
      e.code === 'ENOSPC'
        ? 'the disk is full: free some space; the previous file, if any, is unchanged'
        : 'check that the directory is writable and the disk has space; the previous file, if any, is unchanged',
    );
    error.cause = err;
    throw error;
  }
  // Best effort: the new file is already in place, so a failure here (Windows cannot open
  // directories; some filesystems reject fsync on them) must not report the write as failed.
  try {
    const dirFd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(dirFd); } finally { fs.closeSync(dirFd); }
  } catch { /* see above */ }
}

export function writeEnvelopeFile(path: string, kind: EnvelopeKind, version: number, payload: unknown): void {
  writeFileAtomic(path, encodeEnvelope(kind, version, payload));
}

export function readEnvelopeFile(path: string, expectedKind: EnvelopeKind): { version: number; payload: unknown } {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ModelFileError(
      `cannot read ${expectedKind === 'model' ? 'model file' : 'checkpoint'} ${path}: ${systemMessage(e)}`,
      e.code === 'ENOENT' ? 'check the path; relative paths are resolved from the current directory' : 'check that the path is a readable file',
    );
  }
  return decodeEnvelope(bytes, expectedKind, path);
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The first bytes of a foreign file, as text where printable, else as hex. */
function printable(bytes: Uint8Array): string {
  const text = String.fromCharCode(...bytes);
  return /^[\x20-\x7e]*$/.test(text) ? JSON.stringify(text) : `bytes ${hex(bytes)}`;
}
