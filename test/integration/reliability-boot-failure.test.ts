// A boot failure without the preflight (issue 11, item 2), against a real Gunicorn (Debian's 20.1)
// with the README's hook line (post_worker_init, worker_exit): the replacement that cannot import
// the release says so at once (READY=0 from worker_exit) and exits with a status that does not halt
// the master, whose other workers keep serving: no failed request. Gunicorn retries the slot every
// few seconds, and it heals once the release is fixed. ROLLING_RESTART_HALT_ON_BOOT_ERROR=1 keeps
// Gunicorn's halt.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { startLoad } from '../helpers/load.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive, waitFor } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

interface Report {
  aborted: { reason: string; message: string; newPid: number | null } | null
  failing: unknown[]
  untouched: number[]
  message: string
}

async function setup(t: Tap.Test, name: string, env: Record<string, string> = {}) {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers: 3, name, notifyPort, env: { BOOT_DELAY: '0.3', ...env }, gracefulTimeoutSec: 5 })
  return { appDir, server, flags: ['--group', name, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', tempDir(t, 'state'), '--no-preflight', '--json'] }
}

t.test('a release that raises on import, no preflight, under load: told at once, the master keeps serving, no failed request', async (t) => {
  const { appDir, server, flags } = await setup(t, 'boot-keep')
  const original = server.workerPids()
  swapApp(appDir, 'crash_on_import', { revision: 'r2' })
  const load = startLoad({ port: server.port, concurrency: 6, maxDurationMs: 60_000 })
  const run = await runCli(flags)
  // the slot is retried every few seconds meanwhile: keep the load on across two retries
  await new Promise((r) => setTimeout(r, 6_000))
  const traffic = await load.stop()

  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.aborted?.reason, 'not-ready', 'the failed boot was reported by the worker itself, not found out from a dead master')
  t.match(report.aborted?.message, /READY=0: its status probe said "boot failed: ImportError: crash_on_import: .* \(exit status 3: the master keeps serving with workers \d+(?:, \d+)+ and tries again in 5s\)"/)
  t.same(report.failing, [], 'it never loaded the app, so it never took a request')
  t.same(original.slice(1).filter(isAlive), original.slice(1), 'the untouched old workers run')
  t.ok(isAlive(server.masterPid), 'the master did not halt')
  t.ok(traffic.total > 50, `the load ran (${traffic.total} requests)`)
  t.equal(traffic.failed, 0, `no failed request: ${JSON.stringify(traffic.failures.slice(0, 3))}`)
  const log = readFileSync(server.logFile, 'utf8')
  t.ok((log.match(/boot failed: ImportError: crash_on_import/g) ?? []).length >= 2, 'Gunicorn retried the slot (one hook line per try)')
  t.notMatch(log, /Reason: Worker failed to boot/, 'and never halted')
  t.comment(`boot failure without preflight: ${traffic.total} requests, ${traffic.failed} failed`)

  // the release fixed: the next try of the slot boots, and stays (the same 3 workers for longer than a retry)
  swapApp(appDir, 'good', { revision: 'r3' })
  let last = ''
  let since = Date.now()
  await waitFor(
    () => {
      const now = server.workerPids().join(',')
      if (now !== last) [last, since] = [now, Date.now()]
      return server.workerPids().length === 3 && Date.now() - since > 7_000
    },
    { timeoutMs: 40_000, intervalMs: 250, what: 'the slot to boot the fixed release and stay' },
  )
  t.same(server.workerPids().filter((p) => original.includes(p)), original.slice(1), 'beside the two old workers, the slot runs the fixed release')
})

t.test('ROLLING_RESTART_HALT_ON_BOOT_ERROR=1: Gunicorn halts, and the message says so', async (t) => {
  const { appDir, server, flags } = await setup(t, 'boot-halt', { ROLLING_RESTART_HALT_ON_BOOT_ERROR: '1' })
  swapApp(appDir, 'crash_on_import')
  const run = await runCli(flags)
  t.equal(run.code, 4, { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.match(report.message, /boot failed: ImportError: crash_on_import.*Gunicorn halts the master|halts the whole master when a worker fails to boot/s)
  await waitFor(() => !isAlive(server.masterPid), { timeoutMs: 20_000, intervalMs: 100, what: 'the master to halt' })
  t.pass('the master halted')
})
