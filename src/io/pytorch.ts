// The `model.py` written beside a safetensors export: the nn.Sequential that matches the
// tensor names, a loader, the input scaling, and the loss conventions that differ between
// threadtrain and PyTorch — enough to continue training under torchrun or any PyTorch
// tooling. It reads the file with json + torch only (the format is simple), so it needs
// no package beyond torch.

import type { ModelLayer } from '../model/model.ts';
import { layerAlpha } from '../model/spec.ts';
import type { ExportSource } from './export_metadata.ts';
import { METADATA_KEYS } from './export_metadata.ts';
import { torchModules } from './safetensors.ts';

export function pytorchModule(source: ExportSource, weightsFile: string): string {
  const layers = source.layers;
  const modules = torchModules(layers.map((l) => l.spec)).map((m) => {
    const layer = layers[m.layer]!;
    return m.kind === 'linear' ? `nn.Linear(${layer.inputs}, ${layer.units})` : torchActivation(layer);
  });
  const acts = new Set(layers.map((l) => l.spec.activation));
  const last = layers[layers.length - 1]!.spec.activation;
  const logitsFromModel = (source.loss === 'cross_entropy' && last === 'softmax') || (source.loss === 'bce' && last === 'sigmoid');
  const lossLine = {
    cross_entropy: 'loss_fn = nn.CrossEntropyLoss()  # on logits(model)(x) and class ids: the mean over the batch of threadtrain\'s cross_entropy',
    bce: 'def loss_fn(z, t):  # threadtrain\'s bce on logits(model)(x): summed over output units, averaged over rows\n    return nn.functional.binary_cross_entropy_with_logits(z, t, reduction="sum") / z.shape[0]',
    mse: 'def loss_fn(y, t):  # threadtrain\'s mse: ½·Σ over output units, averaged over rows (nn.MSELoss averages over every element)\n    return 0.5 * ((y - t) ** 2).sum() / y.shape[0]',
  }[source.loss];
  const custom = [
    acts.has('step') ? STEP_MODULE : '',
    acts.has('sign') ? SIGN_MODULE : '',
  ].filter(Boolean).join('\n\n');
  return `"""${source.layers.length}-layer MLP exported by threadtrain: ${describeLayers(layers)}.

The weights are in ${JSON.stringify(weightsFile)} beside this file (safetensors, float32). Use:

    model, meta = load()
    y = model(scale_inputs(x))             # x: (N, ${layers[0]!.inputs}) float32 raw features, as threadtrain's predict takes
    training = logits(model)               # train this one: PyTorch's losses take logits

Loss conventions (threadtrain -> PyTorch); the model was trained with ${source.loss}:
  - cross_entropy = nn.CrossEntropyLoss on logits (no final Softmax), mean over the batch.
  - bce = nn.BCEWithLogitsLoss on logits (no final Sigmoid), summed over output units, mean over rows.
  - mse = 0.5 * sum over output units of (y - t)^2, mean over rows; nn.MSELoss() is the mean over every
    element without the 0.5, so it is 2 / outputs times ours (scale the learning rate to match).
"""
import json
import pathlib

import torch
from torch import nn

WEIGHTS = pathlib.Path(__file__).with_name(${JSON.stringify(weightsFile)})
${custom ? `\n\n${custom}\n` : ''}

def build() -> nn.Sequential:
    """The network, module for module as the tensor names in the file expect (0.weight, 0.bias, ...)."""
    return nn.Sequential(
${modules.map((m) => `        ${m},`).join('\n')}
    )


def read_safetensors(path):
    """(state_dict, metadata) from a safetensors file; the same as safetensors.torch.load_file plus the metadata."""
    data = pathlib.Path(path).read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", f"{name}: expected F32, found {t['dtype']}"
        begin, end = t["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        tensors[name] = torch.frombuffer(raw, dtype=torch.float32).reshape(t["shape"])  # little-endian hosts
    return tensors, metadata


def load(path=WEIGHTS):
    """The trained network (in eval mode) and the file's metadata (layer spec, scaling, class names)."""
    model = build()
    state, metadata = read_safetensors(path)
    model.load_state_dict(state)
    model.eval()
    return model, metadata


def scale_inputs(x, metadata=None):
    """The input scaling threadtrain fitted on the training split: (x - offset) * scale per feature."""
    if metadata is None:
        metadata = read_safetensors(WEIGHTS)[1]
    if ${JSON.stringify(METADATA_KEYS.scaler)} not in metadata:
        return x
    s = json.loads(metadata[${JSON.stringify(METADATA_KEYS.scaler)}])
    return (x - torch.tensor(s["offset"], dtype=x.dtype)) * torch.tensor(s["scale"], dtype=x.dtype)


def logits(model):
    """The network without its final ${logitsFromModel ? (last === 'softmax' ? 'Softmax' : 'Sigmoid') : 'activation (none is dropped for this model)'}: what PyTorch's losses take."""
    return ${logitsFromModel ? 'model[:-1]' : 'model'}


${lossLine}


if __name__ == "__main__":
    model, meta = load()
    print(model)
    print({k: v for k, v in meta.items() if k != ${JSON.stringify(METADATA_KEYS.spec)}})
`;
}

function torchActivation(layer: ModelLayer): string {
  const alpha = layerAlpha(layer.spec);
  switch (layer.spec.activation) {
    case 'relu': return 'nn.ReLU()';
    case 'sigmoid': return 'nn.Sigmoid()';
    case 'tanh': return 'nn.Tanh()';
    case 'leaky_relu': return `nn.LeakyReLU(negative_slope=${pyFloat(alpha)})`;
    case 'elu': return `nn.ELU(alpha=${pyFloat(alpha)})`;
    case 'prelu': return `nn.PReLU(num_parameters=${layer.units})`;
    case 'softmax': return 'nn.Softmax(dim=-1)';
    case 'step': return 'Step()';
    case 'sign': return 'Sign()';
    case 'identity': throw new RangeError('identity layers have no activation module');
  }
}

function pyFloat(x: number): string {
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function describeLayers(layers: readonly ModelLayer[]): string {
  return `${layers[0]!.inputs} inputs -> ${layers.map((l) => `${l.units} ${l.spec.activation}`).join(' -> ')}`;
}

const STEP_MODULE = `class Step(nn.Module):
    """threadtrain's step: 1 where z >= 0, else 0 (no gradient: trained with the perceptron rule)."""

    def forward(self, z):
        return (z >= 0).to(z.dtype)`;

const SIGN_MODULE = `class Sign(nn.Module):
    """threadtrain's sign: +1 where z >= 0, else -1 (torch.sign gives 0 at 0)."""

    def forward(self, z):
        return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))`;
