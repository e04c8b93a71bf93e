// build_bundle.ts — part of `npm run build`: bundles the CLI (main.ts, its commands, yargs and
// zod) into one CommonJS file, dist/src/cli/threadtrain.cjs, which the installed `threadtrain`
// command runs through V8's code cache (code_cache.ts, bin.js). Why: loading the CLI as ~150
// ES modules cost more than the work it does before the first line, and Node 20 caches no
// compiled code for modules; one script can be cached. The library (`import 'threadtrain'`)
// and the worker threads keep loading the compiled ES modules in dist/.
//
// Left out of the bundle: packages that find their own files at run time (piscina starts
// its worker from its own folder) or that only some commands load (msgpackr, comlink,
// onnx-proto). The bundle sits in dist/src/cli/, two folders below dist/ like every compiled
// module, so the worker paths the engine builds from import.meta.url still point at
// dist/workers/. CommonJS has no import.meta: the banner defines its URL from __filename.
// A package left out must be reached by a static import or require, never import(): the
// bundle runs as a vm.Script, and import() there needs vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
// which Node 20 marks experimental with a warning on stderr (tried; the package test, which
// runs train, sweep and export from the install, would catch such an import).
//
//   npx tsx src/cli/build_bundle.ts   (after tsc has written dist/)

import { build } from 'esbuild';

const BUNDLE = 'dist/src/cli/threadtrain.cjs';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // esbuild's tables say Node 20 lacks RegExp's v flag, so it would rewrite string-width's
  // /^\p{RGI_Emoji}$/v as new RegExp(...), which V8 parses when the module loads (~20 ms on
  // every start); V8 11.3 (Node 20) has the flag, and a literal is parsed when first used.
  supported: { 'regexp-set-notation': true },
  external: ['piscina', 'msgpackr', 'comlink', 'onnx-proto'],
  define: { 'import.meta.url': '__import_meta_url' },
  banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'eof',
  logLevel: 'warning',
});
