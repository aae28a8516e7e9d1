// Proves the integration-test harness (test/helpers/) against the real servers: each helper
// starts its server from a fixture app, the bundled hooks report one READY datagram per worker,
// a short bounded load gets only 2xx answers, the one-worker graceful signals behave as the
// adapters assume, and stop() leaves no process behind (checked by pid).
import t, { type Test } from 'tap'
import { isDaemonOf, startApache } from '../helpers/apache.js'
import { makeAppDir } from '../helpers/apps.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { startLoad, type LoadResult } from '../helpers/load.js'
import { hookAvailable, type HookServer } from '../helpers/paths.js'
import { argv, childrenOf, cmdline, comm, isAlive, signalPid, waitFor } from '../helpers/procs.js'
import { collectDatagrams, type Collector } from '../helpers/udp.js'
import { startUwsgi } from '../helpers/uwsgi.js'

const env = { BOOT_DELAY: '0.3' }

type T = Test

const listen = async (t: T): Promise<Collector> => {
  const udp = await collectDatagrams(0)
  t.teardown(() => udp.close())
  return udp
}

/** Waits for READY=1 from `pid`, and checks it names a live child of `masterPid`. */
const readyFrom = async (t: T, udp: Collector, server: HookServer, masterPid: number, pid: number, group?: string) => {
  if (!hookAvailable(server)) {
    t.comment(`python-hooks has no ${server}.py yet: not waiting for a datagram from ${pid}`)
    return
  }
  const d = await udp.waitFor((m) => m.fields.PID === String(pid), 30_000, `a datagram from worker ${pid}`)
  t.equal(d.fields.READY, '1', `worker ${pid} reports READY=1 (${d.fields.STATUS ?? 'no STATUS'})`)
  t.ok(childrenOf(masterPid).includes(pid), `datagram PID ${pid} is a live child of master ${masterPid}`)
  t.equal(d.fields.PPID, String(masterPid), `datagram PPID is the master`)
  if (group !== undefined) t.equal(d.fields.GROUP, group, `datagram GROUP is ${group}`)
}

const shortLoad = (port: number, path = '/') =>
  startLoad({ port, path, concurrency: 4, maxDurationMs: 2_000, maxRequests: 20_000 }).done

const assertAll2xx = (t: T, r: LoadResult, what: string) => {
  t.ok(r.total > 0, `${what}: ${r.total} requests sent (p50 ${r.p50} ms, max ${r.max} ms)`)
  t.equal(r.failed, 0, `${what}: no failed request`, { failures: r.failures.slice(0, 5) })
}

const assertGone = (t: T, pids: number[], what: string) => {
  const alive = pids.filter(isAlive)
  t.same(alive, [], `${what}: no process left (${pids.join(', ')})`)
}

t.test('gunicorn: 3 workers, readiness, load, clean stop', async (t) => {
  const udp = await listen(t)
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const g = await startGunicorn(t, { appDir, workers: 3, name: 'rr-harness', notifyPort: udp.port, env })
  const workers = g.workerPids()
  t.equal(workers.length, 3, 'three workers')
  t.equal(cmdline(g.masterPid), 'gunicorn: master [rr-harness]', 'master title')
  t.equal(comm(g.masterPid), 'gunicorn: maste', 'setproctitle also sets comm, cut to 15 bytes')
  for (const pid of workers) {
    t.equal(cmdline(pid), 'gunicorn: worker [rr-harness]', `worker ${pid} title`)
    await readyFrom(t, udp, 'gunicorn', g.masterPid, pid, 'rr-harness')
  }
  if (hookAvailable('gunicorn')) {
    t.equal(udp.messages.length, 3, 'exactly one datagram per worker')
    t.equal(udp.messages[0]?.fields.RELEASE, 'r1', 'RELEASE comes from the REVISION file')
  }
  assertAll2xx(t, await shortLoad(g.port), 'gunicorn load')
  await g.stop()
  assertGone(t, [g.masterPid, ...workers], 'gunicorn stop')
})

t.test('apache: app:blue (3) and app:green (1), USR1 replaces one blue daemon', async (t) => {
  const udp = await listen(t)
  const blueDir = makeAppDir(t, 'good', { revision: 'blue-1' })
  const greenDir = makeAppDir(t, 'good', { revision: 'green-1' })
  const a = await startApache(t, {
    groups: [
      { name: 'app:blue', processes: 3, appDir: blueDir, urlPrefix: '/blue' },
      { name: 'app:green', processes: 1, appDir: greenDir, urlPrefix: '/green' },
    ],
    notifyPort: udp.port,
    env,
  })
  const blue = a.groupPids('app:blue')
  const green = a.groupPids('app:green')
  t.equal(blue.length, 3, 'three app:blue daemon processes')
  t.equal(green.length, 1, 'one app:green daemon process')
  for (const pid of blue) {
    t.equal(argv(pid)[0], '(wsgi:app:blue)  ', `blue ${pid}: argv[0] is the display name padded to 17 chars`)
    t.equal(comm(pid), 'apache2', `blue ${pid}: comm stays apache2`)
    await readyFrom(t, udp, 'mod_wsgi', a.parentPid, pid, 'app:blue')
  }
  for (const pid of green) await readyFrom(t, udp, 'mod_wsgi', a.parentPid, pid, 'app:green')

  assertAll2xx(t, await shortLoad(a.port, '/blue/'), 'apache /blue/ load')

  const [victim] = blue
  if (victim === undefined) throw new Error('no blue daemon')
  const load = startLoad({ port: a.port, path: '/blue/', concurrency: 4, maxDurationMs: 60_000 })
  t.ok(signalPid(victim, 'SIGUSR1'), `SIGUSR1 to app:blue ${victim}`)
  await waitFor(() => !isAlive(victim), { timeoutMs: 30_000, what: `app:blue ${victim} to exit after SIGUSR1` })
  const replacement = await waitFor(
    () => {
      const now = a.groupPids('app:blue')
      const fresh = now.filter((pid) => !blue.includes(pid))
      return now.length === 3 && fresh.length === 1 ? fresh[0] : undefined
    },
    { timeoutMs: 30_000, what: 'a new app:blue daemon process' },
  )
  t.ok(isDaemonOf(replacement, 'app:blue'), `replacement ${replacement} is titled (wsgi:app:blue)`)
  await readyFrom(t, udp, 'mod_wsgi', a.parentPid, replacement, 'app:blue')
  const during = await load.stop()
  t.ok(during.total > 0, `load during the USR1 replacement: ${during.total} requests, ${during.failed} failed`)
  t.comment(`apache USR1: failures during replacement: ${JSON.stringify(during.failures.slice(0, 5))}`)
  t.same(a.groupPids('app:green'), green, 'app:green pid unchanged')
  t.same(
    a.groupPids('app:blue').filter((pid) => pid !== replacement),
    blue.filter((pid) => pid !== victim),
    'the other app:blue daemons were not touched',
  )

  const everyone = [a.parentPid, ...childrenOf(a.parentPid), ...blue, ...green]
  await a.stop()
  assertGone(t, everyone, 'apache stop')
})

t.test('apache: a long group name is truncated to the length of argv[0]', async (t) => {
  const appDir = makeAppDir(t, 'good')
  const a = await startApache(t, {
    groups: [{ name: 'app:blue-long-name', processes: 1, appDir, urlPrefix: '/long' }],
    env,
  })
  const [pid] = a.groupPids('app:blue-long-name')
  if (pid === undefined) throw new Error('no daemon process')
  t.same(argv(pid), ['(wsgi:app:blue-lo', '-f', a.confPath, '-k', 'start'], 'argv[0] cut to 17 chars, other args kept')
  t.equal(comm(pid), 'apache2', 'comm stays apache2')
  const everyone = [a.parentPid, ...childrenOf(a.parentPid)]
  await a.stop()
  assertGone(t, everyone, 'apache stop')
})

t.test('uwsgi: 3 lazy workers, readiness, SIGHUP to one worker under load', async (t) => {
  const udp = await listen(t)
  const appDir = makeAppDir(t, 'good', { revision: 'u1' })
  const u = await startUwsgi(t, { appDir, workers: 3, lazyApps: true, notifyPort: udp.port, env, procname: 'rr-harness' })
  const workers = u.workerPids()
  t.equal(workers.length, 3, 'three workers')
  t.equal(cmdline(u.masterPid), 'rr-harness', 'master title is the procname')
  for (const pid of workers) {
    t.match(cmdline(pid), /^uWSGI worker [123]$/, `worker ${pid} title`)
    await readyFrom(t, udp, 'uwsgi', u.masterPid, pid, 'rr-harness')
  }
  assertAll2xx(t, await shortLoad(u.port), 'uwsgi load')

  const [victim] = workers
  if (victim === undefined) throw new Error('no worker')
  const load = startLoad({ port: u.port, concurrency: 4, maxDurationMs: 60_000 })
  await waitFor(() => load.snapshot().total > 20, { what: 'the load to get going' })
  t.ok(signalPid(victim, 'SIGHUP'), `SIGHUP to worker ${victim}`)
  await waitFor(() => !isAlive(victim), { timeoutMs: 30_000, what: `uwsgi worker ${victim} to exit after SIGHUP` })
  const replacement = await waitFor(
    () => {
      const now = u.workerPids()
      const fresh = now.filter((pid) => !workers.includes(pid))
      return now.length === 3 && fresh.length === 1 ? fresh[0] : undefined
    },
    { timeoutMs: 30_000, what: 'a respawned uwsgi worker' },
  )
  await readyFrom(t, udp, 'uwsgi', u.masterPid, replacement, 'rr-harness')
  await waitFor(() => load.snapshot().total > 200, { timeoutMs: 30_000, what: 'more load after the respawn' })
  const during = await load.stop()
  assertAll2xx(t, during, 'uwsgi load across the SIGHUP respawn')
  t.same(
    u.workerPids().filter((pid) => pid !== replacement),
    workers.filter((pid) => pid !== victim),
    'the other workers were not touched',
  )

  const everyone = [u.masterPid, ...workers, replacement]
  await u.stop()
  assertGone(t, everyone, 'uwsgi stop')
})
