import t from 'tap'
import { spawn } from 'node:child_process'
import { closeSync, openSync, writeSync, chmodSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXIT, UsageError } from '../../src/errors.js'
import { parseSwitchFlags, type SwitchFlags } from '../../src/switch/flags.js'
import { currentRoute, nextRoute } from '../../src/switch/route.js'
import { parseDispatchScript, renderDispatchScript, type RouteSpec } from '../../src/switch/dispatch-script.js'
import { appendEntry, describeRoute, previousEntry, primaryGroup, readHistory, writeHistory, type SwitchEntry } from '../../src/switch/history.js'
import { parseGroupName, parseMapFile, renderMapFile } from '../../src/switch/map-file.js'
import { judgeGroup, type SwitchGroupFacts } from '../../src/switch/group-judgement.js'
import { replaceFile } from '../../src/switch/replace-file.js'
import { emptyState } from '../../src/state/state-file.js'

const usage = (t: Tap.Test, fn: () => unknown, message: RegExp, what: string) => {
  try {
    fn()
    t.fail(`${what}: expected a usage error`)
  } catch (err) {
    t.type(err, UsageError, what)
    t.equal((err as UsageError).exitCode, EXIT.USAGE)
    t.match((err as Error).message, message, what)
  }
}

t.test('flags: every bad combination is a usage error naming the flag, the value and the fix', async (t) => {
  const base: SwitchFlags = { to: 'app:green', map: '/etc/apache2/wsgi-live.txt' }
  usage(t, () => parseSwitchFlags({ map: '/x' }), /--to GROUP.*--back/, 'no target')
  usage(t, () => parseSwitchFlags({ ...base, back: true }), /--to app:green and --back/, 'both --to and --back')
  usage(t, () => parseSwitchFlags({ to: 'app:green' }), /--map FILE.*--dispatch FILE/, 'no file')
  usage(t, () => parseSwitchFlags({ ...base, dispatch: '/d.py' }), /--map .* and --dispatch .*give the one Apache reads/, 'two files')
  usage(t, () => parseSwitchFlags({ ...base, to: 'app green' }), /--to "app green" is not a daemon process group name.*e\.g\. app:blue/, 'space in group')
  usage(t, () => parseSwitchFlags({ ...base, to: '%{ENV:X}' }), /--to "%\{ENV:X\}"/, 'a mod_wsgi expansion is not a group')
  usage(t, () => parseSwitchFlags({ ...base, canary: '10' }), /--canary 10 needs --dispatch FILE/, 'canary with a map')
  usage(t, () => parseSwitchFlags({ ...base, canaryHeader: 'X-Canary' }), /--canary-header X-Canary needs --dispatch/, 'header with a map')
  const d: SwitchFlags = { to: 'app:green', dispatch: '/srv/dispatch.py' }
  usage(t, () => parseSwitchFlags({ ...d, canary: '101' }), /--canary "101" is not a percentage.*0 to 100/, 'percent > 100')
  usage(t, () => parseSwitchFlags({ ...d, canary: '5%' }), /--canary "5%"/, 'percent sign')
  usage(t, () => parseSwitchFlags({ ...d, stickyCookie: 'sid' }), /--sticky-cookie sid only shapes a canary share: add --canary PERCENT/, 'cookie alone')
  usage(t, () => parseSwitchFlags({ ...d, canary: '10', stickyCookie: 'a b' }), /--sticky-cookie "a b" is not a cookie name/, 'bad cookie name')
  usage(t, () => parseSwitchFlags({ ...d, canary: '10', canaryHeader: 'X_Canary' }), /--canary-header "X_Canary".*Apache leaves headers/, 'underscore header')
  usage(t, () => parseSwitchFlags({ ...d, canary: '10', canaryBy: 'cookie' }), /--canary-by "cookie" is not one of: random, remote-addr/, 'bad --canary-by')
  usage(t, () => parseSwitchFlags({ back: true, dispatch: '/d.py', canary: '10' }), /--canary 10 cannot go with --back/, 'back with canary')
  usage(t, () => parseSwitchFlags({ ...base, verifyUrl: 'localhost/_status' }), /--verify-url "localhost\/_status" is not a URL.*http:\/\//, 'no scheme')
  usage(t, () => parseSwitchFlags({ ...base, verifyUrl: 'ftp://x/' }), /--verify-url ftp:\/\/x\/ is not an http/, 'ftp')
  usage(t, () => parseSwitchFlags({ ...base, verifyTimeout: 'soon' }), /--verify-timeout "soon" is not a duration/, 'timeout')
  usage(t, () => parseSwitchFlags({ ...base, map: '/etc/apache2/' }), /--map "\/etc\/apache2\/" is not a file path/, 'directory as file')
})

t.test('flags: good combinations become a plan', async (t) => {
  const p = parseSwitchFlags({ to: 'app:green', map: 'rel/map.txt', verifyUrl: 'http://127.0.0.1:8080/green/_status', verifyTimeout: '3s' })
  t.equal(p.mechanism, 'map')
  t.equal(p.file, join(process.cwd(), 'rel/map.txt'), 'the file is made absolute')
  t.equal(p.historyPath, join(process.cwd(), 'rel/map.txt.history.json'), 'the history sits next to it')
  t.equal(p.verifyTimeoutMs, 3000)
  t.equal(p.canary, null)
  const c = parseSwitchFlags({ to: 'app:green', dispatch: '/d.py', canary: '10', stickyCookie: 'sessionid', canaryHeader: 'X-Canary', canaryBy: 'remote-addr' })
  t.same(c.canary, { percent: 10, stickyCookie: 'sessionid', header: 'X-Canary', by: 'remote-addr' })
  const h = parseSwitchFlags({ to: 'app:green', dispatch: '/d.py', canaryHeader: 'X-Canary', canaryBy: 'random' })
  t.same(h.canary, { percent: 0, stickyCookie: null, header: 'X-Canary', by: 'random' }, 'a header alone is a 0% canary the header opts into')
  t.equal(parseSwitchFlags({ back: true, map: '/m', canaryBy: 'random' }).action, 'back', "commander's default --canary-by does not count as a canary flag")
})

t.test('group names: what mod_wsgi names look like, nothing that breaks a map line or a Python literal', async (t) => {
  for (const ok of ['app:blue', 'app:maintenance', 'bob:1', 'my-app.v2', 'x@y+z']) t.equal(parseGroupName('--to', ok), ok)
  for (const bad of ['', 'a b', 'a\nb', '"x"', "it's", ':blue', 'é', 'a\\b', '%{GLOBAL}']) {
    t.throws(() => parseGroupName('--to', bad), UsageError, JSON.stringify(bad))
  }
})

t.test('map file: one `current GROUP` line, read back the way mod_rewrite reads it', async (t) => {
  const text = renderMapFile('app:green', new Date('2026-05-09T10:00:00Z'))
  t.match(text, /^# written by `rolling-restart switch` at 2026-05-09T10:00:00\.000Z/)
  t.match(text, /\ncurrent app:green\n$/)
  t.equal(parseMapFile(text), 'app:green')
  t.equal(parseMapFile('# c\n\n  current   app:blue  \ncurrent app:green\n'), 'app:blue', 'first key wins')
  t.equal(parseMapFile('currently app:blue\n'), null)
  t.equal(parseMapFile(''), null)
})

t.test('replaceFile: a new inode each time, the old mode kept, mtime strictly increasing, nothing left behind', async (t) => {
  const dir = t.testdir({})
  const path = join(dir, 'wsgi-live.txt')
  const first = replaceFile(path, 'current app:blue\n', { flag: '--map' })
  t.equal(first.previousInode, null)
  t.equal(statSync(path).mode & 0o777, 0o644, 'new files are readable by the server user whatever the umask')
  chmodSync(path, 0o640)
  // a burst of switches inside one tick of the file-time clock still leaves distinct mtimes
  const future = new Date(Date.now() + 60_000)
  utimesSync(path, future, future) // an old file with an mtime ahead of the clock
  let lastMtime = statSync(path).mtimeMs
  for (let i = 0; i < 20; i++) {
    const group = i % 2 ? 'app:blue' : 'app:green'
    const r = replaceFile(path, `current ${group}\n`, { flag: '--map' })
    const st = statSync(path)
    t.equal(st.ino, r.inode)
    t.not(r.inode, r.previousInode, `switch ${i}: rename put a new inode in place`)
    t.ok(st.mtimeMs > lastMtime, `switch ${i}: mtime moved forward (${st.mtimeMs} > ${lastMtime})`)
    lastMtime = st.mtimeMs
    t.equal(st.mode & 0o777, 0o640, 'the mode of the replaced file is kept')
    t.equal(readFileSync(path, 'utf8'), `current ${group}\n`)
  }
  // The file system hands the inode freed by one rename to the next temp file, so inodes alternate
  // between two numbers: (inode, size) alone cannot tell A -> B -> A apart; the mtime must.
  t.same(readdirSync(dir), ['wsgi-live.txt'], 'no temporary file is left behind')
})

// A reader in another process, as Apache is: it reads the file in a tight loop until told to stop
// and counts reads that are not one whole version (each version starts with `current ` and ends
// with `# end`).
const READER = `
import os, sys
path, stop = sys.argv[1], sys.argv[2]
reads = partial = missing = 0
while not os.path.exists(stop):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        missing += 1
        continue
    reads += 1
    if reads == 1:
        sys.stderr.write("reading\\n")
        sys.stderr.flush()
    if not (data.startswith(b"current ") and data.endswith(b"# end\\n")):
        partial += 1
print(reads, partial, missing)
`

/** Start the reader; resolves `reading` once it has read the file once (python's start-up varies a lot on a busy machine). */
const watch = (path: string, stop: string) => {
  const child = spawn('python3', ['-c', READER, path, stop], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  const reading = new Promise<void>((resolve) => child.stderr.once('data', () => resolve()))
  const done = new Promise<{ reads: number; partial: number; missing: number }>((resolve) =>
    child.on('close', () => {
      const [reads, partial, missing] = out.trim().split(' ').map(Number)
      resolve({ reads: reads ?? 0, partial: partial ?? 0, missing: missing ?? 0 })
    }),
  )
  return { reading, done }
}

const version = (group: string): string => `current ${group}\n` + `# ${'x'.repeat(120)}\n`.repeat(2000) + '# end\n'

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('a reader in another process never sees a partial or missing file; the same reader does catch in-place writes', async (t) => {
  const dir = t.testdir({})
  const path = join(dir, 'map.txt')
  replaceFile(path, version('app:blue'), { flag: '--map' })

  const stop = join(dir, 'stop')
  const seen = watch(path, stop)
  await seen.reading
  for (let i = 0; i < 150; i++) {
    replaceFile(path, version(i % 2 ? 'app:blue' : 'app:green'), { flag: '--map' })
    if (i % 10 === 0) await sleepMs(5)
  }
  writeFileSync(stop, '')
  const atomic = await seen.done
  t.ok(atomic.reads > 50, `the reader read ${atomic.reads} times during 150 switches`)
  t.equal(atomic.partial, 0, 'never a partial file')
  t.equal(atomic.missing, 0, 'never a missing file')

  // control: the same reader against a writer that truncates and writes in place, slowly
  const stop2 = join(dir, 'stop2')
  const seen2 = watch(path, stop2)
  await seen2.reading
  for (let i = 0; i < 30; i++) {
    const text = version(i % 2 ? 'app:blue' : 'app:green')
    const fd = openSync(path, 'w')
    writeSync(fd, text.slice(0, text.length / 2))
    await sleepMs(2)
    writeSync(fd, text.slice(text.length / 2))
    closeSync(fd)
  }
  writeFileSync(stop2, '')
  const naive = await seen2.done
  t.ok(naive.partial > 0, `in-place writes are caught half-written (${naive.partial} of ${naive.reads} reads): the reader can fail`)
})

t.test('replaceFile refuses a symlink and a missing directory, naming the flag', async (t) => {
  const dir = t.testdir({ real: 'current app:blue\n' })
  symlinkSync(join(dir, 'real'), join(dir, 'link'))
  t.throws(() => replaceFile(join(dir, 'link'), 'x', { flag: '--map' }), /--map .*link is a symbolic link.*realpath/)
  t.equal(readFileSync(join(dir, 'real'), 'utf8'), 'current app:blue\n', 'the link target is untouched')
  t.throws(() => replaceFile(join(dir, 'none', 'map'), 'x', { flag: '--map' }), /--map .*the directory .*none does not exist/)
})

const entry = (route: RouteSpec, extra: Partial<SwitchEntry> = {}): SwitchEntry => ({
  at: 'now',
  route,
  from: null,
  back: false,
  forced: false,
  pid: 1,
  user: null,
  ...extra,
})

t.test('history: --back goes to the switch before the last, and again toggles like cd -', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'map.txt')
  const plan = parseSwitchFlags({ back: true, map: file })
  t.throws(() => nextRoute(plan, null, null), /--back: nothing to go back to: .*records no switch/)
  let h = appendEntry(null, { mechanism: 'map', file }, entry({ to: 'app:blue', canary: null }))
  t.throws(() => nextRoute(plan, null, h), /records only one switch.*--to GROUP/)
  h = appendEntry(h, { mechanism: 'map', file }, entry({ to: 'app:green', canary: null }))
  t.same(nextRoute(plan, null, h), { to: 'app:blue', canary: null })
  h = appendEntry(h, { mechanism: 'map', file }, entry({ to: 'app:blue', canary: null }, { back: true }))
  t.same(nextRoute(plan, null, h), { to: 'app:green', canary: null }, 'a second --back returns to green')
  writeHistory(plan.historyPath, h)
  const back = readHistory(plan.historyPath, '--history')
  t.same(back, h, 'the history file round-trips')
  t.equal(previousEntry(back)?.route.to, 'app:green')
  writeFileSync(plan.historyPath, '{"version": 1')
  t.throws(() => readHistory(plan.historyPath, '--history'), /not valid JSON: move it aside/)
  // a file that routed somewhere before the first switch: that route is the first entry
  const seeded = appendEntry(null, { mechanism: 'map', file, live: { to: 'app:blue', canary: null }, liveSince: '2026-01-01T00:00:00.000Z' }, entry({ to: 'app:green', canary: null }))
  t.same(seeded.entries.map((e) => [e.route.to, e.seeded ?? false, e.at]), [['app:blue', true, '2026-01-01T00:00:00.000Z'], ['app:green', false, 'now']])
  t.same(nextRoute(plan, null, seeded), { to: 'app:blue', canary: null }, '--back after the very first switch returns to the hand-written route')
  t.equal(appendEntry(seeded, { mechanism: 'map', file, live: { to: 'x', canary: null } }, entry({ to: 'app:blue', canary: null })).entries.length, 3, 'only an empty history is seeded')
  const many = Array.from({ length: 80 }, (_, i) => i).reduce(
    (acc, i) => appendEntry(acc, { mechanism: 'map', file }, entry({ to: `g${i}`, canary: null })),
    null as ReturnType<typeof appendEntry> | null,
  )
  t.equal(many?.entries.length, 50, 'the history keeps the last 50 switches')
  t.equal(many?.entries.at(-1)?.route.to, 'g79')
})

t.test('canary routes keep the group that is live now as the stable side', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'dispatch.py')
  const plan = parseSwitchFlags({ to: 'app:green', dispatch: file, canary: '10', stickyCookie: 'sid' })
  t.throws(() => nextRoute(plan, null, null), /--canary sends a share to app:green .*does not exist yet.*switch everything with/)
  const full: RouteSpec = { to: 'app:blue', canary: null }
  const r = nextRoute(plan, full, null)
  t.same(r, { to: 'app:green', canary: { stable: 'app:blue', percent: 10, stickyCookie: 'sid', header: null, by: 'random' } })
  t.equal(describeRoute(r), 'app:green for 10% (rest app:blue; sticky by cookie sid)')
  t.equal(primaryGroup(r), 'app:blue')
  // ramping up keeps the same stable side
  const more = nextRoute(parseSwitchFlags({ to: 'app:green', dispatch: file, canary: '50' }), r, null)
  t.equal(more.canary?.stable, 'app:blue')
  t.throws(() => nextRoute(parseSwitchFlags({ to: 'app:blue', dispatch: file, canary: '10' }), r, null), /app:blue already serves the traffic outside the canary/)
  // what is live is read back from the file itself
  writeFileSync(file, renderDispatchScript(r))
  t.same(currentRoute({ mechanism: 'dispatch', file, fileFlag: '--dispatch' }, null), r)
  writeFileSync(file, 'def process_group(environ):\n    return "app:blue"\n')
  t.equal(currentRoute({ mechanism: 'dispatch', file, fileFlag: '--dispatch' }, null), null, 'a hand-written script is not guessed at')
  t.throws(() => nextRoute(plan, null, null), /it was not written by rolling-restart/)
  t.same(parseDispatchScript(renderDispatchScript(full)), full)
})

const facts = (over: Partial<SwitchGroupFacts>): SwitchGroupFacts => ({
  group: 'app:green',
  live: [11, 12],
  expected: null,
  state: null,
  rollRunner: null,
  verify: null,
  ...over,
})

const rolledState = (pids: number[]) => {
  const s = emptyState('mod_wsgi--app%3Agreen', 'app:green', 'mod_wsgi', 10)
  for (const pid of pids) {
    s.workers[String(pid)] = { pid, ready: true, replacedPid: pid - 10, readyAt: 1, readyMs: 900, bootMs: 800, status: '200 OK', release: 'r2', root: null }
  }
  return s
}

t.test('readiness: every live process ready in the last roll, or --verify-url 2xx', async (t) => {
  const ok = judgeGroup(facts({ state: rolledState([11, 12]) }))
  t.equal(ok.ready, true)
  t.same(ok.readyPids, [11, 12])

  const never = judgeGroup(facts({}))
  t.equal(never.ready, false)
  t.match(never.problems.join(), /processes 11, 12 never reported READY \(it has never been rolled by rolling-restart\)/)
  t.equal(judgeGroup(facts({ verify: { url: 'http://x/_status', ok: true, detail: '200 OK' } })).ready, true, '--verify-url vouches for unknown processes')

  const respawned = judgeGroup(facts({ live: [11, 13], state: rolledState([11, 12]) }))
  t.match(respawned.problems.join(), /process 13 never reported READY \(they started after its last roll\)/)
  t.same(respawned.unknownPids, [13])

  const failed = rolledState([11])
  failed.workers['12'] = { ...(failed.workers['11'] as NonNullable<(typeof failed.workers)[string]>), pid: 12, ready: false, status: '500 Internal Server Error' }
  const f = judgeGroup(facts({ state: failed, verify: { url: 'http://x/', ok: true, detail: '200 OK' } }))
  t.equal(f.ready, false, 'a recorded failed boot is not overridden by a good --verify-url')
  t.match(f.problems.join(), /process 12 \(500 Internal Server Error\) reported a failed boot/)

  const er = rolledState([11, 12])
  er.errorResistance = { reason: 'not-ready', message: 'READY=0', at: '2026-05-09', runPid: 5, oldPid: 1, newPid: 2, replaced: [], untouched: [], surplus: 0 }
  t.match(judgeGroup(facts({ state: er })).problems.join(), /error-resistance mode since 2026-05-09 \(not-ready: READY=0\)/)

  t.match(judgeGroup(facts({ state: rolledState([11, 12]), rollRunner: 77 })).problems.join(), /rolling restart of it is running now \(pid 77\)/)
  const half = rolledState([11, 12])
  half.roll = { runPid: 66, startedAt: 'x', strategy: 'replace', total: 4, done: 2, inFlight: [], oldPids: [] }
  t.match(judgeGroup(facts({ state: half })).problems.join(), /last roll \(pid 66\) stopped at step 3 of 4/)

  t.match(judgeGroup(facts({ live: [] })).problems.join(), /no daemon process of app:green is running/)
  t.match(
    judgeGroup(facts({ live: [11], state: rolledState([11, 12]) })).problems.join(),
    /only 1 of the 2 processes it had after its last roll are running \(gone: 12\)/,
    'a process that died and is not back yet',
  )
  t.match(judgeGroup(facts({ state: rolledState([11, 12]), expected: 3 })).problems.join(), /only 2 of its 3 processes are running/)
  const bad = judgeGroup(facts({ state: rolledState([11, 12]), verify: { url: 'http://x/', ok: false, detail: '500 Internal Server Error' } }))
  t.match(bad.problems.join(), /--verify-url http:\/\/x\/ answered 500 Internal Server Error, not 2xx/)
})
