#!/usr/bin/env node
// bin.js — the `threadtrain` command as package.json's `bin` names it. The sources are
// TypeScript run by tsx, so this shim registers tsx's loader and then loads the CLI; a
// checkout works after `npm install` with no build step. Plain JS because nothing has
// registered a TypeScript loader yet when this file runs.
import { register } from 'tsx/esm/api';

register();
// Imported after register(), dynamically: a static import would be resolved before it.
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
