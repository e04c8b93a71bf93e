// safetensors export for PyTorch, and the import of such files as starting weights.
// A reader written here from the format's description checks what the writer produced
// (header length, padding, JSON, dtypes, offsets that tile the data, alignment, the
// nn.Sequential names) and compares every tensor to model.layers() bit for bit. The
// import must give back the same bits, accept a file laid out as PyTorch writes it, and
// name every mismatch.

import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../src/errors.ts';
import { exportModel } from '../src/io/export.ts';
import { weightsFromSafetensors } from '../src/io/safetensors.ts';
import { initializeParams } from '../src/model/init.ts';
import { paramLayout } from '../src/model/layout.ts';
import type { LayerSpec } from '../src/model/spec.ts';
import { createRng } from '../src/rng.ts';
import { randomModel } from './helpers/models.ts';

interface Entry { dtype: string; shape: number[]; data_offsets: [number, number] }

/** The format, read straight from its description: u64 LE header size, JSON header, data. */
function readSafetensors(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<string, Entry> & { __metadata__?: Record<string, string> };
  const { __metadata__: metadata, ...entries } = header;
  const dataStart = 8 + n;
  const names = Object.keys(entries);
  const spans = names.map((name) => entries[name]!.data_offsets).sort((a, b) => a[0] - b[0]);
  const tensors: Record<string, { shape: number[]; values: Float32Array }> = {};
  for (const name of names) {
    const { dtype, shape, data_offsets: [begin, end] } = entries[name]!;
    expect(dtype).toBe('F32');
    expect(end - begin).toBe(shape.reduce((p, d) => p * d, 1) * 4);
    const values = new Float32Array(shape.reduce((p, d) => p * d, 1));
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    tensors[name] = { shape, values };
  }
  return { n, headerText: Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'), metadata, names, spans, dataStart, dataBytes: bytes.length - dataStart, tensors };
}

/** A file as PyTorch's writer lays it out: tensors sorted by name, metadata {"format": "pt"}. */
function writeTorchStyle(tensors: Record<string, { shape: number[]; values: Float32Array }>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const name of names) {
    const bytes = tensors[name]!.values.length * 4;
    header[name] = { dtype: 'F32', shape: tensors[name]!.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '));
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let at = 8 + json.length;
  for (const name of names) for (const v of tensors[name]!.values) { out.writeFloatLE(v, at); at += 4; }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

const layers: LayerSpec[] = [
  { units: 4, activation: 'relu' }, { units: 3, activation: 'identity' }, { units: 5, activation: 'prelu' }, { units: 2, activation: 'softmax' },
];
const scaler = { method: 'standard' as const, offset: Float32Array.of(1.5, -2, 0.1), scale: Float32Array.of(0.25, 3, 10) };
const model = randomModel({ inputs: 3, layers, scaler, loss: 'cross_entropy', classNames: ['left', 'right'], featureNames: ['u', 'v', 'w'] });

describe('safetensors export', () => {
  const files = exportModel(model, 'safetensors');
  const file = readSafetensors(files[0]!.bytes);

  it('writes model.safetensors and model.py, the weights first', () => {
    expect(files.map((f) => f.name)).toEqual(['model.safetensors', 'model.py']);
  });

  it('lays the file out as the format says: padded header, tiled offsets, aligned F32 data', () => {
    expect(file.n % 8).toBe(0);
    expect(file.dataStart % 8).toBe(0);
    expect(file.headerText).toBe(file.headerText.trimEnd() + ' '.repeat(file.headerText.length - file.headerText.trimEnd().length));
    let expected = 0;
    for (const [begin, end] of file.spans) {
      expect(begin).toBe(expected);
      expect(begin % 4).toBe(0);
      expected = end;
    }
    expect(expected).toBe(file.dataBytes);
  });

  it('names the tensors as nn.Sequential(Linear, ReLU, Linear, Linear, PReLU, Linear, Softmax) does, with our numbers bit for bit', () => {
    expect(file.names).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '3.weight', '3.bias', '4.weight', '5.weight', '5.bias']);
    const ours = model.layers();
    const expected: Record<string, [number[], Float32Array]> = {
      '0.weight': [[4, 3], ours[0]!.weights], '0.bias': [[4], ours[0]!.biases],
      '2.weight': [[3, 4], ours[1]!.weights], '2.bias': [[3], ours[1]!.biases],
      '3.weight': [[5, 3], ours[2]!.weights], '3.bias': [[5], ours[2]!.biases], '4.weight': [[5], ours[2]!.slopes!],
      '5.weight': [[2, 5], ours[3]!.weights], '5.bias': [[2], ours[3]!.biases],
    };
    for (const [name, [shape, values]] of Object.entries(expected)) {
      expect(file.tensors[name]!.shape).toEqual(shape);
      expect(Buffer.from(file.tensors[name]!.values.buffer).equals(Buffer.from(values.slice().buffer))).toBe(true);
    }
  });

  it('carries the layer spec, the scaling and the names in __metadata__ as JSON', () => {
    const meta = file.metadata!;
    expect(JSON.parse(meta['threadtrain.spec']!)).toEqual({ inputs: 3, layers, loss: 'cross_entropy' });
    const s = JSON.parse(meta['threadtrain.scaler']!);
    expect(Float32Array.from(s.offset)).toEqual(scaler.offset);
    expect(Float32Array.from(s.scale)).toEqual(scaler.scale);
    expect(JSON.parse(meta.class_names!)).toEqual(['left', 'right']);
    expect(JSON.parse(meta.feature_names!)).toEqual(['u', 'v', 'w']);
    expect(meta['threadtrain.task']).toBe('classification');
  });

  it('writes a model.py whose nn.Sequential matches the names and trains on logits', () => {
    const py = new TextDecoder().decode(files[1]!.bytes);
    const modules = py.slice(py.indexOf('return nn.Sequential(')).split('\n').slice(1, 8).map((l) => l.trim());
    expect(modules).toEqual([
      'nn.Linear(3, 4),', 'nn.ReLU(),', 'nn.Linear(4, 3),', 'nn.Linear(3, 5),', 'nn.PReLU(num_parameters=5),', 'nn.Linear(5, 2),', 'nn.Softmax(dim=-1),',
    ]);
    expect(py).toContain('WEIGHTS = pathlib.Path(__file__).with_name("model.safetensors")');
    expect(py).toContain('    return model[:-1]\n');
    expect(py).toContain('loss_fn = nn.CrossEntropyLoss()');
  });
});

describe('safetensors import (starting weights)', () => {
  const bytes = exportModel(model, 'safetensors')[0]!.bytes;

  it('export then import gives the same bits', () => {
    const weights = weightsFromSafetensors(bytes, 'model.safetensors', layers, 3);
    const layout = paramLayout(model.spec);
    const params = new Float32Array(layout.size);
    initializeParams(model.spec, layout, params, createRng(99), weights);
    expect(Buffer.from(params.buffer).equals(Buffer.from(model.params.buffer))).toBe(true);
  });

  it('reads a file laid out as PyTorch writes it (sorted names, no threadtrain metadata)', () => {
    const torchFile = writeTorchStyle(readSafetensors(bytes).tensors);
    expect(readSafetensors(torchFile).names.slice(0, 3)).toEqual(['0.bias', '0.weight', '2.bias']);
    const weights = weightsFromSafetensors(torchFile, 'torch.safetensors', layers);
    const layout = paramLayout(model.spec);
    const params = new Float32Array(layout.size);
    initializeParams(model.spec, layout, params, createRng(1), weights);
    expect(Buffer.from(params.buffer).equals(Buffer.from(model.params.buffer))).toBe(true);
  });

  it('names every missing, unexpected and misshapen tensor in one error', () => {
    const other: LayerSpec[] = [{ units: 4, activation: 'relu' }, { units: 6, activation: 'tanh' }, { units: 2, activation: 'softmax' }];
    let error: unknown;
    try { weightsFromSafetensors(bytes, 'm.safetensors', other, 3); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toBe(
      'm.safetensors: does not match the model\'s layers (8 problems): "2.weight" has shape [3, 4], expected [6, 4]; '
      + '"2.bias" has shape [3], expected [6]; "4.weight" has shape [5], expected [2, 6]; missing "4.bias" [2]; unexpected "3.weight"; unexpected "3.bias"; unexpected "5.weight"; unexpected "5.bias"\n'
      + 'hint: the file must hold the state_dict of an nn.Sequential laid out as 0: Linear, 1: relu, 2: Linear, 3: tanh, 4: Linear, 5: softmax (float32: call model.float() before saving)',
    );
  });

  it('without the input width, takes it from the file, or shows it as unknown when 0.weight is missing', () => {
    const noFirst = writeTorchStyle({ '0.bias': { shape: [4], values: new Float32Array(4) } });
    expect(() => weightsFromSafetensors(noFirst, 'd.safetensors', [{ units: 4, activation: 'identity' }]))
      .toThrow(/^d\.safetensors: does not match the model's layers \(1 problem\): missing "0\.weight" \[4, \?\]\n/);
    const firstOnly = writeTorchStyle({ '0.weight': { shape: [2, 7], values: new Float32Array(14).fill(0.5) }, '0.bias': { shape: [2], values: Float32Array.of(1, 2) } });
    expect(weightsFromSafetensors(firstOnly, 'e.safetensors', [{ units: 2, activation: 'identity' }])).toEqual([
      { w: [Array(7).fill(0.5), Array(7).fill(0.5)], b: [1, 2] },
    ]);
  });

  it('rejects files that break the format, saying where', () => {
    expect(() => weightsFromSafetensors(bytes.subarray(0, 5), 'a.safetensors', layers)).toThrow(/^a\.safetensors: expected at least an 8-byte header length, found 5 bytes/);
    expect(() => weightsFromSafetensors(bytes.subarray(0, bytes.length - 4), 'b.safetensors', layers)).toThrow(/^b\.safetensors: tensor "5\.bias" has data_offsets \[[0-9]+, [0-9]+\] outside the [0-9]+ data bytes/);
    const ttm = new TextEncoder().encode('THREADTRAIN\0M and the rest of a model file');
    expect(() => weightsFromSafetensors(ttm, 'm.ttm', layers)).toThrow(/^m\.ttm: is a threadtrain model or checkpoint file, not safetensors\nhint: export it first/);
    const gap = writeTorchStyle({ '0.weight': { shape: [1, 1], values: Float32Array.of(1) } });
    const padded = new Uint8Array(gap.length + 4);
    padded.set(gap);
    expect(() => weightsFromSafetensors(padded, 'c.safetensors', [{ units: 1, activation: 'identity' }])).toThrow(/^c\.safetensors: the tensors cover 4 data bytes, but the file holds 8/);
  });
});
