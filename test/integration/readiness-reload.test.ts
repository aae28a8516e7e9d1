// Issue 10: `kill -HUP` of the Gunicorn master in the middle of a roll. Gunicorn forks a new set of
// workers and stops the old ones; the run notices, stops touching workers, and exits 7
// (master-reloaded), not 0, and leaves the group out of error-resistance mode.
import t from 'tap'
import { swapApp } from '../helpers/apps.js'
import { runCli, spawnCli } from '../helpers/cli.js'
import { isAlive, signalPid, waitFor } from '../helpers/procs.js'
import { events, gunicornGroup, ofKind, type Report } from './readiness-shared.js'

t.test('a HUP of the master mid-roll: exit 7, master-reloaded, then the next run rolls', async (t) => {
  const { appDir, server, flags } = await gunicornGroup(t, { name: 'hup-mid-roll', workers: 3 })
  const original = server.workerPids()
  swapApp(appDir, 'good', { revision: 'r2' })
  const cli = spawnCli(flags, { t })
  // the first replacement is ready once the second old worker is signalled
  await waitFor(() => !isAlive(original[1] as number) || !isAlive(original[0] as number), { timeoutMs: 30_000, intervalMs: 20, what: 'the roll to begin' })
  await new Promise((r) => setTimeout(r, 1500))
  const hupAt = Date.now()
  t.ok(signalPid(server.masterPid, 'SIGHUP'), 'HUP sent to the master')
  const run = await cli.result

  t.equal(run.code, 7, 'exit 7 (EXIT.RELOADED), not 0', { stderr: run.stderr.slice(-2500) })
  const report = run.json as Report
  t.equal(report.ok, false)
  t.equal(report.aborted?.reason, 'master-reloaded')
  t.match(report.aborted?.message, /replaced its workers on its own during the run \((Gunicorn's log: "[^"]*Handling signal: hup"|it runs \d+ workers, more than the 3 it keeps)/)
  t.match(report.message, /not a failure of the release: the group is not in error-resistance mode\. Run again to roll what is left/)
  t.equal(report.errorResistance, false)
  const late = ofKind(events(run), 'signal').filter((e) => e.at > hupAt + 200)
  t.same(late, [], 'no worker signalled after the reload was seen')
  t.comment(`aborted: ${report.aborted?.message}`)

  await waitFor(() => server.workerPids().length === 3, { timeoutMs: 30_000, what: 'Gunicorn back to 3 workers after its reload' })
  const next = await runCli(flags)
  t.equal(next.code, 0, 'the next run is not refused and rolls', { stderr: next.stderr.slice(-2000) })
})
