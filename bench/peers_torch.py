# bench/peers_torch.py — the PyTorch side of bench/peers.ts: the MNIST MLP 784-256-128-10
# (ReLU, softmax cross-entropy, plain SGD) trained on exactly the data, initial weights and
# batch order that bench/peers.ts wrote to --dir (threadtrain's own float32 pixels, seeded
# init and seeded shuffles), so its losses can be checked against threadtrain's before the
# speeds are compared. Prints one JSON line: samples/s, mean loss and rows trained per epoch
# (an epoch stops early after --max-seconds), test accuracy, and the threads and BLAS kernel
# it ran with. Thread settings come from the caller:
# --torch-threads for torch.set_num_threads, OPENBLAS_NUM_THREADS in the environment.
#
#   python3 bench/peers_torch.py --dir DIR --batch 128 --epochs 2 --torch-threads 1 --lr 0.05 --max-seconds 5

import argparse
import ctypes
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F


def blas_info():
    """The BLAS library this process loaded, and what OpenBLAS says of itself (its core kernel and thread count)."""
    libs = sorted({line.split()[-1] for line in open('/proc/self/maps') if 'blas' in line.lower() and '/' in line})
    info = {'libraries': libs}
    for lib in libs:
        if 'openblas' not in lib:
            continue
        try:
            ob = ctypes.CDLL(lib)
            ob.openblas_get_config.restype = ctypes.c_char_p
            ob.openblas_get_corename.restype = ctypes.c_char_p
            info['openblas_config'] = ob.openblas_get_config().decode()
            info['openblas_corename'] = ob.openblas_get_corename().decode()
            info['openblas_threads'] = ob.openblas_get_num_threads()
        except (OSError, AttributeError) as error:
            info['openblas_error'] = str(error)
    return info


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--dir', required=True)
    parser.add_argument('--batch', type=int, required=True)
    parser.add_argument('--epochs', type=int, required=True)
    parser.add_argument('--torch-threads', type=int, required=True)
    parser.add_argument('--lr', type=float, required=True)
    parser.add_argument('--max-seconds', type=float, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.torch_threads)

    meta = json.load(open(os.path.join(args.dir, 'meta.json')))
    n, features, n_test = meta['n'], meta['features'], meta['nTest']
    x = torch.from_numpy(np.fromfile(os.path.join(args.dir, 'x.f32'), dtype='<f4').reshape(n, features))
    y = torch.from_numpy(np.fromfile(os.path.join(args.dir, 'y.i32'), dtype='<i4').astype(np.int64))
    x_test = torch.from_numpy(np.fromfile(os.path.join(args.dir, 'xtest.f32'), dtype='<f4').reshape(n_test, features))
    y_test = torch.from_numpy(np.fromfile(os.path.join(args.dir, 'ytest.i32'), dtype='<i4').astype(np.int64))
    perms = np.fromfile(os.path.join(args.dir, 'perms.i32'), dtype='<i4').reshape(-1, n)
    if perms.shape[0] < args.epochs:
        raise SystemExit(f'{args.dir}/perms.i32 holds {perms.shape[0]} epochs of batch order, {args.epochs} asked for')

    # threadtrain's layout: per layer W (units × inputs, the shape of torch's Linear.weight) then b.
    params = np.fromfile(os.path.join(args.dir, 'params.f32'), dtype='<f4')
    layers = []
    offset = 0
    for units, inputs in meta['layers']:
        linear = torch.nn.Linear(inputs, units)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(params[offset:offset + units * inputs].reshape(units, inputs)))
            offset += units * inputs
            linear.bias.copy_(torch.from_numpy(params[offset:offset + units]))
            offset += units
        layers.append(linear)
    modules = []
    for k, linear in enumerate(layers):
        modules.append(linear)
        if k < len(layers) - 1:
            modules.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*modules)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)

    epoch_samples_per_sec = []
    epoch_loss = []
    epoch_rows = []
    for epoch in range(args.epochs):
        order = torch.from_numpy(perms[epoch].astype(np.int64))
        loss_sum = 0.0
        done = 0
        t0 = time.perf_counter()
        for start in range(0, n, args.batch):
            rows = order[start:start + args.batch]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[rows]), y[rows])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(rows)
            done += len(rows)
            # A layout that crawls (oversubscribed threads) is timed on part of the epoch, not waited for.
            if time.perf_counter() - t0 > args.max_seconds:
                break
        seconds = time.perf_counter() - t0
        epoch_samples_per_sec.append(done / seconds)
        epoch_loss.append(loss_sum / done)
        epoch_rows.append(done)
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).double().mean().item()
    print(json.dumps({
        'torch': torch.__version__, 'torchThreads': torch.get_num_threads(),
        'env': {k: os.environ.get(k) for k in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')},
        'blas': blas_info(), 'epochSamplesPerSec': epoch_samples_per_sec, 'epochLoss': epoch_loss, 'epochRows': epoch_rows, 'testAccuracy': accuracy,
    }))


if __name__ == '__main__':
    main()
