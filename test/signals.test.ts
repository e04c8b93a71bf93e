// SIGTERM and SIGHUP stop a training run the way Ctrl-C does (cli/stop_signals.ts): finish the
// step, write the checkpoint and the model, exit 128 + the signal's number; a second signal
// quits at once. Real child processes, signalled once their first epoch line is out.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../src/model/model.ts';
import { readCheckpoint } from '../src/train/checkpoint.ts';
import { cli } from './helpers/cli.ts';

let dir: string;
const tmp = (name: string) => path.join(dir, name);
let config: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-signals-'));
  config = tmp('long.json');
  fs.writeFileSync(config, JSON.stringify({
    data: { builtin: 'spirals', n: 2000 },
    model: { layers: [{ units: 16, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
    train: { epochs: 100000, batchSize: 16, lr: 0.05, threads: 2 },
  }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Train until the first epoch line, then send `signals` back to back. */
function trainAndSignal(name: string, signals: NodeJS.Signals[]) {
  let sent = false;
  return cli(['train', '--config', config, '--checkpoint', tmp(`${name}.ckpt`), '--out', tmp(`${name}.ttm`)], {
    onStdout: (text, child) => {
      if (!sent && text.includes('\nepoch 1/100000 |')) {
        sent = true;
        for (const s of signals) child.kill(s);
      }
    },
  });
}

describe('stop signals', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`${signal} finishes the step, writes the checkpoint (no cadence asked) and the model, exits ${code}`, async () => {
      const name = signal.toLowerCase();
      const run = await trainAndSignal(name, [signal]);
      expect(run.code).toBe(code);
      expect(run.stderr).toBe(`\n${signal} received: stopping at the next step; the model and checkpoint will be written (send ${signal} again to quit at once)\n`);
      expect(run.stdout).toMatch(/^stopped: interrupted/m);
      expect(run.stdout).toContain(`saved model to ${tmp(`${name}.ttm`)}`);
      const model = Model.load(tmp(`${name}.ttm`));
      const ck = readCheckpoint(tmp(`${name}.ckpt`));
      expect(ck.epoch).toBeGreaterThanOrEqual(1);
      // The checkpoint holds the very weights the model was saved with.
      expect(Buffer.from(ck.params.buffer).equals(Buffer.from(model.params.buffer))).toBe(true);
      expect(run.stdout).toContain(`checkpoint: ${tmp(`${name}.ckpt`)} (epoch ${ck.epoch}, step ${ck.step})`);
    });
  }

  it('a second signal quits at once with its own code, writing nothing more', async () => {
    const run = await trainAndSignal('twice', ['SIGTERM', 'SIGHUP']);
    // Both are pending at once and the kernel may hand them over in either order (lower
    // numbers first on Linux): the one handled second names the code.
    expect([129, 143]).toContain(run.code);
    const [first, second] = run.code === 129 ? ['SIGTERM', 'SIGHUP'] : ['SIGHUP', 'SIGTERM'];
    expect(run.stderr).toBe(`\n${first} received: stopping at the next step; the model and checkpoint will be written (send ${first} again to quit at once)\n\n${second} again: quitting now\n`);
    expect(run.stdout).not.toContain('saved model');
    expect(fs.existsSync(tmp('twice.ttm'))).toBe(false);
  });
});
