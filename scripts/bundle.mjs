// `npm run build`, after tsc: dist/src bundled into dist/bundle, which bin/rolling-restart loads.
// Node 20 loads an ES module graph file by file: the ~110 modules of a restart (with pino's and
// commander's) took about 100 ms of its start-up, the time before the first signal. One bundle
// per lazily loaded command (esbuild's splitting keeps each `import()` a chunk of its own) loads
// in a fraction of that (docs/benchmarks.md). The bundle is made from tsc's output, so both run the
// same code; bin falls back to dist/src when there is no bundle.
import { build } from 'esbuild'
import { rmSync } from 'node:fs'

rmSync('dist/bundle', { recursive: true, force: true })
await build({
  entryPoints: ['dist/src/main.js'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // class and function names as written: commander names its errors after their class (CommanderError)
  keepNames: true,
  // the CommonJS dependencies (pino, commander) call require() for Node's own modules
  banner: { js: "import { createRequire as __rrRequire } from 'node:module'; const require = __rrRequire(import.meta.url);" },
  logLevel: 'warning',
})
