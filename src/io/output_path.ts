// Output paths: the one rule for every file and folder threadtrain writes (model, checkpoint,
// log, predictions, charts, exports, sweep folders), checked before any work starts so that a
// run never trains for an hour and then finds it cannot save.
//
// The rule: missing folders are created; everything else that would make the write fail is
// refused up front with one line naming the flag and the path — a path that is a directory,
// a file standing where a folder is needed, a folder that is not writable (permissions or a
// read-only filesystem), or a target that is not a regular file (a device or pipe) where the
// file is replaced atomically. An appended file (the training log) may be a device or a pipe
// (`--log /dev/stdout`), since appending to it needs no rename.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputError } from '../errors.ts';

export type OutputKind =
  /** A file replaced atomically (temp file + rename): model, checkpoint, CSV, SVG, export. */
  | 'file'
  /** A file appended line by line: the training log. */
  | 'append'
  /** A folder the command fills with files: a tfjs export, a sweep's output folder. */
  | 'folder';

/**
 * Make `target` ready to be written as `kind`: create its missing folders, then refuse what
 * cannot be written. `label` names where the path came from in messages ("--out", "log").
 * Returns the absolute path.
 */
export function prepareOutput(target: string, label: string, kind: OutputKind = 'file'): string {
  const full = path.resolve(target);
  const folder = kind === 'folder' ? full : path.dirname(full);
  const refuse = (found: string, hint: string): never => {
    throw new OutputError(`${label} ${target}: expected ${kind === 'folder' ? 'a writable folder' : 'a file path in a writable folder'}, found ${found}`, hint);
  };

  // The nearest existing ancestor must be a folder: "a/b.txt/c" cannot be made.
  const blocker = fileInTheWay(folder);
  if (blocker !== undefined) {
    refuse(`${blocker === full ? 'a file' : `that ${blocker} is a file, not a folder`}`, `choose a path whose folders are folders, or move ${blocker} away`);
  }
  try {
    fs.mkdirSync(folder, { recursive: true });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    refuse(`that the folder ${folder} cannot be created (${e.code ?? e.message})`, writableHint(e.code));
  }

  const stat = statOrUndefined(full);
  if (kind !== 'folder' && stat !== undefined) {
    if (stat.isDirectory()) refuse('a directory', `give a file name inside it, e.g. ${path.join(target, suggestedName(label))}`);
    if (!stat.isFile() && kind === 'file') {
      refuse('a device, pipe or socket, not a regular file', 'this file is replaced atomically (temp file + rename); give the path of a regular file');
    }
  }
  const probe = kind === 'append' && stat !== undefined ? full : folder;
  try {
    fs.accessSync(probe, fs.constants.W_OK);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const what = e.code === 'EROFS' ? 'a read-only filesystem' : probe === full ? 'a file that is not writable' : 'a folder that is not writable';
    refuse(`${what} (${e.code ?? e.message}: ${probe})`, writableHint(e.code));
  }
  return full;
}

/**
 * Where a file goes when its own path cannot be written (the model at the end of a run, a
 * checkpoint during it): NAME.recovered-PID.EXT beside `near` (the checkpoint, whose folder
 * the user chose for run state), else in the current folder, else in the temp folder. The
 * process id keeps two runs that fail at once from overwriting each other's rescue.
 */
export function recoveryPaths(name: string, ext: string, near: string | undefined): string[] {
  const file = `${name}.recovered-${process.pid}${ext}`;
  const folders = [...(near !== undefined ? [path.dirname(path.resolve(near))] : []), ...currentFolder(), os.tmpdir()];
  return [...new Set(folders)].map((folder) => path.join(folder, file));
}

/** The current folder, or none when it was removed under the process (process.cwd() then throws). */
function currentFolder(): string[] {
  try {
    return [process.cwd()];
  } catch {
    return [];
  }
}

/** Write with `write` to the first of `candidates` that works; undefined when none did. */
export function writeFirstWorking(candidates: readonly string[], write: (file: string) => void): string | undefined {
  for (const candidate of candidates) {
    try {
      write(candidate);
      return candidate;
    } catch { /* try the next place */ }
  }
  return undefined;
}

/** The first existing path on the way from `dir` up to the root that is not a folder. */
function fileInTheWay(dir: string): string | undefined {
  for (let p = dir; ; p = path.dirname(p)) {
    const stat = statOrUndefined(p);
    if (stat !== undefined) return stat.isDirectory() ? undefined : p;
    if (path.dirname(p) === p) return undefined;
  }
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

function writableHint(code: string | undefined): string {
  if (code === 'EROFS') return 'the filesystem is mounted read-only; write somewhere else';
  return 'choose a folder you can write to, or change its permissions';
}

function suggestedName(label: string): string {
  if (/checkpoint/.test(label)) return 'run.ckpt';
  if (/log/.test(label)) return 'train.jsonl';
  if (/plot/.test(label)) return 'chart.svg';
  return 'model.ttm';
}

/** Every stale temp file of `writeFileAtomic` for `file`: `.NAME.PID.RANDOM.tmp` of a process that is gone. */
export function staleTempFiles(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const stale: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[a-z0-9]+\.tmp$/.exec(name.slice(prefix.length));
    if (m && !processAlive(Number(m[1]))) stale.push(path.join(dir, name));
  }
  return stale;
}

/** Whether a process with this id exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
