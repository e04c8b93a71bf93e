// vitest globalSetup: the whole suite (and every process it spawns) keeps its decoded-data
// and dataset caches in one temporary folder, removed afterwards, never in the user's cache.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadtrain-test-cache-'));
  process.env.THREADTRAIN_CACHE_DIR = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
