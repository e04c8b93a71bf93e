// The thread behind spawnTrainer(): exposes train() and cancel() over comlink. It runs
// the same train() as the main-thread API, so the worker pool it makes is a pool of
// grandchildren threads; the caller's event loop never runs any of the training.

import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from '../src/remote/node_endpoint.ts';
import { remoteError, remoteResult } from '../src/remote/remote_error.ts';
import type { RemoteTrainOutcome, TrainerApi } from '../src/remote/trainer_api.ts';
import { train } from '../src/api.ts';

let controller: AbortController | undefined;

const api: TrainerApi = {
  async train(options, onEpoch): Promise<RemoteTrainOutcome> {
    controller = new AbortController();
    try {
      const r = await train(options, { signal: controller.signal, ...(onEpoch ? { onEpoch: (rec) => void onEpoch(rec) } : {}) });
      return { ok: true, result: remoteResult(r) };
    } catch (error) {
      return { ok: false, error: remoteError(error) };
    } finally {
      controller = undefined;
      // Close the callback's channel: left open, its port on the caller's side would keep
      // the caller's process alive after the run.
      if (onEpoch) (onEpoch as unknown as Comlink.Remote<unknown>)[Comlink.releaseProxy]();
    }
  },
  cancel() {
    controller?.abort();
  },
};

Comlink.expose(api, nodeEndpoint(parentPort!));
