// `npm run build`, after tsc: dist/src bundled into dist/bundle/main.cjs, which bin/rolling-restart
// loads (through bin/load-bundle.cjs), with V8's code cache for it. Node 20 loads an ES module graph
// file by file: the ~110 modules of a restart (with pino's and commander's) took about 100 ms of its
// start-up, the time before the first signal. One file loads in a fraction of that, and with the
// code cache nothing of it is compiled at run time (docs/benchmarks.md). CommonJS, because Node 20
// has no code cache for ES modules. The bundle is made from tsc's output, so both run the same code;
// bin falls back to dist/src when there is no bundle.
import { build } from 'esbuild'
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'

rmSync('dist/bundle', { recursive: true, force: true })
await build({
  entryPoints: ['dist/src/main.js'],
  outfile: 'dist/bundle/main.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // class and function names as written: commander names its errors after their class (CommanderError)
  keepNames: true,
  // import.meta.url (paths.ts finds the package from it): the bundle's own file
  define: { 'import.meta.url': '__rrModuleUrl' },
  banner: { js: "var __rrModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
})

function node(args, what) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' })
  if (r.status !== 0) {
    console.error(`bundle: ${what} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): ${r.stderr}`)
    process.exit(1)
  }
  return r.stdout
}

// each in a process of its own, with the V8 flags that a run sets (bin/load-bundle.cjs)
for (const kind of ['run', 'quick']) {
  node(['bin/load-bundle.cjs', '--write-cache', kind], `the ${kind} code cache`)
  const argv = kind === 'quick' ? ['--version'] : ['restart']
  const seen = node(['-e', `const l = require('./bin/load-bundle.cjs'); l.load(${JSON.stringify(argv)}); process.stdout.write(l.cache)`], 'loading the bundle')
  if (seen !== 'accepted') {
    console.error(`bundle: V8 did not take the ${kind} code cache it just made (${seen})`)
    process.exit(1)
  }
}
