// FastAPI, as people deploy it, rolled under keep-alive load: under Gunicorn 26 from the package
// index with UvicornWorker (found by --group from the proc_name in its -c file, without
// setproctitle), and under Uvicorn's own --workers supervisor with `app = notify_ready(app)`.
// Needs the venvs of scripts/setup-venvs.sh.
import t from 'tap'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeAppDir } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startLoad } from '../helpers/load.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'
import { startUvicorn } from '../helpers/uvicorn.js'
import { fixtureTree, startVenvGunicorn, venvMissing, venvPython } from '../helpers/venvs.js'

interface Report {
  ok: boolean
  group: string
  server: string
  replaced: Array<{ oldPid: number; newPid: number; status: string }>
  aborted: { reason: string; message: string } | null
  durationMs: number
  preflight: { ran: boolean; ok: boolean | null; python: string | null; status: string | null; skipped?: string | null } | null
}

const ASGI_HOOK_LINE = '\nfrom rolling_restart_hook.asgi import notify_ready; app = notify_ready(app)\n'

/** Roll under keep-alive load; the run's report and what the load saw. */
async function rollUnderLoad(port: number, flags: string[]) {
  const load = startLoad({ port, keepAlive: true, concurrency: 6, maxDurationMs: 90_000, maxRequests: 60_000 })
  const run = await runCli([...flags, '--json', '--log-format', 'json'], { timeoutMs: 120_000 })
  const traffic = await load.stop()
  const signals = run.stderr.split('\n').filter((l) => l.includes('"event":"signal"'))
  return { run, report: run.json as Report, traffic, signals }
}

const gunicornSkip = venvMissing('gunicorn26', 'gunicorn')
t.test('FastAPI under Gunicorn 26 -k uvicorn.workers.UvicornWorker, 3 workers, keep-alive load', { skip: gunicornSkip ?? false }, async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'fastapi_app')
  const server = await startVenvGunicorn(t, {
    appDir,
    workers: 3,
    name: 'api:blue',
    notifyPort,
    args: ['-k', 'uvicorn.workers.UvicornWorker'],
    env: { LIFESPAN_DELAY: '0.3' },
    gracefulTimeoutSec: 20,
  })
  const original = server.workerPids()
  const stateDir = tempDir(t, 'state')
  // --group NAME: the proc_name of the -c file; the master has no process title (no setproctitle in the venv)
  const flags = ['--group', 'api:blue', '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir]
  const { run, report, traffic, signals } = await rollUnderLoad(server.port, [...flags, '--preflight-always'])

  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-2500) })
  t.match(report, { ok: true, server: 'gunicorn', group: 'api:blue' })
  t.same(report.replaced.map((r) => r.oldPid).sort(), [...original].sort(), 'all 3 workers replaced')
  t.ok(report.replaced.every((r) => r.status === '200 OK'), 'each new worker probed /_status through ASGI after lifespan startup: 200 OK')
  t.same(original.filter(isAlive), [], 'no original worker is left')
  t.match(report.preflight, { ran: true, ok: true, python: venvPython('gunicorn26'), status: '200 OK' }, "the preflight ran FastAPI with the venv's python")
  t.equal(traffic.failed, 0, `0 failed requests: ${JSON.stringify(traffic.failures.slice(0, 5))}`)
  t.ok(traffic.total > 100 && traffic.connections < traffic.total / 2, `keep-alive load: ${traffic.total} requests on ${traffic.connections} connections`)
  // the master repeats the TERM of a worker it retires on TTOU; the hook's Uvicorn drain keeps going on it
  t.ok(signals.length === 6 && signals.every((l) => l.includes('"to":"master"')), `through the master: TTIN and TTOU for each step (${signals.length} signals)`)

  const second = server.workerPids()
  const surge = await rollUnderLoad(server.port, [...flags, '--strategy', 'surge'])
  t.equal(surge.run.code, 0, 'surge: exit 0', { stderr: surge.run.stderr.slice(-2500) })
  t.same(surge.report.replaced.map((r) => r.oldPid).sort(), [...second].sort(), 'surge: all 3 replaced')
  t.equal(surge.traffic.failed, 0, `surge: 0 failed requests: ${JSON.stringify(surge.traffic.failures.slice(0, 5))}`)

  // doctor on the same master: found by the config's proc_name, and the hint installs into the venv
  const doctor = await runCli(['doctor', '--group', 'api:blue', '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir, '--json'])
  t.equal(doctor.code, 0, 'doctor: no error', { stdout: doctor.stdout, stderr: doctor.stderr })
  const hazards = (doctor.json as { hazards: Array<{ id: string; fix: string }> }).hazards
  t.match(hazards.find((h) => h.id === 'no-setproctitle')?.fix, /\.venvs\/gunicorn26\/bin\/pip install setproctitle/, 'setproctitle: pip install in the venv, not the Debian package')
  t.comment(`UvicornWorker: 3 replaced in ${report.durationMs} ms; ${traffic.total} requests on ${traffic.connections} connections, ${traffic.failed} failed, p99 ${traffic.p99} ms`)
})

const uvicornSkip = venvMissing('uvicorn-standard', 'uvicorn')
t.test('FastAPI under uvicorn --workers 3 with app = notify_ready(app), keep-alive load', { skip: uvicornSkip ?? false }, async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = fixtureTree(t)
  appendFileSync(join(appDir, 'fastapi_app.py'), ASGI_HOOK_LINE)
  const server = await startUvicorn(t, { appDir, app: 'fastapi_app:app', workers: 3, notifyPort, env: { LIFESPAN_DELAY: '0.3' } })
  const original = server.workerPids()
  t.equal(original.length, 3, 'three workers (the resource tracker is not one)')
  const stateDir = tempDir(t, 'state')
  const flags = ['--group', 'fastapi_app:app', '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir]

  const doctor = await runCli(['doctor', ...flags, '--json'])
  t.equal(doctor.code, 0, 'doctor finds no error', { stdout: doctor.stdout, stderr: doctor.stderr })
  t.match(doctor.json, { group: 'fastapi_app:app', server: 'uvicorn', masterPid: server.supervisorPid })

  // --preflight-always: the app is unchanged, and the running workers would vouch for it
  const { run, report, traffic } = await rollUnderLoad(server.port, [...flags, '--preflight-always'])
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-2500) })
  t.match(report, { ok: true, server: 'uvicorn', group: 'fastapi_app:app' })
  t.same(report.replaced.map((r) => r.oldPid).sort(), [...original].sort(), 'all 3 workers replaced')
  t.ok(report.replaced.every((r) => r.status === '200 OK'), 'each new worker reported 200 OK after lifespan startup')
  t.same(original.filter(isAlive), [], 'no original worker is left')
  t.same(server.workerPids().sort(), report.replaced.map((r) => r.newPid).sort(), 'the workers now are the replacements')
  t.ok(isAlive(server.supervisorPid), 'the supervisor is untouched')
  t.match(report.preflight, { ran: true, ok: true, python: venvPython('uvicorn-standard') }, "the preflight ran with the venv's python")
  t.equal(traffic.failed, 0, `0 failed requests: ${JSON.stringify(traffic.failures.slice(0, 5))}`)
  t.ok(traffic.total > 100 && traffic.connections < traffic.total / 2, `keep-alive load: ${traffic.total} requests on ${traffic.connections} connections`)
  t.comment(`uvicorn --workers 3: 3 replaced in ${report.durationMs} ms; ${traffic.total} requests on ${traffic.connections} connections, ${traffic.failed} failed, p99 ${traffic.p99} ms`)

  // without --preflight-always the new workers, which reported after lifespan startup, vouch for the unchanged app
  const again = await runCli([...flags, '--json'], { timeoutMs: 120_000 })
  t.equal(again.code, 0, { stderr: again.stderr.slice(-1500) })
  t.match((again.json as Report).preflight, { ran: false, skipped: /^preflight not needed: the 3 running workers passed their probe/ }, 'Uvicorn workers vouch for an unchanged app')
})
