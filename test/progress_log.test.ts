// The JSON Lines training log (writer and line-numbered reader) and the console progress
// line, driven through a fake stream and a fake clock.

import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DataError, OutputError } from '../src/errors.ts';
import { openJsonlLog, readJsonl, type EpochRecord, type StepRecord } from '../src/report/log.ts';
import { createProgress, formatDuration, formatLoss, formatRate } from '../src/report/progress.ts';

describe('JSON Lines log', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'threadtrain-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const epoch: EpochRecord = {
    type: 'epoch', epoch: 1, step: 50, loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.75,
    lr: 0.1, samplesPerSec: 12000, gradNorms: [0.3, 0.1], time: 1.25,
  };
  const step: StepRecord = { type: 'step', epoch: 2, step: 60, loss: 0.45, lr: 0.1, samplesPerSec: 11000, time: 1.5 };

  it('writes one JSON object per line and reads them back', () => {
    const path = join(dir, 'nested', 'run.jsonl');
    const log = openJsonlLog(path);
    log.write(epoch);
    log.write(step);
    log.close();
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toHaveLength(3);
    expect(text.endsWith('\n')).toBe(true);
    expect(readJsonl(path)).toEqual([epoch, step]);
  });

  it('appends to an existing log instead of replacing it', () => {
    const path = join(dir, 'run.jsonl');
    const a = openJsonlLog(path);
    a.write(epoch);
    a.close();
    const b = openJsonlLog(path);
    b.write(step);
    b.close();
    expect(readJsonl(path).map((r) => r.type)).toEqual(['epoch', 'step']);
  });

  it('writes a non-finite loss as null, since JSON has no NaN', () => {
    const path = join(dir, 'run.jsonl');
    const log = openJsonlLog(path);
    log.write({ ...step, loss: Number.NaN, gradNorms: [Infinity, 1] });
    log.close();
    expect(readJsonl(path)[0]).toMatchObject({ loss: null, gradNorms: [null, 1] });
  });

  it('close is idempotent and a write after close throws', () => {
    const log = openJsonlLog(join(dir, 'run.jsonl'));
    log.close();
    log.close();
    expect(() => log.write(step)).toThrow(/is closed/);
  });

  it('a log path that cannot be opened is an OutputError naming it', () => {
    writeFileSync(join(dir, 'file'), '');
    expect(() => openJsonlLog(join(dir, 'file', 'run.jsonl'))).toThrow(OutputError);
    expect(() => openJsonlLog(join(dir, 'file', 'run.jsonl'))).toThrow(`log ${join(dir, 'file', 'run.jsonl')}: expected a file path in a writable folder, found that ${join(dir, 'file')} is a file, not a folder`);
  });

  it('fresh empties an existing log; without it the log is appended to', () => {
    const path = join(dir, 'run.jsonl');
    writeFileSync(path, '{"old":1}\n');
    const log = openJsonlLog(path, { fresh: true });
    log.write(step);
    log.close();
    expect(readJsonl(path)).toEqual([step]);
  });

  it('a disk that fills part-way through a record: the file is cut back to its last whole line, one OutputError says why', () => {
    const path = join(dir, 'run.jsonl');
    const log = openJsonlLog(path);
    log.write(epoch);
    const whole = readFileSync(path, 'utf8');
    const realWrite = fs.writeSync.bind(fs) as (fd: number, b: Uint8Array, off: number, len: number) => number;
    let calls = 0;
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, b: Uint8Array, off: number) => {
      // The first call writes 10 bytes of the record for real, the next fails as a full disk does.
      if (calls++ === 0) return realWrite(fd, b, off, 10);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as never);
    let error: unknown;
    try {
      log.write(step);
    } catch (e) {
      error = e;
    }
    vi.restoreAllMocks();
    expect(calls).toBe(2);
    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).message).toBe(`cannot append to the log ${path}: ENOSPC: no space left on device, write\nhint: the disk is full: free some space or log elsewhere; the log keeps every complete line written before`);
    expect(readFileSync(path, 'utf8')).toBe(whole);
    // Later records still append as whole lines once there is space again.
    log.write(step);
    log.close();
    expect(readJsonl(path)).toEqual([epoch, step]);
  });

  it('a write to a full device (/dev/full) is one OutputError, not a raw ENOSPC', () => {
    const log = openJsonlLog('/dev/full');
    expect(() => log.write(step)).toThrow(/^cannot append to the log \/dev\/full: ENOSPC: no space left on device/);
    log.close();
  });

  const failure = (path: string): DataError => {
    try {
      readJsonl(path);
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      return e as DataError;
    }
    throw new Error('expected a DataError');
  };

  it('skips blank lines', () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, '\n{"a":1}\n\n  \n{"b":2}\n');
    expect(readJsonl(path)).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('reports a line that is not JSON with its number', () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, '{"a":1}\n{"b":2}\nnot json\n{"c":3}\n');
    const e = failure(path);
    expect(e.message.split('\n')[0]).toMatch(/a\.jsonl:3: expected one JSON object per line, found text that is not JSON \(/);
    expect(e.hint).toMatch(/complete JSON object/);
  });

  it('says an unterminated last line was probably cut off by an interrupted run', () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, '{"a":1}\n{"b":');
    const e = failure(path);
    expect(e.message).toMatch(/a\.jsonl:2: /);
    expect(e.hint).toMatch(/interrupted/);
  });

  it('reports a line that is JSON but not an object', () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, '{"a":1}\n[1,2]\n');
    expect(failure(path).message.split('\n')[0]).toMatch(/a\.jsonl:2: expected a JSON object, found an array$/);
  });

  it('reports a missing file', () => {
    expect(failure(join(dir, 'missing.jsonl')).message).toMatch(/cannot read .*missing\.jsonl: ENOENT/);
  });
});

/** A stream that records writes, with a terminal's isTTY/columns. */
function fakeStream(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return {
    writes,
    stream: { isTTY, columns, write: (s: string) => void writes.push(s) },
    /** What the terminal would show: the text after the last line clear on the current line, plus finished lines. */
    screen(): string[] {
      const lines: string[] = [''];
      for (const chunk of writes.join('').split(/(\r\x1b\[2K|\n)/)) {
        if (chunk === '\r\x1b[2K') lines[lines.length - 1] = '';
        else if (chunk === '\n') lines.push('');
        else lines[lines.length - 1] += chunk;
      }
      return lines;
    },
  };
}

describe('progress', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 0;
    vi.stubEnv('CI', '');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('on a terminal, draws one live line with epoch, step, rate, ETA and loss', () => {
    const t = fakeStream(true);
    const p = createProgress(t.stream, { totalEpochs: 3, stepsPerEpoch: 10, now });
    p.step({ epoch: 1, step: 1, loss: 2.302585, samplesPerSec: 1234 });
    expect(t.writes).toEqual(['\r\x1b[2Kepoch 1/3  step 1/10  1.23k samples/s  ETA --  loss 2.303']);
    // 10 more steps in 1 s: 10 steps/s, 19 steps left → 1.9 s.
    for (let k = 2; k <= 11; k++) {
      clock += 100;
      p.step({ epoch: k <= 10 ? 1 : 2, step: k <= 10 ? k : k - 10, loss: 1 / k, samplesPerSec: 25000 });
    }
    expect(t.screen().at(-1)).toBe('epoch 2/3  step 1/10  25.0k samples/s  ETA 2s  loss 0.09091');
  });

  it('a resumed run measures its ETA only from the steps it has done itself', () => {
    const t = fakeStream(true);
    const p = createProgress(t.stream, { totalEpochs: 4, stepsPerEpoch: 10, now });
    p.step({ epoch: 3, step: 1, loss: 1, samplesPerSec: 1 }); // 21 of 40 done, at t = 0
    clock = 500;
    p.step({ epoch: 3, step: 6, loss: 1, samplesPerSec: 1 }); // 5 steps in 0.5 s; 14 left → 1.4 s
    expect(t.screen().at(-1)).toMatch(/^epoch 3\/4  step 6\/10 .* ETA 1s /);
  });

  it('redraws at most about 10 times a second', () => {
    const t = fakeStream(true);
    const p = createProgress(t.stream, { totalEpochs: 100, stepsPerEpoch: 1000, now });
    for (let k = 1; k <= 1000; k++) {
      clock += 2; // 1000 steps over 2 s
      p.step({ epoch: 1, step: k, loss: 1, samplesPerSec: 1 });
    }
    expect(t.writes.length).toBeGreaterThanOrEqual(19);
    expect(t.writes.length).toBeLessThanOrEqual(21);
  });

  it('always draws the last step of the run, however soon after the previous one', () => {
    const t = fakeStream(true);
    const p = createProgress(t.stream, { totalEpochs: 1, stepsPerEpoch: 3, now });
    p.step({ epoch: 1, step: 1, loss: 1, samplesPerSec: 1 });
    p.step({ epoch: 1, step: 2, loss: 1, samplesPerSec: 1 });
    p.step({ epoch: 1, step: 3, loss: 0.5, samplesPerSec: 1 });
    expect(t.writes).toHaveLength(2);
    expect(t.screen().at(-1)).toMatch(/step 3\/3 .* loss 0\.5000$/);
  });

  it('an epoch line replaces the live line, and the live line comes back at the next step', () => {
    const t = fakeStream(true);
    const p = createProgress(t.stream, { totalEpochs: 2, stepsPerEpoch: 10, now });
    p.step({ epoch: 1, step: 10, loss: 1, samplesPerSec: 1 });
    p.epochEnd('epoch 1/2  loss 1.0000');
    p.step({ epoch: 2, step: 1, loss: 0.9, samplesPerSec: 1 }); // same instant: not throttled
    expect(t.screen()).toEqual(['epoch 1/2  loss 1.0000', expect.stringMatching(/^epoch 2\/2  step 1\/10 /)]);
    p.done();
    expect(t.screen()).toEqual(['epoch 1/2  loss 1.0000', '']);
  });

  it('cuts the live line to the terminal width so it never wraps', () => {
    const t = fakeStream(true, 30);
    createProgress(t.stream, { totalEpochs: 2, stepsPerEpoch: 10, now }).step({ epoch: 1, step: 1, loss: 1, samplesPerSec: 1 });
    expect(t.screen()[0]).toHaveLength(29);
  });

  it('when not a terminal, prints nothing per step and only the epoch lines', () => {
    const t = fakeStream(false);
    const p = createProgress(t.stream, { totalEpochs: 2, stepsPerEpoch: 10, now });
    for (let k = 1; k <= 10; k++) p.step({ epoch: 1, step: k, loss: 1, samplesPerSec: 1 });
    p.epochEnd('epoch 1/2  loss 1.0000');
    p.done();
    expect(t.writes).toEqual(['epoch 1/2  loss 1.0000\n']);
  });

  it('plain: true forces plain output on a terminal', () => {
    const t = fakeStream(true);
    const p = createProgress(t.stream, { totalEpochs: 2, stepsPerEpoch: 10, plain: true, now });
    p.step({ epoch: 1, step: 1, loss: 1, samplesPerSec: 1 });
    expect(t.writes).toEqual([]);
  });

  it('the CI environment variable forces plain output', () => {
    vi.stubEnv('CI', 'true');
    const t = fakeStream(true);
    createProgress(t.stream, { totalEpochs: 2, stepsPerEpoch: 10, now }).step({ epoch: 1, step: 1, loss: 1, samplesPerSec: 1 });
    expect(t.writes).toEqual([]);
    vi.stubEnv('CI', 'false');
    createProgress(t.stream, { totalEpochs: 2, stepsPerEpoch: 10, now }).step({ epoch: 1, step: 1, loss: 1, samplesPerSec: 1 });
    expect(t.writes).toHaveLength(1);
  });

  it('accepts a real process stream', () => {
    const p = createProgress(process.stderr, { totalEpochs: 1, stepsPerEpoch: 1, plain: true });
    p.done();
  });

  it('formats numbers compactly', () => {
    expect([950, 1234, 25_000, 1_500_000, 25_000_000].map(formatRate)).toEqual(['950', '1.23k', '25.0k', '1.5M', '25M']);
    expect([2.302585, 0.5, 1e-5, 0, Number.NaN, 123456].map(formatLoss)).toEqual(['2.303', '0.5000', '1.000e-5', '0.000', 'NaN', '1.235e+5']);
    expect([0, 42.4, 187, 7500].map(formatDuration)).toEqual(['0s', '42s', '3m07s', '2h05m']);
  });
});
