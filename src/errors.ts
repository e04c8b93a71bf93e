// Errors a user can act on. Every message says where (file, line, field), what was
// expected and what was found; `hint` says what to try. The CLI prints message + hint
// without a stack trace; library callers can branch on the class.

import path from 'node:path';

export class ThreadtrainError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(hint ? `${message}\nhint: ${hint}` : message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** A config file, CLI flag or API option that does not make sense. */
export class ConfigError extends ThreadtrainError {}

/** A dataset file or array that cannot be read as asked. */
export class DataError extends ThreadtrainError {}

/** A model or checkpoint file that is corrupt, truncated or of another version. */
export class ModelFileError extends ThreadtrainError {}

/** Training stopped because numbers went bad (NaN/Inf) or a worker failed. */
export class TrainingError extends ThreadtrainError {
  readonly step: number | undefined;
  constructor(message: string, hint?: string, step?: number) {
    super(message, hint);
    this.step = step;
  }
}

/** Show a value in an error message: strings quoted, long things cut short. */
export function describe(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * A path shown in messages: relative to the current directory when it lies inside it and that
 * is shorter, else as given. "../../tmp/x" is never clearer than "/tmp/x", and a message
 * should not read differently with where the process happens to start.
 */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  const inside = rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
  return inside && rel.length < p.length ? rel : p;
}

/** A model that an export format cannot express (the message names the layer and the reason). */
export class ExportError extends ThreadtrainError {}

/**
 * A system error in words, its code once: Node's messages already start with the code
 * ("ENOENT: no such file or directory, open 'x'"), so it is added only where missing.
 */
export function systemMessage(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const message = e?.message ?? String(error);
  const code = e?.code;
  return code === undefined || message.startsWith(`${code}:`) || message.startsWith(code) ? message : `${code}: ${message}`;
}

/** An error's message up to its first line break (its hint, if any, follows on the next line). */
export function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!;
}

/** A file or folder threadtrain was asked to write that cannot be written (refused up front, or a failed write). */
export class OutputError extends ThreadtrainError {}
