// ONNX export, checked by a runtime: onnxruntime-web (its Node build, pure wasm) loads
// each exported model and its outputs must equal model.predict within 1e-5 relative —
// for every activation, for a multi-layer net with input scaling, and at z = 0 exactly,
// where step and sign differ from ONNX's own Sign.

import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { exportModel } from '../src/io/export.ts';
import { ACTIVATIONS, type ActivationName } from '../src/model/spec.ts';
import { Model } from '../src/model/model.ts';
import { maxRelativeError, randomModel, randomRows } from './helpers/models.ts';
import { runOnnx } from './helpers/runtimes.ts';

function onnxBytes(model: Model): Uint8Array {
  const files = exportModel(model, 'onnx');
  expect(files.map((f) => f.name)).toEqual(['model.onnx']);
  return files[0]!.bytes;
}

/** |a − b| ≤ 1e-5 · max(|b|, 0.1): relative, with outputs nearer 0 than 0.1 compared as if they were 0.1. */
const TOLERANCE = 1e-5;

describe('ONNX export run by onnxruntime-web', () => {
  it.each(ACTIVATIONS.map((a) => [a]))('%s layers give predict\'s outputs', async (activation: ActivationName) => {
    const model = randomModel({
      inputs: 5, seed: ACTIVATIONS.indexOf(activation) + 1,
      layers: [{ units: 7, activation: activation === 'softmax' ? 'tanh' : activation, alpha: 0.3 }, { units: 4, activation, alpha: 0.2 }],
    });
    const x = randomRows(40, 5, 11);
    const got = await runOnnx(onnxBytes(model), x, 40, 5);
    expect(maxRelativeError(got, model.predict(x, 40), 0.1)).toBeLessThan(TOLERANCE);
  });

  it('a 4-layer net with standard scaling, class and feature names', async () => {
    const scaler = { method: 'standard' as const, offset: Float32Array.of(10, -3, 0.25, 100, 0, 7), scale: Float32Array.of(0.1, 2, 8, 0.01, 1, 0.5) };
    const model = randomModel({
      inputs: 6, scaler, loss: 'cross_entropy', classNames: ['cat', 'dog', 'eel'], featureNames: ['a', 'b', 'c', 'd', 'e', 'f'],
      layers: [{ units: 16, activation: 'relu' }, { units: 12, activation: 'prelu' }, { units: 8, activation: 'elu', alpha: 0.5 }, { units: 3, activation: 'softmax' }],
    });
    const x = randomRows(64, 6, 12, -50, 150);
    const bytes = onnxBytes(model);
    const got = await runOnnx(bytes, x, 64, 6);
    expect(maxRelativeError(got, model.predict(x, 64), 0.1)).toBeLessThan(TOLERANCE);

    const decoded = onnxProto.onnx.ModelProto.decode(bytes);
    expect(Number(decoded.irVersion)).toBe(8);
    expect(decoded.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(decoded.graph!.node!.map((n) => n.opType)).toEqual(['Sub', 'Mul', 'Gemm', 'Relu', 'Gemm', 'PRelu', 'Gemm', 'Elu', 'Gemm', 'Softmax']);
    const meta = Object.fromEntries(decoded.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta.class_names!)).toEqual(['cat', 'dog', 'eel']);
    expect(JSON.parse(meta.feature_names!)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(JSON.parse(meta['threadtrain.scaler']!).offset).toEqual([10, -3, 0.25, 100, 0, 7]);
    // W travels as stored, (OUT, IN), bit for bit.
    const w0 = decoded.graph!.initializer!.find((t) => t.name === 'layer0_weight')!;
    expect(w0.dims!.map(Number)).toEqual([16, 6]);
    expect(Buffer.from(w0.rawData!).equals(Buffer.from(model.layers()[0]!.weights.buffer))).toBe(true);
  });

  it('identity layers add no node; step and sign are GreaterOrEqual + Cast and Where', () => {
    const model = randomModel({
      inputs: 2, layers: [{ units: 3, activation: 'identity' }, { units: 3, activation: 'step' }, { units: 2, activation: 'sign' }, { units: 2, activation: 'identity' }],
    });
    const graph = onnxProto.onnx.ModelProto.decode(onnxBytes(model)).graph!;
    expect(graph.node!.map((n) => `${n.opType}(${n.input!.join(',')})->${n.output!.join(',')}`)).toEqual([
      'Gemm(input,layer0_weight,layer0_bias)->layer0_out',
      'Gemm(layer0_out,layer1_weight,layer1_bias)->layer1_z', 'GreaterOrEqual(layer1_z,zero)->layer1_nonneg', 'Cast(layer1_nonneg)->layer1_out',
      'Gemm(layer1_out,layer2_weight,layer2_bias)->layer2_z', 'GreaterOrEqual(layer2_z,zero)->layer2_nonneg', 'Where(layer2_nonneg,one,minus_one)->layer2_out',
      'Gemm(layer2_out,layer3_weight,layer3_bias)->output',
    ]);
  });

  it('step is 1 and sign is +1 at z = 0 exactly (ONNX Sign would give 0)', async () => {
    for (const activation of ['step', 'sign'] as const) {
      const zeroBias = Model.fromLayers([{
        spec: { units: 3, activation }, inputs: 2, units: 3,
        weights: Float32Array.of(1, -1, 2, 0.5, -1, 3), biases: new Float32Array(3),
      }], { loss: 'mse', task: 'regression' });
      const x = Float32Array.of(0, 0, 1, -1, -1, 1);
      const got = await runOnnx(onnxBytes(zeroBias), x, 3, 2);
      expect(Array.from(got)).toEqual(Array.from(zeroBias.predict(x, 3)));
      expect(Array.from(got.subarray(0, 3))).toEqual([1, 1, 1]);
      expect(Array.from(got.subarray(3, 6))).toEqual(activation === 'step' ? [1, 1, 0] : [1, 1, -1]);
    }
  });
});
