// cache_dir.ts — where threadtrain keeps files it can fetch or rebuild again: downloaded
// datasets (datasets/) and decoded-data caches (decoded/). One place for the rule, so the
// CLI, the loaders and the docs agree: THREADTRAIN_CACHE_DIR overrides it; otherwise the
// platform's per-user cache folder.

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
