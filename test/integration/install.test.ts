// Installed the usual ways: `npm pack` and `npm install -g` of the tarball into a fresh prefix,
// `npm install -g` of a git URL (and its demo from PATH), and `pip install` of the hook that
// `rolling-restart hook-path` names into a fresh venv with no package index. Dependencies come
// from the npm cache (`--prefer-offline`); nothing is installed outside the test's temp dirs.
import t from 'tap'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { leftovers, runDemo } from '../helpers/demo.js'
import { repoRoot } from '../helpers/paths.js'
import { tempDir } from '../helpers/tmp.js'

const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

/** The environment without tap's TypeScript loader or the npm_* settings of an enclosing `npm test`. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !/^npm_/i.test(k)))
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 180_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: timeoutMs })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.error?.message ?? ''}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`)
  return r
}

const npmInstall = ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error']

/** Pack in `dir` (the repository, or a git URL) and return the tarball's path. */
function pack(what: string, dir: string, extra: string[] = []): string {
  const r = run('npm', ['pack', '--prefer-offline', '--json', '--pack-destination', dir, ...extra, what], dir)
  const [info] = JSON.parse(r.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
  if (!info) throw new Error(`npm pack printed no file: ${r.stdout}`)
  return join(dir, info.filename)
}

/** `rolling-restart --version` and `hook-path` from the prefix's bin, as on PATH. */
function checkInstalled(t: Tap.Test, prefix: string): string {
  const bin = join(prefix, 'bin', 'rolling-restart')
  t.equal(run(bin, ['--version'], prefix).stdout.trim(), VERSION, '--version is the package.json version')
  const hooks = run(bin, ['hook-path'], prefix).stdout.trim()
  t.equal(hooks, join(prefix, 'lib', 'node_modules', 'rolling-restart', 'python-hooks'), 'hook-path is inside the installed package')
  t.ok(existsSync(join(hooks, 'rolling_restart_hook', 'gunicorn.py')), 'and holds the hook')
  const version = run(PYTHON, ['-c', 'import rolling_restart_hook as m; print(m.__version__)'], hooks).stdout.trim()
  t.equal(version, VERSION, 'the hook used from hook-path knows the version (package.json beside it)')
  // bin loads the bundle with the code cache made at build time, which this Node takes
  const loader = join(prefix, 'lib', 'node_modules', 'rolling-restart', 'bin', 'load-bundle.cjs')
  for (const argv of [['restart'], ['--version']]) {
    const seen = run(process.execPath, ['-e', `const l = require(${JSON.stringify(loader)}); l.load(${JSON.stringify(argv)}); process.stdout.write(l.cache)`], prefix).stdout
    t.equal(seen, 'accepted', `the code cache for ${argv.join(' ')} is accepted`)
  }
  return hooks
}

/** `rolling-restart demo` found on PATH in the prefix: a real Gunicorn rolled and stopped by the demo itself. */
async function demoFromPath(t: Tap.Test, prefix: string): Promise<void> {
  const env = { ...cleanEnv(), PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}` }
  const demo = runDemo(t, [], { bin: 'rolling-restart', env })
  const result = await demo.result
  t.equal(result.code, 0, 'the demo from PATH exits 0', { stderr: result.stderr.slice(-2000), stdout: result.stdout.slice(-2000) })
  t.match(result.stdout, /workers replaced: \d+ of \d+ in /, 'the demo rolled its Gunicorn')
  t.same(leftovers(demo.seen), [], 'and left no process behind')
}

t.test('npm pack, then npm install -g of the tarball into a fresh prefix', async (t) => {
  const dir = tempDir(t, 'pack')
  // the build is the test run's (npm test builds first); packing here must not rewrite dist/ under other suites
  const tarball = pack(repoRoot, dir, ['--ignore-scripts'])
  const listed = run('tar', ['tzf', tarball], dir).stdout.split('\n').filter(Boolean)
  t.ok(listed.includes('package/dist/src/main.js'), 'carries the build')
  t.ok(['main.cjs', 'main.cjs.cache', 'main.cjs.quick.cache'].every((f) => listed.includes(`package/dist/bundle/${f}`)), 'and its bundle with its code caches, which bin loads')
  t.ok(listed.includes('package/bin/load-bundle.cjs'), 'and the loader')
  t.ok(listed.includes('package/LICENSE'), 'and the LICENSE')
  t.ok(listed.includes('package/docs/protocol.md'), "and the docs the README's links point to")
  t.ok(listed.includes('package/python-hooks/pyproject.toml') && listed.includes('package/python-hooks/build_backend/hook_build.py'), 'and the hook package with its build backend')
  t.same(listed.filter((f) => f.endsWith('.map') || f.startsWith('package/dist/bench') || f.includes('/tests/') || f.includes('__pycache__')), [], 'no source maps, bench build, hook tests or bytecode')

  const prefix = tempDir(t, 'prefix')
  run('npm', [...npmInstall, '--prefix', prefix, tarball], dir)
  const hooks = checkInstalled(t, prefix)
  await demoFromPath(t, prefix)

  // the hook into a fresh venv, from hook-path, with no package index
  const venv = join(tempDir(t, 'venv'), 'v')
  run(PYTHON, ['-m', 'venv', venv], dir)
  run(join(venv, 'bin', 'pip'), ['install', '--no-index', '--disable-pip-version-check', '--no-cache-dir', hooks], dir)
  const probe = 'import rolling_restart_hook as m, rolling_restart_hook._version as b; print(m.__version__, b.VERSION, m.__file__)'
  const [installed, built, file] = run(join(venv, 'bin', 'python'), ['-c', probe], dir).stdout.trim().split(' ')
  t.equal(installed, VERSION, 'pip-installed, the hook knows the version')
  t.equal(built, VERSION, 'which the build wrote into the wheel')
  t.match(file, /\/site-packages\/rolling_restart_hook\/__init__\.py$/, 'imported from the venv, not the package')
  t.same(readdirSync(hooks).filter((f) => f === 'build' || f.endsWith('.egg-info')), [], 'the build left nothing in the hook directory')
})

t.test('from git: npm install -g of a git URL into a fresh prefix (prepare builds dist/ in the clone), then demo from PATH', async (t) => {
  // the repository's HEAD, not the working tree: commit first
  const prefix = tempDir(t, 'prefix')
  const started = Date.now()
  const install = ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', prefix]
  run('npm', [...install, `git+file://${repoRoot}`], prefix, 600_000)
  t.comment(`npm install -g of the git URL took ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const pkg = join(prefix, 'lib', 'node_modules', 'rolling-restart')
  t.notOk(lstatSync(pkg).isSymbolicLink(), 'a real folder, not a link to the deleted clone (npm/cli#3692)')
  t.ok(existsSync(join(pkg, 'dist', 'src', 'main.js')), 'prepare built dist/ in the clone')
  t.ok(existsSync(join(pkg, 'dist', 'bundle', 'main.cjs')), 'and the bundle')
  t.ok(existsSync(join(pkg, 'node_modules', 'commander')), 'with its dependencies')
  checkInstalled(t, prefix)
  await demoFromPath(t, prefix)
})
