// The package as a user gets it: `npm pack` (whose prepack builds dist/), then an install of
// the tarball into an empty folder, offline, and two uses of the install with plain Node —
// a script that imports `train` and trains on 2 threads, and `npx threadtrain train`. Both
// are checked against the TypeScript sources run here: the same seed must give the same bits
// from the compiled package as from the sources, whatever the thread count. How the package
// is packed and installed (offline, from npm's cache) is in helpers/pack.ts.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinDataset } from '../src/data/synthetic.ts';
import { MATMUL_WASM_BASE64 } from '../src/kernels/matmul_wasm.generated.ts';
import { Model } from '../src/model/model.ts';
import { train } from '../src/api.ts';
import { codeCacheFile } from '../src/cli/code_cache.ts';
import { npmVersion, packAndInstall, repo, run } from './helpers/pack.ts';

const npm = await npmVersion();
if (npm === undefined) {
  console.warn('test/package.test.ts: skipped: `npm --version` failed, so the tarball cannot be packed or installed here');
}

/** The app script: the README-style library use, printing what the test compares. */
const APP = `import { train, builtinDataset } from 'threadtrain';
const data = builtinDataset('spirals', { seed: 3, n: 600 });
const result = await train({
  model: { layers: [{ units: 16, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
  data, epochs: 4, batchSize: 32, lr: 0.1, seed: 5, threads: 2,
});
const grid = Float32Array.from({ length: 20 }, (_, i) => (i - 10) / 7);
console.log(JSON.stringify({
  threads: result.threads,
  losses: result.history.filter((r) => r.type === 'epoch').map((r) => r.loss),
  predictions: Array.from(result.model.predict(grid, 10)),
}));
`;

const XOR_CONFIG = {
  data: { builtin: 'xor' },
  model: { layers: [{ units: 2, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'bce' },
  train: { epochs: 300, batchSize: 'full', lr: 0.5, seed: 1, threads: 2, optimizer: { name: 'momentum', momentum: 0.9 } },
};

describe.skipIf(npm === undefined)('the npm package (npm pack, offline install, plain Node)', () => {
  let tmp = '';
  let tarballFiles: readonly string[] = [];
  let installed = '';

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-pack-'));
    ({ app: installed, files: tarballFiles } = await packAndInstall(tmp));
  }, 120_000);

  afterAll(() => {
    if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ships compiled JavaScript, declarations and the wasm bytes, and no TypeScript sources or tests', async () => {
    for (const file of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/workers/train_worker.js',
      'dist/workers/trainer_worker.js', 'dist/src/kernels/matmul_wasm.generated.js', 'dist/src/cli/threadtrain.cjs', 'src/bin.js', 'package.json',
      'configs/threadtrain.schema.json']) {
      expect(tarballFiles).toContain(file);
    }
    expect(tarballFiles.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(tarballFiles.filter((f) => /^(test|bench|dist\/test|dist\/bench)\//.test(f))).toEqual([]);
    // The build scripts stay in the checkout.
    expect(tarballFiles.filter((f) => /build_wasm|write_json_schema|build_bundle/.test(f))).toEqual([]);
    // The kernel the installed package instantiates is the one the sources build.
    const shipped = await import(path.join(installed, 'node_modules/threadtrain/dist/src/kernels/matmul_wasm.generated.js'));
    expect(shipped.MATMUL_WASM_BASE64).toBe(MATMUL_WASM_BASE64);
    // tsx is a devDependency: nothing TypeScript can run in the install.
    expect(fs.existsSync(path.join(installed, 'node_modules/tsx'))).toBe(false);
    // No native addon in the install (the lockfile overrides the two optional ones that
    // piscina and msgpackr name and never load here; README says --omit=optional does the same).
    const addons = (fs.readdirSync(path.join(installed, 'node_modules'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.node') || path.basename(f) === 'binding.gyp');
    expect(addons).toEqual([]);
  });

  it('ships declarations a strict TypeScript app type-checks against (and they are not `any`)', async () => {
    fs.writeFileSync(path.join(installed, 'typed.ts'), `import { train, builtinDataset, type TrainResult } from 'threadtrain';
const data = builtinDataset('xor', { seed: 1 });
const result: TrainResult = await train({ model: { layers: [{ units: 1, activation: 'sigmoid' }], loss: 'bce' }, data, epochs: 1 });
const threads: number = result.threads;
// @ts-expect-error: epochs is a number; were the declarations missing or \`any\`, this line would be an unused directive
await train({ model: { layers: [] }, data, epochs: 'ten' });
console.log(threads);
`);
    // No skipLibCheck: the shipped .d.ts files are checked too. @types/node comes from the repository.
    const tsc = await run(path.join(repo, 'node_modules/.bin/tsc'), [
      '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--types', 'node', '--typeRoots', path.join(repo, 'node_modules/@types'), 'typed.ts',
    ], installed);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('trains on 2 threads from `import { train } from "threadtrain"` with plain Node, bit for bit as the sources on 1', async () => {
    fs.writeFileSync(path.join(installed, 'app.mjs'), APP);
    const app = await run(process.execPath, ['app.mjs'], installed);
    expect(app.stderr).toBe('');
    expect(app.code).toBe(0);
    const got = JSON.parse(app.stdout) as { threads: number; losses: number[]; predictions: number[] };
    expect(got.threads).toBe(2);

    const data = builtinDataset('spirals', { seed: 3, n: 600 });
    const reference = await train({
      model: { layers: [{ units: 16, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
      data, epochs: 4, batchSize: 32, lr: 0.1, seed: 5, threads: 1,
    });
    const grid = Float32Array.from({ length: 20 }, (_, i) => (i - 10) / 7);
    expect(got.losses).toEqual(reference.history.filter((r) => r.type === 'epoch').map((r) => r.loss));
    expect(got.predictions).toEqual(Array.from(reference.model.predict(grid, 10)));
    expect(got.losses).toHaveLength(4);
    expect(got.losses[3]!).toBeLessThan(got.losses[0]!);
  });

  it('runs `npx threadtrain train --config FILE` from the install, and the model it saves solves XOR', async () => {
    fs.writeFileSync(path.join(installed, 'xor.json'), JSON.stringify(XOR_CONFIG));
    const cli = await run('npx', ['--offline', 'threadtrain', 'train', '--config', 'xor.json', '--out', 'xor.ttm'], installed);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^trained 300 epochs in .* on 2 threads, /m);
    const model = Model.load(path.join(installed, 'xor.ttm'));
    const xor = builtinDataset('xor', { seed: 1 });
    expect(Array.from(model.predictClasses(xor.x, xor.n))).toEqual(Array.from(xor.y));
  });

  it('runs the CLI bundle through the code cache: written by the first run, then reused as it is', async () => {
    const bundle = path.join(installed, 'node_modules/threadtrain/dist/src/cli/threadtrain.cjs');
    const cacheFile = codeCacheFile(bundle, path.join(installed, 'cache'));
    const env = { THREADTRAIN_CACHE_DIR: path.join(installed, 'cache') };
    const bin = path.join(installed, 'node_modules/threadtrain/src/bin.js');
    const first = await run('node', [bin, '--help'], installed, env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^threadtrain <command> \[options\]/);
    const written = fs.statSync(cacheFile);
    expect(written.size).toBeGreaterThan(100_000); // compiled code for the CLI, not an empty file
    const second = await run('node', [bin, '--help'], installed, env);
    expect(second).toEqual(first);
    expect(fs.statSync(cacheFile).mtimeMs).toBe(written.mtimeMs); // a hit is not rewritten
    // The commands that reach outside the bundle: sweep (trainer threads load dist/workers),
    // export (onnx-proto, left out of the bundle), inspect --json.
    fs.writeFileSync(path.join(installed, 'sweep.json'), JSON.stringify({ ...XOR_CONFIG, train: { ...XOR_CONFIG.train, epochs: 20, threads: 1 },
      sweep: { grid: { 'train.lr': [0.1, 0.5] }, seeds: 2 } }));
    const swept = await run('node', [bin, 'sweep', '--config', 'sweep.json', '--out', 'sweep-out'], installed, env);
    expect(swept.stderr).toBe('');
    expect(swept.stdout).toMatch(/^ran 4 runs in /m);
    expect(fs.readFileSync(path.join(installed, 'sweep-out/results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    const exported = await run('node', [bin, 'export', '--model', 'xor.ttm', '--format', 'onnx', '--out', 'xor.onnx'], installed, env);
    expect(exported.stderr).toBe('');
    expect(fs.readFileSync(path.join(installed, 'xor.onnx')).length).toBeGreaterThan(100);
    const inspected = await run('node', [bin, 'inspect', '--model', 'xor.ttm', '--json'], installed, env);
    expect(JSON.parse(inspected.stdout).parameters).toBe(9);
    // The bundle finds the package's own package.json for --version.
    const version = await run('node', [bin, '--version'], installed, env);
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version);
  });
});
