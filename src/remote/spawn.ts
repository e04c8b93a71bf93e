// spawnTrainer(): a typed handle to a trainer running on its own thread, for
// applications that must stay responsive (a server, an Electron main process). Progress
// comes back through a comlink proxy callback once per epoch; cancel() stops at the
// next step boundary; close() ends the thread.

import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as Comlink from 'comlink';
import { ThreadtrainError } from '../errors.ts';
import { Model } from '../model/model.ts';
import type { EpochRecord } from '../report/log.ts';
import type { TrainOptions } from '../options/schema.ts';
import type { TrainResult } from '../train/train.ts';
import { nodeEndpoint } from './node_endpoint.ts';
import { localError } from './remote_error.ts';
import type { TrainerApi } from './trainer_api.ts';

export interface RemoteTrainer {
  /** Train off the main thread. The result's model is a full Model again. */
  train(options: TrainOptions, hooks?: { onEpoch?: (record: EpochRecord) => void }): Promise<Omit<TrainResult, 'options'>>;
  /** Stop the running training at its next step boundary. */
  cancel(): Promise<void>;
  /** End the trainer thread (and any pool it holds). */
  close(): Promise<void>;
}

function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('../../workers/trainer_worker.js', import.meta.url));
  // Under tsx on Node 20 a worker cannot start from a .ts file directly (tsx's ESM hooks
  // do not reach worker threads): a tiny eval'd shim registers tsx, then imports it.
  const entry = new URL('../../workers/trainer_worker.ts', import.meta.url).href;
  const tsxApi = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const shim = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(shim, { eval: true });
}

export function spawnTrainer(): RemoteTrainer {
  const worker = startWorker();
  const remote = Comlink.wrap<TrainerApi>(nodeEndpoint(worker));
  let exitError: Error | undefined;
  const exited = new Promise<never>((_, reject) => {
    worker.once('error', (e) => reject((exitError = e)));
    worker.once('exit', (code) => reject((exitError ??= new ThreadtrainError(`the trainer thread exited (code ${code})`))));
  });
  exited.catch(() => {});
  // The thread keeps the process alive only while a train() is in flight: an idle trainer
  // (one whose run finished or rejected) lets the process exit without close().
  worker.unref();
  let running = 0;
  return {
    async train(options, hooks = {}) {
      const onEpoch = hooks.onEpoch ? Comlink.proxy(hooks.onEpoch) : undefined;
      if (running++ === 0) worker.ref();
      try {
        const outcome = await Promise.race([remote.train(options, onEpoch), exited]);
        if (!outcome.ok) throw localError(outcome.error);
        return { ...outcome.result, model: new Model(outcome.result.model) };
      } finally {
        if (--running === 0) worker.unref();
      }
    },
    async cancel() {
      if (!exitError) await remote.cancel();
    },
    async close() {
      remote[Comlink.releaseProxy]();
      await worker.terminate();
    },
  };
}
