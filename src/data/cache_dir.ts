// cache_dir.ts — where threadtrain keeps files it can fetch or rebuild again: downloaded
// datasets (datasets/), decoded-data caches (decoded/) and the CLI's compiled-code cache
// (code/). One place for the rules, so the CLI, the loaders and the docs agree:
// THREADTRAIN_CACHE_DIR overrides the folder, otherwise the platform's per-user cache folder;
// THREADTRAIN_NO_CACHE turns the caches off (downloads still land in datasets/).

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
