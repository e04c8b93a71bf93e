// CSV (any single-character delimiter) to Dataset: numeric feature columns plus one class
// label column, or one or more numeric target columns for regression. Rows are parsed
// straight into a growing Float32Array rather than kept as strings, so a 60,000-row
// MNIST CSV costs its numbers, not tens of millions of small strings.

import { readFileSync } from 'node:fs';
import { ConfigError, DataError, describe } from '../errors.ts';
import type { ClassificationDataset, Dataset, RegressionDataset } from './dataset.ts';

// errors.describe prints NaN and ±Infinity as null (JSON); numbers read better as themselves.
const show = (v: unknown): string => (typeof v === 'number' ? String(v) : describe(v));

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
 * broken file into silently wrong features.
 */
function parseNumber(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}

/**
 * Rows of `text`, blank lines skipped. Lines without a quote take the fast path (split);
 * the others go through an RFC 4180 scanner: a field that starts with `"` may hold the
 * delimiter, newlines and doubled quotes. Unquoted cells are trimmed, quoted ones kept.
 */
function* csvRows(text: string, delimiter: string, file: string): Generator<Row> {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 0;
  while (pos < text.length) {
    line++;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let raw = text.slice(pos, end);
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (raw.trim() === '') {
      pos = end + 1;
      continue;
    }
    if (!raw.includes('"')) {
      yield { line, cells: raw.split(delimiter).map((c) => c.trim()) };
      pos = end + 1;
      continue;
    }
    const start = line;
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
            throw new DataError(
              `${file} line ${start}: a quoted field opened in column ${cells.length + 1} is never closed`,
              'close the field with a double quote; a quote inside a quoted field is written twice ("")',
            );
          }
          const chunk = text.slice(k, q);
          for (let c = 0; c < chunk.length; c++) if (chunk[c] === '\n') line++;
          value += chunk;
          if (text[q + 1] === '"') {
            value += '"';
            k = q + 2;
          } else {
            k = q + 1;
            break;
          }
        }
        while (k < text.length && (text[k] === ' ' || text[k] === '\t' || text[k] === '\r') && text[k] !== delimiter) {
          if (text[k] === '\r' && text[k + 1] !== '\n') break;
          k++;
        }
        cells.push(value.replace(/\r\n/g, '\n'));
        if (k >= text.length || text[k] === '\n') {
          pos = k + 1;
          break;
        }
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
        cells.push(text.slice(i, k).trim());
        if (k >= text.length || text[k] === '\n') {
          pos = k + 1;
          break;
        }
        i = k + 1;
      }
    }
    yield { line: start, cells };
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
          `${file}: label column index ${show(item)} is out of range: rows have ${width} columns (0..${width - 1}, or -${width}..-1 from the end)`,
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

/** Growable float buffer: rows are appended before their count is known. */
class FloatBuffer {
  data = new Float32Array(1024);
  length = 0;
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const next = new Float32Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  take(): Float32Array {
    return this.data.slice(0, this.length);
  }
}

function canonicalInteger(label: string): string {
  return String(Number(label) + 0);
}

/**
 * Parse CSV text into a Dataset.
 *
 * Header detection (when `header` is not given): line 1 is a header if the label is given
 * by a name that line 1 contains, or if any of line 1's cells outside a classification
 * label column is not a number. (Whether line 2 is numeric only decides which error a
 * malformed file gets, so it is not consulted: the error then points at line 2's cell.)
 *
 * Class ids: integer labels sort numerically ("0".."9" → 0..9); any other labels get ids
 * in order of first appearance. `classNames` of the result records the mapping.
 */
export function parseCsv(text: string, options: CsvOptions & { readonly file?: string } = {}): Dataset {
  const file = options.file ?? 'CSV text';
  const task = options.task ?? 'classification';
  if (task !== 'classification' && task !== 'regression') {
    throw new ConfigError(`CSV task must be "classification" or "regression", found ${describe(task)}`);
  }
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new ConfigError(
      `CSV delimiter must be one character other than a quote or a newline, found ${describe(delimiter)}`,
      'use "," (default), ";", "\\t" or "|"',
    );
  }
  const labelSpec: readonly (string | number)[] =
    options.label === undefined ? [-1] : Array.isArray(options.label) ? options.label : [options.label as string | number];
  if (labelSpec.length === 0 || (task === 'classification' && labelSpec.length !== 1)) {
    throw new ConfigError(
      `${file}: ${task} needs ${task === 'classification' ? 'exactly one label column' : 'at least one target column'}, found ${describe(options.label)}`,
      task === 'classification' ? 'several target columns need task: "regression"' : undefined,
    );
  }

  const rows = csvRows(text, delimiter, file);
  const firstNext = rows.next();
  if (firstNext.done) {
    throw new DataError(`${file}: no rows: the file is empty or holds only blank lines`, 'check the path and that the file was fully written');
  }
  const first = firstNext.value;
  const width = first.cells.length;

  let hasHeader = options.header;
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
  const isLabel = new Uint8Array(width);
  for (const c of labelCols) isLabel[c] = 1;
  const featureCols: number[] = [];
  for (let c = 0; c < width; c++) if (!isLabel[c]) featureCols.push(c);
  if (featureCols.length === 0) {
    throw new DataError(
      `${file}: no feature columns: rows have ${width} column${width === 1 ? '' : 's'} and all are labels`,
      'check the delimiter (a file read with the wrong one has a single column)',
    );
  }
  const features = featureCols.length;
  const targets = labelCols.length;

  const x = new FloatBuffer();
  const yNum = new FloatBuffer();
  const labels: string[] = [];
  const labelLines: number[] = [];
  let n = 0;

  const takeRow = (row: Row): void => {
    const cells = row.cells;
    if (cells.length !== width) {
      throw new DataError(
        `${file} line ${row.line}: expected ${width} cells (as on line ${first.line}), found ${cells.length}`,
        'check for a missing or extra delimiter; a field holding the delimiter must be quoted ("a,b")',
      );
    }
    x.reserve(features);
    const xd = x.data;
    let o = x.length;
    for (let f = 0; f < features; f++) {
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
      xd[o++] = v;
    }
    x.length = o;
    if (task === 'classification') {
      const c = labelCols[0]!;
      const label = cells[c]!;
      if (label === '') {
        throw new DataError(
          `${file} line ${row.line}, label ${columnName(c, width, names)}: expected a class label, found an empty cell`,
          'fill in or drop rows with missing labels',
        );
      }
      labels.push(label);
      labelLines.push(row.line);
    } else {
      yNum.reserve(targets);
      for (let t = 0; t < targets; t++) {
        const c = labelCols[t]!;
        const v = parseNumber(cells[c]!);
        if (v === undefined) {
          throw new DataError(
            `${file} line ${row.line}, target ${columnName(c, width, names)}: expected a number (regression target), found ${describe(cells[c])}`,
            'regression targets must be numeric; for class labels use task: "classification"',
          );
        }
        yNum.data[yNum.length++] = v;
      }
    }
    n++;
  };

  if (!hasHeader) takeRow(first);
  for (const row of rows) takeRow(row);
  if (n === 0) {
    throw new DataError(
      `${file}: no data rows: only the header on line ${first.line}`,
      options.header === undefined ? 'if line 1 is data, pass header: false' : undefined,
    );
  }

  const featureNames = names ? featureCols.map((c) => names[c]!) : undefined;
  if (task === 'regression') {
    const ds: RegressionDataset = {
      task: 'regression',
      n,
      features,
      x: x.take(),
      y: yNum.take(),
      targets,
      ...(names ? { featureNames, targetNames: labelCols.map((c) => names[c]!) } : {}),
    };
    return ds;
  }

  const y = new Int32Array(n);
  let classNames: readonly string[];
  if (options.classNames) {
    classNames = options.classNames;
    const ids = new Map<string, number>();
    classNames.forEach((name, id) => ids.set(name, id));
    for (let r = 0; r < n; r++) {
      const label = labels[r]!;
      const id = ids.get(label) ?? (INTEGER.test(label) ? ids.get(canonicalInteger(label)) : undefined);
      if (id === undefined) {
        const shown = classNames.slice(0, 20).map((c) => describe(c)).join(', ');
        throw new DataError(
          `${file} line ${labelLines[r]}: class label ${describe(label)} is not one of the ${classNames.length} known classes: ${shown}${classNames.length > 20 ? ', …' : ''}`,
          'the model can only be evaluated on the classes it was trained on',
        );
      }
      y[r] = id;
    }
  } else {
    const allIntegers = labels.every((l) => INTEGER.test(l));
    const ids = new Map<string, number>();
    if (allIntegers) {
      // "01" and "1" are the same class; canonical names make the mapping reusable later.
      const keys = labels.map(canonicalInteger);
      const distinct = [...new Set(keys)].sort((a, b) => Number(a) - Number(b));
      distinct.forEach((name, id) => ids.set(name, id));
      for (let r = 0; r < n; r++) y[r] = ids.get(keys[r]!)!;
      classNames = distinct;
    } else {
      for (let r = 0; r < n; r++) {
        const label = labels[r]!;
        let id = ids.get(label);
        if (id === undefined) ids.set(label, (id = ids.size));
        y[r] = id;
      }
      classNames = [...ids.keys()];
    }
  }
  const ds: ClassificationDataset = {
    task: 'classification',
    n,
    features,
    x: x.take(),
    y,
    classes: classNames.length,
    classNames,
    ...(featureNames ? { featureNames } : {}),
  };
  return ds;
}

/** Read and parse a CSV file (UTF-8); errors name `path`. */
export function loadCsv(path: string, options: CsvOptions = {}): Dataset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(
      `${path}: cannot read the CSV file (${code ?? (err as Error).message})`,
      code === 'ENOENT' ? 'check the path; relative paths are resolved from the current directory' : undefined,
    );
  }
  return parseCsv(text, { ...options, file: path });
}
