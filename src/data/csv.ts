// CSV (any single-character delimiter) to Dataset: numeric feature columns plus one class
// label column, or one or more numeric target columns for regression.
//
// Built for files far larger than their numbers: `loadCsv` streams the file in chunks
// (synchronous reads, so its signature stays sync) and never holds it whole as text; rows
// are parsed straight from each chunk's bytes into Float32Arrays sized from the file's
// length and the rows seen so far, so peak memory stays near the decoded data.
// Each line takes a fast path over its UTF-8 bytes (plain numbers, no quotes, no string per
// number cell); any line it does not fully accept is decoded and read the general way —
// trimmed cells, RFC 4180 quotes — which also words every error, so both paths accept the
// same files and fail with the same messages.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError, DataError, describe } from '../errors.ts';
import type { ClassificationDataset, Dataset, RegressionDataset } from './dataset.ts';
import { scanDecimal, scanEnd } from './decimal.ts';
import { withDecodedCache } from './decoded_cache.ts';

// errors.describe prints NaN and ±Infinity as null (JSON); numbers read better as themselves.

export interface CsvOptions {
  /** Whether line 1 names the columns. Default: detected (see `parseCsv`). */
  readonly header?: boolean;
  /**
   * The label column: a header name or a 0-based index (negative counts from the end).
   * Regression may name several target columns. Default: the last column.
   */
  readonly label?: string | number | readonly (string | number)[];
  /** Default 'classification'. */
  readonly task?: 'classification' | 'regression';
  /** One character; default ','. */
  readonly delimiter?: string;
  /**
   * A fixed label → id mapping (the classNames of a saved model), so that ids agree with
   * the ones the model was trained on; a label outside it is an error.
   */
  readonly classNames?: readonly string[];
  /**
   * loadCsv only: whether to use the decoded-data cache (see decoded_cache.ts). Default
   * true; THREADTRAIN_NO_CACHE=1 turns it off everywhere.
   */
  readonly cache?: boolean;
}

interface Row {
  /** 1-based physical line where the row starts (a quoted field may span lines). */
  readonly line: number;
  readonly cells: string[];
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/**
 * Strict on purpose: `Number('')` is 0 and `Number('0x1f')` is 31, and both would turn a
 * broken file into silently wrong features. (decimal.ts reads the same grammar from bytes.)
 */
function parseNumber(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}

/** Whether `v` overflows float32 (1e39 and 1e999 become ±Infinity once stored): such a cell is an error, as "Infinity" is. */
const overflowsFloat32 = (v: number): boolean => !Number.isFinite(Math.fround(v));

const OVERFLOW_HINT = 'values must fit float32 (|x| ≤ 3.4e38); rescale the column (e.g. to other units) before training';

/** The ASCII characters String.prototype.trim removes (a line holds no '\n'). */
const isAsciiSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/** A quoted record and where the text after it starts; `undefined` when it runs past the text given so far. */
interface Scanned {
  readonly cells: string[];
  readonly next: number;
  /** Physical lines the record spans. */
  readonly lines: number;
}

/**
 * One record that holds a quote, starting at `pos` (a line start), by RFC 4180: a field
 * that starts with `"` may hold the delimiter, newlines and doubled quotes. Unquoted cells
 * are trimmed, quoted ones kept. Unless `final`, running off the end of `text` means the
 * record continues in text not read yet: it returns undefined and the caller retries with more.
 */
function scanQuoted(text: string, pos: number, delimiter: string, file: string, startLine: number, final: boolean): Scanned | undefined {
  let line = startLine;
  const cells: string[] = [];
  let i = pos;
  for (;;) {
    // At the start of a field: skip leading blanks, then quoted or unquoted.
    let j = i;
    while (j < text.length && (text[j] === ' ' || text[j] === '\t') && text[j] !== delimiter) j++;
    if (text[j] === '"') {
      let value = '';
      let k = j + 1;
      for (;;) {
        const q = text.indexOf('"', k);
        if (q < 0) {
          if (!final) return undefined;
          throw new DataError(
            `${file} line ${startLine}: a quoted field opened in column ${cells.length + 1} is never closed`,
            'close the field with a double quote; a quote inside a quoted field is written twice ("")',
          );
        }
        const chunk = text.slice(k, q);
        for (let c = 0; c < chunk.length; c++) if (chunk[c] === '\n') line++;
        value += chunk;
        if (q + 1 >= text.length && !final) return undefined; // a doubled quote may straddle the cut
        if (text[q + 1] === '"') {
          value += '"';
          k = q + 2;
        } else {
          k = q + 1;
          break;
        }
      }
      while (k < text.length && (text[k] === ' ' || text[k] === '\t' || text[k] === '\r') && text[k] !== delimiter) {
        if (text[k] === '\r' && k + 1 >= text.length && !final) return undefined;
        if (text[k] === '\r' && text[k + 1] !== '\n') break;
        k++;
      }
      if (k >= text.length && !final) return undefined;
      cells.push(value.replace(/\r\n/g, '\n'));
      if (k >= text.length || text[k] === '\n') return { cells, next: k + 1, lines: line - startLine + 1 };
      if (text[k] !== delimiter) {
        throw new DataError(
          `${file} line ${line}: expected ${describe(delimiter)} or the end of the line after the quoted field in column ${cells.length}, found ${describe(text[k])}`,
          'a quote inside a quoted field is written twice ("")',
        );
      }
      i = k + 1;
    } else {
      let k = j;
      while (k < text.length && text[k] !== delimiter && text[k] !== '\n') k++;
      if (k >= text.length && !final) return undefined;
      cells.push(text.slice(i, k).trim());
      if (k >= text.length || text[k] === '\n') return { cells, next: k + 1, lines: line - startLine + 1 };
      i = k + 1;
    }
  }
}

function columnName(col: number, width: number, names: readonly string[] | undefined): string {
  return names ? `column ${describe(names[col])} (${col + 1} of ${width})` : `column ${col + 1} of ${width}`;
}

/** Resolve the label option to 0-based column indices; throws on names or indices that do not exist. */
function resolveLabels(
  spec: readonly (string | number)[],
  width: number,
  names: readonly string[] | undefined,
  file: string,
  headerLine: number,
): number[] {
  const cols: number[] = [];
  for (const item of spec) {
    let col: number;
    if (typeof item === 'string' && names && names.includes(item)) {
      col = names.indexOf(item);
    } else if (typeof item === 'number' || INTEGER.test(item)) {
      // A string of digits is an index only when no header names it: CLI flags arrive as strings.
      const k = Number(item);
      if (!Number.isInteger(k) || k >= width || k < -width) {
        throw new DataError(
          `${file}: label column index ${describe(item)} is out of range: rows have ${width} columns (0..${width - 1}, or -${width}..-1 from the end)`,
          'columns are numbered from 0; -1 is the last column',
        );
      }
      col = k < 0 ? width + k : k;
    } else if (names) {
      throw new DataError(
        `${file}: label column ${describe(item)} not found; the header on line ${headerLine} has ${names.map((n) => describe(n)).join(', ')}`,
        'name the label column exactly as the header spells it, or give its 0-based index',
      );
    } else {
      throw new DataError(
        `${file}: label column ${describe(item)} is given by name, but the file has no header row (line ${headerLine} is all numbers)`,
        'give the label column as a 0-based index, or add a header row and pass header: true',
      );
    }
    if (cols.includes(col)) {
      throw new DataError(`${file}: label column ${describe(item)} is named twice`, 'list each target column once');
    }
    cols.push(col);
  }
  return cols;
}

/**
 * Row storage that grows before the row count is known. Given how much of the source has
 * been read (`progress`), it grows straight to the rows the whole source should hold, plus
 * a little, instead of doubling: a copy then costs one extra buffer once, not a chain of
 * them, and the last copy to trim the spare rows is skipped when they are few.
 */
class RowBuffer<A extends Float32Array | Int32Array> {
  data: A;
  /** Rows the buffer holds room for. */
  capacity: number;
  constructor(
    private readonly width: number,
    private readonly make: (length: number) => A,
  ) {
    this.capacity = 1024;
    this.data = make(this.capacity * width);
  }
  /** Room for at least `rows` rows, keeping the first `used`. */
  grow(rows: number, used: number): void {
    if (rows <= this.capacity) return;
    const next = this.make(rows * this.width);
    next.set(this.data.subarray(0, used * this.width));
    this.data = next;
    this.capacity = rows;
  }
  /**
   * The first `rows` rows. Up to 1/16 spare room is kept behind a view rather than copied
   * away: pages never written are never resident, and the copy would double peak memory.
   */
  take(rows: number): A {
    const length = rows * this.width;
    if (length === this.data.length) return this.data;
    return ((this.capacity - rows) * 16 <= this.capacity ? this.data.subarray(0, length) : this.data.slice(0, length)) as A;
  }
}

const FEATURE = 0;
const LABEL = 1;
const TARGET = 2;

/**
 * Parses CSV fed to it in pieces. `feed` takes text that continues the previous piece's
 * unconsumed tail and returns how much of it holds complete records; `finish` builds the
 * Dataset. Both parseCsv (one piece) and loadCsv (chunks of the file) drive it.
 */
class CsvReader {
  readonly file: string;
  private readonly task: 'classification' | 'regression';
  private readonly delimiter: string;
  /** The delimiter as one UTF-8 byte, or -1 for a non-ASCII delimiter (then every line takes the general path). */
  private readonly delimiterByte: number;
  private readonly labelSpec: readonly (string | number)[];
  private readonly classNamesOption: readonly string[] | undefined;
  private readonly headerOption: boolean | undefined;
  /** The physical line last started (1-based). */
  private line = 0;
  /** The first non-blank row: the header, or the first data row. */
  private first: Row | undefined;
  private width = 0;
  private names: readonly string[] | undefined;
  private labelCols: number[] = [];
  private featureCols: number[] = [];
  /** FEATURE, LABEL or TARGET for each column. */
  private kinds = new Uint8Array(0);
  /** For a TARGET column, its place in the target vector (the label option's order). */
  private targetSlot = new Int32Array(0);
  private features = 0;
  private targets = 0;
  private x!: RowBuffer<Float32Array>;
  private yNum!: RowBuffer<Float32Array>;
  /** Classification: each row's label as an id in order of first appearance (remapped in `finish`). */
  private yIds!: RowBuffer<Int32Array>;
  private labelIds = new Map<string, number>();
  /** Short ASCII labels by their bytes packed into a number (see `labelId`). */
  private shortLabelIds = new Map<number, number>();
  /** The line where each distinct label first appears, by id. */
  private labelLines: number[] = [];
  private n = 0;
  /** Source bytes before the current piece, the current row's offset in it, and the source's size: for sizing buffers. */
  private readBefore = 0;
  private piecePos = 0;
  private total = 0;

  constructor(options: CsvOptions & { readonly file?: string }) {
    this.file = options.file ?? 'CSV text';
    const task = options.task ?? 'classification';
    if (task !== 'classification' && task !== 'regression') {
      throw new ConfigError(`CSV task must be "classification" or "regression", found ${describe(task)}`);
    }
    this.task = task;
    const delimiter = options.delimiter ?? ',';
    if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new ConfigError(
        `CSV delimiter must be one character other than a quote or a newline, found ${describe(delimiter)}`,
        'use "," (default), ";", "\\t" or "|"',
      );
    }
    this.delimiter = delimiter;
    this.delimiterByte = delimiter.charCodeAt(0) < 128 ? delimiter.charCodeAt(0) : -1;
    const labelSpec: readonly (string | number)[] =
      options.label === undefined ? [-1] : Array.isArray(options.label) ? options.label : [options.label as string | number];
    if (labelSpec.length === 0 || (task === 'classification' && labelSpec.length !== 1)) {
      throw new ConfigError(
        `${this.file}: ${task} needs ${task === 'classification' ? 'exactly one label column' : 'at least one target column'}, found ${describe(options.label)}`,
        task === 'classification' ? 'several target columns need task: "regression"' : undefined,
      );
    }
    this.labelSpec = labelSpec;
    this.classNamesOption = options.classNames;
    this.headerOption = options.header;
  }

  /**
   * Tells the reader how large the whole source is and how much of it came before the next
   * piece, in the same unit, so its buffers can be sized for the rows still to come.
   */
  progress(readBefore: number, total: number): void {
    this.readBefore = readBefore;
    this.total = total;
  }

  /**
   * Consumes the complete records at the start of `bytes` (UTF-8) and returns how many
   * bytes that was; with `final` (the source ends there), all of them.
   */
  feed(bytes: Buffer, final: boolean): number {
    const len = bytes.length;
    let pos = 0;
    let quoteAt = bytes.indexOf(34 /* " */);
    if (quoteAt < 0) quoteAt = len;
    while (pos < len) {
      let end = bytes.indexOf(10 /* \n */, pos);
      if (end < 0) {
        if (!final) break;
        end = len;
      }
      if (quoteAt < end) {
        const next = this.quotedRecord(bytes, pos, end, final);
        if (next < 0) break;
        pos = next;
        quoteAt = pos < len ? bytes.indexOf(34, pos) : -1;
        if (quoteAt < 0) quoteAt = len;
        continue;
      }
      this.line++;
      let stop = end;
      if (stop > pos && bytes[stop - 1] === 13 /* \r */) stop--;
      this.piecePos = pos;
      if (this.first === undefined || !this.fastRow(bytes, pos, stop)) this.generalLine(bytes.toString('utf8', pos, stop));
      pos = end + 1;
    }
    return Math.min(pos, len);
  }

  /**
   * The record that holds a quote and starts at `pos`, its first line ending at `end`:
   * decoded a line at a time, doubling, until the quotes close. Returns the byte after the
   * record, or -1 when it runs past the bytes given and more are to come.
   */
  private quotedRecord(bytes: Buffer, pos: number, end: number, final: boolean): number {
    const len = bytes.length;
    for (let lines = 1; ; lines *= 2) {
      const whole = end >= len;
      const text = bytes.toString('utf8', pos, whole ? len : end + 1);
      const scanned = scanQuoted(text, 0, this.delimiter, this.file, this.line + 1, whole && final);
      if (scanned !== undefined) {
        this.line++;
        this.row({ line: this.line, cells: scanned.cells });
        this.line += scanned.lines - 1;
        let next = pos;
        for (let k = 0; k < scanned.lines && next < len; k++) {
          const nl = bytes.indexOf(10, next);
          next = nl < 0 ? len : nl + 1;
        }
        return next;
      }
      if (whole) return -1;
      for (let k = 0; k < lines && end < len; k++) {
        const nl = bytes.indexOf(10, end + 1);
        end = nl < 0 ? len : nl;
      }
    }
  }

  /** A line without quotes, '\r' already cut, the way every line was read before the fast path. */
  private generalLine(raw: string): void {
    if (raw.trim() === '') return;
    this.row({ line: this.line, cells: raw.split(this.delimiter).map((c) => c.trim()) });
  }

  private row(row: Row): void {
    if (this.first === undefined) this.begin(row);
    else this.takeRow(row);
  }

  /**
   * Header detection (when `header` is not given): line 1 is a header if the label is given
   * by a name that line 1 contains, or if any of line 1's cells outside a classification
   * label column is not a number. (Whether line 2 is numeric only decides which error a
   * malformed file gets, so it is not consulted: the error then points at line 2's cell.)
   */
  private begin(first: Row): void {
    this.first = first;
    const { task, labelSpec, file } = this;
    const width = first.cells.length;
    let hasHeader = this.headerOption;
    if (hasHeader === undefined) {
      const named = labelSpec.some((l) => typeof l === 'string' && first.cells.includes(l));
      let textCell = false;
      if (!named) {
        let skip = -1;
        if (task === 'classification') {
          const l = labelSpec[0]!;
          const k = typeof l === 'number' ? l : INTEGER.test(l) ? Number(l) : NaN;
          if (Number.isInteger(k) && k < width && k >= -width) skip = k < 0 ? width + k : k;
        }
        textCell = first.cells.some((c, i) => i !== skip && parseNumber(c) === undefined);
      }
      hasHeader = named || textCell;
    }
    const names = hasHeader ? first.cells : undefined;
    const labelCols = resolveLabels(labelSpec, width, names, file, first.line);
    const kinds = new Uint8Array(width);
    const targetSlot = new Int32Array(width).fill(-1);
    labelCols.forEach((c, t) => {
      kinds[c] = task === 'classification' ? LABEL : TARGET;
      targetSlot[c] = t;
    });
    const featureCols: number[] = [];
    for (let c = 0; c < width; c++) if (kinds[c] === FEATURE) featureCols.push(c);
    if (featureCols.length === 0) {
      throw new DataError(
        `${file}: no feature columns: rows have ${width} column${width === 1 ? '' : 's'} and all are labels`,
        'check the delimiter (a file read with the wrong one has a single column)',
      );
    }
    this.width = width;
    this.names = names;
    this.labelCols = labelCols;
    this.featureCols = featureCols;
    this.kinds = kinds;
    this.targetSlot = targetSlot;
    this.features = featureCols.length;
    this.targets = labelCols.length;
    this.x = new RowBuffer(this.features, (k) => new Float32Array(k));
    if (task === 'classification') this.yIds = new RowBuffer(1, (k) => new Int32Array(k));
    else this.yNum = new RowBuffer(this.targets, (k) => new Float32Array(k));
    if (!hasHeader) this.takeRow(first);
  }

  /** Room for row `n`: the rows the whole source should hold (from the share read so far), at least an eighth more. */
  private reserveRow(): void {
    const rows = this.n + 1;
    if (rows <= this.x.capacity) return;
    const read = this.readBefore + this.piecePos;
    const projected = read > 0 && this.total > read ? Math.ceil((rows * this.total) / read * 1.02) + 64 : 0;
    const capacity = Math.max(projected, Math.ceil(this.x.capacity * (this.total > 0 ? 1.125 : 2)));
    this.x.grow(capacity, this.n);
    if (this.task === 'classification') this.yIds.grow(capacity, this.n);
    else this.yNum.grow(capacity, this.n);
  }

  private addLabel(label: string, line: number): void {
    let id = this.labelIds.get(label);
    if (id === undefined) {
      id = this.labelIds.size;
      this.labelIds.set(label, id);
      this.labelLines.push(line);
    }
    this.yIds.data[this.n] = id;
  }

  /**
   * The id of the label in bytes [start, end), without decoding it when it is short ASCII
   * (most class labels): up to 6 bytes pack into one number that keys `shortLabelIds`.
   * Returns -1 for a label the general path must read (one whose trim would differ).
   */
  private labelId(bytes: Buffer, start: number, end: number): number {
    let key = end - start <= 6 ? end - start : -1;
    for (let i = start; key >= 0 && i < end; i++) {
      const b = bytes[i]!;
      key = b < 128 ? key * 256 + b : -1;
    }
    if (key >= 0) {
      const id = this.shortLabelIds.get(key);
      if (id !== undefined) return id;
    }
    const label = bytes.toString('utf8', start, end);
    if (label.trim() !== label) return -1; // a Unicode space at an edge
    let id = this.labelIds.get(label);
    if (id === undefined) {
      id = this.labelIds.size;
      this.labelIds.set(label, id);
      this.labelLines.push(this.line);
    }
    if (key >= 0) this.shortLabelIds.set(key, id);
    return id;
  }

  /**
   * One unquoted line [pos, stop) of plain numbers (and a label cell), parsed in place.
   * Returns false, having stored nothing that counts, on anything it does not handle — a
   * blank line of other Unicode spaces, a bad or missing cell, a wrong cell count — and the
   * caller then reads the line the general way, which accepts it or words the error.
   */
  private fastRow(bytes: Buffer, pos: number, stop: number): boolean {
    const delimiter = this.delimiterByte;
    if (delimiter < 0) return false;
    let i = pos;
    while (i < stop && isAsciiSpace(bytes[i]!)) i++;
    if (i === stop) return true; // blank line
    this.reserveRow();
    const kinds = this.kinds;
    const width = this.width;
    const x = this.x.data;
    let o = this.n * this.features;
    const yNum = this.task === 'regression' ? this.yNum.data : undefined;
    const yBase = this.n * this.targets;
    let labelStart = 0;
    let labelEnd = 0;
    i = pos;
    for (let col = 0; ; ) {
      let c = i < stop ? bytes[i]! : -1;
      while (c !== delimiter && isAsciiSpace(c)) c = ++i < stop ? bytes[i]! : -1;
      const kind = kinds[col];
      if (kind === LABEL) {
        let j = i;
        while (j < stop && bytes[j] !== delimiter) j++;
        let k = j;
        while (k > i && isAsciiSpace(bytes[k - 1]!)) k--;
        if (k === i) return false;
        labelStart = i;
        labelEnd = k;
        i = j;
      } else {
        const v = scanDecimal(bytes, i, stop);
        if (v !== v) return false; // NaN: no number here
        if (overflowsFloat32(v)) return false; // the general path words the error
        if (kind === FEATURE) x[o++] = v;
        else yNum![yBase + this.targetSlot[col]!] = v;
        i = scanEnd;
      }
      c = i < stop ? bytes[i]! : -1;
      while (c !== delimiter && isAsciiSpace(c)) c = ++i < stop ? bytes[i]! : -1;
      if (++col === width) {
        if (i !== stop) return false;
        break;
      }
      if (c !== delimiter) return false;
      i++;
    }
    if (labelEnd > labelStart) {
      const id = this.labelId(bytes, labelStart, labelEnd);
      if (id < 0) return false;
      this.yIds.data[this.n] = id;
    }
    this.n++;
    return true;
  }

  private takeRow(row: Row): void {
    const { file, width, names, featureCols, labelCols } = this;
    const cells = row.cells;
    if (cells.length !== width) {
      throw new DataError(
        `${file} line ${row.line}: expected ${width} cells (as on line ${this.first!.line}), found ${cells.length}`,
        'check for a missing or extra delimiter; a field holding the delimiter must be quoted ("a,b")',
      );
    }
    this.reserveRow();
    const xd = this.x.data;
    let o = this.n * this.features;
    for (let f = 0; f < this.features; f++) {
      const c = featureCols[f]!;
      const v = parseNumber(cells[c]!);
      if (v === undefined) {
        throw new DataError(
          `${file} line ${row.line}, ${columnName(c, width, names)}: expected a number, found ${describe(cells[c])}`,
          cells[c] === ''
            ? 'fill in or drop rows with missing values'
            : 'feature columns must be numeric; if this column is the label, pass label: <its name or index>',
        );
      }
      if (overflowsFloat32(v)) {
        throw new DataError(
          `${file} line ${row.line}, ${columnName(c, width, names)}: expected a number within float32's range, found ${describe(cells[c])} (${v < 0 ? '-' : ''}Infinity as float32)`,
          OVERFLOW_HINT,
        );
      }
      xd[o++] = v;
    }
    if (this.task === 'classification') {
      const c = labelCols[0]!;
      const label = cells[c]!;
      if (label === '') {
        throw new DataError(
          `${file} line ${row.line}, label ${columnName(c, width, names)}: expected a class label, found an empty cell`,
          'fill in or drop rows with missing labels',
        );
      }
      this.addLabel(label, row.line);
    } else {
      const yd = this.yNum.data;
      const base = this.n * this.targets;
      for (let t = 0; t < this.targets; t++) {
        const c = labelCols[t]!;
        const v = parseNumber(cells[c]!);
        if (v === undefined) {
          throw new DataError(
            `${file} line ${row.line}, target ${columnName(c, width, names)}: expected a number (regression target), found ${describe(cells[c])}`,
            'regression targets must be numeric; for class labels use task: "classification"',
          );
        }
        if (overflowsFloat32(v)) {
          throw new DataError(
            `${file} line ${row.line}, target ${columnName(c, width, names)}: expected a number within float32's range, found ${describe(cells[c])} (${v < 0 ? '-' : ''}Infinity as float32)`,
            OVERFLOW_HINT,
          );
        }
        yd[base + t] = v;
      }
    }
    this.n++;
  }

  /**
   * The Dataset. Class ids: integer labels sort numerically ("0".."9" → 0..9); any other
   * labels get ids in order of first appearance. `classNames` of the result records the mapping.
   */
  finish(headerOptionGiven: boolean): Dataset {
    const { file, first, n, names } = this;
    if (first === undefined) {
      throw new DataError(`${file}: no rows: the file is empty or holds only blank lines`, 'check the path and that the file was fully written');
    }
    if (n === 0) {
      throw new DataError(
        `${file}: no data rows: only the header on line ${first.line}`,
        headerOptionGiven ? undefined : 'if line 1 is data, pass header: false',
      );
    }
    const featureNames = names ? this.featureCols.map((c) => names[c]!) : undefined;
    if (this.task === 'regression') {
      const ds: RegressionDataset = {
        task: 'regression',
        n,
        features: this.features,
        x: this.x.take(n),
        y: this.yNum.take(n),
        targets: this.targets,
        ...(names ? { featureNames, targetNames: this.labelCols.map((c) => names[c]!) } : {}),
      };
      return ds;
    }

    // Rows hold ids in order of first appearance; `remap` turns each into its final id.
    const seen = [...this.labelIds.keys()];
    const remap = new Int32Array(seen.length);
    let classNames: readonly string[];
    if (this.classNamesOption) {
      classNames = this.classNamesOption;
      const ids = new Map<string, number>();
      classNames.forEach((name, id) => ids.set(name, id));
      // The first distinct label outside the list is the first row's that is: ids follow first appearance.
      seen.forEach((label, k) => {
        const id = ids.get(label) ?? (INTEGER.test(label) ? ids.get(canonicalInteger(label)) : undefined);
        if (id === undefined) {
          const shown = classNames.slice(0, 20).map((c) => describe(c)).join(', ');
          throw new DataError(
            `${file} line ${this.labelLines[k]}: class label ${describe(label)} is not one of the ${classNames.length} known classes: ${shown}${classNames.length > 20 ? ', …' : ''}`,
            'the model can only be evaluated on the classes it was trained on',
          );
        }
        remap[k] = id;
      });
    } else if (seen.every((l) => INTEGER.test(l))) {
      // "01" and "1" are the same class; canonical names make the mapping reusable later.
      const keys = seen.map(canonicalInteger);
      const distinct = [...new Set(keys)].sort((a, b) => Number(a) - Number(b));
      const ids = new Map<string, number>();
      distinct.forEach((name, id) => ids.set(name, id));
      keys.forEach((key, k) => (remap[k] = ids.get(key)!));
      classNames = distinct;
    } else {
      remap.forEach((_, k) => (remap[k] = k));
      classNames = seen;
    }
    const y = this.yIds.take(n);
    for (let r = 0; r < n; r++) y[r] = remap[y[r]!]!;
    const ds: ClassificationDataset = {
      task: 'classification',
      n,
      features: this.features,
      x: this.x.take(n),
      y,
      classes: classNames.length,
      classNames,
      ...(featureNames ? { featureNames } : {}),
    };
    return ds;
  }
}

function canonicalInteger(label: string): string {
  return String(Number(label) + 0);
}

/**
 * Parse CSV text into a Dataset. Header detection and class ids: see CsvReader.begin and
 * CsvReader.finish.
 */
export function parseCsv(text: string, options: CsvOptions & { readonly file?: string } = {}): Dataset {
  const reader = new CsvReader(options);
  reader.feed(Buffer.from(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, 'utf8'), true);
  return reader.finish(options.header !== undefined);
}

/** Bytes read at a time; a record longer than this (a quoted field of many lines) doubles it. */
const CHUNK_BYTES = 1 << 20;

/**
 * Read and parse a CSV file (UTF-8) chunk by chunk; errors name `path`. A file read before
 * with the same options, and unchanged since, comes from the decoded-data cache.
 */
export function loadCsv(path: string, options: CsvOptions = {}): Dataset {
  const { header, label, task, delimiter, classNames } = options;
  const parseOptions = { header, label, task, delimiter, classNames };
  return withDecodedCache('csv', [path], parseOptions, options.cache, () => readCsvFile(path, options, CHUNK_BYTES));
}

/** loadCsv with a given read size: tests use tiny ones to put chunk boundaries everywhere. */
export function readCsvFile(path: string, options: CsvOptions, chunkBytes: number): Dataset {
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, 'r');
    size = fstatSync(fd).size;
  } catch (err) {
    throw unreadable(path, err);
  }
  try {
    const reader = new CsvReader({ ...options, file: path });
    let buffer = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, size + 1)));
    let held = 0; // bytes at the front of `buffer` not consumed yet
    let read = 0; // bytes read from the file so far
    const bom = Buffer.alloc(3);
    if (readAt(path, fd, bom, 0, 3, 0) === 3 && bom[0] === 0xef && bom[1] === 0xbb && bom[2] === 0xbf) read = 3; // UTF-8 BOM
    for (;;) {
      const got = readAt(path, fd, buffer, held, buffer.length - held, read);
      reader.progress(read - held, size);
      read += got;
      const final = got === 0;
      const bytes = buffer.subarray(0, held + got);
      const used = reader.feed(bytes, final);
      if (final) break;
      held = bytes.length - used;
      buffer.copyWithin(0, used, used + held);
      // A record still open after most of a buffer: read more at once, so it is rescanned a few times, not once per MiB.
      if (held * 2 > buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, held);
        buffer = bigger;
      }
    }
    return reader.finish(options.header !== undefined);
  } finally {
    closeSync(fd);
  }
}
/** At most how many rows a CSV file holds, and its columns, known before it is parsed. */
export interface CsvBound {
  /** Cells in its first record: every row must have as many. */
  readonly columns: number;
  /** An upper bound on its records (the header, if any, counted as one). */
  readonly rows: number;
  /** How `rows` was bounded: by the file's size alone, or by counting its lines. */
  readonly by: 'size' | 'lines';
  readonly bytes: number;
}

/**
 * The most rows and the columns a CSV file can hold, read from its first record and its
 * size, so that a run can plan the memory its rows need before parsing them. A record of C
 * cells takes at least 2C − 1 bytes (a character per cell but perhaps the label, a
 * delimiter between cells, a newline), so the size alone bounds the rows; `countLines` reads
 * the file once more, counting newlines — a bound as tight as the file, for when the cheap
 * one is over a limit. Undefined when the first record does not show its columns (unreadable,
 * malformed, or longer than a read); parsing the file then says what is wrong.
 */
export function csvBound(path: string, options: Pick<CsvOptions, 'delimiter'>, countLines = false): CsvBound | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const bytes = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(CHUNK_BYTES, bytes));
    const got = readSync(fd, head, 0, head.length, 0);
    const text = head.toString('utf8', 0, got).replace(/^\ufeff/, '');
    const start = /^(?:[ \t\r]*\n)*/.exec(text)![0].length; // blank lines are skipped by the reader too
    let scanned: Scanned | undefined;
    try {
      scanned = scanQuoted(text, start, options.delimiter ?? ',', path, 1, got === bytes);
    } catch {
      return undefined;
    }
    if (scanned === undefined) return undefined;
    const columns = scanned.cells.length;
    if (!countLines) return { columns, rows: Math.floor((bytes + 1) / (2 * columns - 1)), by: 'size', bytes };
    let newlines = 0;
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    for (let position = 0, n; (n = readSync(fd, chunk, 0, chunk.length, position)) > 0; position += n) {
      for (let i = chunk.indexOf(10); i >= 0 && i < n; i = chunk.indexOf(10, i + 1)) newlines++;
    }
    return { columns, rows: newlines + 1, by: 'lines', bytes };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function readAt(path: string, fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
  try {
    return readSync(fd, buffer, offset, length, position);
  } catch (err) {
    throw unreadable(path, err);
  }
}

function unreadable(path: string, err: unknown): DataError {
  const code = (err as NodeJS.ErrnoException).code;
  return new DataError(
    `${path}: cannot read the CSV file (${code ?? (err as Error).message})`,
    code === 'ENOENT' ? 'check the path; relative paths are resolved from the current directory' : undefined,
  );
}
