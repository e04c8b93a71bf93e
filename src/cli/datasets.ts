// threadtrain datasets: the public datasets threadtrain can download (list) and their download
// into the cache folder (download NAME [--dir DIR]); configs and --data then name them as
// dataset:NAME. The fetching, checking and resuming is data/download.ts's.

import fs from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import { cacheRoot } from '../data/cache_dir.ts';
import { DATASET_NAMES, DATASETS, datasetDir, downloadDataset, type DatasetName } from '../data/download.ts';
import type { CommandHandler } from './command.ts';
import { out, UsageError } from './format.ts';

const ACTIONS = ['list', 'download'] as const;

/** "downloaded", "not downloaded" or "2 of 4 files": which of a dataset's files are in its cache folder. */
function status(name: (typeof DATASET_NAMES)[number]): string {
  const dir = datasetDir(name);
  const have = Object.values(DATASETS[name].files).filter((f) => fs.existsSync(path.join(dir, f.file))).length;
  return have === 4 ? 'downloaded' : have === 0 ? 'not downloaded' : `${have} of 4 files`;
}

function list(): number {
  const rows = DATASET_NAMES.map((name) => [name, status(name), DATASETS[name].description] as const);
  const w0 = Math.max('name'.length, ...rows.map((r) => r[0].length));
  const w1 = Math.max('status'.length, ...rows.map((r) => r[1].length));
  out(`${'name'.padEnd(w0)}  ${'status'.padEnd(w1)}  description`);
  for (const [name, state, description] of rows) out(`${name.padEnd(w0)}  ${state.padEnd(w1)}  ${description}`);
  out('');
  out(`cache folder: ${path.join(cacheRoot(), 'datasets')} (THREADTRAIN_CACHE_DIR moves it)`);
  return 0;
}

async function download(name: string | undefined, dirFlag: string | undefined, mirror: string | undefined): Promise<number> {
  if (name === undefined) throw new UsageError(`datasets download: name the dataset: ${DATASET_NAMES.join(' or ')}`);
  const dir = dirFlag === undefined ? undefined : path.resolve(dirFlag);
  // Another mirror changes where the bytes come from, never which bytes are accepted.
  const spec = mirror === undefined ? undefined : { ...DATASETS[name as DatasetName], mirrors: [mirror.endsWith('/') ? mirror : `${mirror}/`] };
  const result = await downloadDataset(name, { ...(dir !== undefined ? { dir } : {}), ...(spec ? { spec } : {}), log: out });
  out(`${name}: 4 files in ${result.dir}; train on them with --data dataset:${name}${dir !== undefined ? `,dir=${dir}` : ''}`);
  return 0;
}

export const datasets: CommandHandler = {
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ACTIONS, describe: 'list: what can be downloaded and what is; download: fetch NAME' })
      .positional('name', { choices: DATASET_NAMES, describe: 'the dataset to download' })
      .option('dir', { type: 'string', requiresArg: true, describe: 'download into this folder instead of the cache folder', defaultDescription: 'CACHE/datasets/NAME' })
      .option('mirror', { type: 'string', requiresArg: true, describe: 'fetch the files from this base URL (a local or company mirror); the published checksums still apply', defaultDescription: 'the published mirrors' })
      .example('$0 datasets list', '')
      .example('$0 datasets download mnist', '')
      .example('$0 train --config configs/mnist.json --data dataset:mnist', '')
      .example('$0 datasets download fashion-mnist --dir data/fashion', ''),
  run: (a) => (a.action === 'list' ? list() : download(a.name as string | undefined, a.dir as string | undefined, a.mirror as string | undefined)),
};
