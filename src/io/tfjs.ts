// TensorFlow.js Layers export: a model.json (a Sequential of Dense layers) and one
// weights file, loadable by tf.loadLayersModel.
//
// Kernels in Keras are (IN, OUT), so ours (OUT, IN) are transposed. leaky_relu and prelu
// have no Dense activation string: they get a separate layer after a linear Dense,
// LeakyReLU{alpha} or PReLU (its learned slopes as the `alpha` weight). What TF.js cannot
// express is refused with an error naming the layer: step and sign (no layer at all), and
// elu with alpha ≠ 1 (the Dense "elu" string has alpha 1, and tfjs-layers 4.22's ELU layer
// throws "Non-default alpha value … is not supported" when loading any other alpha).
//
// There is no scaling layer in TF.js Layers, so the input scaling is folded into the
// first layer: with x' = (x − offset)·scale, W·x' + b = (W·diag(scale))·x + (b − W·(scale⊙offset)).
// Each folded weight W[j][k]·scale[k] is rounded once to float32; each folded bias is
// summed in float64 and rounded once to float32. So the exported network differs from
// threadtrain's (which scales, rounds, then multiplies) by float32 rounding: a few ulps of
// the largest term, more where the offset is large next to the spread of a feature.

import type { ModelLayer } from '../model/model.ts';
import { layerAlpha } from '../model/spec.ts';
import { ExportError } from '../errors.ts';
import { float32LittleEndian } from './bytes.ts';
import { exportMetadata, type ExportSource } from './export_metadata.ts';

export const TFJS_WEIGHTS_FILE = 'group1-shard1of1.bin';

interface WeightSpec { name: string; shape: number[]; dtype: 'float32' }

export interface TfjsModel {
  /** The parsed model.json. */
  readonly json: Record<string, unknown>;
  /** The weights, little-endian float32 in manifest order. */
  readonly weights: Uint8Array;
}

const DENSE_ACTIVATION: Partial<Record<ModelLayer['spec']['activation'], string>> = {
  identity: 'linear', relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax', elu: 'elu',
};

export function encodeTfjs(source: ExportSource): TfjsModel {
  const layers = source.layers;
  layers.forEach((layer, l) => {
    const act = layer.spec.activation;
    const refuse = (reason: string, hint: string) => {
      throw new ExportError(`cannot export to tfjs: layer ${l} (${layer.units} units) ${reason}`, hint);
    };
    if (act === 'step' || act === 'sign') {
      refuse(`uses the ${act} activation, which TensorFlow.js Layers has no layer for`,
        'export to onnx or safetensors instead, or train with another activation');
    }
    if (act === 'elu' && layerAlpha(layer.spec) !== 1) {
      refuse(`uses elu with alpha ${layerAlpha(layer.spec)}, but TensorFlow.js Layers supports only alpha 1 for elu`,
        'export to onnx or safetensors instead, or train with elu alpha 1');
    }
  });
  const topology: Record<string, unknown>[] = [];
  const specs: WeightSpec[] = [];
  const chunks: Float32Array[] = [];
  const count: Record<string, number> = {};
  const nameFor = (base: string) => `${base}_${(count[base] = (count[base] ?? 0) + 1)}`;
  const addWeight = (name: string, shape: number[], data: Float32Array) => {
    specs.push({ name, shape, dtype: 'float32' });
    chunks.push(data);
  };

  layers.forEach((layer, l) => {
    const { weights, biases } = l === 0 ? foldScaling(layer, source) : layer;
    const act = layer.spec.activation;
    const alpha = layerAlpha(layer.spec);
    const inline = DENSE_ACTIVATION[act];
    const dense = nameFor('dense');
    topology.push({
      class_name: 'Dense',
      config: {
        name: dense, units: layer.units, activation: inline ?? 'linear', use_bias: true, trainable: true,
        ...(l === 0 ? { batch_input_shape: [null, layer.inputs], dtype: 'float32' } : {}),
      },
    });
    addWeight(`${dense}/kernel`, [layer.inputs, layer.units], transpose(weights, layer.units, layer.inputs));
    addWeight(`${dense}/bias`, [layer.units], biases);
    if (inline) return;
    if (act === 'leaky_relu') {
      topology.push({ class_name: 'LeakyReLU', config: { name: nameFor('leaky_re_lu'), alpha, trainable: true } });
    } else if (act === 'prelu') {
      const name = nameFor('p_re_lu');
      topology.push({ class_name: 'PReLU', config: { name, shared_axes: null, trainable: true } });
      addWeight(`${name}/alpha`, [layer.units], layer.slopes!);
    }
  });

  const weights = float32LittleEndian(chunks);

  const json = {
    format: 'layers-model',
    generatedBy: 'threadtrain',
    convertedBy: 'threadtrain',
    modelTopology: { class_name: 'Sequential', config: { name: 'threadtrain_mlp', layers: topology } },
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: specs }],
    userDefinedMetadata: exportMetadata(source),
  };
  return { json, weights };
}

/** The first layer with the input scaling folded in (see the header for the rounding). */
export function foldScaling(layer: ModelLayer, source: ExportSource): { weights: Float32Array; biases: Float32Array } {
  const s = source.scaler;
  if (!s || s.method === 'none') return layer;
  const IN = layer.inputs;
  const weights = new Float32Array(layer.weights.length);
  const biases = new Float32Array(layer.units);
  for (let j = 0; j < layer.units; j++) {
    let shift = 0;
    for (let k = 0; k < IN; k++) {
      const w = layer.weights[j * IN + k]! * s.scale[k]!;
      weights[j * IN + k] = w;
      shift += w * s.offset[k]!;
    }
    biases[j] = layer.biases[j]! - shift;
  }
  return { weights, biases };
}

/** (rows, cols) row-major to (cols, rows). */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}
