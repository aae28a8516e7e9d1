// How bin loads the build: the CommonJS bundle with the V8 code cache that `npm run build` made.
// V8 does not check a cache's bytes (a damaged one is a fatal error in V8, tried), so the loader
// checks the SHA-1s in the cache file: a damaged cache, or one made from another bundle, is not
// given to V8, and the CLI still runs. Needs the build (npm test makes it first).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../helpers/paths.js'
import { tempDir } from '../helpers/tmp.js'

/** A copy of bin/ and dist/bundle/ in a directory of its own, to damage at will. */
function copyOfBuild(t: Tap.Test): string {
  const root = tempDir(t, 'build')
  mkdirSync(join(root, 'bin'))
  mkdirSync(join(root, 'dist', 'bundle'), { recursive: true })
  copyFileSync(join(repoRoot, 'bin', 'load-bundle.cjs'), join(root, 'bin', 'load-bundle.cjs'))
  for (const f of ['main.cjs', 'main.cjs.cache', 'main.cjs.quick.cache']) copyFileSync(join(repoRoot, 'dist', 'bundle', f), join(root, 'dist', 'bundle', f))
  return root
}

/** What the loader made of the cache, and whether the bundle it loaded has main(). */
function load(root: string, argv: string[]) {
  const script = `const l = require(${JSON.stringify(join(root, 'bin', 'load-bundle.cjs'))}); const m = l.load(${JSON.stringify(argv)}); process.stdout.write(l.cache + ' ' + typeof m.main)`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr }
}

t.test('the caches of the build are taken, for a run and for --version', async (t) => {
  const root = copyOfBuild(t)
  t.same(load(root, ['restart']), { code: 0, signal: null, out: 'accepted function', err: '' })
  t.same(load(root, ['--version']), { code: 0, signal: null, out: 'accepted function', err: '' })
})

t.test('a damaged cache is not given to V8: the bundle compiles as usual', async (t) => {
  const root = copyOfBuild(t)
  const file = join(root, 'dist', 'bundle', 'main.cjs.cache')
  const bytes = readFileSync(file)
  for (let i = 0; i < 20; i++) {
    const at = 100 + Math.floor(((i + 1) * (bytes.length - 101)) / 21)
    bytes[at] = (bytes[at] as number) ^ 0xff
  }
  writeFileSync(file, bytes)
  t.same(load(root, ['restart']), { code: 0, signal: null, out: 'damaged function', err: '' }, 'no V8 fatal error')
  writeFileSync(file, bytes.subarray(0, 40))
  t.same(load(root, ['restart']).out, 'damaged function', 'a cut one too')
})

t.test('a cache made from another bundle of the same length is not used', async (t) => {
  const root = copyOfBuild(t)
  const file = join(root, 'dist', 'bundle', 'main.cjs')
  const source = readFileSync(file, 'utf8')
  const at = source.indexOf('// ', 1000) + 3
  writeFileSync(file, source.slice(0, at) + (source[at] === 'X' ? 'Y' : 'X') + source.slice(at + 1))
  t.same(load(root, ['restart']), { code: 0, signal: null, out: 'damaged function', err: '' })
})

t.test('no cache at all: compiled as usual', async (t) => {
  const root = copyOfBuild(t)
  unlinkSync(join(root, 'dist', 'bundle', 'main.cjs.quick.cache'))
  t.same(load(root, ['--help']).out, 'none function')
  writeFileSync(join(root, 'dist', 'bundle', 'main.cjs.quick.cache'), '')
  t.same(load(root, ['--help']).out, 'damaged function', 'an empty file is a damaged one')
})
