// ONNX export (IR 8, opset 17) of a trained model, written with the protobuf code that the
// `onnx-proto` package generates from ONNX 1.10.2's onnx.proto, not a hand-made encoder.
//
// The graph computes the function `model.predict` does (up to float32 rounding order), on raw inputs:
//   input (N, IN) ─► Sub(offset) ─► Mul(scale) ─► per layer: Gemm(W, b, transB = 1) ─► activation ─► output (N, OUT)
// Gemm with transB = 1 takes our W as stored, (OUT, IN). ONNX's Sign gives 0 at 0 while
// ours gives +1, so sign is Where(z ≥ 0, 1, −1); step is GreaterOrEqual(z, 0) cast to
// float. The scaling is explicit nodes (not folded), so the weights travel bit for bit.
// Class names, feature names, the task and the layer spec go in metadata_props as JSON.

import onnxProto from 'onnx-proto';
import type { ModelLayer } from '../model/model.ts';
import { layerAlpha } from '../model/spec.ts';
import { float32LittleEndian } from './bytes.ts';
import { exportMetadata, type ExportSource } from './export_metadata.ts';

const { onnx } = onnxProto;

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'output';

/** The model as ONNX protobuf bytes. Every activation has an ONNX form, so this cannot refuse a model. */
export function encodeOnnx(source: ExportSource): Uint8Array {
  const g = new GraphBuilder();
  const layers = source.layers;
  let h = ONNX_INPUT;
  const scaler = source.scaler;
  if (scaler && scaler.method !== 'none') {
    h = g.node('Sub', [h, g.constant('scale_offset', scaler.offset, [scaler.offset.length])], 'scaled_shifted');
    h = g.node('Mul', [h, g.constant('scale_factor', scaler.scale, [scaler.scale.length])], 'scaled');
  }
  layers.forEach((layer, l) => {
    const out = l === layers.length - 1 ? ONNX_OUTPUT : `layer${l}_out`;
    // An identity layer adds no node: its Gemm writes the layer's output directly.
    const z = g.node('Gemm', [
      h,
      g.constant(`layer${l}_weight`, layer.weights, [layer.units, layer.inputs]),
      g.constant(`layer${l}_bias`, layer.biases, [layer.units]),
    ], layer.spec.activation === 'identity' ? out : `layer${l}_z`, [int('transB', 1)]);
    h = activation(g, layer, l, z, out);
  });

  const inputs = layers[0]!.inputs;
  const outputs = layers[layers.length - 1]!.units;
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'threadtrain',
    graph: {
      name: 'threadtrain_mlp',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT, inputs)],
      output: [valueInfo(ONNX_OUTPUT, outputs)],
    },
    metadataProps: Object.entries(exportMetadata(source)).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

function activation(g: GraphBuilder, layer: ModelLayer, l: number, z: string, out: string): string {
  const alpha = layerAlpha(layer.spec);
  switch (layer.spec.activation) {
    case 'identity': return z;
    case 'relu': return g.node('Relu', [z], out);
    case 'sigmoid': return g.node('Sigmoid', [z], out);
    case 'tanh': return g.node('Tanh', [z], out);
    case 'leaky_relu': return g.node('LeakyRelu', [z], out, [float('alpha', alpha)]);
    case 'elu': return g.node('Elu', [z], out, [float('alpha', alpha)]);
    case 'prelu': return g.node('PRelu', [z, g.constant(`layer${l}_slope`, layer.slopes!, [layer.units])], out);
    case 'softmax': return g.node('Softmax', [z], out, [int('axis', -1)]);
    case 'step': {
      const nonNegative = g.node('GreaterOrEqual', [z, g.scalar('zero', 0)], `layer${l}_nonneg`);
      return g.node('Cast', [nonNegative], out, [int('to', onnx.TensorProto.DataType.FLOAT)]);
    }
    case 'sign': {
      const nonNegative = g.node('GreaterOrEqual', [z, g.scalar('zero', 0)], `layer${l}_nonneg`);
      return g.node('Where', [nonNegative, g.scalar('one', 1), g.scalar('minus_one', -1)], out);
    }
  }
}

/** Collects nodes and initializers; each initializer name is added once. */
class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();

  node(opType: string, input: string[], output: string, attribute: onnxProto.onnx.IAttributeProto[] = []): string {
    this.nodes.push({ opType, input, output: [output], name: `${opType}_${this.nodes.length}`, attribute });
    return output;
  }

  constant(name: string, values: Float32Array, dims: number[]): string {
    if (!this.names.has(name)) {
      this.names.add(name);
      this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: float32LittleEndian([values]) });
    }
    return name;
  }

  scalar(name: string, value: number): string {
    return this.constant(name, Float32Array.of(value), []);
  }
}

function valueInfo(name: string, width: number): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] } } },
  };
}

function int(name: string, i: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

function float(name: string, f: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}
