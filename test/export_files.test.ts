// Exports on disk, and imported weights in a training run: writeExport puts each format's
// files where they belong (model.py beside the safetensors file, tfjs into a directory),
// writes nothing when the format refuses the model, and a run started from an exported
// safetensors file trains exactly as a run started from the same weights given inline.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xorDataset } from '../src/data/synthetic.ts';
import { ConfigError, ExportError } from '../src/errors.ts';
import { exportModel, writeExport } from '../src/io/export.ts';
import { readSafetensorsWeights } from '../src/io/safetensors.ts';
import type { ExplicitLayerWeights } from '../src/model/init.ts';
import type { LayerSpec } from '../src/model/spec.ts';
import { train } from '../src/api.ts';
import { randomModel } from './helpers/models.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-export-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const layers: LayerSpec[] = [{ units: 3, activation: 'tanh' }, { units: 2, activation: 'softmax' }];
const model = randomModel({ inputs: 2, layers, loss: 'cross_entropy' });

describe('writeExport', () => {
  it('writes the same bytes exportModel returns, each format in its place', () => {
    const onnxOut = path.join(dir, 'xor.onnx');
    expect(writeExport(model, 'onnx', onnxOut)).toEqual([onnxOut]);
    expect(fs.readFileSync(onnxOut).equals(Buffer.from(exportModel(model, 'onnx')[0]!.bytes))).toBe(true);

    const stOut = path.join(dir, 'xor.safetensors');
    expect(writeExport(model, 'safetensors', stOut)).toEqual([stOut, path.join(dir, 'model.py')]);
    expect(fs.readFileSync(path.join(dir, 'model.py'), 'utf8')).toContain('with_name("xor.safetensors")');

    const tfjsOut = path.join(dir, 'web', 'xor');
    expect(writeExport(model, 'tfjs', tfjsOut)).toEqual([path.join(tfjsOut, 'group1-shard1of1.bin'), path.join(tfjsOut, 'model.json')]);
    const bin = fs.readFileSync(path.join(tfjsOut, 'group1-shard1of1.bin'));
    expect(bin.length).toBe((2 * 3 + 3 + 3 * 2 + 2) * 4);
  });

  it('writes nothing when the format refuses the model, and names the mistake in --out', () => {
    const stepModel = randomModel({ inputs: 2, layers: [{ units: 1, activation: 'step' }] });
    const out = path.join(dir, 'refused');
    expect(() => writeExport(stepModel, 'tfjs', out)).toThrow(ExportError);
    expect(fs.existsSync(out)).toBe(false);
    expect(() => writeExport(model, 'tfjs', path.join(dir, 'model.json'))).toThrow(ConfigError);
    expect(() => exportModel(model, 'keras' as never)).toThrow('export format must be one of onnx, tfjs, safetensors, found "keras"');
  });
});

describe('training from an exported safetensors file', () => {
  it('trains to the same bits as the same weights given inline', async () => {
    const file = path.join(dir, 'start.safetensors');
    writeExport(model, 'safetensors', file);
    const fromFile = readSafetensorsWeights(file, layers, 2);
    const inline = model.layers().map((l) => ({
      w: Array.from({ length: l.units }, (_, j) => Array.from(l.weights.subarray(j * l.inputs, (j + 1) * l.inputs))),
      b: Array.from(l.biases),
    }));
    const run = (weights: ExplicitLayerWeights[]) => train({
      model: { layers, weights }, data: xorDataset(), split: { validation: 0, test: 0 }, epochs: 3, batchSize: 2, lr: 0.3, threads: 1,
    });
    const [a, b] = [await run(fromFile), await run(inline)];
    expect(Buffer.from(a.model.params.buffer).equals(Buffer.from(b.model.params.buffer))).toBe(true);
    expect(Buffer.from(a.model.params.buffer).equals(Buffer.from(model.params.buffer))).toBe(false);
  });

  it('says which file could not be read', () => {
    expect(() => readSafetensorsWeights(path.join(dir, 'absent.safetensors'), layers)).toThrow(/^cannot read weights file .*absent\.safetensors: ENOENT/);
  });
});
