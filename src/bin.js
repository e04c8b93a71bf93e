#!/usr/bin/env node
// bin.js — the `threadtrain` command as package.json's `bin` names it. Two homes:
// - an installed package ships no TypeScript: this file runs the CLI bundle the build made
//   (dist/src/cli/threadtrain.cjs, see src/cli/build_bundle.ts) with plain Node, through V8's
//   code cache (src/cli/code_cache.ts), so nothing is transpiled and, from the second run on,
//   little is compiled at start-up; tsx (a devDependency) is not needed;
// - a checkout has the sources beside this file: they run through tsx, so an edit is live
//   without a build and a stale dist/ is never what runs.
// Plain JS because nothing has registered a TypeScript loader yet when this file runs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('./cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  // Imported after register(), dynamically: a static import would be resolved before it.
  const { main } = await import(source.href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const { runCachedScript } = await import('../dist/src/cli/code_cache.js');
  const cli = runCachedScript(fileURLToPath(new URL('../dist/src/cli/threadtrain.cjs', import.meta.url)));
  // Saved on exit, after the command, so the functions it compiled are cached too; also when
  // something inside (yargs after --help) calls process.exit.
  process.once('exit', () => cli.save());
  process.exitCode = await cli.exports.main(process.argv.slice(2));
}
