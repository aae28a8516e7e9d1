// Issue 10: a uWSGI master titled with a free-form `procname-master = uWSGI master app:blue`,
// targeted by --pidfile. The tool names the group uwsgi-PID while the hook sends
// GROUP=uWSGI master app:blue; every new worker is a verified child of the master, so it is
// accepted (with a group-mismatch warning), and the roll ends in exit 0 with every worker replaced.
import t from 'tap'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'
import { startUwsgi } from '../helpers/uwsgi.js'
import { events, ofKind, type Report } from './readiness-shared.js'

t.test('procname-master = uWSGI master app:blue, by --pidfile: exit 0, all replaced', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'u1' })
  const u = await startUwsgi(t, { appDir, workers: 3, procname: 'uWSGI master app:blue', notifyPort, env: { BOOT_DELAY: '0.5' } })
  const original = u.workerPids()
  swapApp(appDir, 'good', { revision: 'u2' })
  const run = await runCli(['--pidfile', u.pidfile, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', tempDir(t, 'state'), '--json', '--log-format', 'json'])
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-2500) })
  const report = run.json as Report & { group: string }
  t.equal(report.group, `uwsgi-${u.masterPid}`, 'the tool names the group uwsgi-PID')
  t.same(report.replaced.map((r) => r.oldPid).sort(), [...original].sort(), 'every worker replaced')
  t.ok(report.replaced.every((r) => r.release === 'u2'))
  t.same(original.filter(isAlive), [])
  const warned = ofKind(events(run), 'group-mismatch')
  t.equal(warned.length, 3, 'each accepted datagram warned of its GROUP')
  t.match(warned[0]?.detail, new RegExp(`^GROUP=uWSGI master app:blue is not uwsgi-${u.masterPid}; accepted: pid \\d+ is a worker of uWSGI master ${u.masterPid}`))
  t.same(ofKind(events(run), 'datagram-ignored'), [], 'no datagram ignored')
})
