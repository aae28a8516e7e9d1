import t from 'tap'
import { formatUptime, modeOf, renderStatus, roleOf, type StatusReport } from '../../src/commands/status.js'
import { renderListing } from '../../src/status/render.js'
import { emptyState } from '../../src/state/state-file.js'

const rolling = () => {
  const s = emptyState('k', 'app:blue', 'mod_wsgi', 100)
  s.roll = { runPid: 7, startedAt: 'then', strategy: 'replace', total: 4, done: 1, inFlight: [12], oldPids: [11, 12, 13, 14] }
  s.workers['21'] = { pid: 21, ready: true, replacedPid: 11, readyAt: 1, readyMs: 1200, bootMs: 1100, status: '200 OK', release: 'r2', root: null }
  return s
}

t.test('mode: never rolled, normal, rolling, interrupted, error-resistance', async (t) => {
  t.same(modeOf(null, false), { mode: 'never rolled', detail: null }, 'no state file: no run has recorded this group')
  const ran = emptyState('k', 'app', 'gunicorn', 1)
  t.same(modeOf(ran, false), { mode: 'never rolled', detail: null }, 'a state file without a run (switch, mode) is not a roll')
  ran.runs.push({ at: 'then', ok: true, replaced: 2, aborted: null, durationMs: 5 })
  t.same(modeOf(ran, false), { mode: 'normal', detail: null })
  t.same(modeOf(rolling(), true), { mode: 'rolling', detail: 'step 2 of 4 (replace, run 7)' })
  t.match(modeOf(rolling(), false), { mode: 'interrupted', detail: /run 7 stopped at step 2 of 4/ })
  const er = rolling()
  er.errorResistance = { reason: 'ready-timeout', message: 'no READY within 60 s', at: 'x', runPid: 7, oldPid: 11, newPid: null, replaced: [], untouched: [], surplus: 0 }
  t.same(modeOf(er, true), { mode: 'error-resistance', detail: 'ready-timeout: no READY within 60 s' })
})

t.test('worker roles during and after a roll', async (t) => {
  const s = rolling()
  t.equal(roleOf(12, s, true), 'being replaced')
  t.equal(roleOf(13, s, true), 'old')
  t.equal(roleOf(21, s, true), 'new')
  t.equal(roleOf(22, s, true), 'booting', 'a new child that has not reported yet')
  t.equal(roleOf(21, s, false), 'new')
  t.equal(roleOf(13, s, false), 'old')
  s.workers['23'] = { pid: 23, ready: false, replacedPid: 12, readyAt: 1, readyMs: null, bootMs: null, status: '500 Internal Server Error', release: null, root: null }
  t.equal(roleOf(23, s, false), 'failed')
})

t.test('the table shows each worker with its release and role', async (t) => {
  const r: StatusReport = {
    group: 'app:blue',
    server: 'mod_wsgi',
    masterPid: 100,
    mode: 'rolling',
    detail: 'step 2 of 4',
    errorResistance: null,
    surplus: 0,
    lastRun: null,
    workers: [
      { pid: 12, uptimeMs: 3_700_000, cpuPercent: 1.2, rssBytes: 50 * 1024 * 1024, release: null, role: 'being replaced' },
      { pid: 21, uptimeMs: 5_000, cpuPercent: null, rssBytes: null, release: 'r2', role: 'new' },
    ],
  }
  const out = renderStatus(r)
  t.match(out, /Mode {5}: rolling \(step 2 of 4\)/)
  t.match(out, /12 +1h 1m +1% +50\.0 MiB +- +Rolling restarting\.\.\./)
  t.match(out, /21 +5s +- +- +r2 +new/)
})

t.test('uptime formatting', async (t) => {
  t.equal(formatUptime(59_000), '59s')
  t.equal(formatUptime(61_000), '1m 1s')
  t.equal(formatUptime(2 * 86_400_000 + 3 * 3_600_000), '2d 3h')
})

const MiB = 1024 * 1024

const fullReport = (over: Partial<StatusReport> = {}): StatusReport => ({
  group: 'app',
  server: 'uwsgi',
  masterPid: 100,
  mode: 'normal',
  detail: null,
  errorResistance: null,
  surplus: 0,
  lastRun: { at: '2026-01-02T03:04:05.000Z', ok: true, replaced: 2, aborted: null, durationMs: 3100 },
  master: { pid: 100, uptimeMs: 7_260_000, rssBytes: 40 * MiB, pssBytes: 12 * MiB },
  memory: { bytes: 52 * MiB, measure: 'PSS', processes: 3, note: null },
  listen: { addresses: ['127.0.0.1:8000', 'unix:/run/app.sock'] },
  requests: { from: 'the stats server at 127.0.0.1:1717' },
  replaced: { total: 5, runs: 3 },
  workers: [
    { pid: 12, uptimeMs: 65_000, cpuPercent: 0, rssBytes: 30 * MiB, release: 'r2', preloaded: false, role: 'new', requests: 1234, replacements: 3 },
    { pid: 13, uptimeMs: 5_000, cpuPercent: 2, rssBytes: 31 * MiB, release: 'r2', preloaded: false, role: 'new', requests: 7, replacements: 2 },
  ],
  ...over,
})

t.test('the block: master uptime and memory, group memory, listen addresses, requests and replacements', async (t) => {
  const out = renderStatus(fullReport())
  t.match(out, /Master {3}: 100, up 2h 1m, RSS 40\.0 MiB, PSS 12\.0 MiB\n/)
  t.match(out, /Memory {3}: 52\.0 MiB PSS, master \+ 2 worker\(s\)\n/)
  t.match(out, /Listen {3}: 127\.0\.0\.1:8000, unix:\/run\/app\.sock\n/)
  t.match(out, /Requests : per worker, from the stats server at 127\.0\.0\.1:1717\n/)
  t.match(out, /Replaced : 5 worker\(s\) by rolling-restart over the last 3 run\(s\)/)
  t.match(out, /\n {2}PID +Uptime +CPU +RSS +Requests +Replaced +Release +State\n/)
  t.match(out, /\n {2}12 +1m 5s +0% +30\.0 MiB +1234 +3 +r2 +new\n/)
  const rows = out.split('\n').filter((l) => /^ {2}\S/.test(l))
  t.equal(new Set(rows.map((l) => l.indexOf('Release') >= 0 ? l.indexOf('Release') : l.indexOf('r2'))).size, 1, 'the columns line up')
})

t.test('the block says what it cannot read or the server does not expose, instead of leaving it out', async (t) => {
  const out = renderStatus(
    fullReport({
      server: 'gunicorn',
      listen: { addresses: null, why: "cannot read /proc/100/fd (EACCES): run status as the server's user or as root" },
      requests: { why: 'not exposed by Gunicorn: ...' },
      memory: { bytes: 101 * MiB, measure: 'RSS', processes: 3, note: 'RSS, since the PSS of 100 cannot be read' },
      workers: fullReport().workers.map((w) => ({ ...w, requests: null })),
    }),
  )
  t.match(out, /Listen {3}: cannot be read: cannot read \/proc\/100\/fd \(EACCES\)/)
  t.match(out, /Requests : not exposed by Gunicorn/)
  t.match(out, /Memory {3}: 101\.0 MiB RSS, master \+ 2 worker\(s\) \(RSS, since the PSS of 100 cannot be read\)/)
  t.match(out, /\n {2}PID +Uptime +CPU +RSS +Replaced +Release +State\n/, 'no Requests column when there are none')
  t.match(renderStatus(fullReport({ server: 'mod_wsgi' })), /Master {3}: 100 \(Apache's parent process\), up/)
  t.match(renderStatus(fullReport({ listen: { addresses: [] } })), /Listen {3}: no listening socket held by the master/)
})

t.test('the listing: a header for the host, a block per group, and what is found but cannot be shown', async (t) => {
  const out = renderListing({
    stateDir: '/var/lib/rolling-restart',
    host: { running: 2, inStateDir: 1, unlisted: [{ server: 'uwsgi', masterPid: 300, group: null, problem: 'uWSGI master 300 also runs --mule processes' }] },
    groups: [fullReport({ server: 'gunicorn', group: 'a', mode: 'never rolled' }), fullReport({ group: 'b' }), fullReport({ group: 'old', workers: [], gone: 'no uWSGI group found for --group old' })],
  })
  t.match(out, /^-+ this host -+\nRunning  : 2 group\(s\) \(1 gunicorn, 1 uwsgi\)\nState dir: \/var\/lib\/rolling-restart, 1 group\(s\) recorded\nUnlisted : uwsgi master 300: uWSGI master 300 also runs --mule/)
  t.match(out, /-+ gunicorn group: a -+\nMaster[^\n]*\nMode {5}: never rolled\n/)
  t.match(out, /-+ uwsgi group: old -+\nMaster {3}: 100 \(not found now: no uWSGI group found/)
  t.notMatch(out.slice(out.indexOf('group: old')), /PID +Uptime/, 'no empty table for a group that is gone')
  t.match(renderListing({ stateDir: '/x', host: { running: 0, inStateDir: 0, unlisted: [] }, groups: [] }), /no group has been rolled with the state directory \/x yet; name one with --group NAME/)
})
