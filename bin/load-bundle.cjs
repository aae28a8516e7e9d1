'use strict'
// How bin/rolling-restart loads the CLI: V8's flags first, then the bundle of dist/src with V8's
// code cache for it, or null when there is no bundle (bin then loads dist/src).
//
// The flags, before anything is compiled:
// - V8's young generation is kept at its first size (1 MiB semi-spaces) instead of doubling while
//   the code loads: what a run allocates afterwards hardly outlives a round, and the doubled space
//   only adds resident memory (about 5 MiB on a 64-worker roll; see docs/benchmarks.md). V8 reads
//   this flag each time it would grow the space.
// - No optimizing compiler (TurboFan; Maglev where a later V8 turns it on): a run is short and
//   waits on the kernel, so no function gets hot enough to repay its compilation, which ran on
//   background threads. Rolling 64 Gunicorn workers it cost about 0.15 s of CPU and 8 MiB of
//   resident memory, and made nothing faster. Set only on the V8 versions known to have these
//   flags (Node 20 and 22): V8 prints an error for a flag it does not know.
//
// The bundle (scripts/bundle.mjs) is one CommonJS file, compiled here with a code cache that
// `node bin/load-bundle.cjs --write-cache` made at build time. A run gets the cache of every
// function, so it compiles nothing (about 60 ms sooner to its first signal, for some 5 MiB of
// bytecode); `--version` and `--help` get the cache of the top level only, which loads in a
// fraction of that. V8 checks a cache against the length of the source, its own version and these
// flags, and ignores one that does not match (another Node, other flags): the bundle is then
// compiled as usual. It does not check the cache's bytes: a damaged cache crashes V8 (a fatal
// error, tried). So the cache file starts with the SHA-1 of the source it was made from and of the
// cache itself, and one that does not match both is not handed to V8. Node 20 has no code cache
// for ES modules, hence CommonJS.
const v8 = require('node:v8')

v8.setFlagsFromString('--semi-space-growth-factor=1')
const major = Number(process.versions.v8.split('.')[0])
if (major >= 11 && major <= 12) {
  v8.setFlagsFromString('--no-opt')
  v8.setFlagsFromString('--no-maglev')
}

const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const Module = require('node:module')

const BUNDLE = path.join(__dirname, '..', 'dist', 'bundle', 'main.cjs')
const CACHE = { run: `${BUNDLE}.cache`, quick: `${BUNDLE}.quick.cache` }

/** Whether `argv` only asks for the version or help: it then runs next to nothing of the bundle. A wrong guess only costs time. */
function quick(argv) {
  return argv.length === 0 || argv[0] === 'help' || argv.some((a) => a === '--version' || a === '-V' || a === '--help' || a === '-h')
}

function compile(source, cachedData) {
  return new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData })
}

// the cache file: MAGIC, the SHA-1 of the bundle's bytes, the SHA-1 of the cache, the cache
const MAGIC = Buffer.from('rolling-restart code cache 1\n')
const DIGEST = 20
const sha1 = (bytes) => require('node:crypto').createHash('sha1').update(bytes).digest()

/** The cache made from `bytes` (the bundle), or why there is none to use: `none` (no file), `damaged` (it does not match). */
function readCache(file, bytes) {
  let data
  try {
    data = fs.readFileSync(file)
  } catch {
    return 'none'
  }
  const head = MAGIC.length + 2 * DIGEST
  if (data.length <= head || !data.subarray(0, MAGIC.length).equals(MAGIC)) return 'damaged'
  const cache = data.subarray(head)
  const madeFrom = data.subarray(MAGIC.length, MAGIC.length + DIGEST)
  const digest = data.subarray(MAGIC.length + DIGEST, head)
  try {
    return madeFrom.equals(sha1(bytes)) && digest.equals(sha1(cache)) ? cache : 'damaged'
  } catch {
    return 'damaged' // no SHA-1 here (a crypto policy): the bundle is compiled as usual
  }
}

/**
 * The bundle's exports, or null when it was not built. `cache` then says what became of the code
 * cache: `accepted`, `rejected` (by V8), `damaged` (not given to V8) or `none`.
 */
function load(argv = process.argv.slice(2)) {
  let bytes
  try {
    bytes = fs.readFileSync(BUNDLE)
  } catch (err) {
    if (err && err.code === 'ENOENT') return null
    throw err
  }
  const cache = readCache(quick(argv) ? CACHE.quick : CACHE.run, bytes)
  const script = compile(bytes.toString('utf8'), typeof cache === 'string' ? undefined : cache)
  exports.cache = typeof cache === 'string' ? cache : script.cachedDataRejected ? 'rejected' : 'accepted'
  const mod = { exports: {} }
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(BUNDLE), mod, BUNDLE, path.dirname(BUNDLE))
  return mod.exports
}

/**
 * At build time, one of the two caches: `run`, every function compiled (`--no-lazy`), or `quick`,
 * the top level only. One per process: V8 would hand a second compile of the same source the
 * functions of the first.
 */
function writeCache(kind) {
  const bytes = fs.readFileSync(BUNDLE)
  if (kind === 'run') v8.setFlagsFromString('--no-lazy')
  const script = compile(bytes.toString('utf8'))
  // back to the flags a run has, which the cache records and V8 checks
  if (kind === 'run') v8.setFlagsFromString('--lazy')
  const cache = script.createCachedData()
  write(CACHE[kind], Buffer.concat([MAGIC, sha1(bytes), sha1(cache), cache]))
}

function write(file, data) {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, data)
  fs.renameSync(tmp, file)
}

exports.cache = 'none'
exports.load = load

if (require.main === module && process.argv[2] === '--write-cache') writeCache(process.argv[3] === 'quick' ? 'quick' : 'run')
