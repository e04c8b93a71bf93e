// bench/startup.ts — how fast the `threadtrain` command starts, as a user installs it and in
// a checkout. Packs the repository and installs the tarball into a temporary folder offline
// (test/helpers/pack.ts), then times, interleaved round by round so load from other processes
// hits every variant alike:
//   installed   node node_modules/threadtrain/src/bin.js --help  (the CLI bundle, plain Node,
//               served from the code cache that an untimed first round wrote)
//   npx         npx --offline threadtrain --help                  (the same, plus npm's own start)
//   checkout    node src/bin.js --help                            (the sources through tsx)
//   train       installed `threadtrain train` on XOR, 1 epoch, 2 threads: start to exit,
//               pool start-up and the saved model included
//   train, no code cache   the same with THREADTRAIN_NO_CACHE=1: what a first run costs
//   npx train   npx --offline threadtrain train ... (the same XOR run through npx)
//   node        node -e 0: Node's own start, the floor under every variant
// With --before REV, the installed variants run a second time on REV's compiled CLI (built in a
// temporary git worktree and put into a copy of the installed package), side by side.
// Each time is a fresh process, timed from spawn to its first line of output (for `train`, the
// settings table: when a user sees the run start) and to its exit. Medians over --repeats.
//
//   npx tsx bench/startup.ts [--repeats 9] [--before REV]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { command, load, machine, median, parseFlags, revision, table } from './common.ts';
import { packAndInstall, repo } from '../test/helpers/pack.ts';

const USAGE = 'npx tsx bench/startup.ts [--repeats 9] [--before REV]';
const flags = parseFlags(process.argv.slice(2), ['repeats', 'before'], USAGE);
const repeats = Number(flags.repeats ?? 9);

const XOR = {
  data: { builtin: 'xor' },
  model: { layers: [{ units: 2, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'bce' },
  train: { epochs: 1, batchSize: 'full', lr: 0.5, seed: 1, threads: 2 },
};

/** One fresh process, timed from spawn to its first line on stdout and to its exit. */
function timeRun(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; exitMs: number; firstLineMs: number; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - t0) / 1e6;
    let firstLineMs = NaN;
    let stderr = '';
    const child = spawn(cmd, args, { cwd, env });
    child.stdout.on('data', (chunk: Buffer) => {
      if (Number.isNaN(firstLineMs) && chunk.includes(10)) firstLineMs = since();
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('close', (code) => resolve({ code, exitMs: since(), firstLineMs, stderr }));
  });
}

/**
 * REV's compiled CLI beside the installed package: REV is built in a temporary worktree (its
 * node_modules linked to the repository's) and its dist/ and bin.js replace those in a copy of
 * node_modules/threadtrain, so both resolve the same dependencies. Returns that copy's bin.js.
 */
function installBefore(rev: string, app: string): string {
  const worktree = path.join(tmp, 'before-src');
  execFileSync('git', ['worktree', 'add', '--detach', worktree, rev], { cwd: repo, stdio: 'ignore' });
  try {
    fs.symlinkSync(path.join(repo, 'node_modules'), path.join(worktree, 'node_modules'));
    execFileSync('npm', ['run', 'build'], { cwd: worktree, stdio: 'ignore' });
    const copy = path.join(app, 'node_modules/threadtrain-before');
    fs.cpSync(path.join(app, 'node_modules/threadtrain'), copy, { recursive: true });
    fs.rmSync(path.join(copy, 'dist'), { recursive: true, force: true });
    fs.cpSync(path.join(worktree, 'dist'), path.join(copy, 'dist'), { recursive: true });
    fs.cpSync(path.join(worktree, 'src/bin.js'), path.join(copy, 'src/bin.js')); // how REV starts its CLI
    return path.join(copy, 'src/bin.js');
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', worktree], { cwd: repo, stdio: 'ignore' });
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-startup-'));
try {
  const { app } = await packAndInstall(tmp);
  fs.writeFileSync(path.join(app, 'xor.json'), JSON.stringify(XOR));
  const bin = path.join(app, 'node_modules/threadtrain/src/bin.js');
  // A cache folder of the bench's own, so the code cache starts empty: the untimed round
  // below writes it, as a user's first run does; `no code cache` shows what that first run costs.
  const env: NodeJS.ProcessEnv = { ...process.env, THREADTRAIN_CACHE_DIR: path.join(tmp, 'cache') };
  delete env.NODE_OPTIONS;
  delete env.THREADTRAIN_NO_CACHE;
  const noCache = { ...env, THREADTRAIN_NO_CACHE: '1' };
  const trainArgs = ['train', '--config', 'xor.json', '--out', 'xor.ttm'];
  const variants: [string, string, string[], string, NodeJS.ProcessEnv?][] = [
    ['installed', process.execPath, [bin, '--help'], app],
    ['npx', 'npx', ['--offline', 'threadtrain', '--help'], app],
    ['checkout', process.execPath, [path.join(repo, 'src/bin.js'), '--help'], repo],
    ['train', process.execPath, [bin, ...trainArgs], app],
    ['train, no code cache', process.execPath, [bin, ...trainArgs], app, noCache],
    ['npx train', 'npx', ['--offline', 'threadtrain', ...trainArgs], app],
    ['node', process.execPath, ['-e', 'console.log()'], app],
  ];
  if (flags.before) {
    const before = installBefore(flags.before, app);
    variants.push(
      [`installed @${flags.before}`, process.execPath, [before, '--help'], app],
      [`train @${flags.before}`, process.execPath, [before, ...trainArgs], app],
    );
  }
  for (const [name, cmd, args, cwd, own] of variants) {
    const r = await timeRun(cmd, args, cwd, own ?? env); // untimed: writes the code cache
    if (r.code !== 0) throw new Error(`${name} failed (exit ${r.code}): ${r.stderr}`);
  }
  const times = new Map(variants.map(([name]) => [name, { exit: [] as number[], firstLine: [] as number[] }]));
  const loadBefore = load();
  for (let round = 0; round < repeats; round++) {
    for (const [name, cmd, args, cwd, own] of variants) {
      const r = await timeRun(cmd, args, cwd, own ?? env);
      if (r.code !== 0) throw new Error(`${name} failed (exit ${r.code}): ${r.stderr}`);
      times.get(name)!.exit.push(r.exitMs);
      times.get(name)!.firstLine.push(r.firstLineMs);
    }
  }
  const loadAfter = load();
  console.log(`machine: ${machine()}`);
  console.log(`command: ${command('bench/startup.ts')}`);
  console.log(`commit: ${revision()}, ${new Date().toISOString()}`);
  console.log(`load before/after: ${loadBefore} / ${loadAfter}`);
  console.log(table(['variant', 'first line ms (median)', 'exit ms (median)', 'exit min ms', 'exit max ms'], variants.map(([name]) => {
    const t = times.get(name)!;
    return [name, median(t.firstLine).toFixed(0), median(t.exit).toFixed(0), Math.min(...t.exit).toFixed(0), Math.max(...t.exit).toFixed(0)];
  })));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
