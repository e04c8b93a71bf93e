// The export command and starting weights from a file, through the CLI's main() in this
// process (its output captured; one case runs a child process, to see the exit code and
// stderr a person sees): export writes each format where --out says and the files
// reproduce the model; a refused export exits 1 with one error line and writes nothing; a
// config's model.weights (relative to the config) and --init-from start training from a
// safetensors file exactly as train() does from the same weights.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { train } from '../src/api.ts';
import { main } from '../src/cli/main.ts';
import { xorDataset } from '../src/data/synthetic.ts';
import { writeExport } from '../src/io/export.ts';
import { readSafetensorsWeights } from '../src/io/safetensors.ts';
import { paramLayout } from '../src/model/layout.ts';
import { Model } from '../src/model/model.ts';
import type { LayerSpec } from '../src/model/spec.ts';
import { maxRelativeError, randomRows } from './helpers/models.ts';
import { runOnnx } from './helpers/runtimes.ts';

const repo = path.resolve(import.meta.dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-cli-export-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string) => path.join(dir, name);

/** main(args) in this process, with what it writes to stdout and stderr. */
async function cli(args: string[]) {
  const written = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') => vi.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
    written[stream] += String(chunk);
    return true;
  });
  const spies = [capture('stdout'), capture('stderr')];
  try {
    const code = await main(args);
    return { code, ...written };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** The CLI as a child process, the way a person runs it. */
function cliProcess(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1' }, timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const layers: LayerSpec[] = [{ units: 3, activation: 'tanh' }, { units: 2, activation: 'softmax' }];
const layersFlag = JSON.stringify(layers);

describe('threadtrain export', () => {
  it('writes onnx, tfjs and safetensors files that reproduce the model', async () => {
    const trained = await cli(['train', '--data', 'builtin:xor', '--layers', layersFlag, '--epochs', '2', '--threads', '1', '--out', tmp('xor.ttm')]);
    expect(trained.code, trained.stderr).toBe(0);
    const model = Model.load(tmp('xor.ttm'));

    const onnx = await cli(['export', '--model', tmp('xor.ttm'), '--format', 'onnx', '--out', tmp('xor.onnx')]);
    expect(onnx.code, onnx.stderr).toBe(0);
    expect(onnx.stdout).toContain(`as onnx:\n  ${tmp('xor.onnx')}\n`);
    const x = randomRows(8, 2, 3, 0, 1);
    expect(maxRelativeError(await runOnnx(fs.readFileSync(tmp('xor.onnx')), x, 8, 2), model.predict(x, 8), 0.1)).toBeLessThan(1e-5);

    expect((await cli(['export', '-m', tmp('xor.ttm'), '-f', 'tfjs', '-o', tmp('web')])).code).toBe(0);
    expect(fs.readdirSync(tmp('web')).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);

    expect((await cli(['export', '--model', tmp('xor.ttm'), '--format', 'safetensors', '--out', tmp('xor.safetensors')])).code).toBe(0);
    const back = readSafetensorsWeights(tmp('xor.safetensors'), layers, 2);
    expect(Float32Array.from(back[0]!.w.flat())).toEqual(model.layers()[0]!.weights);
    expect(fs.readFileSync(tmp('model.py'), 'utf8')).toContain('nn.Linear(2, 3),');
  }, 60_000);

  it('a format that cannot express the model: exit 1, one error line with a hint, nothing written', async () => {
    expect((await cli(['train', '--data', 'builtin:and', '--layers', '[{"units":1,"activation":"step"}]', '--rule', 'perceptron', '--epochs', '1', '--threads', '1', '--out', tmp('and.ttm')])).code).toBe(0);
    const r = cliProcess(['export', '--model', tmp('and.ttm'), '--format', 'tfjs', '--out', tmp('and-web')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: cannot export to tfjs: layer 0 (1 units) uses the step activation, which TensorFlow.js Layers has no layer for\n'
      + 'hint: export to onnx or safetensors instead, or train with another activation\n');
    expect(fs.existsSync(tmp('and-web'))).toBe(false);
  }, 60_000);
});

describe('training from a safetensors file', () => {
  it('model.weights in a config (relative to it) and --init-from give the bits train() gives from the same weights', async () => {
    const spec = { inputs: 2, layers, loss: 'cross_entropy' as const };
    const params = Float32Array.from({ length: paramLayout(spec).size }, (_, i) => ((i * 37) % 11) / 10 - 0.5);
    const start = new Model({ spec, params, task: 'classification' });
    fs.mkdirSync(tmp('cfg'));
    writeExport(start, 'safetensors', tmp('cfg/start.safetensors'));
    const settings = { epochs: 3, batchSize: 2, lr: 0.3, threads: 1 };
    fs.writeFileSync(tmp('cfg/run.json'), JSON.stringify({
      data: { builtin: 'xor' }, split: { validation: 0, test: 0 }, model: { layers, weights: 'start.safetensors' }, train: settings,
    }));
    const fromConfig = await cli(['train', '--config', tmp('cfg/run.json'), '--out', tmp('a.ttm')]);
    expect(fromConfig.code, fromConfig.stderr).toBe(0);
    expect(fromConfig.stdout).toMatch(/\| initial weights +\| .*start\.safetensors/);
    const fromFlag = await cli(['train', '--data', 'builtin:xor', '--layers', layersFlag, '--epochs', '3', '--batch-size', '2', '--lr', '0.3', '--threads', '1',
      '--init-from', tmp('cfg/start.safetensors'), '--out', tmp('b.ttm')]);
    expect(fromFlag.code, fromFlag.stderr).toBe(0);

    const library = await train({
      model: { layers, weights: readSafetensorsWeights(tmp('cfg/start.safetensors'), layers, 2) },
      data: xorDataset(), split: { validation: 0, test: 0 }, ...settings,
    });
    const bits = (m: Model) => Buffer.from(m.params.buffer);
    expect(bits(Model.load(tmp('a.ttm'))).equals(bits(library.model))).toBe(true);
    expect(bits(Model.load(tmp('b.ttm'))).equals(bits(library.model))).toBe(true);
    expect(bits(library.model).equals(bits(start))).toBe(false);
  }, 60_000);

  it('a file that does not fit the layers: exit 1, every mismatch named', async () => {
    const r = await cli(['train', '--data', 'builtin:xor', '--layers', '[{"units":4,"activation":"tanh"},{"units":2,"activation":"softmax"}]', '--threads', '1',
      '--init-from', tmp('cfg/start.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${tmp('cfg/start.safetensors')}: does not match the model's layers (3 problems): `
      + '"0.weight" has shape [3, 2], expected [4, 2]; "0.bias" has shape [3], expected [4]; "2.weight" has shape [2, 3], expected [2, 4]\n'
      + 'hint: the file must hold the state_dict of an nn.Sequential laid out as 0: Linear, 1: tanh, 2: Linear, 3: softmax (float32: call model.float() before saving)\n');
  }, 60_000);
});
