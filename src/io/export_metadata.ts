// What every export format carries besides the tensors: the layer spec, the input
// scaling, the task and the class and feature names, as string → JSON-string pairs (the
// shape ONNX metadata_props and safetensors __metadata__ both take). One place for the
// key names, so the formats say the same thing the same way.

import type { Scaler } from '../data/scaling.ts';
import type { ModelLayer } from '../model/model.ts';
import type { LossName } from '../model/spec.ts';

/** The parts of a Model an exporter reads (a Model satisfies it through `layers()`). */
export interface ExportSource {
  readonly layers: readonly ModelLayer[];
  readonly loss: LossName;
  readonly task: 'classification' | 'regression';
  readonly scaler?: Scaler | undefined;
  readonly classNames?: readonly string[] | undefined;
  readonly featureNames?: readonly string[] | undefined;
}

export const METADATA_KEYS = {
  producer: 'producer',
  spec: 'threadtrain.spec',
  task: 'threadtrain.task',
  scaler: 'threadtrain.scaler',
  classNames: 'class_names',
  featureNames: 'feature_names',
} as const;

export function exportMetadata(source: ExportSource): Record<string, string> {
  const meta: Record<string, string> = {
    [METADATA_KEYS.producer]: 'threadtrain',
    [METADATA_KEYS.spec]: JSON.stringify({ inputs: source.layers[0]!.inputs, layers: source.layers.map((l) => l.spec), loss: source.loss }),
    [METADATA_KEYS.task]: source.task,
  };
  const s = source.scaler;
  if (s && s.method !== 'none') {
    meta[METADATA_KEYS.scaler] = JSON.stringify({
      method: s.method, formula: '(x - offset) * scale', offset: Array.from(s.offset), scale: Array.from(s.scale),
    });
  }
  if (source.classNames) meta[METADATA_KEYS.classNames] = JSON.stringify(source.classNames);
  if (source.featureNames) meta[METADATA_KEYS.featureNames] = JSON.stringify(source.featureNames);
  return meta;
}
