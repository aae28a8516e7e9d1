// WSGI stacks as people run them: a production Django (DEBUG = False, ALLOWED_HOSTS =
// ['example.com']) under Gunicorn 26 from the venv, with and without ROLLING_RESTART_STATUS_HOST;
// and gthread workers with --threads 4 and Gunicorn's default keep-alive (2 s), on Debian's 20.1
// and the venv's 26, rolled under keep-alive load.
import t from 'tap'
import { makeAppDir } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn, type Gunicorn, type GunicornOptions } from '../helpers/gunicorn.js'
import { startLoad } from '../helpers/load.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'
import { fixtureTree, startVenvGunicorn, venvMissing } from '../helpers/venvs.js'

interface Report {
  ok: boolean
  group: string
  replaced: Array<{ oldPid: number; newPid: number; status: string }>
  aborted: { reason: string; message: string } | null
  message: string
  durationMs: number
  preflight: { ran: boolean; ok: boolean | null; status: string | null } | null
}
interface Hazard {
  id: string
  severity: string
  message: string
  fix: string
}

const venvSkip = venvMissing('gunicorn26', 'gunicorn')
const HOST_HINT = /400 Bad Request from GET http:\/\/localhost\/_status: Host localhost rejected \(Django ALLOWED_HOSTS\?\); set ROLLING_RESTART_STATUS_HOST/

/** Django's WSGI entry point under the venv's Gunicorn 26 (sync workers). */
async function startDjango(t: Tap.Test, name: string, env: Record<string, string>) {
  const notifyPort = await freeUdpPort()
  const server = await startVenvGunicorn(t, { appDir: fixtureTree(t), app: 'django_site.wsgi', workers: 2, name, notifyPort, env, hostHeader: 'example.com' })
  const target = ['--group', name, '--state-dir', tempDir(t, 'state')]
  return { server, target, flags: [...target, '--notify', `127.0.0.1:${notifyPort}`] }
}

t.test('Django with DEBUG = False and ALLOWED_HOSTS = [example.com]: without ROLLING_RESTART_STATUS_HOST, exit 4 naming the Host and the fix', { skip: venvSkip ?? false }, async (t) => {
  const { server, target, flags } = await startDjango(t, 'shop:plain', {})
  const original = server.workerPids()

  const doctor = await runCli(['doctor', ...flags, '--json'])
  t.equal(doctor.code, 6, 'doctor exits 6', { stdout: doctor.stdout })
  const host = (doctor.json as { hazards: Hazard[] }).hazards.find((h) => h.id === 'status-host-rejected')
  t.match(host, { severity: 'error', message: /sends Host localhost, which the Django settings django_site\.settings .*DEBUG = False, ALLOWED_HOSTS = \["example\.com"\]/, fix: /ROLLING_RESTART_STATUS_HOST=example\.com/ })

  // the preflight catches it before any worker is touched
  const run = await runCli([...flags, '--json'])
  const report = run.json as Report
  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-1500) })
  t.match(report.preflight, { ran: true, ok: false, status: HOST_HINT })
  t.match(report.message, HOST_HINT, 'the message names the URL, the Host and the variable')
  t.same(report.replaced, [])
  t.same(original.filter(isAlive), original, 'no worker was touched')

  // without the preflight, the new worker says the same, verbatim, and the message does not blame the release
  t.equal((await runCli(['resume', ...target])).code, 0)
  const bare = await runCli([...flags, '--no-preflight', '--json'])
  const b = bare.json as Report
  t.equal(bare.code, 4, 'exit 4', { stderr: bare.stderr.slice(-1500) })
  t.equal(b.aborted?.reason, 'not-ready')
  t.match(b.aborted?.message, /reported READY=0: its status probe said "400 Bad Request from GET http:\/\/localhost\/_status: Host localhost rejected \(Django ALLOWED_HOSTS\?\); set ROLLING_RESTART_STATUS_HOST to a host the application serves"\. The probe itself may be what failed/)
  t.notMatch(b.aborted?.message, /release is not healthy/)
})

t.test('Django with ROLLING_RESTART_STATUS_HOST=example.com: exit 0 under load', { skip: venvSkip ?? false }, async (t) => {
  const { server, flags } = await startDjango(t, 'shop:host', { ROLLING_RESTART_STATUS_HOST: 'example.com' })
  const original = server.workerPids()
  const doctor = await runCli(['doctor', ...flags, '--json'])
  t.notOk((doctor.json as { hazards: Hazard[] }).hazards.some((h) => h.id === 'status-host-rejected'), 'doctor: the Host passes')
  const load = startLoad({ port: server.port, hostHeader: 'example.com', concurrency: 4, maxDurationMs: 60_000, maxRequests: 30_000 })
  const run = await runCli([...flags, '--json'])
  const traffic = await load.stop()
  const report = run.json as Report
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-1500) })
  // the workers passed their probe with the code on disk: they vouch for it (preflight-unchanged.test.ts)
  t.match(report.preflight, { ran: false, skipped: /^preflight not needed: the 2 running workers passed their probe/ })
  t.same(report.replaced.map((r) => r.oldPid).sort(), [...original].sort(), 'both workers replaced')
  t.equal(traffic.failed, 0, `0 failed requests: ${JSON.stringify(traffic.failures.slice(0, 5))}`)
  t.comment(`Django: 2 replaced in ${report.durationMs} ms; ${traffic.total} requests, ${traffic.failed} failed`)
})

const gthread: Array<{ label: string; name: string; skip: string | null; start: (t: Tap.Test, o: GunicornOptions) => Promise<Gunicorn> }> = [
  { label: "Debian's Gunicorn 20.1", name: 'threads:deb', skip: null, start: startGunicorn },
  { label: 'Gunicorn 26 from the venv', name: 'threads:venv', skip: venvSkip, start: startVenvGunicorn },
]

/** Roll `args` (after the group's flags) under keep-alive load; the run and what the load saw. */
async function rollUnderKeepAlive(server: Gunicorn, flags: string[], args: string[]) {
  const load = startLoad({ port: server.port, keepAlive: true, concurrency: 8, maxDurationMs: 60_000, maxRequests: 60_000 })
  const run = await runCli([...flags, ...args, '--json', '--log-format', 'json'])
  const traffic = await load.stop()
  const signals = run.stderr.split('\n').filter((l) => l.includes('"event":"signal"'))
  return { run, report: run.json as Report, traffic, signals }
}

async function startThreads(t: Tap.Test, g: (typeof gthread)[number], name: string, env: Record<string, string> = {}) {
  const notifyPort = await freeUdpPort()
  const server = await g.start(t, { appDir: makeAppDir(t, 'good'), workers: 3, name, notifyPort, args: ['-k', 'gthread', '--threads', '4'], env: { BOOT_DELAY: '0.3', ...env } })
  return { server, flags: ['--group', name, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', tempDir(t, 'state')] }
}

for (const g of gthread) {
  // The master repeats the TERM of a worker it retires on TTOU at each turn of its loop; the hook's
  // drain keeps going on it (and says so in its loaded-files record), so replace goes through the
  // master and surge retires through it, without a reset.
  t.test(`gthread --threads 4 with the default keep-alive, ${g.label}: replace through the master and surge, 0 failed requests under keep-alive load`, { skip: g.skip ?? false }, async (t) => {
    const { server, flags } = await startThreads(t, g, g.name)
    const original = server.workerPids()
    const dry = await runCli([...flags, '--dry-run'])
    t.match(dry.stdout, /each step: TTIN then TTOU to the master/, 'the dry run: through the master')
    const doctor = await runCli(['doctor', ...flags, '--json'])
    t.notOk((doctor.json as { hazards: Hazard[] }).hazards.some((h) => h.id === 'drain-stops-on-repeated-term'), 'doctor: their hook keeps draining')

    const replace = await rollUnderKeepAlive(server, flags, [])
    t.equal(replace.run.code, 0, 'replace: exit 0', { stderr: replace.run.stderr.slice(-1500) })
    t.same(replace.report.replaced.map((r) => r.oldPid).sort(), [...original].sort(), 'all 3 workers replaced')
    t.ok(replace.signals.length === 6 && replace.signals.every((l) => l.includes('"to":"master"')), `TTIN and TTOU to the master for each step, no signal to a worker (${replace.signals.length} signals)`)
    t.equal(replace.traffic.failed, 0, `replace: 0 failed requests: ${JSON.stringify(replace.traffic.failures.slice(0, 5))}`)
    t.ok(replace.traffic.connections < replace.traffic.total / 2, `keep-alive load: ${replace.traffic.total} requests on ${replace.traffic.connections} connections`)

    const second = server.workerPids()
    const surge = await rollUnderKeepAlive(server, flags, ['--strategy', 'surge'])
    t.equal(surge.run.code, 0, 'surge: exit 0', { stderr: surge.run.stderr.slice(-1500) })
    t.same(surge.report.replaced.map((r) => r.oldPid).sort(), [...second].sort(), 'surge: all 3 replaced')
    t.equal(surge.traffic.failed, 0, `surge: 0 failed requests: ${JSON.stringify(surge.traffic.failures.slice(0, 5))}`)
    t.equal(server.workerPids().length, 3, 'the master is back at 3 workers')
    t.comment(
      `gthread ${g.label}: replace ${replace.report.durationMs} ms (${replace.traffic.total} requests on ${replace.traffic.connections} connections, p99 ${replace.traffic.p99} ms); ` +
        `surge ${surge.report.durationMs} ms (${surge.traffic.total} on ${surge.traffic.connections}, p99 ${surge.traffic.p99} ms)`,
    )
  })
}

// Workers whose hook does not say that it keeps draining (a hook from before, or the record off):
// a second TERM would end their drain at once. Replace signals each one once; surge is refused.
t.test("gthread keep-alive workers whose hook does not say it keeps draining, Debian's Gunicorn 20.1: surge refused with nothing touched, replace TERMs each worker once, 0 failed", async (t) => {
  const { server, flags } = await startThreads(t, gthread[0] as (typeof gthread)[number], 'threads:unmarked', { ROLLING_RESTART_LOADED_RECORD: 'off' })
  const original = server.workerPids()
  const unmarked = new RegExp(`its gthread workers drain keep-alive connections on TERM \\(keepalive = 2 s\\), which the master repeats, and workers ${original.join(', ')} run a hook that stops at once on a repeated TERM`)

  const dry = await runCli([...flags, '--dry-run'])
  t.match(dry.stdout, /each step: a graceful stop to the worker listed, then the READY of its replacement \(not through the master: /, 'replace: not through the master')
  t.match(dry.stdout, unmarked, 'the dry run names the workers and why')
  const drySurge = await runCli([...flags, '--strategy', 'surge', '--dry-run', '--json'])
  t.match(drySurge.json, { refused: /^--strategy surge lets the master retire each old worker/, refusedExit: 2 }, 'the dry run of a surge says it would be refused')

  const doctor = await runCli(['doctor', ...flags, '--json'])
  const cut = (doctor.json as { hazards: Hazard[] }).hazards.find((h) => h.id === 'drain-stops-on-repeated-term')
  t.match(cut, { severity: 'warning', message: unmarked, fix: /restart the master once: its workers fork with the hook the master loaded/ }, 'doctor warns, naming the workers')

  const surge = await runCli([...flags, '--strategy', 'surge', '--json'])
  t.equal(surge.code, 2, 'surge: exit 2', { stderr: surge.stderr.slice(-1500) })
  t.equal((surge.json as { error: { code: string } } | undefined)?.error.code, 'surge-cuts-drain', 'the JSON error says why')
  t.match(surge.stderr, unmarked)
  t.match(surge.stderr, /Nothing was touched\. Workers fork with the hook their master loaded: install this version's hook where the master imports it and restart the master once/)
  t.same(server.workerPids(), original, 'surge: the same workers, the master signalled nothing')

  const replace = await rollUnderKeepAlive(server, flags, [])
  t.equal(replace.run.code, 0, 'replace: exit 0', { stderr: replace.run.stderr.slice(-1500) })
  t.match(replace.run.stderr, /"event":"replace-via-worker"/)
  t.ok(replace.signals.length === 3 && replace.signals.every((l) => l.includes('"to":"worker"')), `one TERM to each worker, none through the master (${replace.signals.length} signals)`)
  t.equal(replace.traffic.failed, 0, `0 failed requests: ${JSON.stringify(replace.traffic.failures.slice(0, 5))}`)
})
