// TensorFlow.js Layers export, checked by the runtime: @tensorflow/tfjs-layers on the CPU
// backend loads model.json and its weights (through an in-memory IO handler) and its
// predict must equal model.predict within 1e-5 relative, for every activation it can
// express, with the input scaling folded into the first layer. step, sign and elu with
// alpha ≠ 1 must be refused with an error naming the layer.

import { describe, expect, it } from 'vitest';
import { ExportError } from '../src/errors.ts';
import { exportModel } from '../src/io/export.ts';
import { foldScaling } from '../src/io/tfjs.ts';
import { ACTIVATIONS, type ActivationName } from '../src/model/spec.ts';
import { maxRelativeError, randomModel, randomRows } from './helpers/models.ts';
import { loadTfjs, runTfjs } from './helpers/runtimes.ts';

/** |a − b| ≤ 1e-5 · max(|b|, 0.1): relative, with outputs nearer 0 than 0.1 compared as if they were 0.1. */
const TOLERANCE = 1e-5;
const expressible = ACTIVATIONS.filter((a) => a !== 'step' && a !== 'sign');

describe('TensorFlow.js export loaded by tfjs-layers', () => {
  it.each(expressible.map((a) => [a]))('%s layers give predict\'s outputs', async (activation: ActivationName) => {
    const model = randomModel({
      inputs: 5, seed: 20 + ACTIVATIONS.indexOf(activation),
      layers: [
        { units: 7, activation: activation === 'softmax' ? 'tanh' : activation, ...(activation === 'elu' ? {} : { alpha: 0.3 }) },
        { units: 4, activation, ...(activation === 'elu' ? {} : { alpha: 0.2 }) },
      ],
    });
    const files = exportModel(model, 'tfjs');
    expect(files.map((f) => f.name)).toEqual(['group1-shard1of1.bin', 'model.json']);
    const { model: loaded } = await loadTfjs(files);
    const x = randomRows(40, 5, 21);
    expect(maxRelativeError(await runTfjs(loaded, x, 40, 5), model.predict(x, 40), 0.1)).toBeLessThan(TOLERANCE);
  });

  it('elu is the Dense "elu" string; leaky_relu and prelu get their own layers', async () => {
    const model = randomModel({
      inputs: 3, layers: [{ units: 4, activation: 'elu' }, { units: 4, activation: 'leaky_relu' }, { units: 2, activation: 'prelu' }],
    });
    const { json } = await loadTfjs(exportModel(model, 'tfjs'));
    const layers = json.modelTopology.config.layers.map((l: { class_name: string; config: { activation?: string; alpha?: number } }) =>
      `${l.class_name}${l.config.activation ? `:${l.config.activation}` : ''}${l.config.alpha !== undefined ? `:${l.config.alpha}` : ''}`);
    expect(layers).toEqual(['Dense:elu', 'Dense:linear', 'LeakyReLU:0.01', 'Dense:linear', 'PReLU']);
    expect(json.weightsManifest[0].weights.map((w: { name: string; shape: number[] }) => `${w.name}[${w.shape}]`)).toEqual([
      'dense_1/kernel[3,4]', 'dense_1/bias[4]', 'dense_2/kernel[4,4]', 'dense_2/bias[4]',
      'dense_3/kernel[4,2]', 'dense_3/bias[2]', 'p_re_lu_1/alpha[2]',
    ]);
  });

  it('a multi-layer net with the scaling folded in, and the metadata', async () => {
    const scaler = { method: 'minmax' as const, offset: Float32Array.of(-5, 20, 0.5, 1000), scale: Float32Array.of(0.1, 0.05, 2, 0.001) };
    const model = randomModel({
      inputs: 4, scaler, loss: 'cross_entropy', classNames: ['no', 'yes'],
      layers: [{ units: 10, activation: 'tanh' }, { units: 6, activation: 'relu' }, { units: 2, activation: 'softmax' }],
    });
    const files = exportModel(model, 'tfjs');
    const { model: loaded, json } = await loadTfjs(files);
    const x = randomRows(50, 4, 22, -10, 1020);
    expect(maxRelativeError(await runTfjs(loaded, x, 50, 4), model.predict(x, 50), 0.1)).toBeLessThan(TOLERANCE);
    expect(JSON.parse(json.userDefinedMetadata.class_names)).toEqual(['no', 'yes']);

    // The fold itself, against float64: W'[j][k] = fround(W[j][k]·s[k]), b'[j] = fround(b[j] − Σ W[j][k]·s[k]·o[k]).
    const first = model.layers()[0]!;
    const folded = foldScaling(first, { layers: model.layers(), loss: 'cross_entropy', task: 'classification', scaler });
    for (let j = 0; j < 10; j++) {
      let shift = 0;
      for (let k = 0; k < 4; k++) {
        expect(folded.weights[j * 4 + k]).toBe(Math.fround(first.weights[j * 4 + k]! * scaler.scale[k]!));
        shift += first.weights[j * 4 + k]! * scaler.scale[k]! * scaler.offset[k]!;
      }
      expect(folded.biases[j]).toBe(Math.fround(first.biases[j]! - shift));
    }
  });

  it.each([['step'], ['sign']] as const)('refuses %s, naming the layer', (activation) => {
    const model = randomModel({ inputs: 2, layers: [{ units: 3, activation: 'relu' }, { units: 1, activation }] });
    expect(() => exportModel(model, 'tfjs')).toThrow(new ExportError(
      `cannot export to tfjs: layer 1 (1 units) uses the ${activation} activation, which TensorFlow.js Layers has no layer for`,
      'export to onnx or safetensors instead, or train with another activation',
    ));
  });

  it('refuses elu with alpha ≠ 1, naming the layer and the alpha', () => {
    const model = randomModel({ inputs: 2, layers: [{ units: 3, activation: 'elu', alpha: 0.5 }, { units: 1, activation: 'sigmoid' }] });
    expect(() => exportModel(model, 'tfjs')).toThrow(new ExportError(
      'cannot export to tfjs: layer 0 (3 units) uses elu with alpha 0.5, but TensorFlow.js Layers supports only alpha 1 for elu',
      'export to onnx or safetensors instead, or train with elu alpha 1',
    ));
  });
});
