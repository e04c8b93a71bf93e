// The exports as Python tools see them, where this machine has them (Debian's
// python3-torch and python3-onnx; skipped with a message otherwise): onnx.checker accepts
// every exported ONNX model (full check, shape inference included), and the model.py
// written beside a safetensors export loads the file into its nn.Sequential in PyTorch,
// whose outputs on scale_inputs(x) equal model.predict within 1e-5 relative — for every
// activation, with scaling.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeExport } from '../src/io/export.ts';
import { ACTIVATIONS } from '../src/model/spec.ts';
import { maxRelativeError, randomModel, randomRows } from './helpers/models.ts';

const PYTHON = process.env.THREADTRAIN_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
const present = probe.status === 0;
if (!present) console.warn(`skipping the Python export checks: ${PYTHON} cannot import torch and onnx (apt-get install python3-torch python3-onnx)`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-py-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const CHECK = `
import importlib.util, json, sys
import onnx, onnx.checker, torch
results = {}
for case in json.loads(sys.argv[1]):
    onnx.checker.check_model(onnx.load(case["onnx"]), full_check=True)
    spec = importlib.util.spec_from_file_location("exported_" + case["name"], case["py"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model, meta = module.load()
    x = torch.tensor(case["x"], dtype=torch.float32).reshape(-1, case["inputs"])
    with torch.no_grad():
        y = model(module.scale_inputs(x, meta))
    results[case["name"]] = y.reshape(-1).tolist()
print(json.dumps(results))
`;

describe('exports checked by onnx.checker and loaded by PyTorch through model.py', () => {
  it.skipIf(!present)('every activation, with standard scaling', () => {
    const scaler = { method: 'standard' as const, offset: Float32Array.of(0.5, -1, 2, 0), scale: Float32Array.of(2, 0.5, 1, 4) };
    const cases = ACTIVATIONS.map((activation, i) => {
      const model = randomModel({
        inputs: 4, seed: 40 + i, scaler, loss: activation === 'softmax' ? 'cross_entropy' : 'mse',
        layers: [{ units: 6, activation: activation === 'softmax' ? 'relu' : activation, alpha: 0.3 }, { units: 3, activation, alpha: 0.2 }],
      });
      const sub = path.join(dir, activation);
      fs.mkdirSync(sub);
      writeExport(model, 'onnx', path.join(sub, 'm.onnx'));
      writeExport(model, 'safetensors', path.join(sub, 'm.safetensors'));
      const x = randomRows(16, 4, 50 + i);
      return { model, x, json: { name: activation, inputs: 4, onnx: path.join(sub, 'm.onnx'), py: path.join(sub, 'model.py'), x: Array.from(x) } };
    });
    const out = JSON.parse(execFileSync(PYTHON, ['-c', CHECK, JSON.stringify(cases.map((c) => c.json))], { encoding: 'utf8' }));
    for (const c of cases) {
      expect.soft(maxRelativeError(out[c.json.name], c.model.predict(c.x, 16), 0.1), c.json.name).toBeLessThan(1e-5);
    }
  }, 60_000);
});
