// cache_dir.ts — where threadtrain keeps files it can fetch or rebuild again: downloaded
// datasets (datasets/), decoded-data caches (decoded/) and the CLI's compiled-code cache
// (code/). One place for the rules, so the CLI, the loaders and the docs agree:
// THREADTRAIN_CACHE_DIR overrides the folder, otherwise the platform's per-user cache folder;
// THREADTRAIN_NO_CACHE turns the caches off (downloads still land in datasets/). The caches'
// one writer is here too (writeCacheFile).

import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The root of threadtrain's cache folder (not created here). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.THREADTRAIN_CACHE_DIR) return path.resolve(env.THREADTRAIN_CACHE_DIR);
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'threadtrain');
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'threadtrain', 'Cache');
  const xdg = env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'threadtrain');
}

/** Whether the rebuildable caches (decoded data, compiled code) are on: not under THREADTRAIN_NO_CACHE (any value but "" or "0"). */
export function cachesEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const off = env.THREADTRAIN_NO_CACHE;
  return off === undefined || off === '' || off === '0';
}

/**
 * Write a cache entry: `parts`, one after another, into a temporary file renamed over `file`,
 * so a reader never sees half an entry. No fsync: an entry lost in a crash is rebuilt. Any
 * failure leaves no file and is ignored (false): a cache that cannot be written never fails a run.
 */
export function writeCacheFile(file: string, parts: readonly Uint8Array[]): boolean {
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    fd = openSync(temp, 'wx');
    for (const part of parts) {
      for (let done = 0; done < part.length; ) done += writeSync(fd, part, done, part.length - done);
    }
    closeSync(fd);
    fd = undefined;
    renameSync(temp, file);
    return true;
  } catch {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // never created
    }
    return false;
  }
}
