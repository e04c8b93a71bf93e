// Sharding a sweep over machines. Shard I of N takes the runs whose index is I modulo N:
// the same share on every machine without any coordination, and a mix of every option's
// values in each share (contiguous blocks would give one machine all the slow runs of a
// grid). Under a batch scheduler the index comes from the environment: a Kubernetes
// Indexed Job sets JOB_COMPLETION_INDEX in each pod, a Slurm job array sets
// SLURM_ARRAY_TASK_ID in each task.

import { ConfigError, describe } from '../errors.ts';

export interface Shard {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

function checkShard(index: number, count: number, where: string, hint: string): Shard {
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`${where}: the shard count must be a positive integer (got ${describe(count)})`, hint);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new ConfigError(`${where}: the shard index must be an integer in [0, ${count - 1}] (got ${describe(index)})`, hint);
  return { index, count };
}

const toInt = (text: string): number => (/^\s*\d+\s*$/.test(text) ? Number(text) : NaN);

/** "I/N", as `--shard` takes it. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\S+)\s*\/\s*(\S+)\s*$/.exec(text);
  if (!m) throw new ConfigError(`--shard must be I/N, e.g. 0/4 (got ${describe(text)})`, 'I counts from 0: shards 0/4, 1/4, 2/4 and 3/4 make up the sweep');
  return checkShard(toInt(m[1]!), toInt(m[2]!), `--shard ${text}`, 'I counts from 0: shards 0/4, 1/4, 2/4 and 3/4 make up the sweep');
}

/**
 * The shard a batch scheduler's task is, given the shard count: JOB_COMPLETION_INDEX
 * (Kubernetes Indexed Job), else SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN (a Slurm
 * array may start at 1). Slurm's own task count, when set, must agree with `count`.
 */
export function shardFromEnv(count: number, env: NodeJS.ProcessEnv = process.env): Shard {
  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined && k8s !== '') {
    return checkShard(toInt(k8s), count, `JOB_COMPLETION_INDEX=${k8s} with --shards ${count}`, 'set the Job\'s completions to the shard count, with completionMode: Indexed');
  }
  const slurm = env.SLURM_ARRAY_TASK_ID;
  if (slurm !== undefined && slurm !== '') {
    const min = env.SLURM_ARRAY_TASK_MIN ? toInt(env.SLURM_ARRAY_TASK_MIN) : 0;
    const tasks = env.SLURM_ARRAY_TASK_COUNT ? toInt(env.SLURM_ARRAY_TASK_COUNT) : undefined;
    if (tasks !== undefined && tasks !== count) {
      throw new ConfigError(`--shards ${count}, but this Slurm array has ${tasks} tasks (SLURM_ARRAY_TASK_COUNT)`, `submit with --array=0-${count - 1}, or pass --shards ${tasks}`);
    }
    return checkShard(toInt(slurm) - min, count, `SLURM_ARRAY_TASK_ID=${slurm} (array from ${min}) with --shards ${count}`, `submit with --array=0-${count - 1}`);
  }
  throw new ConfigError(`--shards ${count} needs this task's index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, and neither is set`,
    'run under a Kubernetes Indexed Job or a Slurm job array, or give --shard I/N');
}

/** The runs of `shard`: index ≡ shard.index (mod shard.count). */
export function selectShard<T extends { readonly index: number }>(runs: readonly T[], shard: Shard | undefined): T[] {
  return shard ? runs.filter((r) => r.index % shard.count === shard.index) : [...runs];
}
