// The CSV loader's byte-level number reader against its definition: for every string the
// strict grammar accepts, the float32 stored must be Math.fround(Number(text)) bit for bit;
// every other string is rejected. Tricky cases by hand, then many seeded random ones.
import { describe, expect, it } from 'vitest';
import { scanDecimal, scanEnd } from '../src/data/decimal.ts';

const GRAMMAR = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const f32 = new Float32Array(1);
const bits = new Uint32Array(f32.buffer);
const bitsOf = (v: number): number => {
  f32[0] = v;
  return bits[0]!;
};

/** What the loader stores for `text`: the float32 bits, or undefined when the whole text is not one number. */
function read(text: string): number | undefined {
  const bytes = Buffer.from(text, 'latin1');
  const v = scanDecimal(bytes, 0, bytes.length);
  return Number.isNaN(v) || scanEnd !== bytes.length ? undefined : bitsOf(v);
}
const oracle = (text: string): number | undefined => (GRAMMAR.test(text) ? bitsOf(Math.fround(Number(text))) : undefined);

describe('scanDecimal', () => {
  it('gives Math.fround(Number(text)) on hand-picked hard cases', () => {
    const cases = [
      '0', '-0', '+0', '-0.0e-5', '0.0', '.5', '5.', '-.5', '+5.', '00', '0001.2500', '1e3', '1E3', '1e+3', '1e-3', '-1e-400',
      '0.1', '0.30000000000000004', '123456789012345', '1234567890123456', '9007199254740993', '9007199254740992.5',
      '16777217', '16777217.000000000001', '16777219', '3.4028234663852886e38', '3.4028235677973366e38', '3.4028235677973367e38',
      '1e39', '1e400', '1.401298464324817e-45', '7.006492321624085e-46', '7.006492321624086e-46', '1e-46', '1e-50',
      '2.2250738585072011e-308', '4.9406564584124654e-324', '1.7976931348623157e308',
      '1.00000000000000011102230246251565404236316680908203125', '123456789012345678901234567890', '1e22', '1e23', '9e-22', '1e-23',
      '0.000000000000000000000000000000000000011754943508222875', '1.1754942807573643e-38',
      '1e0000000003', '1e-0000000003', '12345678901234567890e-20',
    ];
    for (const text of cases) {
      expect(oracle(text), text).not.toBeUndefined();
      expect(read(text), text).toBe(oracle(text));
    }
    expect(Object.is(Math.fround(scanDecimal(Buffer.from('-0'), 0, 2)), -0)).toBe(true);
  });

  it('rejects what the grammar rejects, and stops where the number stops', () => {
    for (const text of ['', '.', '+', '-', 'e5', '.e5', '1e', '1e+', '1.5e-', '+-1', '0x1f', 'Infinity', 'NaN', '1,5', ' 1', '1 ', '1.2.3', '--1', '١']) {
      expect(read(text), JSON.stringify(text)).toBeUndefined();
    }
    const bytes = Buffer.from('12.5e3x');
    expect(scanDecimal(bytes, 0, bytes.length)).toBe(12500);
    expect(scanEnd).toBe(6);
    const noExponent = Buffer.from('7e,');
    expect(scanDecimal(noExponent, 0, noExponent.length)).toBe(7);
    expect(scanEnd).toBe(1); // the 'e' is left for the caller, which rejects the cell
    expect(scanDecimal(bytes, 2, 2)).toBeNaN(); // an empty range
  });

  it('agrees with Math.fround(Number(text)) on 200,000 seeded random strings', () => {
    let seed = 12345;
    const rnd = (k: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return Math.floor((seed / 4294967296) * k);
    };
    const digits = (k: number): string => Array.from({ length: k }, () => String(rnd(10))).join('');
    const halfway = new Float32Array(2);
    const halfwayBits = new Uint32Array(halfway.buffer);
    let accepted = 0;
    for (let i = 0; i < 200_000; i++) {
      let text: string;
      const kind = rnd(4);
      if (kind === 0) {
        // Any mix of the grammar's characters: mostly rejects, some odd accepts.
        text = Array.from({ length: 1 + rnd(10) }, () => '0123456789.eE+-'[rnd(15)]).join('');
      } else if (kind === 1) {
        // The midpoint between two neighbouring float32s, printed long: where double rounding would show.
        halfwayBits[0] = rnd(0x7f800000);
        halfwayBits[1] = halfwayBits[0]! + 1;
        const mid = (halfway[0]! + halfway[1]!) / 2;
        text = (rnd(2) ? '-' : '') + (rnd(2) ? mid.toPrecision(9 + rnd(13)) : String(mid));
      } else {
        text =
          ['', '-', '+'][rnd(3)]! +
          digits(rnd(18)) +
          (rnd(2) ? `.${digits(rnd(20))}` : '') +
          (rnd(2) ? `${'eE'[rnd(2)]}${['', '-', '+'][rnd(3)]}${rnd(70)}` : '');
      }
      const want = oracle(text);
      if (want !== undefined) accepted++;
      if (read(text) !== want) expect(read(text), JSON.stringify(text)).toBe(want);
    }
    expect(accepted).toBeGreaterThan(100_000);
  });
});
