// The very first run is protected (issue 11, item 1). With the README's setup (proc_name, whose
// process title hides the master's command line and environment, and the one hook line), the hook
// records at start what the workers load; the first run's preflight reads that record and catches
// a release that raises on import before any worker is signalled. Where nothing says what the
// workers load, the run is refused (exit 2), naming --preflight-app and --no-preflight.
import t from 'tap'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { startLoad } from '../helpers/load.js'
import { freeUdpPort } from '../helpers/ports.js'
import { cmdline, isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'
import { startUwsgi } from '../helpers/uwsgi.js'

/** The parts of the JSON report these tests read. */
interface Report {
  aborted: { reason: string; message: string } | null
  preflight: { ran: boolean; ok: boolean | null; status: string | null; spec: string | null; chdir: string | null; python: string | null } | null
}

t.test('README setup, first run, a release that raises on import, under load: exit 4, no worker signalled, no failed request', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  // the helper's config is the README's: proc_name and the one import line, no wsgi_app
  const server = await startGunicorn(t, { appDir, workers: 3, name: 'first-run', notifyPort, env: { BOOT_DELAY: '0.5' } })
  t.match(cmdline(server.masterPid), /^gunicorn: master \[first-run\]/, 'the process title hides the command line')
  const stateDir = tempDir(t, 'state') // fresh: no earlier run, no APP= learned
  swapApp(appDir, 'crash_on_import', { revision: 'r2' })
  const before = server.workerPids()

  const load = startLoad({ port: server.port, concurrency: 6, maxDurationMs: 60_000 })
  const run = await runCli(['--group', 'first-run', '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir, '--json', '--log-format', 'json'])
  // keep the load on a moment after the run: a halted master would show up as failures here
  await new Promise((r) => setTimeout(r, 1500))
  const traffic = await load.stop()

  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.aborted?.reason, 'preflight')
  t.match(report.preflight, { ran: true, ok: false, spec: 'app:app', chdir: appDir, python: '/usr/bin/python3', status: /ImportError: crash_on_import/ })
  t.match(run.stderr, /"event":"preflight-start".*"spec":"command line, as recorded by the hook when the master started \(\/proc\/\d+\/fd\/\d+\)"/, 'the app spec came from the master record')
  t.match(run.stderr, /"env":"the environment the hook recorded when the master started/, 'and so did the environment')
  t.notMatch(run.stderr, /"event":"signal"/, 'no signal was sent')
  t.same(server.workerPids(), before, 'zero workers signalled: the same workers run')
  t.ok(before.every(isAlive))
  t.ok(isAlive(server.masterPid), 'the master is alive')
  t.ok(traffic.total > 20, `the load ran (${traffic.total} requests)`)
  t.equal(traffic.failed, 0, `zero failed requests: ${JSON.stringify(traffic.failures.slice(0, 3))}`)
  t.comment(`first run, broken release: ${traffic.total} requests, ${traffic.failed} failed; workers ${before.join(', ')} untouched`)
})

t.test('with no record and no app spec anywhere, the first run is refused (exit 2) naming --preflight-app and --no-preflight', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  // ROLLING_RESTART_RECORD=off: the hook writes no master record (as an older hook, or one without
  // memfd_create); ROLLING_RESTART_LOADED_RECORD=off: nor do the workers record what they loaded, so
  // they cannot vouch for the code on disk (preflight-unchanged.test.ts) and a preflight is needed
  const server = await startGunicorn(t, { appDir, workers: 2, name: 'first-blind', notifyPort, env: { BOOT_DELAY: '0.3', ROLLING_RESTART_RECORD: 'off', ROLLING_RESTART_LOADED_RECORD: 'off' } })
  const stateDir = tempDir(t, 'state')
  const flags = ['--group', 'first-blind', '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir]
  const before = server.workerPids()
  const run = await runCli([...flags, '--json'])
  t.equal(run.code, 2, 'exit 2', { stderr: run.stderr.slice(-1500) })
  t.match(run.stderr, /cannot run the preflight, so no worker was touched: the app of Gunicorn master \d+ \[first-blind\] is not on a visible command line.*Pass --preflight-app MODULE:CALLABLE.*or --no-preflight/s)
  t.equal((run.json as { error: { code: string } }).error.code, 'preflight-unknown')
  t.same(server.workerPids(), before, 'no worker touched')

  const dry = await runCli([...flags, '--dry-run'])
  t.match(dry.stdout, /preflight: could not run: .*a real run would be refused \(exit 2\): pass --preflight-app/)

  const named = await runCli([...flags, '--preflight-app', 'app:app', '--json'])
  t.equal(named.code, 0, '--preflight-app says it: the run goes on', { stderr: named.stderr.slice(-1500) })
  t.match((named.json as Report).preflight, { ran: true, ok: true, spec: 'app:app' })

  // the workers that run started reported their app spec (APP=): the next run's preflight uses it
  const learned = await runCli([...flags, '--json', '--log-format', 'json'])
  t.equal(learned.code, 0, { stderr: learned.stderr.slice(-1500) })
  t.match((learned.json as Report).preflight, { ran: true, ok: true, status: '200 OK', spec: 'app:app' })
  t.match(learned.stderr, /"spec":"reported by worker \d+ \(APP=\)/, 'the log says where the spec came from')
})

t.test('doctor and the preload check read the record too: preload_app is named without --server-config', async (t) => {
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers: 2, name: 'first-doctor', preload: true, env: { BOOT_DELAY: '0.2' } })
  const doctor = await runCli(['doctor', '--pidfile', server.pidfile, '--state-dir', tempDir(t, 'state'), '--json'])
  t.equal(doctor.code, 6, { stdout: doctor.stdout })
  const hazards = (doctor.json as { hazards: Array<{ id: string; message: string }> }).hazards
  t.match(hazards.find((h) => h.id === 'preload-app'), { message: /preload_app/ })
  t.notOk(hazards.some((h) => h.id === 'config-unknown'), 'nothing left unknown')
  // and so a plain restart of it is refused on its very first run (issue 10's rule), without --server-config
  const before = server.workerPids()
  const run = await runCli(['--pidfile', server.pidfile, '--state-dir', tempDir(t, 'state'), '--json'])
  t.equal(run.code, 2, { stderr: run.stderr.slice(-1500) })
  t.equal((run.json as { error: { code: string } }).error.code, 'preloaded-master')
  t.same(server.workerPids(), before)
})

for (const lazyApps of [true, false]) {
  t.test(`uWSGI (procname-master hides the command line, lazy-apps ${lazyApps ? 'on' : 'off'}): the first run's preflight loads the app`, async (t) => {
    const notifyPort = await freeUdpPort()
    const appDir = makeAppDir(t, 'good', { revision: 'u1' })
    const procname = `rr-first-${process.pid}-${lazyApps ? 'lazy' : 'eager'}`
    const u = await startUwsgi(t, { appDir, workers: 2, lazyApps, procname, notifyPort, env: { BOOT_DELAY: '0.3' } })
    t.equal(cmdline(u.masterPid), procname, 'the title hides the command line')
    const flags = ['--group', procname, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', tempDir(t, 'state'), '--json']
    swapApp(appDir, 'crash_on_import', { revision: 'u2' })
    const before = u.workerPids()
    const bad = await runCli(flags)
    t.equal(bad.code, 4, 'a release that raises on import: exit 4', { stderr: bad.stderr.slice(-2000) })
    t.match((bad.json as Report).preflight, { ran: true, ok: false, spec: u.wsgiFile, chdir: appDir, status: /ImportError: crash_on_import/ })
    t.same(u.workerPids(), before, 'no worker signalled')
    t.ok(isAlive(u.masterPid))
  })
}
