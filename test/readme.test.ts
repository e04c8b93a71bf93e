// The README cannot rot: its config reference equals a fresh generation from the schema, its
// library example runs as written, and each line of its CLI walk-through that needs no
// download runs and writes what it says. The blocks are the fenced code blocks after a
// `<!-- readme-test: NAME -->` line. Outcomes are checked (exit codes, files that load,
// metrics that parse), not only that nothing threw.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../src/model/model.ts';
import { FLAGS } from '../src/options/flags.ts';
import { configReferenceMarkdown, withConfigReference } from '../src/options/reference.ts';
import { REPO, runMain } from './helpers/cli.ts';

const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const SHARED_MNIST = path.join(REPO, '../shared/data/mnist');
const HAVE_SHARED_MNIST = fs.existsSync(SHARED_MNIST);

/** Whether line `i` of `lines` is inside a fenced code block (a `#` there is a shell comment). */
function isInFence(lines: readonly string[], i: number): boolean {
  let inside = false;
  for (let k = 0; k < i; k++) if (lines[k]!.startsWith('```')) inside = !inside;
  return inside;
}

/** The fenced block right after `<!-- readme-test: NAME -->`. */
function markedBlock(name: string): { lang: string; body: string } {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\n\`\`\`(\\w+)\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no block marked <!-- readme-test: ${name} -->`);
  return { lang: match[1]!, body: match[2]! };
}

describe('README', () => {
  it('has each section once (a heading written twice means a pasted copy)', () => {
    const headings = readme.split('\n').filter((line, i, all) => /^#{2,3} /.test(line) && !isInFence(all, i));
    expect(headings.length).toBeGreaterThan(10);
    expect(headings.filter((h, i) => headings.indexOf(h) !== i)).toEqual([]);
  });

  it('holds the config reference exactly as the schema generates it', () => {
    expect(readme).toBe(withConfigReference(readme));
  });

  it('config reference has a row for every flag, on the field it sets, with the schema\'s default', () => {
    const table = configReferenceMarkdown().split('\n');
    for (const flag of FLAGS) {
      const row = table.find((r) => r.startsWith(`| \`${flag.path.join('.')}\` | \`--${flag.name}\` |`));
      expect(row, `--${flag.name}`).toBeDefined();
      const defaultCell = row!.split(' | ')[3]!;
      if (flag.defaultValue !== undefined && JSON.stringify(flag.defaultValue) !== '{}') {
        expect(defaultCell, `--${flag.name}`).toContain(`\`${JSON.stringify(flag.defaultValue)}\``);
      }
    }
    // One row per field path: the optimizer's eps is one row, though three rules read it.
    const paths = table.slice(2).map((r) => r.split(' | ')[0]);
    expect(new Set(paths).size).toBe(paths.length);
  });

  describe('walk-through', () => {
    const { lang, body } = markedBlock('cli');
    const lines = body.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    let dir = '';
    let cwd = '';
    let cacheDirBefore: string | undefined;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tt-readme-'));
      // The lines name configs/…: a link makes them resolve from the scratch folder, where
      // the outputs land.
      fs.symlinkSync(path.join(REPO, 'configs'), path.join(dir, 'configs'));
      if (HAVE_SHARED_MNIST) {
        const cache = path.join(dir, 'cache');
        fs.mkdirSync(path.join(cache, 'datasets/mnist'), { recursive: true });
        for (const file of fs.readdirSync(SHARED_MNIST)) fs.symlinkSync(path.join(SHARED_MNIST, file), path.join(cache, 'datasets/mnist', file));
        cacheDirBefore = process.env.THREADTRAIN_CACHE_DIR;
        process.env.THREADTRAIN_CACHE_DIR = cache;
      }
      cwd = process.cwd();
      process.chdir(dir);
    });
    afterAll(() => {
      if (cacheDirBefore === undefined) delete process.env.THREADTRAIN_CACHE_DIR;
      else process.env.THREADTRAIN_CACHE_DIR = cacheDirBefore;
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('is a sh block of npx threadtrain lines', () => {
      expect(lang).toBe('sh');
      expect(lines.length).toBeGreaterThanOrEqual(10);
      for (const line of lines) expect(line).toMatch(/^npx threadtrain /);
    });

    // The download line needs the internet, which the suite never uses (download.test.ts
    // tests it against a local server); and ../shared cannot stand in for it, its training
    // files being a 22,699-image subset whose checksums differ from the published ones. The
    // lines that use `dataset:mnist` run on ../shared's files, placed in a scratch cache
    // folder as a download would leave them, when ../shared is there. Training lines run 2
    // epochs instead of the README's number, to stay fast.
    const isDownload = (line: string) => / datasets download /.test(line);
    const needsMnist = (line: string) => /mnist/.test(line);
    const args = (line: string) => line.replace(/^npx threadtrain /, '').replace(/--epochs \d+/, '--epochs 2').split(/\s+/);

    for (const line of lines) {
      if (isDownload(line)) {
        it.skip(`${line} (needs the internet; the download is tested against a local server in download.test.ts)`, () => {});
        continue;
      }
      if (needsMnist(line) && !HAVE_SHARED_MNIST) {
        it.skip(`${line} (needs MNIST: ../shared/data/mnist is absent here)`, () => {});
        continue;
      }
      it(line, async () => {
        const argv = args(line);
        const run = await runMain(argv);
        expect(run.stderr).not.toMatch(/error:/);
        expect(run.code).toBe(0);
        const file = (flag: string) => path.join(dir, argv[argv.indexOf(flag) + 1]!);
        const [command] = argv;
        if (command === 'datasets') {
          expect(run.stdout).toMatch(/mnist/);
          expect(run.stdout).toMatch(/fashion-mnist/);
        } else if (command === 'train' && needsMnist(line)) {
          // 784-256-128-10 as configs/mnist.json declares, trained on 2 of its 5 epochs.
          const model = Model.load(file('--out'));
          expect(model.inputs).toBe(784);
          expect(model.layers().map((l) => l.spec.units)).toEqual([256, 128, 10]);
        } else if (command === 'evaluate' && needsMnist(line)) {
          // The 10,000 standard test images; 2 epochs of the subset already classify most of them.
          const [, percent, right, rows] = /acc ([\d.]+)% \((\d+)\/(\d+)\)/.exec(run.stdout) ?? [];
          expect(Number(rows)).toBe(10_000);
          expect(Number(percent)).toBeCloseTo((100 * Number(right)) / 10_000, 2);
          expect(Number(percent)).toBeGreaterThan(90);
        } else if (command === 'train') {
          const model = Model.load(file('--out'));
          // 2-64-64-64-2 as configs/spirals.json declares.
          expect(model.layers().map((l) => l.spec.units)).toEqual([64, 64, 64, 2]);
          const epochs = fs.readFileSync(file('--log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; epoch?: number; loss?: number })
            .filter((r) => r.type === 'epoch');
          expect(epochs.map((r) => r.epoch)).toEqual([1, 2]);
          for (const r of epochs) expect(Number.isFinite(r.loss)).toBe(true);
        } else if (command === 'evaluate') {
          const result = JSON.parse(run.stdout) as { rows: number; accuracy: number; loss: number; confusion: number[][] };
          expect(result.rows).toBe(1000);
          expect(result.confusion.flat().reduce((a, b) => a + b, 0)).toBe(1000);
          expect(result.accuracy).toBe((result.confusion[0]![0]! + result.confusion[1]![1]!) / 1000);
          expect(Number.isFinite(result.loss)).toBe(true);
        } else if (command === 'predict') {
          const rows = fs.readFileSync(file('--out'), 'utf8').trim().split('\n');
          expect(rows[0]).toBe('prediction,p_0,p_1');
          expect(rows).toHaveLength(6);
          for (const row of rows.slice(1)) {
            const [cls, p0, p1] = row.split(',').map(Number) as [number, number, number];
            expect(p0 + p1).toBeCloseTo(1, 5);
            expect(cls).toBe(p1 > p0 ? 1 : 0);
          }
        } else if (command === 'plot') {
          expect(fs.readFileSync(file('--out'), 'utf8')).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s\S]*<\/svg>\s*$/);
        } else if (command === 'inspect' && argv.includes('--json')) {
          const info = JSON.parse(run.stdout) as { parameters: number; inputs: number };
          expect(info.inputs).toBe(2);
          // 2·64+64 + 2·(64·64+64) + 64·2+2, counted by hand.
          expect(info.parameters).toBe(192 + 2 * 4160 + 130);
        } else if (command === 'inspect') {
          expect(run.stdout).toMatch(/8,642/);
        } else if (command === 'bench') {
          expect(run.stdout).toMatch(/bit/i);
          expect(fs.readFileSync(file('--plot'), 'utf8')).toMatch(/<svg[\s\S]*<\/svg>/);
        } else if (command === 'export') {
          const proto = onnxProto.onnx.ModelProto.decode(fs.readFileSync(file('--out')));
          expect(proto.graph?.node?.some((n) => n.opType === 'Gemm')).toBe(true);
          expect(proto.graph?.initializer?.length).toBeGreaterThanOrEqual(8);
        } else if (command === 'sweep') {
          // configs/sweeps/blobs.json: a 3 × 2 grid × 3 folds = 18 runs, one line each: index, then its 16-hex-digit id.
          expect(run.stdout.match(/^\s*\d+\s+[0-9a-f]{16}\s/gm)?.length).toBe(18);
        } else {
          throw new Error(`the walk-through has a command this test does not check: ${line}`);
        }
      });
    }
  });

  it('library example runs as written and does what it prints', () => {
    const { lang, body } = markedBlock('library');
    expect(lang).toBe('ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tt-readme-lib-'));
    try {
      // 'threadtrain' is this checkout's sources; everything else is the README's text.
      const source = body.replace(/from 'threadtrain'/, `from ${JSON.stringify(path.join(REPO, 'src/index.ts'))}`);
      expect(source).not.toBe(body);
      fs.writeFileSync(path.join(dir, 'example.mts'), source);
      // tsx from this checkout (the scratch folder has no node_modules), by its file URL.
      const tsx = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
      const run = spawnSync(process.execPath, ['--import', tsx, 'example.mts'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const printed = /test accuracy ([\d.]+), last loss ([\d.]+), (\d+) threads\nclasses ([\d,]+), rebuilt ([\d,]+)/.exec(run.stdout);
      expect(printed, run.stdout).not.toBeNull();
      const [, accuracy, loss, threads, classes, rebuilt] = printed!;
      // A 2-64-64-2 tanh net on 2,000 spiral points with Adam: 0.97 on the 200 test rows
      // when this was written (seeded, so the same on every machine); chance is 0.5.
      expect(Number(accuracy)).toBeGreaterThan(0.9);
      // Below the loss of a 50/50 guess, ln 2 ≈ 0.693.
      expect(Number(loss)).toBeLessThan(0.5);
      expect(Number(threads)).toBe(2);
      expect(rebuilt).toBe(classes);
      // The saved file is the trained 2-64-64-2 model.
      const saved = Model.load(path.join(dir, 'spirals.ttm'));
      expect(saved.layers().map((l) => l.spec.units)).toEqual([64, 64, 2]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
