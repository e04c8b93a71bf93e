// Every file threadtrain writes is written atomically or appended whole lines at a time: an
// audit of the sources for raw writes, and each CLI writer run against a disk that fills
// part-way through, which must leave the file that was there byte for byte, no temp file, and
// one error line.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPO, runMain } from './helpers/cli.ts';

let dir: string;
const tmp = (...names: string[]) => path.join(dir, ...names);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-atomic-'));
  const trained = await runMain(['train', '--data', 'builtin:xor', '--layers', '[{"units":2,"activation":"tanh"},{"units":1,"activation":"sigmoid"}]',
    '--epochs', '2', '--threads', '1', '--batch-size', 'full', '--out', tmp('xor.ttm'), '--log', tmp('run.jsonl')]);
  expect(trained.code).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Source files allowed to write bytes themselves: the atomic writer, the line log, the
 * caches' writer (cache_dir.ts: temp file + rename, no fsync, since a cache entry lost in a crash
 * is rebuilt, and the code cache is written as the CLI exits, where importing the envelope writer
 * and msgpackr would slow every start), the dataset download (a resumable .part file, renamed
 * into place only once its checksum matches), and the developer's wasm build script, which
 * rewrites a source file of the repository, never a file of a user's run.
 */
const WRITERS = ['src/io/envelope.ts', 'src/report/log.ts', 'src/data/cache_dir.ts', 'src/data/download.ts', 'src/kernels/build_wasm.ts'];

function sources(folder: string): string[] {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(folder, e.name)) : e.name.endsWith('.ts') ? [path.join(folder, e.name)] : []);
}

describe('writers', () => {
  it('no source file outside the atomic writer, the line log, the cache writer, the download and the wasm build script writes bytes itself', () => {
    const raw = /\b(writeFileSync|appendFileSync|createWriteStream|writeSync|writeFile|appendFile)\s*\(/;
    const offenders = sources(path.join(REPO, 'src'))
      .map((f) => path.relative(REPO, f))
      .filter((f) => !WRITERS.includes(f) && raw.test(fs.readFileSync(path.join(REPO, f), 'utf8')));
    expect(offenders).toEqual([]);
    // The allowed writers do write (the audit pattern still matches real code).
    for (const f of WRITERS) expect(raw.test(fs.readFileSync(path.join(REPO, f), 'utf8'))).toBe(true);
  });

  const commands: [string, string, string[]][] = [
    ['plot --out', 'curves.svg', ['plot', '@run.jsonl', '--out', '@curves.svg']],
    ['predict --out', 'pred.csv', ['predict', '--model', '@xor.ttm', '--data', 'builtin:xor', '--out', '@pred.csv']],
    ['export --format onnx', 'xor.onnx', ['export', '--model', '@xor.ttm', '--format', 'onnx', '--out', '@xor.onnx']],
    ['train --out', 'again.ttm', ['train', '--data', 'builtin:xor', '--layers', '[{"units":1,"activation":"sigmoid"}]', '--epochs', '1', '--threads', '1', '--out', '@again.ttm']],
  ];
  for (const [name, file, args] of commands) {
    it(`${name} on a disk that fills part-way keeps the old file intact and leaves no temp file`, async () => {
      const target = tmp(file);
      fs.writeFileSync(target, 'the previous version\n');
      const realWrite = fs.writeSync.bind(fs) as (fd: number, b: Uint8Array, off: number, len: number) => number;
      let fills = 0;
      vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, b: Uint8Array, off: number, len: number) => {
        // Every write gets half its bytes down, then the disk is full.
        if (fills++ % 2 === 0) return realWrite(fd, b, off, Math.max(1, Math.floor(len / 2)));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }) as never);
      let run;
      try {
        run = await runMain(args.map((a) => (a.startsWith('@') ? tmp(a.slice(1)) : a)));
      } finally {
        vi.restoreAllMocks();
      }
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: .*ENOSPC: no space left on device, write.*\nhint: .+\n$/);
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(fs.readFileSync(target, 'utf8')).toBe('the previous version\n');
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }
});
