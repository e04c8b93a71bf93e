// `threadtrain datasets list | download`, the dataset:NAME data source and `evaluate --json`,
// run as child processes with THREADTRAIN_CACHE_DIR pointing at a temp folder. The "downloaded"
// dataset there is small fixture IDX files written by the test; downloads go to a local HTTP
// server on 127.0.0.1 (--mirror), never the internet. (Successful downloads, resuming and
// checksums are tested against the library in download.test.ts.)

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASETS } from '../src/data/download.ts';
import { loadIdx } from '../src/data/idx.ts';
import { Model } from '../src/model/model.ts';

const repo = path.resolve(import.meta.dirname, '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cache: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: repo, env: { ...process.env, THREADTRAIN_CACHE_DIR: cache, CI: '', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x800 + dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([header, Buffer.from(data)]));
}

/** n images of 4×4 pixels, 3 classes: class c lights up row c (plus a little noise), so a net can learn it. */
function digits(n: number, seed: number): { images: Buffer; labels: Buffer } {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  const pixels = new Uint8Array(n * 16);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = next() % 3;
    labels[i] = c;
    for (let p = 0; p < 16; p++) pixels[i * 16 + p] = (p >> 2 === c ? 200 : 0) + (next() % 40);
  }
  return { images: idx([n, 4, 4], pixels), labels: idx([n], labels) };
}

let cache = '';
const mnistDir = () => path.join(cache, 'datasets', 'mnist');
const files = DATASETS.mnist.files;

function writeFixtureDataset(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const train = digits(120, 1);
  const test = digits(30, 2);
  fs.writeFileSync(path.join(dir, files.images.file), train.images);
  fs.writeFileSync(path.join(dir, files.labels.file), train.labels);
  fs.writeFileSync(path.join(dir, files.testImages.file), test.images);
  fs.writeFileSync(path.join(dir, files.testLabels.file), test.labels);
}

const MODEL = JSON.stringify([{ units: 8, activation: 'tanh' }, { units: 3, activation: 'softmax' }]);

beforeAll(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-datasets-'));
});
afterAll(() => fs.rmSync(cache, { recursive: true, force: true }));

describe('threadtrain datasets', () => {
  it('list: each dataset, whether its files are in the cache folder, and where that is', async () => {
    const before = await cli(['datasets', 'list'], cache);
    expect(before.stderr).toBe('');
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/^mnist +not downloaded +MNIST handwritten digits/m);
    expect(before.stdout).toMatch(/^fashion-mnist +not downloaded +Fashion-MNIST/m);
    expect(before.stdout).toContain(`cache folder: ${path.join(cache, 'datasets')} (THREADTRAIN_CACHE_DIR moves it)`);

    fs.mkdirSync(path.join(cache, 'datasets', 'fashion-mnist'), { recursive: true });
    fs.writeFileSync(path.join(cache, 'datasets', 'fashion-mnist', files.images.file), '');
    fs.writeFileSync(path.join(cache, 'datasets', 'fashion-mnist', files.labels.file), '');
    writeFixtureDataset(mnistDir());
    const after = await cli(['datasets', 'list'], cache);
    expect(after.stdout).toMatch(/^mnist +downloaded +MNIST/m);
    expect(after.stdout).toMatch(/^fashion-mnist +2 of 4 files +Fashion-MNIST/m);
    fs.rmSync(path.join(cache, 'datasets', 'fashion-mnist'), { recursive: true });
  });

  it('download without a name, or with one it does not know, is a usage error (exit 2)', async () => {
    const none = await cli(['datasets', 'download'], cache);
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n').at(-1)).toBe('error: datasets download: name the dataset: mnist or fashion-mnist');
    const unknown = await cli(['datasets', 'download', 'cifar10'], cache);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: Invalid values:\n\s+Argument: name, Given: "cifar10", Choices: "mnist", "fashion-mnist"/m);
  });

  describe('download from a mirror on 127.0.0.1', () => {
    let server: http.Server;
    let base = '';
    beforeAll(async () => {
      // Serves bytes for every file, none of them the published ones.
      server = http.createServer((_req, res) => res.end(Buffer.from('not an MNIST file')));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('refuses bytes that miss the published checksum: one error line, exit 1, nothing left in the folder', async () => {
      const dir = path.join(cache, 'bad-mirror');
      const run = await cli(['datasets', 'download', 'fashion-mnist', '--dir', dir, '--mirror', base], cache);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe(`fashion-mnist: fetching ${base}/train-images-idx3-ubyte.gz\n`);
      expect(run.stderr).toMatch(new RegExp(
        `^error: ${base}/train-images-idx3-ubyte\\.gz: checksum mismatch, md5 [0-9a-f]{32}, expected ${DATASETS['fashion-mnist'].files.images.md5} \\(the published value\\); the file was removed\\nhint: .*\\n$`,
      ));
      expect(fs.readdirSync(dir)).toEqual([]);
    });

    it('says it cannot connect when the mirror is down (offline)', async () => {
      const port = Number(base.split(':').at(-1));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const run = await cli(['datasets', 'download', 'mnist', '--dir', path.join(cache, 'offline'), '--mirror', base], cache);
      server = http.createServer();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `error: ${base}/train-images-idx3-ubyte.gz: cannot connect (ECONNREFUSED)\n`
        + 'hint: offline? check the network, or put the files in the dataset folder by hand\n',
      );
    });
  });
});

describe('the dataset:NAME data source', () => {
  beforeAll(() => writeFixtureDataset(mnistDir()));

  it('trains on --data dataset:mnist from the cache, testing on its test files; evaluate --json gives the same numbers', async () => {
    const model = path.join(cache, 'fixture.ttm');
    const run = await cli(['train', '--data', 'dataset:mnist', '--layers', MODEL, '--epochs', '30', '--lr', '0.1', '--threads', '1', '--out', model], cache);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\| data +\| dataset mnist/m);
    expect(run.stdout).toContain(`(${mnistDir()})`);
    expect(run.stdout).toMatch(/^\| rows +\| train 120, test 30 +\|$/m);
    const trainTest = /^test: (.*)$/m.exec(run.stdout)![1]!;
    expect(trainTest).toMatch(/\(\d+\/30\)$/);

    const text = await cli(['evaluate', '--model', model, '--data', 'dataset:mnist'], cache);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('data: dataset mnist (its test files, 30 rows)');
    expect(/^evaluate: (.*)$/m.exec(text.stdout)![1]).toBe(trainTest);

    const json = await cli(['evaluate', '--model', model, '--data', 'dataset:mnist', '--json'], cache);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const got = JSON.parse(json.stdout) as Record<string, unknown>;
    // An independent evaluation in this process, of the same file on the same rows.
    const test = loadIdx(path.join(mnistDir(), files.testImages.file), path.join(mnistDir(), files.testLabels.file));
    const want = Model.load(model).evaluate(test);
    expect(got).toEqual({
      model, layers: '16-8-3 (tanh, softmax)', task: 'classification', data: 'dataset mnist (its test files, 30 rows)', rows: 30,
      loss: want.loss, accuracy: want.accuracy, confusion: want.confusion, classNames: ['0', '1', '2'],
    });
    expect(want.accuracy!).toBeGreaterThan(0.9);
  });

  it('reads a config\'s { "dataset": "mnist", "dir": … }, the folder relative to the config file', async () => {
    const project = path.join(cache, 'project');
    writeFixtureDataset(path.join(project, 'data', 'mnist'));
    const config = path.join(project, 'run.json');
    fs.writeFileSync(config, JSON.stringify({ data: { dataset: 'mnist', dir: 'data/mnist' }, model: { layers: JSON.parse(MODEL) }, train: { epochs: 1, threads: 1 } }));
    const run = await cli(['train', '--config', config], path.join(cache, 'empty-cache'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // The table wraps a long value onto a second row: the folder is there in full all the same.
    expect(run.stdout).toMatch(/^\| data +\| dataset mnist/m);
    expect(run.stdout).toContain(`(${path.join(project, 'data', 'mnist')})`);
    expect(run.stdout).toMatch(/^\| rows +\| train 120, test 30 +\|$/m);
  });

  it('a dataset not downloaded: exit 1, the missing file and the command that fetches it', async () => {
    const run = await cli(['train', '--data', 'dataset:fashion-mnist', '--layers', MODEL], cache);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `error: dataset fashion-mnist is not downloaded: ${path.join(cache, 'datasets', 'fashion-mnist', files.images.file)} is missing (and 3 more of its 4 files)\n`
      + 'hint: run: threadtrain datasets download fashion-mnist\n',
    );
  });

  it('a split.test beside a dataset\'s own test files is refused, naming both', async () => {
    const config = path.join(cache, 'split.json');
    fs.writeFileSync(config, JSON.stringify({ data: { dataset: 'mnist' }, split: { test: 0.2 }, model: { layers: JSON.parse(MODEL) } }));
    const run = await cli(['train', '--config', config], cache);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(`error: ${config}: split.test: is 0.2, but the test rows already come from data.dataset (the test files of mnist)`);
  });
});
