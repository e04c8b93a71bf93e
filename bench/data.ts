// bench/data.ts — loading data at scale: a generated 1,000,000-row, 20-feature CSV (about
// 172 MB, written once to bench/data-1m.csv, never committed) and the MNIST IDX files, each
// load in a fresh child process so its peak RSS is its own. Side by side in one run,
// interleaved round by round:
//   - before: loadCsv as it was at --before (default 24dbee5, read whole as text), from git
//   - after, no cache: today's streaming loadCsv with THREADTRAIN_NO_CACHE=1
//   - after, cold + cache write: an empty cache folder, so the load parses and stores
//   - after, cached: the same load again, served from <cache>/decoded/
//   - MNIST train (IDX, gzip): decoded, decoded + cache write, cached
//   - MNIST floor: the cache file read into fresh memory with no check at all: the least any
//     cache load can cost here (the pages of a new 68 MiB array are faulted in as it fills),
//     so decoded over floor is the most any cache could gain
// The loaders run as plain JavaScript bundled by esbuild (which tsx brings along), under
// plain `node`, the way a user of the built package runs them; a tsx child would add its
// compiler's ~35 MB to every RSS. Each child reports wall and CPU seconds around the load
// call, RSS just before it (the baseline: Node itself plus the loader) and its peak RSS
// (process.resourceUsage().maxRSS). The CSV is read from the page cache (it was just
// written or read), so MB/s is parsing, not the disk.
//
//   npx tsx bench/data.ts [--rounds 3] [--rows 1000000] [--before 24dbee5] [--json FILE]   (npm run bench:data)

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { command, fixed, int, JsonLines, load, machine, median, MNIST_DIR, parseFlags, revision, table } from './common.ts';

const USAGE = 'npx tsx bench/data.ts [--rounds 3] [--rows 1000000] [--before 24dbee5] [--json FILE]';
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const FEATURES = 20;

/** The benchmark CSV: a header, then rows of 20 features in [-2, 2) with 5 decimals and a class 0..9 (seeded, so every machine gets the same file). */
function generateCsv(file: string, rows: number): void {
  const fd = openSync(file, 'w');
  let seed = 1;
  const rnd = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  writeSync(fd, `${Array.from({ length: FEATURES }, (_, i) => `f${i}`).join(',')},label\n`);
  let text = '';
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < FEATURES; f++) text += `${((rnd() - 0.5) * 4).toFixed(5)},`;
    text += `${Math.floor(rnd() * 10)}\n`;
    if (text.length > 1 << 20) {
      writeSync(fd, text);
      text = '';
    }
  }
  writeSync(fd, text);
  closeSync(fd);
}

/** The child: loads once, prints one JSON line. Plain JavaScript, so no TypeScript loader sits in its memory. */
const CHILD = `
const [modulePath, kind, a, b] = process.argv.slice(2);
const mod = await import(modulePath);
const before = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const ds = kind === 'csv' ? mod.loadCsv(a) : mod.loadIdx(a, b);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, baselineRss: before, peakRss: process.resourceUsage().maxRSS * 1024,
  n: ds.n, dataBytes: ds.x.byteLength + ds.y.byteLength, x0: ds.x[0], xLast: ds.x[ds.x.length - 1], yLast: ds.y[ds.y.length - 1] }));
`;

interface ChildReport {
  seconds: number;
  cpuSeconds: number;
  baselineRss: number;
  peakRss: number;
  n: number;
  dataBytes: number;
  x0: number;
  xLast: number;
  yLast: number;
}

function runChild(childFile: string, modulePath: string, args: string[], env: Record<string, string>): ChildReport {
  const r = spawnSync(process.execPath, [childFile, modulePath, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`child ${modulePath} ${args.join(' ')} failed (status ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildReport;
}

/** The floor loader: reads a whole file into a fresh array (readSync, no parse, no checksum). */
const FLOOR = `
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
export function loadIdx(file) {
  const fd = openSync(file, 'r');
  const bytes = new Uint8Array(fstatSync(fd).size);
  for (let done = 0; done < bytes.length; ) done += readSync(fd, bytes, done, bytes.length - done, done);
  closeSync(fd);
  return { n: 0, x: bytes, y: new Int32Array(0) };
}
`;

/** Bundles `entry` (and what it imports) into one ES module under `dir`. */
function bundle(entry: string, out: string): string {
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'warning' });
  return out;
}

/** The CSV loader as it was at `commit`: its csv.ts with the errors.ts and dataset.ts beside it, from git. */
function beforeModule(commit: string, dir: string): string {
  const files = ['src/data/csv.ts', 'src/data/dataset.ts', 'src/errors.ts'];
  for (const f of files) {
    const r = spawnSync('git', ['show', `${commit}:${f}`], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git show ${commit}:${f} failed: ${r.stderr}`);
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), r.stdout);
  }
  return bundle(path.join(dir, 'src/data/csv.ts'), path.join(dir, 'before.mjs'));
}

const MB = 1e6;
const MiB = 1024 * 1024;

function main(): void {
  const flags = parseFlags(process.argv.slice(2), ['rounds', 'rows', 'before', 'json'], USAGE);
  const rounds = Number(flags.rounds ?? 3);
  const rows = Number(flags.rows ?? 1_000_000);
  const beforeCommit = flags.before ?? '24dbee5';
  const json = new JsonLines(flags.json);
  const csvFile = path.join(here, rows === 1_000_000 ? 'data-1m.csv' : `data-${rows}.csv`);
  if (!existsSync(csvFile)) {
    process.stderr.write(`writing ${csvFile} (${int(rows)} rows)...\n`);
    generateCsv(csvFile, rows);
  }
  const csvBytes = statSync(csvFile).size;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'threadtrain-bench-data-'));
  try {
    const childFile = path.join(tmp, 'child.mjs');
    writeFileSync(childFile, CHILD);
    const before = beforeModule(beforeCommit, path.join(tmp, 'before'));
    const afterCsv = bundle(path.join(root, 'src/data/csv.ts'), path.join(tmp, 'after-csv.mjs'));
    const afterIdx = bundle(path.join(root, 'src/data/idx.ts'), path.join(tmp, 'after-idx.mjs'));
    const floorFile = path.join(tmp, 'floor.mjs');
    writeFileSync(floorFile, FLOOR);
    const cacheDir = path.join(tmp, 'cache');
    const mnist = [path.join(MNIST_DIR, 'train-images-idx3-ubyte.gz'), path.join(MNIST_DIR, 'train-labels-idx1-ubyte.gz')];
    const haveMnist = mnist.every((f) => existsSync(f));
    const mnistBytes = haveMnist ? mnist.reduce((s, f) => s + statSync(f).size, 0) : 0;

    const cases: { name: string; run: () => ChildReport; sourceBytes: number }[] = [
      { name: 'CSV before (whole file as text)', sourceBytes: csvBytes, run: () => runChild(childFile, before, ['csv', csvFile], {}) },
      { name: 'CSV after, no cache', sourceBytes: csvBytes, run: () => runChild(childFile, afterCsv, ['csv', csvFile], { THREADTRAIN_NO_CACHE: '1' }) },
      {
        name: 'CSV after, cold + cache write', sourceBytes: csvBytes,
        run: () => {
          rmSync(cacheDir, { recursive: true, force: true });
          return runChild(childFile, afterCsv, ['csv', csvFile], { THREADTRAIN_CACHE_DIR: cacheDir, THREADTRAIN_NO_CACHE: '' });
        },
      },
      { name: 'CSV after, cached', sourceBytes: csvBytes, run: () => runChild(childFile, afterCsv, ['csv', csvFile], { THREADTRAIN_CACHE_DIR: cacheDir, THREADTRAIN_NO_CACHE: '' }) },
    ];
    if (haveMnist) {
      cases.push(
        { name: 'MNIST train IDX, decoded (no cache)', sourceBytes: mnistBytes, run: () => runChild(childFile, afterIdx, ['idx', ...mnist], { THREADTRAIN_NO_CACHE: '1' }) },
        {
          name: 'MNIST train IDX, cold + cache write', sourceBytes: mnistBytes,
          run: () => {
            rmSync(cacheDir, { recursive: true, force: true });
            return runChild(childFile, afterIdx, ['idx', ...mnist], { THREADTRAIN_CACHE_DIR: cacheDir, THREADTRAIN_NO_CACHE: '' });
          },
        },
        {
          name: 'MNIST train IDX, cached', sourceBytes: mnistBytes,
          run: () => runChild(childFile, afterIdx, ['idx', ...mnist], { THREADTRAIN_CACHE_DIR: cacheDir, THREADTRAIN_NO_CACHE: '' }),
        },
        {
          name: 'MNIST floor: its cache file read, unchecked', sourceBytes: mnistBytes,
          run: () => {
            const decoded = path.join(cacheDir, 'decoded');
            const entry = readdirSync(decoded).find((f) => f.startsWith('idx-') && f.endsWith('.bin'));
            if (entry === undefined) throw new Error(`no IDX cache file in ${decoded}`);
            return runChild(childFile, floorFile, ['idx', path.join(decoded, entry)], {});
          },
        },
      );
    }

    const cmd = command('bench/data.ts');
    const loadStart = load();
    console.log(`threadtrain data loading: ${int(rows)} rows × ${FEATURES} features + label, ${fixed(csvBytes / MB, 1)} MB CSV (${path.relative(root, csvFile)}); MNIST train IDX`);
    console.log(`machine: ${machine()}`);
    console.log(`command: ${cmd}`);
    console.log(`code: ${revision()}; before = ${beforeCommit}`);
    console.log(`date: ${new Date().toISOString()}`);
    console.log(`load average at start (1/5/15 min): ${loadStart}`);
    if (!haveMnist) console.log(`(MNIST not found at ${MNIST_DIR}: IDX rows skipped)`);

    const reports = new Map<string, ChildReport[]>(cases.map((c) => [c.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const c of cases) {
        const r = c.run();
        reports.get(c.name)!.push(r);
        process.stderr.write(`  round ${round + 1}/${rounds}, ${c.name}: ${fixed(r.seconds, 3)} s, peak RSS ${fixed(r.peakRss / MiB, 1)} MiB\n`);
      }
    }
    // Same data from every CSV path, or the comparison means nothing.
    const csvReports = cases.filter((c) => c.name.startsWith('CSV')).map((c) => reports.get(c.name)![0]!);
    const same = csvReports.every((r) => r.n === csvReports[0]!.n && r.x0 === csvReports[0]!.x0 && r.xLast === csvReports[0]!.xLast && r.yLast === csvReports[0]!.yLast);
    if (!same) throw new Error(`the CSV loads disagree: ${JSON.stringify(csvReports)}`);

    const med = (name: string, f: (r: ChildReport) => number) => median(reports.get(name)!.map(f));
    const beforeSeconds = med(cases[0]!.name, (r) => r.seconds);
    const rowsOut = cases.map((c) => {
      const s = med(c.name, (r) => r.seconds);
      const cpu = med(c.name, (r) => r.cpuSeconds);
      const peak = med(c.name, (r) => r.peakRss);
      const base = med(c.name, (r) => r.baselineRss);
      const data = reports.get(c.name)![0]!.dataBytes;
      json.write({ case: c.name, seconds: s, cpuSeconds: cpu, mbPerSec: c.sourceBytes / MB / s, peakRss: peak, baselineRss: base, dataBytes: data, rounds });
      return [
        c.name, fixed(s, 3), fixed(cpu, 3), fixed(c.sourceBytes / MB / s, 1), fixed(c.sourceBytes / MB / cpu, 1),
        c.name.startsWith('CSV') ? `${fixed(beforeSeconds / s, 2)}×` : '—',
        fixed(base / MiB, 1), fixed(peak / MiB, 1), fixed(data / MiB, 1), `${fixed(peak / data, 2)}×`, `${fixed((peak - base) / data, 2)}×`,
      ];
    });
    console.log(`\nmedians of ${rounds} rounds, each load in its own child process (MB = 10^6 bytes of source file; MiB for memory)\n`);
    console.log(table(
      ['load', 'wall s', 'CPU s', 'MB/s (wall)', 'MB/s (CPU)', 'speed vs before', 'RSS before load MiB', 'peak RSS MiB', 'float32 data MiB', 'peak / data', '(peak − baseline) / data'],
      rowsOut,
    ));
    const cold = med('CSV after, no cache', (r) => r.seconds);
    const cached = med('CSV after, cached', (r) => r.seconds);
    console.log(`\nCSV cached vs cold (no cache): ${fixed(cold / cached, 1)}× faster`);
    if (haveMnist) {
      const decoded = med('MNIST train IDX, decoded (no cache)', (r) => r.seconds);
      console.log(`MNIST cached vs decoded: ${fixed(decoded / med('MNIST train IDX, cached', (r) => r.seconds), 1)}× faster`);
      console.log(`MNIST floor vs decoded: ${fixed(decoded / med('MNIST floor: its cache file read, unchecked', (r) => r.seconds), 1)}× faster (the most any cache could give on this machine)`);
    }
    console.log(`load average at end (1/5/15 min): ${load()}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main();
