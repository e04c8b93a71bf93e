// Strict decimal numbers read straight from UTF-8 bytes, without a string per cell: the CSV
// loader's hot loop. The grammar is the CSV loader's:
// [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)? — no hex, no Infinity/NaN, no
// blanks inside. The value is always the double `Number(text)` gives: up to 15 digits
// (leading zeros counted, so the mantissa stays an exact integer) and a decimal exponent
// within ±22 it is one correctly rounded multiply or divide of two exact doubles (Clinger's
// fast path); anything longer falls back to Number() on the cut text. Storing that double into a Float32Array is then exactly Math.fround(Number(text)).

// 10^0 .. 10^22: every one is exact in a double, so m·10^e and m/10^e round only once.
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** Where the last `scanDecimal` call stopped (one past the number's last byte). */
export let scanEnd = 0;

/**
 * Reads the longest prefix of `bytes[start, end)` that the grammar accepts and returns its
 * value, or NaN when no prefix is a number; `scanEnd` then says where it stopped. The
 * caller decides whether what follows may follow a number.
 */
export function scanDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let c = i < end ? bytes[i]! : 0;
  let negative = false;
  if (c === 43 /* + */ || c === 45 /* - */) {
    negative = c === 45;
    c = ++i < end ? bytes[i]! : 0;
  }
  let mantissa = 0;
  const intStart = i;
  while (c >= 48 && c <= 57) {
    mantissa = mantissa * 10 + (c - 48);
    c = ++i < end ? bytes[i]! : 0;
  }
  const intDigits = i - intStart;
  let fracDigits = 0;
  if (c === 46 /* . */) {
    c = ++i < end ? bytes[i]! : 0;
    const fracStart = i;
    while (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      c = ++i < end ? bytes[i]! : 0;
    }
    fracDigits = i - fracStart;
  }
  const digits = intDigits + fracDigits; // leading zeros included: more than 15 takes the exact fallback
  if (intDigits === 0 && fracDigits === 0) {
    scanEnd = start;
    return NaN;
  }
  let exponent = 0;
  let expDigits = 0;
  if (c === 101 /* e */ || c === 69 /* E */) {
    // Only an exponent with at least one digit belongs to the number: in "1e" the 'e' is
    // left for the caller, which then rejects the cell.
    let j = i + 1;
    let d = j < end ? bytes[j]! : 0;
    let expNegative = false;
    if (d === 43 || d === 45) {
      expNegative = d === 45;
      d = ++j < end ? bytes[j]! : 0;
    }
    while (d >= 48 && d <= 57) {
      if (expDigits < 9) exponent = exponent * 10 + (d - 48);
      expDigits++;
      d = ++j < end ? bytes[j]! : 0;
    }
    if (expDigits > 0) {
      i = j;
      if (expNegative) exponent = -exponent;
    }
  }
  scanEnd = i;
  if (digits <= 15 && expDigits < 9) {
    if (mantissa === 0) return negative ? -0 : 0;
    const e = exponent - fracDigits;
    if (e >= 0 && e <= 22) return negative ? -(mantissa * POW10[e]!) : mantissa * POW10[e]!;
    if (e < 0 && e >= -22) return negative ? -(mantissa / POW10[-e]!) : mantissa / POW10[-e]!;
  }
  return Number(Buffer.from(bytes.buffer, bytes.byteOffset + start, i - start).toString('latin1'));
}
