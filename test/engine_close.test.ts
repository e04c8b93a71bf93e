// Regression: a pool run left a 2-second timer pending after it closed, so every CLI run with
// 2 or more threads sat idle for 2 s before exiting. Checked in a fresh Node process, where
// nothing else sets timers: once train() resolves, no timer may remain (Node lists pending
// timers as 'Timeout' resources).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const trainUrl = new URL('../src/api.ts', import.meta.url).href;
const gatesUrl = new URL('../src/data/synthetic.ts', import.meta.url).href;

const SCRIPT = `
const { train } = await import(${JSON.stringify(trainUrl)});
const { xorDataset } = await import(${JSON.stringify(gatesUrl)});
const result = await train({
  model: { layers: [{ units: 2, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'bce' },
  data: xorDataset(), epochs: 2, batchSize: 4, lr: 0.5, seed: 1, threads: 2,
});
console.log(JSON.stringify({ threads: result.threads, pending: process.getActiveResourcesInfo() }));
`;

describe('a pool run, once train() resolves', () => {
  it('leaves no timer behind that would hold the process open', () => {
    // A file, not --eval: the workers inherit the process's flags, and --input-type breaks them.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-close-'));
    fs.writeFileSync(path.join(dir, 'run.mjs'), SCRIPT);
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, 'run.mjs')], { encoding: 'utf8' });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const { threads, pending } = JSON.parse(child.stdout) as { threads: number; pending: string[] };
    expect(threads).toBe(2);
    expect(pending).not.toContain('Timeout');
  });
});
