import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCsv, parseCsv, readCsvFile } from '../src/data/csv.ts';
import type { ClassificationDataset, RegressionDataset } from '../src/data/dataset.ts';
import { ConfigError, DataError } from '../src/errors.ts';

const f32 = (a: number[]) => Float32Array.from(a);
const cls = (text: string, options: Parameters<typeof parseCsv>[1] = {}) =>
  parseCsv(text, { file: 'data.csv', ...options }) as ClassificationDataset;
const reg = (text: string, options: Parameters<typeof parseCsv>[1] = {}) =>
  parseCsv(text, { file: 'data.csv', task: 'regression', ...options }) as RegressionDataset;

describe('parseCsv: reading', () => {
  it('reads a header, numeric features and string labels in order of first appearance', () => {
    const ds = cls('x1,x2,species\n1,2,setosa\n3.5,-4e-1,virginica\n5,+6,setosa\n');
    expect(ds.task).toBe('classification');
    expect(ds.n).toBe(3);
    expect(ds.features).toBe(2);
    expect(ds.x).toEqual(f32([1, 2, 3.5, -0.4, 5, 6]));
    expect(Array.from(ds.y)).toEqual([0, 1, 0]);
    expect(ds.classes).toBe(2);
    expect(ds.classNames).toEqual(['setosa', 'virginica']);
    expect(ds.featureNames).toEqual(['x1', 'x2']);
  });

  it('sorts integer labels numerically, so "0".."9" become ids 0..9 and "10" follows "2"', () => {
    const ds = cls('a,b\n1,10\n2,2\n3,0\n4,02\n5,-1\n');
    expect(ds.classNames).toEqual(['-1', '0', '2', '10']);
    expect(Array.from(ds.y)).toEqual([3, 2, 1, 2, 0]);
    expect(ds.classes).toBe(4);
  });

  it('treats a fully numeric first line as data (header auto-detected off)', () => {
    const ds = cls('1,2,0\n3,4,1\n');
    expect(ds.n).toBe(2);
    expect(ds.x).toEqual(f32([1, 2, 3, 4]));
    expect(ds.featureNames).toBeUndefined();
  });

  it('does not mistake a text class label on line 1 for a header', () => {
    const ds = cls('1,2,cat\n3,4,dog\n5,6,cat');
    expect(ds.n).toBe(3);
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(ds.y)).toEqual([0, 1, 0]);
  });

  it('honours an explicit header: true even when the header is numeric', () => {
    const ds = cls('10,20,30\n4,5,6\n', { header: true });
    expect(ds.n).toBe(1);
    expect(ds.featureNames).toEqual(['10', '20']);
    expect(ds.classNames).toEqual(['6']);
  });

  it('picks the label column by name, by index and by negative index', () => {
    const text = 'y,x1,x2\n1,0.5,0.25\n0,1.5,2.5\n';
    const byName = cls(text, { label: 'y' });
    expect(byName.x).toEqual(f32([0.5, 0.25, 1.5, 2.5]));
    expect(Array.from(byName.y)).toEqual([1, 0]);
    expect(byName.featureNames).toEqual(['x1', 'x2']);
    const byIndex = cls(text, { label: 0 });
    expect(byIndex.x).toEqual(byName.x);
    const byNegative = cls(text, { label: -3 });
    expect(Array.from(byNegative.y)).toEqual([1, 0]);
    const byDigits = cls(text, { label: '0' }); // CLI flags arrive as strings
    expect(Array.from(byDigits.y)).toEqual([1, 0]);
    const middle = cls(text, { label: -2 });
    expect(middle.x).toEqual(f32([1, 0.25, 0, 2.5]));
    expect(middle.classNames).toEqual(['0.5', '1.5']);
  });

  it('reads several regression targets, row-major, with their names', () => {
    const ds = reg('a,t1,b,t2\n1,10,2,20\n3,30,4,40\n5,50,6,60.5\n', { label: ['t2', 't1'] });
    expect(ds.task).toBe('regression');
    expect(ds.features).toBe(2);
    expect(ds.targets).toBe(2);
    expect(ds.x).toEqual(f32([1, 2, 3, 4, 5, 6]));
    expect(ds.y).toEqual(f32([20, 10, 40, 30, 60.5, 50]));
    expect(ds.featureNames).toEqual(['a', 'b']);
    expect(ds.targetNames).toEqual(['t2', 't1']);
  });

  it('defaults regression to one target, the last column', () => {
    const ds = reg('0.5,1\n-2,3.25\n');
    expect(ds.targets).toBe(1);
    expect(ds.y).toEqual(f32([1, 3.25]));
    expect(ds.x).toEqual(f32([0.5, -2]));
  });

  it('skips blank and whitespace-only lines, CRLF line ends, a BOM and a trailing newline', () => {
    const ds = cls('\ufeffx1,x2,y\r\n\r\n1,2,a\r\n   \r\n\t\r\n3, 4 ,b\r\n\r\n');
    expect(ds.n).toBe(2);
    expect(ds.x).toEqual(f32([1, 2, 3, 4]));
    expect(ds.classNames).toEqual(['a', 'b']);
    expect(ds.featureNames).toEqual(['x1', 'x2']);
  });

  it('reads quoted fields holding the delimiter, doubled quotes and newlines', () => {
    const text = 'x1,"x,2",city\n1,"2.5","New York, NY"\n3,4,"say ""hi"""\n5,6,"two\nlines"\n7,8,plain\n';
    const ds = cls(text);
    expect(ds.featureNames).toEqual(['x1', 'x,2']);
    expect(ds.x).toEqual(f32([1, 2.5, 3, 4, 5, 6, 7, 8]));
    expect(ds.classNames).toEqual(['New York, NY', 'say "hi"', 'two\nlines', 'plain']);
  });

  it('keeps counting physical lines after a quoted field spans two of them', () => {
    // The multi-line record occupies lines 2-3, so the bad cell is on line 4.
    expect(() => cls('x1,x2,y\n1,2,"a\nb"\n3,oops,c\n')).toThrow(/data\.csv line 4, column "x2"/);
  });

  it('accepts other one-character delimiters', () => {
    const semi = cls('a;b;y\n1.5;2;p\n', { delimiter: ';' });
    expect(semi.featureNames).toEqual(['a', 'b']);
    expect(semi.x).toEqual(f32([1.5, 2]));
    expect(() => cls('a;b;y\n1,5;2;p\n', { delimiter: ';' })).toThrow(/line 2, column "a" \(1 of 3\): expected a number, found "1,5"/);
    const tab = cls('a\tb\ty\n1\t2\tp\n3\t4\tq\n', { delimiter: '\t' });
    expect(tab.x).toEqual(f32([1, 2, 3, 4]));
  });

  it('maps labels through a fixed classNames list, in its order', () => {
    const ds = cls('x,y\n1,b\n2,c\n3,b\n', { classNames: ['a', 'b', 'c'] });
    expect(ds.classes).toBe(3);
    expect(ds.classNames).toEqual(['a', 'b', 'c']);
    expect(Array.from(ds.y)).toEqual([1, 2, 1]);
    const digits = cls('x,y\n1,07\n2,3\n', { classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
    expect(Array.from(digits.y)).toEqual([7, 3]);
  });
});

describe('parseCsv: errors', () => {
  it('names file, line, column name and number, and the text of a non-numeric feature', () => {
    const text = 'x1,x2,y\n1,2,a\n3,abc,b\n';
    expect(() => cls(text)).toThrow(DataError);
    expect(() => cls(text)).toThrow(/^data\.csv line 3, column "x2" \(2 of 3\): expected a number, found "abc"/);
  });

  it('counts the header and blank lines in line numbers', () => {
    expect(() => cls('x1,x2,y\n\n1,2,a\n\n3,zz,b\n')).toThrow(/data\.csv line 5, column "x2" \(2 of 3\)/);
  });

  it('numbers columns without names when there is no header', () => {
    expect(() => cls('1,2,0\n3,4,1\n5,6e,1\n')).toThrow(/line 3, column 2 of 3: expected a number, found "6e"/);
  });

  it('rejects an empty feature cell and hex or infinite numbers', () => {
    expect(() => cls('x1,x2,y\n1,,a\n')).toThrow(/line 2, column "x2" \(2 of 3\): expected a number, found ""/);
    expect(() => cls('x1,x2,y\n0x1f,1,a\n')).toThrow(/column "x1" \(1 of 3\): expected a number, found "0x1f"/);
    expect(() => cls('x1,x2,y\n1,Infinity,a\n')).toThrow(/found "Infinity"/);
  });

  it('reports a row with the wrong number of cells, expected vs found', () => {
    expect(() => cls('x1,x2,y\n1,2,a\n3,4,b\n5,c\n')).toThrow(/^data\.csv line 4: expected 3 cells \(as on line 1\), found 2/);
    expect(() => cls('1,2,a\n3,4,b,9\n')).toThrow(/line 2: expected 3 cells \(as on line 1\), found 4/);
  });

  it('lists the header names when the label column is not found', () => {
    expect(() => cls('x1,x2,y\n1,2,a\n', { label: 'target' })).toThrow(
      /data\.csv: label column "target" not found; the header on line 1 has "x1", "x2", "y"/,
    );
  });

  it('explains a label name given for a file without a header', () => {
    expect(() => cls('1,2,0\n', { label: 'target', header: false })).toThrow(
      /label column "target" is given by name, but the file has no header row/,
    );
  });

  it('rejects a label index outside the row', () => {
    expect(() => cls('1,2,0\n', { label: 3 })).toThrow(/label column index 3 is out of range: rows have 3 columns \(0\.\.2, or -3\.\.-1/);
    expect(() => cls('1,2,0\n', { label: -4 })).toThrow(/label column index -4 is out of range/);
  });

  it('rejects an empty file and a file of blank lines', () => {
    expect(() => cls('')).toThrow(/^data\.csv: no rows: the file is empty or holds only blank lines/);
    expect(() => cls('\n  \r\n\n')).toThrow(/data\.csv: no rows/);
  });

  it('rejects a header with no data rows', () => {
    expect(() => cls('x1,x2,y\n\n')).toThrow(/^data\.csv: no data rows: only the header on line 1/);
  });

  it('rejects a non-numeric regression target, naming the target column', () => {
    expect(() => reg('a,y\n1,2\n3,high\n')).toThrow(
      /data\.csv line 3, target column "y" \(2 of 2\): expected a number \(regression target\), found "high"/,
    );
  });

  it('rejects a class label outside a fixed classNames list and lists the known classes', () => {
    expect(() => cls('x,y\n1,a\n2,d\n', { classNames: ['a', 'b', 'c'] })).toThrow(
      /data\.csv line 3: class label "d" is not one of the 3 known classes: "a", "b", "c"/,
    );
  });

  it('rejects an empty class label', () => {
    expect(() => cls('x,y\n1,a\n2,\n')).toThrow(/line 3, label column "y" \(2 of 2\): expected a class label, found an empty cell/);
  });

  it('reports an unterminated quote at the line where it opened', () => {
    expect(() => cls('x,y\n1,a\n2,"b\n3,c\n')).toThrow(/data\.csv line 3: a quoted field opened in column 2 is never closed/);
  });

  it('rejects nonsense options as ConfigError', () => {
    expect(() => cls('1,2\n', { delimiter: ',,' })).toThrow(ConfigError);
    expect(() => cls('1,2\n', { delimiter: '"' })).toThrow(/delimiter must be one character other than a quote or a newline, found "\\""/);
    expect(() => cls('1,2,3\n', { label: [0, 1] })).toThrow(/classification needs exactly one label column/);
  });

  it('puts a hint on the error', () => {
    try {
      cls('x1,x2,y\n1,2,a\n3,4\n');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).hint).toMatch(/delimiter/);
    }
  });
});

describe('loadCsv', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-csv-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a file and names it in errors', () => {
    const file = path.join(dir, 'iris.csv');
    fs.writeFileSync(file, 'len,wid,kind\n5.1,3.5,setosa\n7.0,3.2,versicolor\n');
    const ds = loadCsv(file) as ClassificationDataset;
    expect(ds.n).toBe(2);
    expect(ds.x).toEqual(f32([5.1, 3.5, 7.0, 3.2]));
    expect(ds.classNames).toEqual(['setosa', 'versicolor']);

    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'len,wid,kind\n5.1,3.5,setosa\n7.0,?,versicolor\n');
    let message = '';
    try {
      loadCsv(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`${bad} line 3, column "wid" (2 of 3): expected a number, found "?"`);
  });

  it('reports a missing file with the path and the system error code', () => {
    const missing = path.join(dir, 'nope.csv');
    expect(() => loadCsv(missing)).toThrow(DataError);
    expect(() => loadCsv(missing)).toThrow(`${missing}: cannot read the CSV file (ENOENT)`);
  });

  it('reads a regression file with a named target', () => {
    const file = path.join(dir, 'reg.csv');
    fs.writeFileSync(file, 'y,x\n0.5,1\n1.5,2\n');
    const ds = loadCsv(file, { task: 'regression', label: 'y' }) as RegressionDataset;
    expect(ds.y).toEqual(f32([0.5, 1.5]));
    expect(ds.x).toEqual(f32([1, 2]));
    expect(ds.targetNames).toEqual(['y']);
  });
});

describe('loadCsv: streaming in chunks', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-csv-chunks-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('reads the same dataset whatever the chunk size, with a chunk boundary at every byte', () => {
    // BOM, CRLF, blank lines, quoted fields across lines and with doubled quotes, multi-byte labels, padded cells.
    const text = '\ufeffx1,"x,2",kind\r\n\r\n1.5,-2e-3,"two\r\nlines"\r\n 3 ,4,café\r\n\t\r\n5,.5,"say ""hi"""\n7,8.,ünïcode ✓\n9,1e1, cat\u00a0\n';
    const file = write('mixed.csv', text);
    const want = parseCsv(text, { file });
    expect(want.n).toBe(5);
    expect((want as ClassificationDataset).classNames).toEqual(['two\nlines', 'café', 'say "hi"', 'ünïcode ✓', 'cat']);
    for (let chunk = 1; chunk <= text.length + 2; chunk++) expect(readCsvFile(file, {}, chunk), `chunk ${chunk}`).toEqual(want);
  });

  it('reads 3,000 generated rows through small chunks into exactly the numbers written', () => {
    const rows = 3000;
    const values: number[] = [];
    let text = 'a,b,c,label\n';
    for (let r = 0; r < rows; r++) {
      const row = [r / 7, -r * 1.25e-3, (r % 13) - 6.5];
      values.push(...row.map((v) => Number(String(v)))); // String(-0) is "0"
      text += `${row.map((v) => String(v)).join(',')},${['lo', 'mid', 'hi'][r % 3]}\n`;
    }
    const file = write('rows.csv', text);
    for (const chunk of [4096, 333, 1 << 20]) {
      const ds = readCsvFile(file, {}, chunk) as ClassificationDataset;
      expect(ds.n).toBe(rows);
      expect(ds.x).toEqual(Float32Array.from(values));
      expect(ds.x.length).toBe(rows * 3);
      expect(ds.classNames).toEqual(['lo', 'mid', 'hi']);
      expect(Array.from(ds.y.subarray(0, 6))).toEqual([0, 1, 2, 0, 1, 2]);
    }
    const numeric = write('numeric.csv', text.replace(/,(lo|mid|hi)\n/g, (_, name: string) => `,${name.length}\n`));
    const regression = readCsvFile(numeric, { task: 'regression', label: ['b', 'a'] }, 500) as RegressionDataset;
    expect(regression.targets).toBe(2);
    expect(regression.y).toEqual(Float32Array.from(values.flatMap((_, k) => (k % 3 === 0 ? [values[k + 1]!, values[k]!] : []))));
    expect(regression.x).toEqual(Float32Array.from(values.flatMap((v, k) => (k % 3 === 2 ? [v, [2, 3, 2][(k - 2) / 3 % 3]!] : []))));
  });

  it('names the right line for a bad cell far into the file, past many chunks', () => {
    let text = 'x,y\n';
    for (let r = 0; r < 2500; r++) text += r === 2400 ? '\n' : `${r},${r % 2}\n`;
    text += '1.5,0\n2,1\n2x,0\n';
    const file = write('late.csv', text);
    expect(() => readCsvFile(file, {}, 100)).toThrow(`${file} line 2504, column "x" (1 of 2): expected a number, found "2x"`);
    expect(() => loadCsv(file)).toThrow(`${file} line 2504, column "x" (1 of 2): expected a number, found "2x"`);
  });

  it('reports a quote left open at the end of a streamed file at the line where it opened', () => {
    const file = write('open.csv', `x,y\n${'1,a\n'.repeat(200)}2,"b\n3,c\n`);
    expect(() => readCsvFile(file, {}, 64)).toThrow(`${file} line 202: a quoted field opened in column 2 is never closed`);
  });

  it('reads a file with a non-ASCII delimiter', () => {
    const file = write('section.csv', 'a§b§y\n1§2§p\n3§4.5§q\n');
    const ds = readCsvFile(file, { delimiter: '§' }, 3) as ClassificationDataset;
    expect(ds.x).toEqual(f32([1, 2, 3, 4.5]));
    expect(ds.classNames).toEqual(['p', 'q']);
  });
});
