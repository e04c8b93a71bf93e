// The library's edge: train() takes options as a caller writes them, parses them through the
// schema once (options/), and runs the resolved run (train/). It lives above both so that
// the layers below take resolved values only: cli → options → train → engine → optim/nn → kernels.

import { parseTrainOptions } from './options/parse.ts';
import type { TrainOptions } from './options/schema.ts';
import { runTraining, type TrainHooks, type TrainResult } from './train/train.ts';

/** Train a model. Options are checked here; a bad one is a ConfigError naming its path. */
export function train(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  // Parsing throws synchronously; a caller awaiting train() sees a rejected promise all the same.
  try {
    return runTraining(parseTrainOptions(options), hooks);
  } catch (error) {
    return Promise.reject(error);
  }
}
