// Rolling restarts of a real uWSGI (Debian's uwsgi-core + python3 plugin) with --master and the
// bundled hook, under real load. Each server gets its own procname-master, so --group finds it
// even while other suites run uWSGI at the same time.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startLoad } from '../helpers/load.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive, signalPid, waitFor } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'
import { startUwsgi, type Uwsgi } from '../helpers/uwsgi.js'

interface Report {
  ok: boolean
  group: string
  server: string
  masterPid: number
  selected: number[]
  skipped: Array<{ pid: number; why: string }>
  replaced: Array<{ oldPid: number; newPid: number; status: string; release: string | null }>
  aborted: { reason: string; message: string; oldPid: number | null; newPid: number | null } | null
  errorResistance: boolean
  untouched: number[]
  preflight: { ran: boolean; skipped: string | null } | null
}

let serial = 0

async function setup(
  t: Tap.Test,
  opts: { workers?: number; lazyApps?: boolean; bootDelay?: string; revision?: string } = {},
): Promise<{ u: Uwsgi; appDir: string; flags: string[]; procname: string }> {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: opts.revision ?? 'u1' })
  const procname = `rr-uwsgi-${process.pid}-${++serial}`
  const u = await startUwsgi(t, {
    appDir,
    workers: opts.workers ?? 3,
    lazyApps: opts.lazyApps ?? true,
    procname,
    notifyPort,
    env: { BOOT_DELAY: opts.bootDelay ?? '1.0' },
  })
  const stateDir = tempDir(t, 'state')
  return { u, appDir, procname, flags: ['--group', procname, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir] }
}

/** SigCgt of /proc/PID/status includes SIGUSR2 (bit 11): uWSGI's worker handlers are installed. */
const hasWorkerHandlers = (pid: number): boolean => {
  const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << 11n)) !== 0n
}

const withoutNotify = (flags: string[]) => flags.filter((f, i) => f !== '--notify' && flags[i - 1] !== '--notify')

t.test('rolls 3 lazy-apps workers under load: all replaced, no failed request', async (t) => {
  const { u, appDir, flags, procname } = await setup(t)
  const original = u.workerPids()
  t.equal(original.length, 3)
  swapApp(appDir, 'good', { revision: 'u2' })

  const load = startLoad({ port: u.port, concurrency: 4, maxDurationMs: 120_000 })
  const run = await runCli([...flags, '--json'])
  const traffic = await load.stop()

  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-3000) })
  const report = run.json as Report
  t.equal(report.server, 'uwsgi')
  t.equal(report.group, procname)
  t.equal(report.masterPid, u.masterPid)
  t.same(report.replaced.map((r) => r.oldPid).sort(), [...original].sort(), 'every original worker was replaced')
  t.ok(report.replaced.every((r) => r.status === '200 OK' && r.release === 'u2'), 'each new worker reported 200 OK and release u2')
  t.same(original.filter(isAlive), [], 'no original worker still runs')
  t.same(u.workerPids().sort(), report.replaced.map((r) => r.newPid).sort(), 'the workers now are exactly the reported replacements')
  t.ok(isAlive(u.masterPid), 'the master is untouched')
  t.match(run.stderr, new RegExp(`auto picked uWSGI: uWSGI master ${u.masterPid} \\[${procname}\\] \\(master titled '${procname}'\\)`), 'says what auto picked')
  t.match(run.stderr, /"signal":"SIGHUP","to":"worker"/, 'workers got SIGHUP')
  t.notMatch(run.stderr, /"event":"hazard"/, 'no hazard reported for a lazy-apps server')

  t.ok(traffic.total > 30, `the load ran during the roll (${traffic.total} requests, p99 ${traffic.p99} ms)`)
  t.equal(traffic.failed, 0, `no failed request: ${JSON.stringify(traffic.failures.slice(0, 5))}`)
  t.notMatch(readFileSync(u.logFile, 'utf8'), /DAMN ! worker/, 'uWSGI never lost a worker ungracefully')

  // the release changed, so the preflight ran; now the new workers vouch for it: no preflight
  t.match(report.preflight, { ran: true })
  const again = await runCli([...flags, '--json'])
  t.equal(again.code, 0, { stderr: again.stderr.slice(-1500) })
  t.match((again.json as Report).preflight, { ran: false, skipped: /^preflight not needed: the \d+ running workers passed their probe/ }, 'uWSGI workers vouch for an unchanged release')

  const byPidfile = await runCli(['status', '--pidfile', u.pidfile, ...withoutNotify(flags).slice(2), '--json'])
  t.equal(byPidfile.code, 0, 'auto finds the same master by its pidfile', { stderr: byPidfile.stderr.slice(-1000) })
  t.match(byPidfile.json, { server: 'uwsgi', group: procname, masterPid: u.masterPid })
})

t.test('a new release that fails its status check stops after one worker; the others are untouched', async (t) => {
  const { u, appDir, flags } = await setup(t)
  const original = u.workerPids()
  swapApp(appDir, 'status_500', { revision: 'bad' })

  const load = startLoad({ port: u.port, concurrency: 3, maxDurationMs: 60_000 })
  const run = await runCli([...flags, '--no-preflight', '--json'])
  const traffic = await load.stop()

  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.errorResistance, true)
  t.equal(report.aborted?.reason, 'not-ready')
  t.match(report.aborted?.message, /reported READY=0.*500 Internal Server Error/)
  t.equal(report.aborted?.oldPid, original[0])
  t.same(original.filter(isAlive), original.slice(1), 'exactly one worker was stopped; the other two still run')
  t.same([...report.untouched].sort(), original.slice(1).sort())
  t.equal(u.workerPids().length, 3, 'the master still runs 3 workers')
  t.ok(traffic.ok > 0, `old workers kept serving (${traffic.ok} ok of ${traffic.total})`)

  const again = await runCli([...flags, '--json'])
  t.equal(again.code, 5, 'the next run is refused')
  t.same(original.filter(isAlive), original.slice(1), 'the refused run touched nothing')

  swapApp(appDir, 'good', { revision: 'fixed' })
  const resume = await runCli(['resume', ...withoutNotify(flags)])
  t.equal(resume.code, 0)
  const fixed = await runCli([...flags, '--json'])
  t.equal(fixed.code, 0, 'the fixed release rolls', { stderr: fixed.stderr.slice(-2000) })
  t.ok((fixed.json as Report).replaced.every((r) => r.release === 'fixed'))
  t.same(original.filter(isAlive), [], 'every original worker is gone')
})

t.test('without lazy-apps: warned at the start, and a wrong release is blamed on it', async (t) => {
  const { u, flags } = await setup(t, { workers: 2, lazyApps: false, bootDelay: '0.3' })
  const original = u.workerPids()
  const run = await runCli([...flags, '--expect-release', 'u2', '--json'])
  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  t.match(run.stderr, /"event":"hazard","id":"lazy-apps-off"[^\n]*shows the app loaded by the master/, 'the start of the run warns that lazy-apps is off')
  const report = run.json as Report
  t.equal(report.aborted?.reason, 'wrong-release')
  t.match(report.aborted?.message, /reported RELEASE=u1.*expected u2.*Likely cause: lazy-apps is off \(uWSGI's log \(\S+\) shows the app loaded by the master \(pid \d+\)/)
  t.same(original.filter(isAlive), original.slice(1), 'one worker replaced, the other untouched')
})

t.test('a worker still booting is waited for, never signalled mid-boot', async (t) => {
  const { u, flags } = await setup(t, { workers: 2, bootDelay: '2' })
  const [first, second] = u.workerPids() as [number, number]
  // startUwsgi returns once one worker answers; wait until both have loaded the app (they then catch
  // SIGUSR2, core/uwsgi.c what_i_am_doing), so the SIGHUP below reaches a worker's own handler
  await waitFor(() => [first, second].every(hasWorkerHandlers), { what: 'both workers to finish booting' })
  // uWSGI respawns `first` at once; the new worker needs ~2 s to load the app, and until then it has
  // the master's signal handlers: a SIGHUP to it would stop another worker. --batch 2 would signal
  // both workers at once, so only the wait keeps the booting one from being signalled mid-boot.
  t.ok(signalPid(first, 'SIGHUP'))
  const booting = await waitFor(() => u.workerPids().find((p) => p !== first && p !== second), { what: 'the respawned worker' })
  const run = await runCli([...flags, '--batch', '2', '--json', '--log-format', 'json'])
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-2000) })
  t.match(run.stderr, new RegExp(`"event":"await-booting"[^\\n]*"pid":${booting}`), 'the run waited for the booting worker')
  const report = run.json as Report
  t.same([...report.selected].sort(), [booting, second].sort(), 'both workers were rolled once the booting one was ready')
  t.same([booting, second].filter(isAlive), [], 'both are replaced')
  t.notMatch(readFileSync(u.logFile, 'utf8'), /DAMN ! worker|gracefully killing workers/, 'no signal went astray')
})
