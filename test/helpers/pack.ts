// test/helpers/pack.ts — the package as a user gets it: `npm pack` (whose prepack builds
// dist/), then an install of the tarball into an empty app folder, offline. Used by
// test/package.test.ts and bench/startup.ts.
//
// The install is offline so the suite never needs the network. `npm ci` put the tarballs of
// the runtime dependencies in npm's cache but not their registry metadata, so a plain
// `npm install ./x.tgz --offline` cannot resolve version ranges; the app gets a lockfile
// holding the repository's own pinned runtime entries instead, so npm takes each package from
// the cache by its integrity hash. The one thing the repository overrides (msgpackr's optional
// native msgpackr-extract, never loaded: we import msgpackr/pack and msgpackr/unpack) is left
// to npm, which drops an optional dependency it cannot fetch.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion; no shell, and no TypeScript loader inherited through NODE_OPTIONS. */
export function run(command: string, args: readonly string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const env = { ...process.env, ...extraEnv };
  delete env.NODE_OPTIONS;
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr: stderr || (error && typeof error.code !== 'number' ? error.message : '') });
    });
  });
}

/** npm's version, or undefined when `npm` cannot run here. */
export async function npmVersion(): Promise<string | undefined> {
  const r = await run('npm', ['--version'], repo);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

export interface Installed {
  /** The app folder; the package is in its node_modules/threadtrain. */
  readonly app: string;
  /** The paths inside the tarball, sorted. */
  readonly files: readonly string[];
}

/** Pack the repository into `dir` and install the tarball into `dir/app`, offline. */
export async function packAndInstall(dir: string): Promise<Installed> {
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], repo);
  if (packed.code !== 0) throw new Error(`npm pack failed (exit ${packed.code}):\n${packed.stderr}`);
  // prepack's build output precedes npm's JSON on stdout; the JSON array comes last.
  const info = JSON.parse(packed.stdout.slice(packed.stdout.lastIndexOf('\n[\n') + 1)) as { filename: string; files: { path: string }[] }[];
  const files = info[0]!.files.map((f) => f.path).sort();

  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  const tarball = `file:../${info[0]!.filename}`;
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const lock = JSON.parse(fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8'));
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: { threadtrain: tarball } },
    'node_modules/threadtrain': {
      version: pkg.version, resolved: tarball, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
    },
  };
  for (const [where, entry] of Object.entries(lock.packages as Record<string, { dev?: boolean }>)) {
    if (where !== '' && entry.dev !== true) packages[where] = entry;
  }
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { threadtrain: tarball } }));
  fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }));
  const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], app);
  if (install.code !== 0) {
    throw new Error(`npm install --offline of the tarball failed (exit ${install.code}); `
      + `hint: the runtime dependencies come from npm's cache: run \`npm ci\` in the repository first\n${install.stderr}`);
  }
  return { app, files };
}
