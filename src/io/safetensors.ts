// safetensors files (the format PyTorch and Hugging Face use for tensors), written and
// read here in the layout PyTorch gives an nn.Sequential of Linear and activation modules.
//
// File layout: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON (padded with spaces
// so the data starts on an 8-byte boundary), then the tensor data, row-major,
// little-endian. The JSON maps each tensor name to {dtype, shape, data_offsets: [begin,
// end)} relative to the first data byte; the offsets must tile the data with no gap or
// overlap. An optional "__metadata__" entry maps strings to strings.
//
// Names follow nn.Sequential's numbering: every module takes the next index, Linear and
// activation alike, and a layer without an activation (identity) adds no module. So
// Linear(3,4), ReLU(), Linear(4,2) is `0.weight` (4, 3), `0.bias`, `2.weight`, `2.bias`;
// nn.PReLU's learned slopes are its module's `weight` (units). Linear.weight is (OUT, IN),
// as ours is: no transpose.

import fs from 'node:fs';
import type { ExplicitLayerWeights } from '../model/init.ts';
import type { LayerSpec } from '../model/spec.ts';
import { ModelFileError, systemMessage } from '../errors.ts';
import { float32LittleEndian } from './bytes.ts';
import { exportMetadata, type ExportSource } from './export_metadata.ts';

export const SAFETENSORS_METADATA = '__metadata__';

export interface TorchModule {
  /** Index in the nn.Sequential. */
  readonly index: number;
  /** Layer of ours this module belongs to. */
  readonly layer: number;
  readonly kind: 'linear' | 'activation';
}

/** The nn.Sequential modules for our layers, in order (identity layers add none). */
export function torchModules(layers: readonly Pick<LayerSpec, 'activation'>[]): TorchModule[] {
  const modules: TorchModule[] = [];
  layers.forEach((layer, l) => {
    modules.push({ index: modules.length, layer: l, kind: 'linear' });
    if (layer.activation !== 'identity') modules.push({ index: modules.length, layer: l, kind: 'activation' });
  });
  return modules;
}

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Each layer's tensors under the state_dict names of the matching nn.Sequential. */
export function torchStateDict(source: ExportSource): NamedTensor[] {
  const tensors: NamedTensor[] = [];
  for (const m of torchModules(source.layers.map((l) => l.spec))) {
    const layer = source.layers[m.layer]!;
    if (m.kind === 'linear') {
      tensors.push({ name: `${m.index}.weight`, shape: [layer.units, layer.inputs], data: layer.weights });
      tensors.push({ name: `${m.index}.bias`, shape: [layer.units], data: layer.biases });
    } else if (layer.slopes) {
      tensors.push({ name: `${m.index}.weight`, shape: [layer.units], data: layer.slopes });
    }
  }
  return tensors;
}

/** A safetensors file of F32 tensors in the given order, with string metadata. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { [SAFETENSORS_METADATA]: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(json);
    json = spaced;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(float32LittleEndian(tensors.map((t) => t.data)), 8 + json.length);
  return out;
}

/** The model's tensors and metadata as a safetensors file. */
export function encodeTorchSafetensors(source: ExportSource): Uint8Array {
  return encodeSafetensors(torchStateDict(source), exportMetadata(source));
}

export interface SafetensorsContents {
  readonly metadata: Record<string, string>;
  readonly tensors: ReadonlyMap<string, { readonly dtype: string; readonly shape: readonly number[]; readonly data: Float32Array | undefined }>;
}

/**
 * Parse and check a safetensors file. F32 tensors come back as Float32Arrays; other dtypes
 * are listed with `data` undefined so the caller can name them. Any structural fault
 * (truncation, bad JSON, offsets that do not tile the data) is a ModelFileError naming `file`.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsContents {
  const fail = (problem: string): never => {
    throw new ModelFileError(`${file}: ${problem}`, 'expected a safetensors file as written by safetensors.torch.save_file or threadtrain export');
  };
  if (bytes.length < 8) fail(`expected at least an 8-byte header length, found ${bytes.length} bytes`);
  if (new TextDecoder().decode(bytes.subarray(0, 11)) === 'THREADTRAIN') {
    throw new ModelFileError(`${file}: is a threadtrain model or checkpoint file, not safetensors`,
      'export it first (threadtrain export --format safetensors), or resume from a checkpoint with --resume');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getBigUint64(0, true);
  if (headerBytes > BigInt(bytes.length - 8)) fail(`the header length says ${headerBytes} bytes, but only ${bytes.length - 8} follow`);
  const dataStart = 8 + Number(headerBytes);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    fail(`the header is not UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const entries = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  const rawMeta = entries[SAFETENSORS_METADATA];
  if (rawMeta !== undefined) {
    if (rawMeta === null || typeof rawMeta !== 'object') fail(`"${SAFETENSORS_METADATA}" should map strings to strings`);
    for (const [k, v] of Object.entries(rawMeta as object)) {
      if (typeof v !== 'string') fail(`"${SAFETENSORS_METADATA}.${k}" should be a string, found ${JSON.stringify(v)}`);
      metadata[k] = v as string;
    }
  }
  const dataBytes = bytes.length - dataStart;
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, { dtype: string; shape: number[]; data: Float32Array | undefined }>();
  for (const [name, raw] of Object.entries(entries)) {
    if (name === SAFETENSORS_METADATA) continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = t.shape;
    const offsets = t.data_offsets;
    if (typeof t.dtype !== 'string' || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)
      || !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(`tensor "${name}" should have a dtype, a shape of non-negative integers and two data_offsets, found ${JSON.stringify(raw)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataBytes) fail(`tensor "${name}" has data_offsets [${begin}, ${end}] outside the ${dataBytes} data bytes`);
    const count = (shape as number[]).reduce((p, d) => p * d, 1);
    let data: Float32Array | undefined;
    if (t.dtype === 'F32') {
      if (end - begin !== count * 4) fail(`tensor "${name}" of shape [${shape}] F32 needs ${count * 4} bytes, its data_offsets span ${end - begin}`);
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + begin + i * 4, true);
    }
    spans.push({ name, begin, end });
    tensors.set(name, { dtype: t.dtype as string, shape: shape as number[], data });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const s of spans) {
    if (s.begin !== expected) fail(`tensor "${s.name}" starts at byte ${s.begin} of the data, expected ${expected} (the offsets must tile the data without gaps or overlaps)`);
    expected = s.end;
  }
  if (expected !== dataBytes) fail(`the tensors cover ${expected} data bytes, but the file holds ${dataBytes}`);
  return { metadata, tensors };
}

/**
 * The starting weights for a network of `layers` on `inputs` features, read from a
 * safetensors file holding a matching nn.Sequential's state_dict (PyTorch's or our own
 * export). Every missing, unexpected or misshapen tensor is listed in one error.
 * `inputs` may be left out: the first Linear's width is then taken from the file.
 */
export function weightsFromSafetensors(
  bytes: Uint8Array, file: string, layers: readonly LayerSpec[], inputs?: number,
): ExplicitLayerWeights[] {
  const { tensors } = decodeSafetensors(bytes, file);
  const modules = torchModules(layers);
  // Without `inputs`, the first Linear's width is whatever the file says (or unknown: "?").
  const width = inputs ?? tensors.get('0.weight')?.shape[1];
  const expected = new Map<string, (number | undefined)[]>();
  for (const m of modules) {
    const layer = layers[m.layer]!;
    const fanIn = m.layer === 0 ? width : layers[m.layer - 1]!.units;
    if (m.kind === 'linear') {
      expected.set(`${m.index}.weight`, [layer.units, fanIn]);
      expected.set(`${m.index}.bias`, [layer.units]);
    } else if (layer.activation === 'prelu') {
      expected.set(`${m.index}.weight`, [layer.units]);
    }
  }
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    const shown = `[${shape.map((d) => d ?? '?').join(', ')}]`;
    if (!t) problems.push(`missing "${name}" ${shown}`);
    else if (t.dtype !== 'F32') problems.push(`"${name}" is ${t.dtype}, expected F32`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`"${name}" has shape [${t.shape.join(', ')}], expected ${shown}`);
    }
  }
  for (const name of tensors.keys()) if (!expected.has(name)) problems.push(`unexpected "${name}"`);
  if (problems.length > 0) {
    const layout = modules.map((m) => (m.kind === 'linear' ? `${m.index}: Linear` : `${m.index}: ${layers[m.layer]!.activation}`)).join(', ');
    throw new ModelFileError(
      `${file}: does not match the model's layers (${problems.length} problem${problems.length > 1 ? 's' : ''}): ${problems.join('; ')}`,
      `the file must hold the state_dict of an nn.Sequential laid out as ${layout} (float32: call model.float() before saving)`,
    );
  }
  return layers.map((layer, l) => {
    const linear = modules.find((m) => m.layer === l && m.kind === 'linear')!;
    const act = modules.find((m) => m.layer === l && m.kind === 'activation');
    const w = tensors.get(`${linear.index}.weight`)!;
    const IN = w.shape[1]!;
    const rows = Array.from({ length: layer.units }, (_, j) => Array.from(w.data!.subarray(j * IN, (j + 1) * IN)));
    const b = Array.from(tensors.get(`${linear.index}.bias`)!.data!);
    const a = layer.activation === 'prelu' ? Array.from(tensors.get(`${act!.index}.weight`)!.data!) : undefined;
    return { w: rows, b, ...(a ? { a } : {}) };
  });
}

/** `weightsFromSafetensors` for a file on disk. */
export function readSafetensorsWeights(path: string, layers: readonly LayerSpec[], inputs?: number): ExplicitLayerWeights[] {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new ModelFileError(`cannot read weights file ${path}: ${systemMessage(e)}`,
      e.code === 'ENOENT' ? 'check the path; relative paths are resolved from the current directory (or the config file\'s folder)' : 'check that the path is a readable file');
  }
  return weightsFromSafetensors(bytes, path, layers, inputs);
}
