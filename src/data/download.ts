// download.ts — the public datasets threadtrain can fetch (MNIST, Fashion-MNIST), fetched
// into the cache folder and checked: each file against its published MD5, written to a
// `.part` file that a later try resumes with an HTTP Range request, and renamed into place
// only once its checksum matches, so a path in the cache is always a whole, verified file.
// A file whose bytes do not match is removed, never used. Failures are one DataError line
// (offline, HTTP status, checksum) with a hint. `datasetFiles` finds the downloaded files.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DataError, describe } from '../errors.ts';
import { cacheRoot } from './cache_dir.ts';

/** One file of a dataset: its name on the mirrors and in the cache, and its published MD5. */
export interface DatasetFile {
  readonly file: string;
  readonly md5: string;
}

/** A dataset as its four IDX files: training images and labels, test images and labels. */
export interface DatasetSpec {
  readonly name: string;
  readonly description: string;
  /** Base URLs tried in order; a file's URL is the base followed by its name. */
  readonly mirrors: readonly string[];
  readonly files: {
    readonly images: DatasetFile;
    readonly labels: DatasetFile;
    readonly testImages: DatasetFile;
    readonly testLabels: DatasetFile;
  };
}

/** The four IDX paths of a downloaded dataset, as an IDX data source names them. */
export interface DatasetPaths {
  readonly images: string;
  readonly labels: string;
  readonly testImages: string;
  readonly testLabels: string;
}

type Role = keyof DatasetSpec['files'];
const ROLES: readonly Role[] = ['images', 'labels', 'testImages', 'testLabels'];

export const DATASETS = {
  // Mirrors and MD5s as torchvision lists them (torchvision/datasets/mnist.py, class MNIST:
  // `mirrors` and `resources`). The t10k files in ../shared/data/mnist match these MD5s.
  mnist: {
    name: 'mnist',
    description: 'MNIST handwritten digits: 60,000 training and 10,000 test images, 28×28 grey, 10 classes',
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
    files: {
      images: { file: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
      labels: { file: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
      testImages: { file: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3' },
      testLabels: { file: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c' },
    },
  },
  // Mirror and MD5s from the table in zalandoresearch/fashion-mnist's README ("Get the Data").
  'fashion-mnist': {
    name: 'fashion-mnist',
    description: 'Fashion-MNIST clothing images (Zalando): 60,000 training and 10,000 test images, 28×28 grey, 10 classes',
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    files: {
      images: { file: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
      labels: { file: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe' },
      testImages: { file: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79' },
      testLabels: { file: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
    },
  },
} as const satisfies Record<string, DatasetSpec>;

export type DatasetName = keyof typeof DATASETS;
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

/** The spec of a dataset by name; a name we do not know is a DataError listing the ones we do. */
export function datasetSpec(name: string): DatasetSpec {
  if (!Object.hasOwn(DATASETS, name)) {
    throw new DataError(
      `unknown dataset ${describe(name)}; expected one of ${DATASET_NAMES.map((n) => describe(n)).join(', ')}`,
      'threadtrain datasets list shows them',
    );
  }
  return DATASETS[name as DatasetName];
}

/** Where a dataset lives in the cache: <cacheRoot()>/datasets/NAME. */
export function datasetDir(name: string, root: string = cacheRoot()): string {
  return path.join(root, 'datasets', name);
}

function pathsIn(spec: DatasetSpec, dir: string): DatasetPaths {
  return Object.fromEntries(ROLES.map((role) => [role, path.join(dir, spec.files[role].file)])) as unknown as DatasetPaths;
}

/**
 * The four IDX files of a downloaded dataset, in `dir` (default: its cache folder). Only
 * checks that they exist: a file in place was verified before it was renamed there.
 */
export function datasetFiles(name: string, dir: string = datasetDir(name)): DatasetPaths {
  const paths = pathsIn(datasetSpec(name), dir);
  const missing = ROLES.filter((role) => !fs.existsSync(paths[role]));
  if (missing.length > 0) {
    throw new DataError(
      `dataset ${name} is not downloaded: ${paths[missing[0]!]} is missing${missing.length > 1 ? ` (and ${missing.length - 1} more of its 4 files)` : ''}`,
      `run: threadtrain datasets download ${name}${dir === datasetDir(name) ? '' : ` --dir ${dir}`}`,
    );
  }
  return paths;
}

export interface DownloadOptions {
  /** Download into this folder instead of the cache's datasets/NAME. */
  readonly dir?: string;
  /** Use these mirrors and checksums instead of the published ones (tests serve their own). */
  readonly spec?: DatasetSpec;
  /** Tries per file and mirror while each try makes progress (a dropped connection resumes). */
  readonly attempts?: number;
  /** A line as each file starts, and one when it is in place (or was already there). */
  readonly log?: (line: string) => void;
}

export interface DownloadResult {
  readonly dir: string;
  readonly paths: DatasetPaths;
  /** Files fetched by this call (the rest were already in place and verified). */
  readonly fetched: readonly string[];
}

const md5File = (file: string): string => createHash('md5').update(fs.readFileSync(file)).digest('hex');

const size = (bytes: number) => (bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`);

/**
 * Download a dataset's four files into its folder, skipping files already there with the
 * right checksum. Each file tries the mirrors in order; a failure on every mirror throws a
 * DataError naming the file, the last mirror's URL and why.
 */
export async function downloadDataset(name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const spec = options.spec ?? datasetSpec(name);
  const dir = options.dir ?? datasetDir(spec.name);
  const log = options.log ?? (() => {});
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new DataError(`cannot create the dataset folder ${dir}: ${(error as Error).message}`, 'pass --dir with a folder you can write to, or set THREADTRAIN_CACHE_DIR');
  }
  const fetched: string[] = [];
  for (const role of ROLES) {
    const { file, md5 } = spec.files[role];
    const target = path.join(dir, file);
    if (fs.existsSync(target)) {
      const got = md5File(target);
      if (got === md5) {
        log(`${spec.name}: ${file} already in ${dir}, checksum ok`);
        continue;
      }
      // Not one of ours (we rename only verified files): never use it, fetch it again.
      fs.rmSync(target);
      log(`${spec.name}: ${file} in ${dir} had md5 ${got}, expected ${md5}: removed, downloading it again`);
    }
    await fetchVerified(spec, file, md5, target, options.attempts ?? 5, log);
    fetched.push(file);
  }
  return { dir, paths: pathsIn(spec, dir), fetched };
}

/** Fetch one file from the first mirror that gives the right bytes, into `target`. */
async function fetchVerified(spec: DatasetSpec, file: string, md5: string, target: string, attempts: number, log: (line: string) => void): Promise<void> {
  const part = `${target}.part`;
  let lastError: DataError | undefined;
  for (const mirror of spec.mirrors) {
    const url = new URL(file, mirror).href;
    // A line before the bytes flow: a large file on a slow link must not look like a hang.
    log(`${spec.name}: fetching ${url}`);
    try {
      const resumedFrom = await fetchToPart(url, part, attempts);
      const got = md5File(part);
      if (got !== md5) {
        fs.rmSync(part, { force: true });
        throw new DataError(
          `${url}: checksum mismatch, md5 ${got}, expected ${md5} (the published value); the file was removed`,
          'the mirror served other bytes; try again later or another mirror',
        );
      }
      fs.renameSync(part, target);
      log(`${spec.name}: ${file} ${size(fs.statSync(target).size)} from ${url}${resumedFrom > 0 ? ` (resumed at ${size(resumedFrom)})` : ''}, md5 ok`);
      return;
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      lastError = error;
    }
  }
  throw lastError ?? new DataError(`${spec.name}: no mirror to download ${file} from`, 'the dataset spec lists no mirrors');
}

/**
 * Bring `part` up to the whole file at `url`, resuming from its current length with a Range
 * request. A dropped connection keeps what arrived and tries again, up to `attempts` tries
 * in a row that add no bytes. Returns the length the first request resumed from.
 */
async function fetchToPart(url: string, part: string, attempts: number): Promise<number> {
  const startedAt = fs.existsSync(part) ? fs.statSync(part).size : 0;
  let idle = 0;
  for (;;) {
    const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
    let response: Response;
    try {
      response = await fetch(url, { headers: have > 0 ? { range: `bytes=${have}-` } : {} });
    } catch (error) {
      throw new DataError(`${url}: cannot connect (${networkCause(error)})`, 'offline? check the network, or put the files in the dataset folder by hand');
    }
    if (response.status === 416 && have > 0) {
      // The part already holds every byte the server has: let the checksum decide.
      await response.body?.cancel();
      return startedAt;
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      throw new DataError(`${url}: HTTP ${response.status} ${response.statusText}`.trimEnd(), 'the mirror may be down; try again later');
    }
    // 200 to a Range request means the server sends the whole file: start the part over. A
    // 206 must start where the part ends; one that starts elsewhere would splice wrong bytes.
    const start = Number(/^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1] ?? NaN);
    if (response.status === 206 && start !== have) {
      await response.body?.cancel();
      throw new DataError(
        `${url}: asked for the bytes from ${have} on, the server sent a range starting at ${response.headers.get('content-range') ?? 'an unknown offset'}`,
        `delete ${part} to download the file from the start`,
      );
    }
    const append = response.status === 206;
    const total = lengthOf(response, append ? have : 0);
    const out = fs.openSync(part, append ? 'a' : 'w');
    let wrote = 0;
    let dropped: unknown;
    try {
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        fs.writeSync(out, value);
        wrote += value.byteLength;
      }
    } catch (error) {
      dropped = error;
    } finally {
      fs.closeSync(out);
    }
    const size = (append ? have : 0) + wrote;
    if (dropped === undefined && (total === undefined || size >= total)) return startedAt;
    idle = wrote > 0 ? 0 : idle + 1;
    if (idle >= attempts) {
      throw new DataError(
        `${url}: the connection dropped at ${size} of ${total ?? 'unknown'} bytes, ${attempts} times without progress (${networkCause(dropped)})`,
        `the partial file ${part} is kept; run the download again to resume it`,
      );
    }
  }
}

/** The whole file's length from Content-Range (206) or Content-Length (200), if given. */
function lengthOf(response: Response, offset: number): number | undefined {
  const range = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const length = response.headers.get('content-length');
  return length === null ? undefined : offset + Number(length);
}

/** The most specific reason a fetch failed: the socket error's code, else its message. */
function networkCause(error: unknown): string {
  let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  let text = 'connection closed';
  while (e) {
    if (typeof e.code === 'string') return e.code;
    if (typeof e.message === 'string' && e.message !== '') text = e.message;
    e = e.cause as typeof e;
  }
  return text;
}
