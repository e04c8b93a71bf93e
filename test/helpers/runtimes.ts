// The runtimes the export tests load exported files with: onnxruntime-web's Node build
// (pure wasm, one thread) and TensorFlow.js Layers on the plain CPU backend, fed through
// an in-memory IO handler (file:// loading needs tfjs-node, a native addon).

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-web';
import type { ExportedFile } from '../../src/io/export.ts';

ort.env.wasm.numThreads = 1;
// IS_TEST keeps tfjs from printing its "install tfjs-node" banner into the test output.
tf.env().set('IS_TEST', true);

/** Outputs of an ONNX model (input "input" (n, features), output "output"). */
export async function runOnnx(bytes: Uint8Array, x: Float32Array, n: number, features: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, [n, features]) });
    return out.output!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Load exported tfjs files the way tf.loadLayersModel reads model.json and its manifest, from memory. */
export async function loadTfjs(files: readonly ExportedFile[]): Promise<{ model: tfl.LayersModel; json: Record<string, any> }> {
  await tf.setBackend('cpu');
  const byName = new Map(files.map((f) => [f.name, f.bytes]));
  const json = JSON.parse(new TextDecoder().decode(byName.get('model.json')));
  const handler: tf.io.IOHandler = {
    load: async () => {
      const weightSpecs = json.weightsManifest.flatMap((group: { weights: tf.io.WeightsManifestEntry[] }) => group.weights);
      const shards = json.weightsManifest.flatMap((group: { paths: string[] }) => group.paths.map((p) => byName.get(p)!));
      const total = shards.reduce((n: number, s: Uint8Array) => n + s.length, 0);
      const weightData = new Uint8Array(total);
      let at = 0;
      for (const s of shards) { weightData.set(s, at); at += s.length; }
      return {
        modelTopology: json.modelTopology, weightSpecs, weightData: weightData.buffer,
        format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
  return { model: await tfl.loadLayersModel(handler), json };
}

export async function runTfjs(model: tfl.LayersModel, x: Float32Array, n: number, features: number): Promise<Float32Array> {
  const input = tf.tensor2d(x, [n, features]);
  const out = model.predict(input) as tf.Tensor;
  const data = (await out.data()) as Float32Array;
  input.dispose();
  out.dispose();
  return data;
}
