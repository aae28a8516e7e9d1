// The release layout: the atomic `current` swap, history, prune selection, and which worker runs which release.
import t from 'tap'
import { lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { releaseMatch } from '../../src/run/release-check.js'
import { appendHistory, lastLive, previousRelease, releaseStack } from '../../src/release/history.js'
import {
  checkLayout,
  checkRelease,
  findReleaseRoot,
  gunicornImportOrder,
  importVerdict,
  isWithin,
  layoutOf,
  listReleases,
  pointCurrentAt,
  readCurrent,
  rebase,
  swapSymlink,
  validateReleaseName,
} from '../../src/release/layout.js'
import { removeRelease, selectPrunable } from '../../src/release/prune.js'
import { EXIT, UsageError } from '../../src/errors.js'
import type { Readiness } from '../../src/readiness/protocol.js'
import type { ReleaseHistoryEntry } from '../../src/state/state-file.js'

function tree(t: Tap.Test, releases: string[], current?: string) {
  const root = realpathSync(t.testdir({}))
  mkdirSync(join(root, 'releases'))
  for (const r of releases) {
    mkdirSync(join(root, 'releases', r))
    writeFileSync(join(root, 'releases', r, 'REVISION'), `${r}\n`)
  }
  if (current) symlinkSync(`releases/${current}`, join(root, 'current'))
  return layoutOf(root)
}

t.test('release names are single directory entries', async (t) => {
  for (const bad of ['', '.', '..', 'a/b', '../x', 'a\nb']) {
    t.throws(() => validateReleaseName('--release', bad), UsageError, JSON.stringify(bad))
  }
  t.equal(validateReleaseName('--release', '2026-05-09_1'), '2026-05-09_1')
})

t.test('the layout is checked and a missing release is named, with exit 2', async (t) => {
  const l = tree(t, ['A'], 'A')
  t.doesNotThrow(() => checkLayout(l))
  const err = t.throws(() => checkRelease(l, 'B')) as UsageError
  t.equal(err.exitCode, EXIT.USAGE)
  t.match(err.message, new RegExp(`--release B: ${l.releases}/B is not a directory.*releases present: A`))
  t.throws(() => checkLayout(layoutOf(join(l.root, 'nope'))), /no such directory/)
})

t.test('readCurrent: the link, the release it names, where it resolves; a directory is refused', async (t) => {
  const l = tree(t, ['A', 'B'], 'A')
  t.same(readCurrent(l), { target: 'releases/A', release: 'A', real: join(l.root, 'releases/A') })
  pointCurrentAt(l, 'B')
  t.same(readCurrent(l), { target: 'releases/B', release: 'B', real: join(l.root, 'releases/B') })
  t.equal(readlinkSync(l.current), 'releases/B', 'a relative link')
  const none = tree(t, ['A'])
  t.equal(readCurrent(none), null, 'no current yet')
  mkdirSync(none.current)
  t.throws(() => readCurrent(none), /is a directory, not a symlink: move it to .*releases\/NAME/)
})

t.test('swapSymlink replaces the link by rename: a reader never finds current missing', async (t) => {
  const l = tree(t, ['A', 'B'], 'A')
  const stop = join(l.root, 'stop')
  // another process reads through `current` in a tight loop while we swap it for a second
  const reader = spawn(
    process.execPath,
    [
      '-e',
      `const fs = require('fs'); let reads = 0, missing = 0
       while (!fs.existsSync(${JSON.stringify(stop)})) {
         try { fs.readFileSync(${JSON.stringify(join(l.current, 'REVISION'))}); reads++ } catch { missing++ }
       }
       process.stdout.write(JSON.stringify({ reads, missing }))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: {} },
  )
  let output = ''
  reader.stdout.on('data', (d) => (output += d))
  await new Promise((r) => setTimeout(r, 300)) // let it start reading
  // each swap fsyncs the directory, so how many fit in a second depends on the machine's load:
  // go on for at least a second and at least 500 swaps (at most 15 s)
  let swaps = 0
  const started = Date.now()
  while ((Date.now() - started < 1000 || swaps < 500) && Date.now() - started < 15_000) swapSymlink(l.current, swaps++ % 2 ? 'releases/A' : 'releases/B')
  writeFileSync(stop, '')
  await new Promise((r) => reader.on('close', r))
  const seen = JSON.parse(output) as { reads: number; missing: number }
  t.ok(seen.reads > 1000 && swaps >= 500, `the reader read ${seen.reads} times during ${swaps} swaps`)
  t.equal(seen.missing, 0, 'and never found current missing')
  t.ok(lstatSync(l.current).isSymbolicLink())
  t.same(readdirSync(l.root).filter((name) => name.startsWith('.')), [], 'no temporary link left behind')
})

t.test('paths through current map onto the new release', async (t) => {
  t.ok(isWithin('/srv/app/current', '/srv/app/current'))
  t.ok(isWithin('/srv/app/current/src', '/srv/app/current/'))
  t.notOk(isWithin('/srv/app/current2', '/srv/app/current'))
  t.equal(rebase('/srv/app/current/src', '/srv/app/current', '/srv/app/releases/B'), '/srv/app/releases/B/src')
  t.equal(rebase('/opt/lib', '/srv/app/current', '/srv/app/releases/B'), '/opt/lib')
})

t.test('findReleaseRoot recognises ROOT/releases/NAME next to a current symlink', async (t) => {
  const l = tree(t, ['A'], 'A')
  mkdirSync(join(l.releases, 'A', 'src'))
  t.equal(findReleaseRoot(join(l.releases, 'A', 'src'))?.root, l.root)
  t.equal(findReleaseRoot(l.current)?.root, l.root, 'through the symlink too')
  t.equal(findReleaseRoot(l.root), null)
  mkdirSync(join(l.root, 'bare', 'releases', 'X'), { recursive: true })
  t.equal(findReleaseRoot(join(l.root, 'bare', 'releases', 'X')), null, 'no current symlink: not a release layout')
})

t.test("Gunicorn's import order: chdir goes first only when it is not on PYTHONPATH already", async (t) => {
  t.same(gunicornImportOrder({ chdir: '/r/current', pythonpath: [], envPythonpath: ['/hooks'], startDir: '/r/releases/A' }), ['/r/current', '/r/releases/A', '/hooks'])
  const order = gunicornImportOrder({ chdir: '/r/current', pythonpath: [], envPythonpath: ['/hooks', '/r/current'], startDir: null })
  t.equal(order[0], '\0start', 'the start directory stays in front of a chdir that PYTHONPATH already holds')
  t.same(gunicornImportOrder({ chdir: '/x', pythonpath: ['/a', '/b'], envPythonpath: [], startDir: '/s' }).slice(0, 3), ['/b', '/a', '/x'], 'pythonpath entries go in front, the last first')
})

t.test('importVerdict: does the server import through current?', async (t) => {
  const links: Record<string, string> = { '/r/current': '/r/releases/B', '/r': '/r', '/alias': '/r' }
  const realpath = (p: string) => {
    for (const [from, to] of Object.entries(links)) if (p === from || p.startsWith(from + '/')) return to + p.slice(from.length)
    return p
  }
  const base = { current: '/r/current', releases: '/r/releases', currentReal: '/r/releases/B', cwd: '/r/releases/A', realpath }
  const v = (order: string[] | null) => importVerdict({ ...base, order }).verdict
  t.equal(v(['/r/current', '/hooks']), 'through-current')
  t.equal(v(['/alias/current']), 'through-current', 'the root spelled through another symlink')
  t.equal(v(['/opt/lib', '/r/current']), 'through-current', 'entries outside the layout do not decide')
  t.equal(v(['/r/releases/A']), 'stale')
  t.equal(v(['/r/releases/B/src']), 'pinned')
  t.equal(v(['\0start', '/hooks', '/r/current']), 'start-dir-decides')
  t.equal(v(['\0start', '/r/releases/A']), 'stale', 'behind the start directory, a real release path is stale either way')
  t.equal(v(null), 'unknown-differs', 'no chdir known, and the cwd is not the current release')
  t.equal(importVerdict({ ...base, cwd: '/r/releases/B', order: null }).verdict, 'unknown')
  t.equal(v(['/opt/elsewhere']), 'unknown', 'imports from outside the layout')
})

const h = (release: string, action: 'deploy' | 'rollback' = 'deploy', at = '2026-01-01T00:00:00Z'): ReleaseHistoryEntry => ({ release, at, action })

t.test('history: deploys push, rollbacks pop', async (t) => {
  const exists = () => true
  t.same(releaseStack([h('A'), h('B'), h('C')]), ['A', 'B', 'C'])
  t.same(releaseStack([h('A'), h('B'), h('C'), h('B', 'rollback')]), ['A', 'B'])
  t.same(releaseStack([h('A'), h('B'), h('B')]), ['A', 'B'], 'a redeploy of the live release is one entry')
  t.equal(previousRelease([h('A'), h('B'), h('C')], 'C', exists), 'B')
  t.equal(previousRelease([h('A'), h('B'), h('C'), h('B', 'rollback')], 'B', exists), 'A', 'a second rollback goes further back')
  t.equal(previousRelease([h('A'), h('B'), h('C'), h('B', 'rollback'), h('A', 'rollback')], 'A', exists), null, 'nowhere left')
  t.equal(previousRelease([h('A'), h('B'), h('C')], 'C', (n) => n !== 'B'), 'A', 'a removed release is skipped')
  t.equal(previousRelease([h('A'), h('B')], 'X', exists), 'B', 'current moved by hand: the last live one')
  t.equal(previousRelease([{ release: 'A', at: 'x' }, { release: 'B', at: 'y' }], 'B', exists), 'A', 'old entries without action count as deploys')
  t.equal(appendHistory(Array.from({ length: 100 }, (_, i) => h(`r${i}`)), h('new')).length, 100, 'bounded')
})

t.test('prune: keep N releases that were live; never live, previous, or never-live directories', async (t) => {
  const releases = ['A', 'B', 'C', 'D', 'E', 'staged', 'failed'].map((name, i) => ({ name, mtimeMs: i }))
  const history = [h('A', 'deploy', '2026-01-01T00:00:00Z'), h('B', 'deploy', '2026-01-02T00:00:00Z'), h('C', 'deploy', '2026-01-03T00:00:00Z'), h('D', 'deploy', '2026-01-04T00:00:00Z'), h('E', 'deploy', '2026-01-05T00:00:00Z')]
  const ll = lastLive(history)
  t.same(selectPrunable({ releases, live: 'E', previous: 'D', keep: 3, lastLive: ll }), ['A', 'B'], 'oldest first; C kept as the third')
  t.same(selectPrunable({ releases, live: 'E', previous: 'D', keep: 1, lastLive: ll }), ['A', 'B', 'C'], 'keep 1 still keeps live and previous')
  t.same(selectPrunable({ releases, live: 'E', previous: 'D', keep: 10, lastLive: ll }), [])
  // after a rollback from E to B, recency follows when each was last live
  const rolled = lastLive([...history, h('B', 'rollback', '2026-01-06T00:00:00Z')])
  t.same(selectPrunable({ releases, live: 'B', previous: 'E', keep: 3, lastLive: rolled }), ['A', 'C'], 'B live, E previous, D most recent after them')
})

t.test('removeRelease removes the tree, or only a symlink', async (t) => {
  const l = tree(t, ['A', 'B'], 'B')
  mkdirSync(join(l.releases, 'A', 'deep', 'er'), { recursive: true })
  removeRelease(l, 'A')
  t.throws(() => statSync(join(l.releases, 'A')))
  const outside = join(l.root, 'outside')
  mkdirSync(outside)
  writeFileSync(join(outside, 'keepme'), 'x')
  symlinkSync(outside, join(l.releases, 'linked'))
  removeRelease(l, 'linked')
  t.ok(statSync(join(outside, 'keepme')).isFile(), 'the target of a linked release is untouched')
  t.throws(() => removeRelease(l, '../B'))
})

const ready = (release: string | null, root: string | null): Readiness => ({
  kind: 'full',
  ready: true,
  pid: 1,
  ppid: null,
  group: null,
  status: '200 OK',
  statusCode: 200,
  release,
  root,
  bootMs: null,
  mac: null,
})

t.test('which release a worker runs: ROOT inside releases/NAME, else RELEASE', async (t) => {
  const l = tree(t, ['A', 'B'], 'B')
  const check = releaseMatch(l, 'B', null)
  t.equal(check(ready('B', join(l.releases, 'B'))), null)
  t.equal(check(ready('whatever', join(l.releases, 'B', 'src'))), null, 'ROOT decides when it is inside the layout')
  t.match(check(ready('B', join(l.releases, 'A'))), /runs the code in .*releases\/A.*not release B/, 'old code, whatever RELEASE says')
  t.equal(check(ready('B', null)), null, 'no ROOT: RELEASE')
  t.equal(check(ready('B', '/opt/app')), null, 'ROOT outside the layout: RELEASE')
  t.match(check(ready('A', null)), /reported RELEASE=A, expected release B/)
  const strict = releaseMatch(l, 'B', 'v2')
  t.match(strict(ready('B', join(l.releases, 'B'))), /reported RELEASE=B .*expected v2/, '--expect-release is checked too')
})
