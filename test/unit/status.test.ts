import t from 'tap'
import { formatUptime, modeOf, renderStatus, roleOf, type StatusReport } from '../../src/commands/status.js'
import { emptyState } from '../../src/state/state-file.js'

const rolling = () => {
  const s = emptyState('k', 'app:blue', 'mod_wsgi', 100)
  s.roll = { runPid: 7, startedAt: 'then', strategy: 'replace', total: 4, done: 1, inFlight: [12], oldPids: [11, 12, 13, 14] }
  s.workers['21'] = { pid: 21, ready: true, replacedPid: 11, readyAt: 1, readyMs: 1200, bootMs: 1100, status: '200 OK', release: 'r2', root: null }
  return s
}

t.test('mode: normal, rolling, interrupted, error-resistance', async (t) => {
  t.same(modeOf(null, false), { mode: 'normal', detail: null })
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
