// The preflight against real Gunicorn (Debian's 20.1): a release that raises on import is caught
// before any worker is touched, and the master stays up. (Without the preflight the master halts:
// the crash test in gunicorn-roll.test.ts.)
import t from 'tap'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { httpGet } from '../helpers/http.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

interface Report {
  ok: boolean
  replaced: Array<{ oldPid: number; newPid: number; release: string | null }>
  aborted: { reason: string; message: string } | null
  errorResistance: boolean
  untouched: number[]
  message: string
  preflight: { ran: boolean; ok: boolean | null; status: string | null; release: string | null; durationMs: number; spec: string | null; skipped: string | null } | null
}

t.test('a release that raises on import is caught by the preflight: no worker touched, the master stays up', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  // wsgi_app in the config file: with process titles the command line is hidden, so the config is where the spec is read
  const server = await startGunicorn(t, { appDir, workers: 2, name: 'preflight-crash', notifyPort, env: { BOOT_DELAY: '0.5' }, extraConfig: "wsgi_app = 'app:app'" })
  const stateDir = tempDir(t, 'state')
  const flags = ['--pidfile', server.pidfile, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir]

  // 1. with the command line hidden by the process title and no config file named: the record the hook
  //    wrote when the master started says what the workers load (issue 11: the first run is protected;
  //    it used to be skipped with a warning). Without a record: first-run-preflight.test.ts
  // --preflight-always: the release is unchanged, and the running workers would vouch for it
  const first = await runCli([...flags, '--json', '--preflight-always'])
  t.equal(first.code, 0, 'exit 0', { stderr: first.stderr.slice(-1500) })
  t.match((first.json as Report).preflight, { ran: true, ok: true, status: '200 OK', spec: 'app:app' })
  t.match(first.stderr, /"spec":"command line, as recorded by the hook when the master started/, 'the log says where the spec came from')

  // 2. with the config file named, the spec comes from wsgi_app and the preflight runs
  const named = await runCli([...flags, '--server-config', server.confPath, '--json', '--preflight-always'])
  t.equal(named.code, 0, { stderr: named.stderr.slice(-1500) })
  t.match((named.json as Report).preflight, { ran: true, ok: true, status: '200 OK', release: 'r1', spec: 'app:app' })

  // 3. a release that raises on import
  swapApp(appDir, 'crash_on_import', { revision: 'r2' })
  const before = server.workerPids()
  const run = await runCli([...flags, '--server-config', server.confPath, '--json'])
  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.ok, false)
  t.equal(report.aborted?.reason, 'preflight')
  t.equal(report.errorResistance, true)
  t.match(report.preflight, { ran: true, ok: false, status: /error: cannot load app:app: ImportError: crash_on_import/ })
  t.match(report.message, /preflight failed, no worker was touched.*STATUS=error: cannot load app:app: ImportError.*raise ImportError/s, 'the message has the STATUS line and the end of the traceback')
  t.same(report.replaced, [])
  t.same(report.untouched.sort(), [...before].sort(), 'every worker reported untouched')
  t.same(server.workerPids(), before, 'the same workers still run')
  t.ok(before.every(isAlive))
  t.ok(isAlive(server.masterPid), 'the master is alive')
  t.equal((await httpGet(server.port, '/')).status, 200, 'and the old workers still serve')

  // 4. the group is in error-resistance mode: the next run is refused and touches nothing
  const again = await runCli([...flags, '--no-preflight'])
  t.equal(again.code, 5)
  t.match(again.stderr, /is in error-resistance mode since .*: the preflight of app:app .*could not load the app.*rolling-restart resume/s)
  t.same(server.workerPids(), before)
})

t.test('--preflight-app names the app when nothing else does; a failing status page is caught too', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers: 2, name: 'preflight-status', notifyPort, env: { BOOT_DELAY: '0.5' } })
  const stateDir = tempDir(t, 'state')
  const flags = ['--pidfile', server.pidfile, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir, '--preflight-app', 'app:app']
  swapApp(appDir, 'status_500', { revision: 'r2' })
  const before = server.workerPids()
  const run = await runCli([...flags, '--json'])
  t.equal(run.code, 4, { stderr: run.stderr.slice(-1500) })
  const report = run.json as Report
  t.match(report.preflight, { ran: true, ok: false, status: '500 Internal Server Error', release: 'r2' })
  t.match(report.aborted?.message, /loaded the app, but its status page failed: STATUS=500 Internal Server Error/)
  t.same(server.workerPids(), before, 'no worker touched')
})
