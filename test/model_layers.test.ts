// model.layers() and Model.fromLayers: the weights in the open. The layers must describe
// what the model computes (a float64 forward pass written from them matches predict),
// and a round trip through them must give back the same bits.

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.ts';
import { Model } from '../src/model/model.ts';
import { forward64, maxRelativeError, randomModel, randomRows } from './helpers/models.ts';

const scaler = { method: 'standard' as const, offset: Float32Array.of(1, -2, 0.5), scale: Float32Array.of(0.5, 2, 4) };
const model = randomModel({
  inputs: 3, scaler, loss: 'cross_entropy', classNames: ['a', 'b'],
  layers: [{ units: 5, activation: 'prelu' }, { units: 4, activation: 'elu', alpha: 0.7 }, { units: 2, activation: 'softmax' }],
});

describe('model.layers()', () => {
  it('gives each layer its spec and shapes, W as OUT×IN, and slopes only for prelu', () => {
    const layers = model.layers();
    expect(layers.map((l) => [l.inputs, l.units, l.weights.length, l.biases.length, l.slopes?.length])).toEqual([
      [3, 5, 15, 5, 5], [5, 4, 20, 4, undefined], [4, 2, 8, 2, undefined],
    ]);
    expect(layers[1]!.spec).toEqual({ units: 4, activation: 'elu', alpha: 0.7 });
  });

  it('describes what predict computes (float64 forward from the layers)', () => {
    const x = randomRows(9, 3, 3);
    const err = maxRelativeError(model.predict(x, 9), forward64(model.layers(), scaler, x, 9));
    expect(err).toBeLessThan(1e-5);
  });

  it('returns copies: writing to them leaves the model unchanged', () => {
    const before = model.params.slice();
    model.layers()[0]!.weights.fill(9);
    expect(model.params).toEqual(before);
  });
});

describe('Model.fromLayers', () => {
  it('round-trips to the same bits and the same predictions', () => {
    const again = Model.fromLayers(model.layers(), {
      loss: model.spec.loss, task: model.task, classNames: model.classNames, scaler: model.scaler,
    });
    expect(Buffer.from(again.params.buffer).equals(Buffer.from(model.params.buffer))).toBe(true);
    expect(again.spec).toEqual(model.spec);
    const x = randomRows(7, 3, 4);
    expect(again.predict(x, 7)).toEqual(model.predict(x, 7));
  });

  it('names the layer and field of a shape mismatch', () => {
    const layers = model.layers();
    const about = { loss: 'cross_entropy' as const, task: 'classification' as const };
    expect(() => Model.fromLayers([layers[0]!, { ...layers[1]!, weights: new Float32Array(19) }, layers[2]!], about))
      .toThrow(new ConfigError('Model.fromLayers: layers[1].weights should be a Float32Array of 20 numbers, found 19 numbers',
        'pass the layers as model.layers() returns them: weights OUT×IN row-major, biases and prelu slopes OUT long'));
    expect(() => Model.fromLayers([layers[0]!, layers[2]!], about)).toThrow(/layers\[1\]\.inputs should be layer 0's units \(5\), found 4/);
    expect(() => Model.fromLayers([{ ...layers[0]!, slopes: undefined }], about)).toThrow(/layers\[0\]\.slopes should be a Float32Array of 5 numbers, found undefined/);
  });
});
