// doctor against real Gunicorn (Debian's 20.1): preload_app, where the datagrams go, whether the
// hook is importable, the readiness port, error-resistance mode; and a clean server is clean.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

interface Hazard {
  id: string
  severity: 'error' | 'warning'
  message: string
  fix: string
}
interface DoctorReport {
  ok: boolean
  group: string
  server: string
  hazards: Hazard[]
}
const ids = (r: DoctorReport, severity: 'error' | 'warning') => r.hazards.filter((h) => h.severity === severity).map((h) => h.id).sort()

t.test('preload_app: a restart is refused when the config says so, a step fails on PRELOAD=1 when it does not, and doctor names the cause', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  // no master record (ROLLING_RESTART_RECORD=off), so that the title really hides the config file: the
  // record's case, where doctor finds preload_app without --server-config, is in first-run-preflight.test.ts
  const server = await startGunicorn(t, { appDir, workers: 3, name: 'doctor-preload', notifyPort, preload: true, env: { BOOT_DELAY: '0.5', ROLLING_RESTART_RECORD: 'off' } })
  const stateDir = tempDir(t, 'state')
  const target = ['--pidfile', server.pidfile, '--state-dir', stateDir]
  const original = server.workerPids()
  swapApp(appDir, 'good', { revision: 'r2' })

  // the config file says preload_app: refused before any worker is touched (issue 10: preloaded masters never claim new code)
  const refused = await runCli([...target, '--notify', `127.0.0.1:${notifyPort}`, '--server-config', server.confPath, '--expect-release', 'r2', '--no-preflight', '--json'])
  t.equal(refused.code, 2, 'exit 2: refused up front', { stderr: refused.stderr.slice(-2000) })
  t.match((refused.json as { error: { code: string; message: string } }).error, { code: 'preloaded-master', message: /preload_app.*--recycle/s })
  t.same(server.workerPids(), original, 'no worker was touched')

  // without the config file the title hides it: the first step's replacement says PRELOAD=1 and the step fails
  const run = await runCli([...target, '--notify', `127.0.0.1:${notifyPort}`, '--expect-release', 'r2', '--no-preflight', '--json'])
  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  const report = run.json as { aborted: { reason: string; message: string; oldPid: number }; replaced: unknown[]; untouched: number[] }
  t.equal(report.aborted.reason, 'wrong-release')
  t.equal(report.aborted.oldPid, original[0], 'the first step')
  t.same(report.replaced, [], 'no step completed')
  t.same(report.untouched.sort(), original.slice(1).sort(), 'the other workers were not touched')
  t.match(report.aborted.message, /reported PRELOAD=1: .*preloaded the app \(preload_app\)/s)
  t.notMatch(report.aborted.message, /release r2/, 'never claims the new release')
  t.ok(isAlive(server.masterPid))

  const doctor = await runCli(['doctor', ...target, '--notify', `127.0.0.1:${notifyPort}`, '--server-config', server.confPath, '--json'])
  t.equal(doctor.code, 6, 'doctor exits 6 (hazards found)', { stdout: doctor.stdout })
  const d = doctor.json as DoctorReport
  t.equal(d.ok, false)
  t.match(d.hazards.find((h) => h.id === 'preload-app'), { severity: 'error', message: /preload_app.*never loads a new release/, fix: /preload_app = False/ })
  t.match(d.hazards.find((h) => h.id === 'error-resistance'), { severity: 'error', message: /wrong-release/, fix: /rolling-restart resume --pidfile/ })
  const text = await runCli(['doctor', ...target, '--notify', `127.0.0.1:${notifyPort}`, '--server-config', server.confPath])
  t.equal(text.code, 6)
  t.match(text.stdout, /error +preload-app: .*\n +fix: set preload_app = False/)
  t.match(text.stdout, /\d error\(s\), \d warning\(s\)/)

  // without the config file, the process title hides the setting: doctor says it could not check, rather than guess
  const blind = await runCli(['doctor', ...target, '--notify', `127.0.0.1:${notifyPort}`, '--json'])
  const b = blind.json as DoctorReport
  t.notOk(b.hazards.some((h) => h.id === 'preload-app'))
  t.match(b.hazards.find((h) => h.id === 'config-unknown'), { severity: 'warning', message: /preload_app.*process title/, fix: /--server-config/ })

  // ... and what the workers said is remembered: after resume, the next run is refused up front (the last run heard PRELOAD=1)
  t.equal((await runCli(['resume', ...target])).code, 0)
  const again = await runCli([...target, '--notify', `127.0.0.1:${notifyPort}`, '--expect-release', 'r2', '--no-preflight', '--json'])
  t.equal(again.code, 2, 'exit 2 without --server-config: known from the last run', { stderr: again.stderr.slice(-2000) })
  t.match((again.json as { error: { code: string; message: string } }).error, { code: 'preloaded-master', message: /reported PRELOAD=1.*--recycle/s })
  t.same(server.workerPids().length, 3)
})

t.test('a server whose environment is readable (SPT_NOENV=1): where its datagrams go, whether it can import the hook, the port', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  // no hook: not on PYTHONPATH, not in the config
  const broken = await startGunicorn(t, {
    appDir,
    workers: 1,
    name: 'doctor-nohook',
    notifyPort,
    hook: false,
    env: { BOOT_DELAY: '0', SPT_NOENV: '1', PYTHONPATH: appDir },
  })
  const stateDir = tempDir(t, 'state')
  const target = ['--pidfile', broken.pidfile, '--state-dir', stateDir, '--server-config', broken.confPath]
  const otherPort = await freeUdpPort()
  const r = await runCli(['doctor', ...target, '--notify', `127.0.0.1:${otherPort}`, '--json'])
  t.equal(r.code, 6, { stdout: r.stdout, stderr: r.stderr })
  const d = r.json as DoctorReport
  t.same(ids(d, 'error'), ['hook-not-importable', 'notify-mismatch'])
  t.match(d.hazards.find((h) => h.id === 'hook-not-importable'), { message: /cannot import rolling_restart_hook.*No module named 'rolling_restart_hook'/, fix: /hook-path/ })
  t.match(d.hazards.find((h) => h.id === 'notify-mismatch'), { message: new RegExp(`send their datagrams to 127\\.0\\.0\\.1:${notifyPort} .*listen on 127\\.0\\.0\\.1:${otherPort}`) })
  t.ok(ids(d, 'warning').includes('hook-not-configured'), 'and the config does not mention the hook')

  // the readiness port taken by someone else
  const sock = createSocket('udp4')
  await new Promise<void>((res) => sock.bind(notifyPort, '127.0.0.1', () => res()))
  t.teardown(() => sock.close())
  const busy = await runCli(['doctor', ...target, '--notify', `127.0.0.1:${notifyPort}`, '--json'])
  t.match((busy.json as DoctorReport).hazards.find((h) => h.id === 'notify-port-in-use'), { severity: 'error', message: new RegExp(`127\\.0\\.0\\.1:${notifyPort} is already in use`) })
})

t.test('a server set up as docs/deploy.md says: no error', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers: 2, name: 'doctor-clean', notifyPort, env: { BOOT_DELAY: '0', SPT_NOENV: '1' } })
  const stateDir = tempDir(t, 'state')
  const r = await runCli(['doctor', '--pidfile', server.pidfile, '--state-dir', stateDir, '--server-config', server.confPath, '--notify', `127.0.0.1:${notifyPort}`, '--json'])
  t.equal(r.code, 0, { stdout: r.stdout, stderr: r.stderr })
  const d = r.json as DoctorReport
  t.equal(d.ok, true)
  t.same(ids(d, 'error'), [])
  t.same(ids(d, 'warning'), [], 'and no warning either')
  t.match(d, { group: 'doctor-clean', server: 'gunicorn' })
  const text = await runCli(['doctor', '--pidfile', server.pidfile, '--state-dir', stateDir, '--server-config', server.confPath, '--notify', `127.0.0.1:${notifyPort}`])
  t.match(text.stdout, /no hazards found/)
})
