// Dataset downloads against a local HTTP server on 127.0.0.1 serving fixture IDX files made
// here — never the internet: a clean download, a server that drops the connection mid-file
// (the .part file is resumed with a Range request), one that serves wrong bytes (an error,
// the file removed), one that is not there (offline), and the cache-folder resolver.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheRoot } from '../src/data/cache_dir.ts';
import { DATASETS, datasetDir, datasetFiles, downloadDataset, type DatasetSpec } from '../src/data/download.ts';
import { loadIdx } from '../src/data/idx.ts';
import { DataError } from '../src/errors.ts';
import { createRng } from '../src/rng.ts';

function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x800 + dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

const rng = createRng(7);
const bytes = (n: number, max: number) => Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * max));
// Random pixels do not compress: the training images stay ~25 KB, many chunks long.
const FIXTURES: Record<string, Buffer> = {
  'train-images-idx3-ubyte.gz': gzipSync(idx([400, 8, 8], bytes(400 * 64, 256))),
  'train-labels-idx1-ubyte.gz': gzipSync(idx([400], bytes(400, 10))),
  't10k-images-idx3-ubyte.gz': gzipSync(idx([50, 8, 8], bytes(50 * 64, 256))),
  't10k-labels-idx1-ubyte.gz': gzipSync(idx([50], bytes(50, 10))),
};
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** The same length with one byte flipped: what a bad mirror sends. */
function corrupted(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  copy[copy.length >> 1]! ^= 0xff;
  return copy;
}

/**
 * What the server does with a file: serve it, drop the first response halfway, send other
 * bytes, or answer a Range request with a 206 that starts at byte 0 anyway.
 */
type Behaviour = 'serve' | 'drop-once' | 'wrong' | 'ignore-range-start';

interface Request {
  mirror: string;
  file: string;
  range: string | undefined;
}

let server: http.Server;
let base = '';
const behaviour = new Map<string, Behaviour>();
const requests: Request[] = [];
const dropped = new Set<string>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    // /data/FILE serves as `behaviour` says, /bad/FILE always sends wrong bytes, the rest is 404.
    const [, mirror = '', file = ''] = (req.url ?? '').split('/');
    requests.push({ mirror, file, range: req.headers.range });
    const body = FIXTURES[file];
    if (body === undefined || (mirror !== 'data' && mirror !== 'bad')) {
      res.writeHead(404).end();
      return;
    }
    const mode = mirror === 'bad' ? 'wrong' : behaviour.get(file) ?? 'serve';
    const served = mode === 'wrong' ? corrupted(body) : body;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = range && mode !== 'ignore-range-start' ? Number(range[1]) : 0;
    if (from >= served.length) {
      res.writeHead(416, { 'content-range': `bytes */${served.length}` }).end();
      return;
    }
    const headers = { 'content-length': String(served.length - from), 'accept-ranges': 'bytes' };
    if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${served.length - 1}/${served.length}` });
    else res.writeHead(200, headers);
    if (mode === 'drop-once' && !dropped.has(file)) {
      dropped.add(file);
      // Half the bytes reach the client, then the socket dies mid-body.
      res.write(served.subarray(from, from + Math.floor((served.length - from) / 2)), () => res.socket?.destroy());
      return;
    }
    res.end(served.subarray(from));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let tmp = '';
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-download-'));
  behaviour.clear();
  requests.length = 0;
  dropped.clear();
  return () => fs.rmSync(tmp, { recursive: true, force: true });
});

/** MNIST's file names with the fixtures' checksums and the local mirror(s). */
function fixtureSpec(mirrors: string[] = [base]): DatasetSpec {
  const f = (file: string) => ({ file, md5: md5(FIXTURES[file]!) });
  return {
    name: 'mnist', description: 'fixtures', mirrors,
    files: {
      images: f('train-images-idx3-ubyte.gz'), labels: f('train-labels-idx1-ubyte.gz'),
      testImages: f('t10k-images-idx3-ubyte.gz'), testLabels: f('t10k-labels-idx1-ubyte.gz'),
    },
  };
}

const listing = (dir: string) => fs.readdirSync(dir).sort();

describe('downloadDataset', () => {
  it('fetches the four files, verified, into the folder, and the IDX loader reads them', async () => {
    const lines: string[] = [];
    const result = await downloadDataset('mnist', { dir: tmp, spec: fixtureSpec(), log: (l) => lines.push(l) });
    expect(listing(tmp)).toEqual(Object.keys(FIXTURES).sort());
    for (const [file, body] of Object.entries(FIXTURES)) expect(fs.readFileSync(path.join(tmp, file)).equals(body)).toBe(true);
    expect(result.fetched).toHaveLength(4);
    expect(result.paths).toEqual(datasetFiles('mnist', tmp));
    const train = loadIdx(result.paths.images, result.paths.labels);
    expect([train.n, train.features]).toEqual([400, 64]);
    expect(lines).toHaveLength(8);
    expect(lines.filter((l) => l.includes(': fetching '))).toEqual(Object.keys(FIXTURES).map((f) => `mnist: fetching ${base}${f}`));
    const kib = (FIXTURES['train-images-idx3-ubyte.gz']!.length / 1024).toFixed(1);
    expect(lines[1]).toBe(`mnist: train-images-idx3-ubyte.gz ${kib} KiB from ${base}train-images-idx3-ubyte.gz, md5 ok`);

    // A second call finds every file in place and fetches nothing.
    requests.length = 0;
    const again = await downloadDataset('mnist', { dir: tmp, spec: fixtureSpec() });
    expect(again.fetched).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('resumes a file whose connection dropped mid-body with a Range request, and completes it', async () => {
    behaviour.set('train-images-idx3-ubyte.gz', 'drop-once');
    const lines: string[] = [];
    await downloadDataset('mnist', { dir: tmp, spec: fixtureSpec(), log: (l) => lines.push(l) });
    const body = FIXTURES['train-images-idx3-ubyte.gz']!;
    expect(fs.readFileSync(path.join(tmp, 'train-images-idx3-ubyte.gz')).equals(body)).toBe(true);
    const asked = requests.filter((r) => r.file === 'train-images-idx3-ubyte.gz');
    expect(asked).toHaveLength(2);
    expect(asked[0]!.range).toBeUndefined();
    // The second request starts where the part file ended: somewhere after the first chunk, before the end.
    const from = Number(/^bytes=(\d+)-$/.exec(asked[1]!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThan(body.length);
    expect(listing(tmp)).toEqual(Object.keys(FIXTURES).sort());
  });

  it('resumes a .part file left by an earlier run', async () => {
    const body = FIXTURES['t10k-images-idx3-ubyte.gz']!;
    fs.writeFileSync(path.join(tmp, 't10k-images-idx3-ubyte.gz.part'), body.subarray(0, 1000));
    const lines: string[] = [];
    await downloadDataset('mnist', { dir: tmp, spec: fixtureSpec(), log: (l) => lines.push(l) });
    expect(requests.find((r) => r.file === 't10k-images-idx3-ubyte.gz')!.range).toBe('bytes=1000-');
    expect(fs.readFileSync(path.join(tmp, 't10k-images-idx3-ubyte.gz')).equals(body)).toBe(true);
    expect(lines.find((l) => l.includes('t10k-images') && !l.includes('fetching'))).toMatch(/ from .*t10k-images-idx3-ubyte\.gz \(resumed at 1\.0 KiB\), md5 ok$/);
  });

  it('refuses bytes that do not match the checksum: one error line, the file removed, nothing renamed into place', async () => {
    behaviour.set('train-labels-idx1-ubyte.gz', 'wrong');
    const spec = fixtureSpec();
    const error = await downloadDataset('mnist', { dir: tmp, spec }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    const served = corrupted(FIXTURES['train-labels-idx1-ubyte.gz']!);
    expect((error as DataError).message).toBe(
      `${base}train-labels-idx1-ubyte.gz: checksum mismatch, md5 ${md5(served)}, expected ${spec.files.labels.md5} (the published value); the file was removed\n`
      + 'hint: the mirror served other bytes; try again later or another mirror',
    );
    // The images came first and are kept; the labels exist neither whole nor as a part.
    expect(listing(tmp)).toEqual(['train-images-idx3-ubyte.gz']);
  });

  it('takes the next mirror when one is missing the file or serves wrong bytes', async () => {
    const missing = base.replace('/data/', '/nothing-here/');
    const bad = base.replace('/data/', '/bad/');
    const result = await downloadDataset('mnist', { dir: tmp, spec: fixtureSpec([missing, bad, base]) });
    expect(result.fetched).toHaveLength(4);
    for (const [file, body] of Object.entries(FIXTURES)) expect(fs.readFileSync(path.join(tmp, file)).equals(body)).toBe(true);
    expect(requests.filter((r) => r.file === 'train-labels-idx1-ubyte.gz').map((r) => r.mirror)).toEqual(['nothing-here', 'bad', 'data']);
  });

  it('refuses a 206 that does not start where the .part file ends, instead of splicing wrong bytes', async () => {
    behaviour.set('t10k-images-idx3-ubyte.gz', 'ignore-range-start');
    const part = path.join(tmp, 't10k-images-idx3-ubyte.gz.part');
    fs.writeFileSync(part, FIXTURES['t10k-images-idx3-ubyte.gz']!.subarray(0, 1000));
    const error = await downloadDataset('mnist', { dir: tmp, spec: fixtureSpec() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    const size = FIXTURES['t10k-images-idx3-ubyte.gz']!.length;
    expect((error as DataError).message).toBe(
      `${base}t10k-images-idx3-ubyte.gz: asked for the bytes from 1000 on, the server sent a range starting at bytes 0-${size - 1}/${size}\n`
      + `hint: delete ${part} to download the file from the start`,
    );
    expect(fs.existsSync(path.join(tmp, 't10k-images-idx3-ubyte.gz'))).toBe(false);
  });

  it('says which folder it cannot create', async () => {
    fs.writeFileSync(path.join(tmp, 'a-file'), '');
    const dir = path.join(tmp, 'a-file', 'mnist');
    await expect(downloadDataset('mnist', { dir, spec: fixtureSpec() })).rejects.toThrow(
      new RegExp(`^cannot create the dataset folder ${dir.replace(/[.\\/]/g, '\\$&')}: ENOTDIR: .*\nhint: pass --dir with a folder you can write to, or set THREADTRAIN_CACHE_DIR$`),
    );
  });

  it('says in one line that it cannot connect when the mirror is unreachable (offline)', async () => {
    // A port that was just free: nothing listens there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await downloadDataset('mnist', { dir: tmp, spec: fixtureSpec([`http://127.0.0.1:${port}/`]) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe(
      `http://127.0.0.1:${port}/train-images-idx3-ubyte.gz: cannot connect (ECONNREFUSED)\n`
      + 'hint: offline? check the network, or put the files in the dataset folder by hand',
    );
    expect(listing(tmp)).toEqual([]);
  });

  it('replaces a file in the folder whose checksum is wrong instead of using it', async () => {
    fs.writeFileSync(path.join(tmp, 't10k-labels-idx1-ubyte.gz'), 'not the labels');
    const lines: string[] = [];
    const result = await downloadDataset('mnist', { dir: tmp, spec: fixtureSpec(), log: (l) => lines.push(l) });
    expect(result.fetched).toContain('t10k-labels-idx1-ubyte.gz');
    expect(fs.readFileSync(path.join(tmp, 't10k-labels-idx1-ubyte.gz')).equals(FIXTURES['t10k-labels-idx1-ubyte.gz']!)).toBe(true);
    expect(lines).toContain(`mnist: t10k-labels-idx1-ubyte.gz in ${tmp} had md5 ${md5(Buffer.from('not the labels'))}, expected ${md5(FIXTURES['t10k-labels-idx1-ubyte.gz']!)}: removed, downloading it again`);
  });
});

describe('datasetFiles and the cache folder', () => {
  it('puts a dataset under <cacheRoot()>/datasets/NAME, following THREADTRAIN_CACHE_DIR', () => {
    expect(datasetDir('fashion-mnist', '/c')).toBe(path.join('/c', 'datasets', 'fashion-mnist'));
    expect(cacheRoot({ THREADTRAIN_CACHE_DIR: tmp }, 'linux')).toBe(tmp);
    expect(cacheRoot({ XDG_CACHE_HOME: '/x' }, 'linux')).toBe(path.join('/x', 'threadtrain'));
  });

  it('names the missing file and the command that downloads it', () => {
    expect(() => datasetFiles('mnist', tmp)).toThrow(new DataError(
      `dataset mnist is not downloaded: ${path.join(tmp, 'train-images-idx3-ubyte.gz')} is missing (and 3 more of its 4 files)`,
      `run: threadtrain datasets download mnist --dir ${tmp}`,
    ));
    const saved = process.env.THREADTRAIN_CACHE_DIR;
    process.env.THREADTRAIN_CACHE_DIR = tmp;
    try {
      expect(() => datasetFiles('fashion-mnist')).toThrow(/^dataset fashion-mnist is not downloaded: .*\nhint: run: threadtrain datasets download fashion-mnist$/);
    } finally {
      if (saved === undefined) delete process.env.THREADTRAIN_CACHE_DIR;
      else process.env.THREADTRAIN_CACHE_DIR = saved;
    }
  });

  it('lists the datasets it knows when asked for another', () => {
    expect(() => datasetFiles('cifar10', tmp)).toThrow('unknown dataset "cifar10"; expected one of "mnist", "fashion-mnist"');
  });
});

const shared = fileURLToPath(new URL('../../shared/data/mnist/', import.meta.url));
const haveShared = fs.existsSync(path.join(shared, 't10k-images-idx3-ubyte.gz'));
if (!haveShared) console.warn('download.test: ../shared/data/mnist is absent, so the MNIST checksums are not checked against real files');

describe.skipIf(!haveShared)('the published MNIST checksums', () => {
  it('match the real t10k files in ../shared/data/mnist (the train files there are a subset)', () => {
    expect(md5(fs.readFileSync(path.join(shared, 't10k-images-idx3-ubyte.gz')))).toBe(DATASETS.mnist.files.testImages.md5);
    expect(md5(fs.readFileSync(path.join(shared, 't10k-labels-idx1-ubyte.gz')))).toBe(DATASETS.mnist.files.testLabels.md5);
  });
});
