// The training log: JSON Lines, one record per line, appended as training goes, so that a
// run that dies still leaves every record written so far and `tail -f`, jq or pandas can
// read it. Also the reader used by `plot`. Record shapes are defined here; the trainer
// fills them in.
//
// Counting in records is in completed units, as a person reads them: `epoch` is 1 for the
// first epoch, `step` is the number of updates done so far (1 after the first update).
// JSON has no NaN or Infinity: a non-finite number (a diverged loss) is written as null.

import fs from 'node:fs';
import { DataError, OutputError, systemMessage } from '../errors.ts';
import { prepareOutput } from '../io/output_path.ts';

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

/**
 * Open `path` for appending (creating it and its folder if needed); `fresh` empties it first
 * (a new run's log). Each record goes out as whole lines: when a write fails part-way (a full
 * disk), the file is cut back to the last complete line and the write throws an OutputError,
 * so a reader never finds half a record at the end.
 */
export function openJsonlLog(path: string, options: { fresh?: boolean } = {}): JsonlLog {
  prepareOutput(path, 'log', 'append');
  let fd: number | undefined;
  try {
    // Truncate through the open call rather than deleting the file: the path may be a device
    // or pipe (/dev/stdout) that must not be removed.
    const c = fs.constants;
    fd = fs.openSync(path, c.O_WRONLY | c.O_CREAT | c.O_APPEND | (options.fresh ? c.O_TRUNC : 0), 0o666);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new OutputError(`cannot open log file ${path} for appending: ${systemMessage(e)}`,
      'check that the directory is writable, or choose another log path');
  }
  const regular = fs.fstatSync(fd).isFile();
  return {
    write(record: object): void {
      if (fd === undefined) throw new Error(`log ${path} is closed`);
      // One write call per record, so a reader (or a crash) never sees half a line
      // followed by another record; O_APPEND keeps concurrent writers' lines whole too.
      const bytes = Buffer.from(`${JSON.stringify(record)}\n`);
      const before = regular ? fs.fstatSync(fd).size : 0;
      let offset = 0;
      try {
        while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
      } catch (err) {
        if (regular && offset > 0) {
          try { fs.ftruncateSync(fd, before); } catch { /* the write error below says what went wrong */ }
        }
        const e = err as NodeJS.ErrnoException;
        throw new OutputError(`cannot append to the log ${path}: ${e.message}`,
          e.code === 'ENOSPC' ? 'the disk is full: free some space or log elsewhere; the log keeps every complete line written before'
            : 'check the log path and its disk; the log keeps every complete line written before');
      }
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
