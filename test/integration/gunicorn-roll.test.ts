// Rolling restarts of a real Gunicorn (Debian's 20.1) with the bundled hook, under real load.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli, spawnCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { startLoad } from '../helpers/load.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

interface Report {
  ok: boolean
  group: string
  server: string
  strategy: string
  replaced: Array<{ oldPid: number; newPid: number; readyMs: number; status: string; release: string | null }>
  aborted: { reason: string; message: string; oldPid: number | null; newPid: number | null } | null
  errorResistance: boolean
  untouched: number[]
  durationMs: number
}

/** A Gunicorn group with its own notify port and state dir, and the CLI flags that target it. */
async function setup(t: Tap.Test, opts: { fixture?: string; workers?: number; name: string; revision?: string; env?: Record<string, string> }) {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, opts.fixture ?? 'good', { revision: opts.revision ?? 'r1' })
  const server = await startGunicorn(t, {
    appDir,
    workers: opts.workers ?? 3,
    name: opts.name,
    notifyPort,
    env: { BOOT_DELAY: '1.0', ...opts.env },
    // a worker stuck importing ignores TERM; Gunicorn kills it after graceful_timeout
    gracefulTimeoutSec: 10,
  })
  const stateDir = tempDir(t, 'state')
  const flags = ['--group', opts.name, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir]
  return { appDir, server, stateDir, flags, notifyPort }
}

t.test('rolls every worker under load with no failed request, and picks up the new release', async (t) => {
  const { appDir, server, flags, stateDir } = await setup(t, { name: 'roll-ok', workers: 4 })
  const original = server.workerPids()
  t.equal(original.length, 4)
  swapApp(appDir, 'good', { revision: 'r2' })

  const load = startLoad({ port: server.port, concurrency: 6, maxDurationMs: 120_000 })
  const run = await runCli([...flags, '--json'])
  const traffic = await load.stop()

  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.ok, true)
  t.equal(report.server, 'gunicorn')
  t.equal(report.group, 'roll-ok')
  t.equal(report.replaced.length, 4)
  t.same(report.replaced.map((r) => r.oldPid).sort(), [...original].sort(), 'each original worker is a replaced one')
  t.ok(report.replaced.every((r) => r.status === '200 OK' && r.release === 'r2'), 'every new worker reported 200 OK and release r2')
  t.same(original.filter(isAlive), [], 'no original worker is still running')
  const now = server.workerPids()
  t.equal(now.length, 4, 'the master still runs 4 workers')
  t.same(now.sort(), report.replaced.map((r) => r.newPid).sort(), 'the workers now are exactly the reported replacements')
  t.ok(isAlive(server.masterPid), 'the master is untouched')

  t.ok(traffic.total > 50, `the load ran during the roll (${traffic.total} requests, p99 ${traffic.p99} ms)`)
  t.equal(traffic.failed, 0, `no failed request: ${JSON.stringify(traffic.failures.slice(0, 5))}`)
  t.comment(`roll of 4 workers: ${report.durationMs} ms; load ${traffic.total} requests, p50 ${traffic.p50} ms, p99 ${traffic.p99} ms, max ${traffic.max} ms`)

  const status = await runCli(['status', ...flags.filter((f, i) => !['--notify'].includes(flags[i - 1] ?? '') && f !== '--notify'), '--json'])
  t.equal(status.code, 0)
  const st = status.json as { mode: string; workers: Array<{ pid: number; role: string; release: string | null }> }
  t.equal(st.mode, 'normal')
  t.same(st.workers.map((w) => [w.role, w.release]), now.map(() => ['new', 'r2']), 'status shows every worker as new, on r2')

  const text = await runCli(['status', '--group', 'roll-ok', '--state-dir', stateDir])
  t.match(text.stdout, /Mode +: normal/)
  t.match(text.stdout, /PID +Uptime +CPU +RSS +Replaced +Release +State/)
})

const failures: Array<{ fixture: string; reason: string; extra: string[]; message: RegExp }> = [
  { fixture: 'status_500', reason: 'not-ready', extra: [], message: /READY=0.*500 Internal Server Error/ },
  { fixture: 'status_raises', reason: 'not-ready', extra: [], message: /READY=0.*RuntimeError/ },
  { fixture: 'hang_on_import', reason: 'ready-timeout', extra: ['--ready-timeout', '6s'], message: /no READY within 6\.00 s.*post_worker_init/ },
]

for (const f of failures) {
  t.test(`a new release whose worker fails (${f.fixture}) stops the roll after one worker`, async (t) => {
    const name = `fail-${f.fixture.replace(/_/g, '-')}`
    const { appDir, server, flags } = await setup(t, { name, workers: 3 })
    const original = server.workerPids()
    swapApp(appDir, f.fixture, { revision: 'bad' })

    const load = startLoad({ port: server.port, concurrency: 4, maxDurationMs: 60_000 })
    // --no-preflight: the point is to see the new worker itself fail (test/integration/preflight.test.ts shows the preflight catching it)
    const run = await runCli([...flags, ...f.extra, '--no-preflight', '--json'])
    const traffic = await load.stop()

    t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-1500) })
    const report = run.json as Report
    t.equal(report.ok, false)
    t.equal(report.errorResistance, true)
    t.equal(report.aborted?.reason, f.reason)
    t.match(report.aborted?.message, f.message)
    t.equal(report.aborted?.oldPid, original[0], 'the oldest worker was the one replaced')
    t.same(report.replaced, [], 'no step completed')
    t.same(original.filter(isAlive), original.slice(1), 'exactly one old worker was stopped; the others still run')
    t.same(report.untouched.sort(), original.slice(1).sort())
    t.ok(isAlive(server.masterPid), 'the master is still up')
    // the untouched old workers keep serving: the load saw successes throughout
    t.ok(traffic.ok > 0, `old workers kept serving (${traffic.ok} ok of ${traffic.total})`)
    if (f.fixture !== 'status_500' && f.fixture !== 'status_raises') {
      t.equal(traffic.failed, 0, 'a new worker that never became ready never served a request')
    }

    const again = await runCli([...flags, '--json'])
    t.equal(again.code, 5, 'the next run is refused')
    t.match(again.stderr, /error-resistance mode.*rolling-restart resume/s)
    t.same(original.filter(isAlive), original.slice(1), 'the refused run touched nothing')

    swapApp(appDir, 'good', { revision: 'fixed' })
    const resume = await runCli(['resume', ...flags.filter((x, i) => x !== '--notify' && flags[i - 1] !== '--notify')])
    t.equal(resume.code, 0)
    t.match(resume.stdout, /left error-resistance mode/)
    const fixed = await runCli([...flags, '--json'])
    t.equal(fixed.code, 0, 'after resume, a run of the fixed release succeeds', { stderr: fixed.stderr.slice(-1500) })
    const fixedReport = fixed.json as Report
    t.ok(fixedReport.replaced.length >= 2 && fixedReport.replaced.every((r) => r.release === 'fixed'))
    t.same(original.filter(isAlive), [], 'every original worker is gone after the good run')
  })
}

t.test('a worker that crashes while importing: it says so (worker_exit) and the master keeps serving, exit 4', async (t) => {
  // issue 11 changed this: the hook's worker_exit turns Gunicorn's halt into a retried slot while
  // other workers serve (reliability-boot-failure.test.ts); ROLLING_RESTART_HALT_ON_BOOT_ERROR=1 restores the halt
  const { appDir, server, flags } = await setup(t, { name: 'crash-import', workers: 2 })
  swapApp(appDir, 'crash_on_import')
  // without the preflight (which would catch this before touching a worker: preflight.test.ts)
  const run = await runCli([...flags, '--no-preflight', '--json'])
  t.equal(run.code, 4)
  const report = run.json as Report
  t.equal(report.aborted?.reason, 'not-ready')
  t.match(report.aborted?.message, /boot failed: ImportError: crash_on_import.*the master keeps serving/)
  t.ok(isAlive(server.masterPid), 'Gunicorn did not halt')
})

t.test('target errors exit 3 with a message naming the fix', async (t) => {
  const { server, stateDir } = await setup(t, { name: 'targets', workers: 1 })
  const missing = await runCli(['--group', 'no-such-group', '--state-dir', stateDir])
  t.equal(missing.code, 3)
  t.match(missing.stderr, /no .*group found for --group no-such-group.*gunicorn: master \[no-such-group\]/)

  const dir = tempDir(t, 'pid')
  const stale = join(dir, 'stale.pid')
  writeFileSync(stale, '999999\n')
  const stalePid = await runCli(['--pidfile', stale, '--state-dir', stateDir])
  t.equal(stalePid.code, 3)
  t.match(stalePid.stderr, /is stale: it names pid 999999/)

  const worker = server.workerPids()[0] as number
  const notMaster = await runCli(['--master', String(worker), '--server', 'gunicorn', '--state-dir', stateDir])
  t.equal(notMaster.code, 3)
  t.match(notMaster.stderr, new RegExp(`not a Gunicorn master.*its master is pid ${server.masterPid}`))

  const byPidfile = await runCli(['status', '--pidfile', server.pidfile, '--state-dir', stateDir, '--json'])
  t.equal(byPidfile.code, 0, 'the pidfile finds the same group')
  t.equal((byPidfile.json as { group: string }).group, 'targets')

  const usage = await runCli(['--group', 'targets', '--batch', 'two', '--state-dir', stateDir])
  t.equal(usage.code, 2)
  t.match(usage.stderr, /--batch "two" is not a whole number/)
})

t.test('two runs on one group at once: exactly one proceeds, the other exits 5 naming the holder', async (t) => {
  const { server, flags, notifyPort } = await setup(t, { name: 'lock', workers: 2 })
  const first = spawnCli([...flags, '--json'], { t })
  // wait until the first run holds the lock: it is rolling once a worker has been signalled
  const before = server.workerPids()
  const deadline = Date.now() + 30_000
  while (before.every(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  const otherPort = await freeUdpPort()
  const second = await runCli([...flags.map((f) => (f === `127.0.0.1:${notifyPort}` ? `127.0.0.1:${otherPort}` : f)), '--json'])
  const firstResult = await first.result
  t.equal(firstResult.code, 0, 'the first run completes')
  t.equal(second.code, 5, 'the second is refused')
  t.equal((second.json as { error: { code: string } }).error.code, 'locked', 'the JSON error says why')
  t.match(second.stderr, new RegExp(`another rolling-restart run \\(pid ${first.pid}.*holds the lock on group 'lock'`))
})

t.test('with a shared secret, signed datagrams are accepted and a wrong key is rejected', async (t) => {
  const keys = tempDir(t, 'keys')
  const good = join(keys, 'good.key')
  const wrong = join(keys, 'wrong.key')
  writeFileSync(good, 'correct horse battery staple\n', { mode: 0o644 })
  writeFileSync(wrong, 'not the key\n')
  const { flags } = await setup(t, { name: 'secret', workers: 2, env: { ROLLING_RESTART_SECRET_FILE: good } })

  const ok = await runCli([...flags, '--secret-file', good, '--json'])
  t.equal(ok.code, 0, 'signed datagrams accepted', { stderr: ok.stderr.slice(-1000) })

  const bad = await runCli([...flags, '--secret-file', wrong, '--ready-timeout', '5s', '--json', '--log-format', 'json'])
  t.equal(bad.code, 4)
  t.equal((bad.json as Report).aborted?.reason, 'ready-timeout')
  t.match(bad.stderr, /"reason":"bad-mac"/, 'the rejected datagram is logged with its reason')
})

t.test('Ctrl-C stops the run without error-resistance mode: exit 130, the next run proceeds', async (t) => {
  const { server, flags } = await setup(t, { name: 'interrupt', workers: 3, env: { BOOT_DELAY: '3.0' } })
  const original = server.workerPids()
  const run = spawnCli([...flags, '--json'], { t })
  // interrupt while the first replacement boots (3 s)
  const deadline = Date.now() + 30_000
  while (original.every(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
  run.kill('SIGINT')
  const result = await run.result
  t.equal(result.code, 130, 'exit 130', { stderr: result.stderr.slice(-1500) })
  const report = result.json as Report
  t.equal(report.aborted?.reason, 'interrupted')
  t.equal(report.errorResistance, false)
  t.same(original.filter(isAlive), original.slice(1), 'only the worker already signalled was stopped')
  const next = await runCli([...flags, '--json'])
  t.equal(next.code, 0, 'the next run is not refused', { stderr: next.stderr.slice(-1500) })
})
