#!/usr/bin/env node
// bin.js — the `threadtrain` command as package.json's `bin` names it. Two homes:
// - an installed package ships no TypeScript: this file runs the compiled CLI in dist/ with
//   plain Node, so nothing is transpiled at start-up and tsx (a devDependency) is not needed;
// - a checkout has the sources beside this file: they run through tsx, so an edit is live
//   without a build and a stale dist/ is never what runs.
// Plain JS because nothing has registered a TypeScript loader yet when this file runs.
import { existsSync } from 'node:fs';

const source = new URL('./cli/main.ts', import.meta.url);
let entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
}
// Imported after register(), dynamically: a static import would be resolved before it.
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
