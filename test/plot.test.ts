// SVG charts, checked by rendering them to pixels with resvg (WebAssembly, no native
// addon, no browser) and looking at where the series colours land, not only at the text.
// No fonts are loaded, so text is not drawn; lines, markers and axes are.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.ts';
import type { EpochRecord } from '../src/report/log.ts';
import {
  IDEAL_COLOR,
  plotFile,
  renderScalingSvg,
  renderTrainingSvg,
  SERIES_COLORS,
  TRAIN_COLOR,
  VALIDATION_COLOR,
} from '../src/report/plot.ts';

// Top-level, not in beforeAll: the describe blocks below render while they are collected.
await initWasm(readFileSync(createRequire(import.meta.url).resolve('@resvg/resvg-wasm/index_bg.wasm')));

interface Image {
  width: number;
  height: number;
  pixels: Uint8Array;
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function render(svg: string): Image {
  const resvg = new Resvg(svg, { font: { loadSystemFonts: false } });
  const image = resvg.render();
  const out = { width: image.width, height: image.height, pixels: image.pixels.slice() };
  image.free();
  resvg.free();
  return out;
}

/** The plot-area frames, in panel order, read from the SVG. */
function plotAreas(svg: string): Box[] {
  return [...svg.matchAll(/<rect class="plot-area" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => ({
    x: Number(m[1]), y: Number(m[2]), width: Number(m[3]), height: Number(m[4]),
  }));
}

/** Pixels within `box` (inset by 2 px to skip the frame) whose colour is within `tol` of `hex`. */
function pixelsOf(img: Image, hex: string, box: Box, tol = 10): [number, number][] {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const found: [number, number][] = [];
  for (let y = Math.ceil(box.y + 2); y < box.y + box.height - 2; y++) {
    for (let x = Math.ceil(box.x + 2); x < box.x + box.width - 2; x++) {
      const i = (y * img.width + x) * 4;
      const p = img.pixels;
      if (Math.abs(p[i]! - r!) <= tol && Math.abs(p[i + 1]! - g!) <= tol && Math.abs(p[i + 2]! - b!) <= tol && p[i + 3]! > 240) {
        found.push([x, y]);
      }
    }
  }
  return found;
}

/** Mean row of the matching pixels in the left and right quarters of the box. */
function leftRightMeanY(points: [number, number][], box: Box): { left: number; right: number } {
  const mean = (ps: [number, number][]) => ps.reduce((a, [, y]) => a + y, 0) / ps.length;
  const left = points.filter(([x]) => x < box.x + box.width / 4);
  const right = points.filter(([x]) => x > box.x + (3 * box.width) / 4);
  expect(left.length).toBeGreaterThan(5);
  expect(right.length).toBeGreaterThan(5);
  return { left: mean(left), right: mean(right) };
}

function epochs(n: number, f: (e: number) => Partial<EpochRecord>): EpochRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'epoch', epoch: i + 1, step: (i + 1) * 50, loss: 0, lr: 0.1, samplesPerSec: 1000, time: i, ...f(i + 1),
  }));
}

describe('training curves', () => {
  const records = epochs(12, (e) => ({
    loss: 2 * Math.exp(-e / 3) + 0.1,
    valLoss: 2 * Math.exp(-e / 4) + 0.3,
    accuracy: 1 - 0.9 * Math.exp(-e / 3),
    valAccuracy: 0.95 - 0.9 * Math.exp(-e / 3),
  }));
  const svg = renderTrainingSvg(records);
  const img = render(svg);
  const [lossBox, accBox] = plotAreas(svg);

  it('renders at the declared size with a loss and an accuracy panel', () => {
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="960" height="420" viewBox="0 0 960 420"/);
    expect([img.width, img.height]).toEqual([960, 420]);
    expect(plotAreas(svg)).toHaveLength(2);
    expect(lossBox!.x + lossBox!.width).toBeLessThan(accBox!.x);
  });

  it('draws train and validation in their colours inside both plot areas', () => {
    for (const box of [lossBox!, accBox!]) {
      expect(pixelsOf(img, TRAIN_COLOR, box).length).toBeGreaterThan(200);
      expect(pixelsOf(img, VALIDATION_COLOR, box).length).toBeGreaterThan(200);
    }
  });

  it('a decreasing train loss is drawn high on the left and low on the right', () => {
    const { left, right } = leftRightMeanY(pixelsOf(img, TRAIN_COLOR, lossBox!), lossBox!);
    expect(left).toBeLessThan(right - lossBox!.height / 3);
  });

  it('a rising accuracy is drawn low on the left and high on the right', () => {
    const { left, right } = leftRightMeanY(pixelsOf(img, TRAIN_COLOR, accBox!), accBox!);
    expect(left).toBeGreaterThan(right + accBox!.height / 3);
  });

  it('validation loss sits above train loss where it is larger', () => {
    const train = leftRightMeanY(pixelsOf(img, TRAIN_COLOR, lossBox!), lossBox!);
    const val = leftRightMeanY(pixelsOf(img, VALIDATION_COLOR, lossBox!), lossBox!);
    expect(val.right).toBeLessThan(train.right);
  });

  it('has axes with tick labels, a legend and a title', () => {
    expect(svg).toContain('<title>Training curves</title>');
    expect(svg).toMatch(/text-anchor="middle">epoch<\/text>/);
    expect(svg).toMatch(/>train<\/text>/);
    expect(svg).toMatch(/>validation<\/text>/);
    expect(svg).toMatch(/text-anchor="end">0\.5<\/text>/);
  });

  it('leaves out absent series and the accuracy panel when no accuracy was logged', () => {
    const only = renderTrainingSvg(epochs(6, (e) => ({ loss: 1 / e })));
    const boxes = plotAreas(only);
    expect(boxes).toHaveLength(1);
    const image = render(only);
    const whole = { x: 0, y: 0, width: image.width, height: image.height };
    expect(pixelsOf(image, TRAIN_COLOR, boxes[0]!).length).toBeGreaterThan(100);
    expect(pixelsOf(image, VALIDATION_COLOR, whole)).toHaveLength(0);
    expect(only).not.toContain('>validation<');
  });

  it('a null (diverged) loss leaves a gap in the line', () => {
    const recs = epochs(9, (e) => ({ loss: e === 5 ? (null as unknown as number) : 10 - e }));
    const gapped = renderTrainingSvg(recs);
    const box = plotAreas(gapped)[0]!;
    const image = render(gapped);
    // Epochs 1..9 on a 0..10 axis: epoch e sits at box.x + e/10 of the width.
    const xAt = (e: number) => box.x + (e / 10) * box.width;
    const blue = pixelsOf(image, TRAIN_COLOR, box);
    expect(blue.filter(([x]) => x > xAt(4) + 6 && x < xAt(6) - 6)).toHaveLength(0);
    expect(blue.filter(([x]) => x > xAt(2) + 6 && x < xAt(3) - 6).length).toBeGreaterThan(0);
  });

  it('escapes text, so a hostile title still gives a valid SVG', () => {
    const hostile = renderTrainingSvg(records.slice(0, 3), { title: '</text><script>alert("x")</script> & \'q\'' });
    expect(hostile).not.toContain('<script>');
    expect(hostile).toContain('&lt;/text&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
    expect(() => render(hostile)).not.toThrow();
  });

  it('a later record for the same epoch (a resumed run) replaces the earlier one', () => {
    const resumed = [...epochs(3, () => ({ loss: 5 })), ...epochs(3, () => ({ loss: 1 }))];
    const twice = renderTrainingSvg(resumed);
    expect(twice.match(/<polyline/g)).toHaveLength(1);
    expect(twice).not.toContain('>5.0<');
  });
});

describe('scaling chart', () => {
  const rows = [1, 2, 4, 8, 16].flatMap((threads) => [
    { threads, speedup: threads ** 0.6, batch: 64 },
    { threads, speedup: threads ** 0.85, batch: 256 },
  ]);
  const svg = renderScalingSvg(rows);
  const img = render(svg);
  const box = plotAreas(svg)[0]!;

  it('renders at the declared size with one plot area', () => {
    expect([img.width, img.height]).toEqual([640, 460]);
    expect(plotAreas(svg)).toHaveLength(1);
  });

  it('draws one line per batch size in its own colour, labelled in the legend', () => {
    expect(pixelsOf(img, SERIES_COLORS[0], box).length).toBeGreaterThan(150);
    expect(pixelsOf(img, SERIES_COLORS[1], box).length).toBeGreaterThan(150);
    expect(svg).toContain('>batch 64<');
    expect(svg).toContain('>batch 256<');
    // The better-scaling batch ends higher up.
    const b64 = leftRightMeanY(pixelsOf(img, SERIES_COLORS[0], box), box);
    const b256 = leftRightMeanY(pixelsOf(img, SERIES_COLORS[1], box), box);
    expect(b256.right).toBeLessThan(b64.right);
  });

  it('draws the ideal y = x line dashed, along the diagonal of equal axes', () => {
    // Both axes run 0..20 here, so y = x is the diagonal of the plot area.
    const grey = pixelsOf(img, IDEAL_COLOR, box, 6);
    expect(grey.length).toBeGreaterThan(200);
    for (const [x, y] of grey) {
      const u = (x - box.x) / box.width;
      const v = (box.y + box.height - y) / box.height;
      expect(Math.abs(u - v)).toBeLessThan(0.03);
    }
    // Dashed: walking along the diagonal, some stretches have no grey at all.
    const columns = new Set(grey.map(([x]) => x));
    let gaps = 0;
    for (let x = Math.ceil(box.x + 10); x < box.x + box.width - 10; x++) if (!columns.has(x)) gaps++;
    expect(gaps).toBeGreaterThan(box.width * 0.2);
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).toContain('>ideal (y = x)<');
  });

  it('rows without a batch form a single line', () => {
    const single = renderScalingSvg([{ threads: 1, speedup: 1 }, { threads: 2, speedup: 1.8 }, { threads: 4, speedup: 3.1 }]);
    expect(single).toContain('>measured<');
    expect(single.match(/<polyline/g)).toHaveLength(2); // measured + ideal
  });
});

describe('plotFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'threadtrain-plot-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, lines: unknown[]) => {
    const path = join(dir, name);
    writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    return path;
  };
  const failure = (fn: () => void): string => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect((e as DataError).hint).toBeTruthy();
      return (e as Error).message.split('\n')[0]!;
    }
    throw new Error('expected a DataError');
  };

  it('a training log (step and epoch records) becomes training curves', () => {
    const input = write('run.jsonl', [
      { type: 'step', epoch: 1, step: 10, loss: 2, lr: 0.1, samplesPerSec: 1, time: 0 },
      ...epochs(4, (e) => ({ loss: 1 / e, accuracy: 1 - 1 / (e + 1) })),
    ]);
    const output = join(dir, 'run.svg');
    plotFile(input, output);
    const svg = readFileSync(output, 'utf8');
    expect(svg).toContain('<title>Training curves: run.jsonl</title>');
    expect(plotAreas(svg)).toHaveLength(2);
    expect(render(svg).width).toBe(960);
  });

  it('benchmark lines become the scaling chart', () => {
    const input = write('scaling.jsonl', [
      { threads: 1, speedup: 1, batch: 128, samplesPerSec: 1000 },
      { threads: 2, speedup: 1.9, batch: 128, samplesPerSec: 1900 },
    ]);
    const output = join(dir, 'scaling.svg');
    plotFile(input, output);
    expect(readFileSync(output, 'utf8')).toContain('<title>Scaling: scaling.jsonl</title>');
  });

  it('an unrecognised first record names the file, line and fields', () => {
    const input = write('other.jsonl', ['', { name: 'x', value: 1 }]);
    expect(failure(() => plotFile(input, join(dir, 'o.svg')))).toBe(
      `${input}:2: expected a training-log record (with "type") or a scaling-benchmark line (with "threads" and "speedup"), found an object with fields name, value`,
    );
  });

  it('a scaling line missing speedup names its line', () => {
    const input = write('s.jsonl', [{ threads: 1, speedup: 1 }, { threads: 2, speedup: 2 }, { threads: 4 }]);
    expect(failure(() => plotFile(input, join(dir, 'o.svg')))).toBe(
      `${input}:3: expected numeric "threads" and "speedup" like the lines before it, found an object with fields threads`,
    );
  });

  it('a log without epoch records says so', () => {
    const input = write('steps.jsonl', [{ type: 'step', epoch: 1, step: 1, loss: 1, lr: 0.1, samplesPerSec: 1, time: 0 }]);
    expect(failure(() => plotFile(input, join(dir, 'o.svg')))).toBe(
      `${input}: expected at least one record with "type": "epoch", found only "step" records`,
    );
  });

  it('an empty file says so', () => {
    const input = write('empty.jsonl', []);
    expect(failure(() => plotFile(input, join(dir, 'o.svg')))).toBe(
      `${input}: expected training-log or scaling-benchmark records, found an empty file`,
    );
  });

  it('a broken line is reported with its number', () => {
    const input = write('broken.jsonl', [...epochs(2, () => ({ loss: 1 })), '{"type": "epoch", "epo']);
    expect(failure(() => plotFile(input, join(dir, 'o.svg')))).toMatch(new RegExp(`^${input.replace(/[.\\/]/g, '\\$&')}:3: expected one JSON object per line`));
  });
});
