// bench/startup.ts — how fast the `threadtrain` command starts, as a user installs it and in
// a checkout. Packs the repository and installs the tarball into a temporary folder offline
// (test/helpers/pack.ts), then times, interleaved round by round so load from other processes
// hits every variant alike:
//   installed   node node_modules/threadtrain/src/bin.js --help  (compiled dist/, plain Node)
//   npx         npx --offline threadtrain --help                  (the same, plus npm's own start)
//   checkout    node src/bin.js --help                            (the sources through tsx)
//   train       installed `threadtrain train` on XOR, 1 epoch, 2 threads: start to exit,
//               pool start-up and the saved model included
// Each time is a fresh process from spawn to exit. Medians over --repeats.
//
//   npx tsx bench/startup.ts [--repeats 9]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { command, load, machine, median, parseFlags, revision, table } from './common.ts';
import { packAndInstall, repo } from '../test/helpers/pack.ts';

const USAGE = 'npx tsx bench/startup.ts [--repeats 9]';
const flags = parseFlags(process.argv.slice(2), ['repeats'], USAGE);
const repeats = Number(flags.repeats ?? 9);

const XOR = {
  data: { builtin: 'xor' },
  model: { layers: [{ units: 2, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'bce' },
  train: { epochs: 1, batchSize: 'full', lr: 0.5, seed: 1, threads: 2 },
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-startup-'));
try {
  const { app } = await packAndInstall(tmp);
  fs.writeFileSync(path.join(app, 'xor.json'), JSON.stringify(XOR));
  const bin = path.join(app, 'node_modules/threadtrain/src/bin.js');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const variants: [string, string, string[], string][] = [
    ['installed', process.execPath, [bin, '--help'], app],
    ['npx', 'npx', ['--offline', 'threadtrain', '--help'], app],
    ['checkout', process.execPath, [path.join(repo, 'src/bin.js'), '--help'], repo],
    ['train', process.execPath, [bin, 'train', '--config', 'xor.json', '--out', 'xor.ttm'], app],
  ];
  const times = new Map(variants.map(([name]) => [name, [] as number[]]));
  const loadBefore = load();
  for (let round = 0; round < repeats; round++) {
    for (const [name, cmd, args, cwd] of variants) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${name} failed (exit ${r.status}): ${r.stderr}`);
      times.get(name)!.push(ms);
    }
  }
  const loadAfter = load();
  console.log(`machine: ${machine()}`);
  console.log(`command: ${command('bench/startup.ts')}`);
  console.log(`commit: ${revision()}, ${new Date().toISOString()}`);
  console.log(`load before/after: ${loadBefore} / ${loadAfter}`);
  console.log(table(['variant', 'median ms', 'min ms', 'max ms'], variants.map(([name]) => {
    const t = times.get(name)!;
    return [name, median(t).toFixed(0), Math.min(...t).toFixed(0), Math.max(...t).toFixed(0)];
  })));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
