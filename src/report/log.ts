// The training log: JSON Lines, one record per line, appended as training goes, so that a
// run that dies still leaves every record written so far and `tail -f`, jq or pandas can
// read it. Also the reader used by `plot`. Record shapes are defined here; the trainer
// fills them in.
//
// Counting in records is in completed units, as a person reads them: `epoch` is 1 for the
// first epoch, `step` is the number of updates done so far (1 after the first update).
// JSON has no NaN or Infinity: a non-finite number (a diverged loss) is written as null.

import fs from 'node:fs';
import { dirname } from 'node:path';
import { DataError, systemMessage } from '../errors.ts';

/** Written once at the end of each epoch. */
export interface EpochRecord {
  type: 'epoch';
  /** Epochs completed, 1-based. */
  epoch: number;
  /** Updates completed in the whole run. */
  step: number;
  /** Mean training loss over the epoch. */
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Learning rate of the last update of the epoch. */
  lr: number;
  samplesPerSec: number;
  /** L2 norm of each layer's gradient (weights and biases together), in layer order. */
  gradNorms?: number[];
  /** Seconds since training started. */
  time: number;
}

/** Written every N updates when step logging is on. */
export interface StepRecord {
  type: 'step';
  /** The epoch in progress, 1-based. */
  epoch: number;
  /** Updates completed in the whole run, this one included. */
  step: number;
  loss: number;
  lr: number;
  samplesPerSec: number;
  gradNorms?: number[];
  /** Seconds since training started. */
  time: number;
}

export type LogRecord = EpochRecord | StepRecord;

export interface JsonlLog {
  write(record: object): void;
  close(): void;
}

/** Open `path` for appending (creating it and its directory if needed). */
export function openJsonlLog(path: string): JsonlLog {
  let fd: number | undefined;
  try {
    fs.mkdirSync(dirname(path), { recursive: true });
    fd = fs.openSync(path, 'a');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DataError(`cannot open log file ${path} for appending: ${systemMessage(e)}`,
      'check that the directory is writable, or choose another log path');
  }
  return {
    write(record: object): void {
      if (fd === undefined) throw new Error(`log ${path} is closed`);
      // One write call per record, so a reader (or a crash) never sees half a line
      // followed by another record; O_APPEND keeps concurrent writers' lines whole too.
      const bytes = Buffer.from(`${JSON.stringify(record)}\n`);
      let offset = 0;
      while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
    },
    close(): void {
      if (fd === undefined) return;
      const open = fd;
      fd = undefined;
      fs.closeSync(open);
    },
  };
}

/** Parse a JSON Lines file into its objects, skipping blank lines. */
export function readJsonl(path: string): Record<string, unknown>[] {
  return readJsonlLines(path).map((entry) => entry.record);
}

/** As `readJsonl`, keeping each record's 1-based line number for error messages. */
export function readJsonlLines(path: string): { line: number; record: Record<string, unknown> }[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DataError(`cannot read ${path}: ${systemMessage(e)}`,
      e.code === 'ENOENT' ? 'check the path; relative paths are resolved from the current directory' : 'check that the path is a readable file');
  }
  const lines = text.split('\n');
  const out: { line: number; record: Record<string, unknown> }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const source = lines[i]!.trim();
    if (source === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (err) {
      const last = i === lines.length - 1;
      throw new DataError(
        `${path}:${i + 1}: expected one JSON object per line, found text that is not JSON (${(err as Error).message})`,
        last
          ? 'the last line is incomplete; the run was probably interrupted while writing it — delete that line'
          : 'every line of a .jsonl file must be a complete JSON object',
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataError(
        `${path}:${i + 1}: expected a JSON object, found ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
        'every line of a .jsonl file must be a JSON object such as {"type":"epoch",...}',
      );
    }
    out.push({ line: i + 1, record: value as Record<string, unknown> });
  }
  return out;
}
