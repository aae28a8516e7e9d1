// Maintenance and read-only modes on a real Gunicorn: `rolling-restart mode` rewrites the file that
// rolling_restart_hook.modes.ModeMiddleware reads, and every worker follows at its next request,
// with no worker restarted.
import t from 'tap'
import { readFileSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { makeAppDir } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startApache } from '../helpers/apache.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { startLoad } from '../helpers/load.js'
import { freeUdpPort } from '../helpers/ports.js'
import { tempDir } from '../helpers/tmp.js'

// The fixtures' ordinary app (/, /pid, /_status answer 200 for any method) behind ModeMiddleware,
// which finds its mode file in ROLLING_RESTART_MODE_FILE.
const MODES_APP = `
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402
from rolling_restart_hook.modes import ModeMiddleware  # noqa: E402

_common.boot(0.2)
application = ModeMiddleware(_common.make_app())
app = application
`

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

const send = (port: number, method: string, path = '/'): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const body = method === 'POST' || method === 'PUT' ? 'name=value' : ''
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent: false,
        headers: body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) } : {},
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)))
    req.on('error', reject)
    req.end(body)
  })

/** `n` requests, each on a new connection, so they spread over the workers. */
const many = async (port: number, method: string, path = '/', n = 12): Promise<Answer[]> => {
  const out: Answer[] = []
  for (let i = 0; i < n; i++) out.push(await send(port, method, path))
  return out
}

const statuses = (answers: Answer[]): number[] => [...new Set(answers.map((a) => a.status))]

t.test('mode maintenance / read-only / normal switch a live Gunicorn without restarting a worker', async (t) => {
  const appDir = makeAppDir(t, { source: MODES_APP })
  const modeFile = join(tempDir(t, 'mode'), 'MODE')
  const server = await startGunicorn(t, { appDir, workers: 2, name: 'rr-modes', env: { ROLLING_RESTART_MODE_FILE: modeFile } })
  const workers = server.workerPids()
  t.equal(workers.length, 2)
  const cli = (args: string[]) => runCli(['mode', ...args, '--mode-file', modeFile, '--json'])

  // no mode file yet: normal
  t.same(statuses(await many(server.port, 'POST')), [200], 'no mode file: POST is served')

  const m = await cli(['maintenance', '--retry-after', '120'])
  t.equal(m.code, 0, m.stderr)
  t.match(m.json, { ok: true, mode: 'maintenance', previous: 'normal', retryAfter: 120, file: modeFile })
  t.equal(readFileSync(modeFile, 'utf8').split('\n')[0], 'maintenance', 'the file says maintenance on its first line')
  for (const method of ['GET', 'POST', 'HEAD']) {
    const answers = await many(server.port, method)
    t.same(statuses(answers), [503], `maintenance: ${method} / gets 503 from every worker`)
    t.ok(answers.every((a) => a.headers['retry-after'] === '120'), `maintenance: ${method} carries Retry-After: 120`)
    if (method === 'GET') t.match(answers[0]?.body, /Down for maintenance/)
    if (method === 'HEAD') t.ok(answers.every((a) => a.body === ''), 'maintenance: HEAD gets the headers and no body')
  }
  t.same(statuses(await many(server.port, 'GET', '/_status')), [200], 'maintenance: /_status still answers 200 (readiness keeps working)')

  const r = await cli(['read-only'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.json, { mode: 'read-only', previous: 'maintenance', retryAfter: 60 })
  t.same(statuses(await many(server.port, 'GET')), [200], 'read-only: GET is served')
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const answers = await many(server.port, method, '/', 6)
    t.same(statuses(answers), [503], `read-only: ${method} is refused with 503`)
    t.ok(answers.every((a) => a.headers['retry-after'] === '60'), `read-only: ${method} carries the default Retry-After: 60`)
    t.match(answers[0]?.body, /read-only/)
  }
  t.same(statuses(await many(server.port, 'POST', '/_status', 4)), [200], 'read-only: even a POST to /_status reaches the app')

  // flip back to normal while GET load runs: not one GET fails across read-only -> normal -> read-only
  const load = startLoad({ port: server.port, concurrency: 4, maxDurationMs: 30_000, maxRequests: 3000 })
  const n = await cli(['normal'])
  t.equal(n.code, 0, n.stderr)
  t.match(n.json, { mode: 'normal', previous: 'read-only' })
  const posts = await many(server.port, 'POST')
  t.same(statuses(posts), [200], 'normal: POST is served again')
  const again = await cli(['read-only'])
  t.equal(again.code, 0)
  const traffic = await load.stop()
  t.ok(traffic.total > 20, `GET load ran across the switches (${traffic.total} requests)`)
  t.equal(traffic.failed, 0, `no GET failed while the mode changed: ${JSON.stringify(traffic.failures.slice(0, 3))}`)
  t.same(statuses(await many(server.port, 'POST', '/', 4)), [503], 'read-only again')
  t.equal((await cli(['normal'])).code, 0)
  const pids = await many(server.port, 'GET', '/pid', 12)
  t.ok(pids.every((a) => workers.includes(Number(a.body.trim()))), `every answer came from an original worker (${[...new Set(pids.map((a) => a.body.trim()))].join(', ')})`)

  t.same(server.workerPids(), workers, 'the same two workers ran throughout: no restart')
})

t.test('mod_wsgi: new daemon processes come up in maintenance mode and still report READY; normal again without a restart', async (t) => {
  // The multi-mode deploy: park the app in maintenance, roll the group (a schema migration would
  // run now), open it again. Daemon processes see the Apache parent's environment, so the mode file
  // reaches them through ROLLING_RESTART_MODE_FILE given to apache2 (SetEnv would not).
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, { source: MODES_APP }, { revision: 'm1' })
  const modeFile = join(tempDir(t, 'mode'), 'MODE')
  const stateDir = tempDir(t, 'state')
  const apache = await startApache(t, {
    groups: [{ name: 'app:modes', processes: 2, appDir, urlPrefix: '/app' }],
    notifyPort,
    env: { ROLLING_RESTART_MODE_FILE: modeFile },
  })
  const mode = (m: string) => runCli(['mode', m, '--mode-file', modeFile, '--json'])
  t.same(statuses(await many(apache.port, 'POST', '/app/', 6)), [200])

  t.equal((await mode('maintenance')).code, 0)
  t.same(statuses(await many(apache.port, 'GET', '/app/', 6)), [503], 'maintenance under mod_wsgi')
  const before = apache.groupPids('app:modes')
  const roll = await runCli([
    '--group', 'app:modes', '--server', 'mod_wsgi', '--apache-pidfile', apache.pidFile,
    '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir, '--ready-timeout', '30s', '--json',
  ])
  t.equal(roll.code, 0, 'the roll succeeds in maintenance mode: the status probe passes the middleware', { stderr: roll.stderr.slice(-1500) })
  const rolled = apache.groupPids('app:modes')
  t.same(rolled.filter((p) => before.includes(p)), [], 'every daemon process was replaced')
  t.same(statuses(await many(apache.port, 'GET', '/app/', 6)), [503], 'the new processes came up in maintenance mode')

  t.equal((await mode('read-only')).code, 0)
  t.same(statuses(await many(apache.port, 'GET', '/app/', 6)), [200], 'read-only: reads are served')
  t.same(statuses(await many(apache.port, 'POST', '/app/', 6)), [503], 'read-only: writes are refused')
  t.equal((await mode('normal')).code, 0)
  t.same(statuses(await many(apache.port, 'POST', '/app/', 6)), [200], 'normal again')
  t.same(apache.groupPids('app:modes'), rolled, 'mode changes restarted no daemon process')
})

t.test('a bad mode name is exit 2 and leaves the mode file alone', async (t) => {
  const dir = tempDir(t, 'mode')
  const modeFile = join(dir, 'MODE')
  const set = await runCli(['mode', 'maintenance', '--mode-file', modeFile])
  t.equal(set.code, 0)
  t.match(set.stdout, /mode maintenance \(was normal\) written to .*MODE.*nothing is restarted/)
  const before = statSync(modeFile)
  for (const [args, message] of [
    [['readonly'], /mode "readonly" is not one of: normal, maintenance, read-only \(did you mean read-only\?\)/],
    [['off'], /mode "off" is not one of/],
    [['maintenance', '--retry-after', 'soon'], /--retry-after "soon" is not a number of seconds/],
  ] as const) {
    const r = await runCli(['mode', ...args, '--mode-file', modeFile])
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`)
    t.match(r.stderr, message)
  }
  const missing = await runCli(['mode', 'normal'], { env: { ROLLING_RESTART_MODE_FILE: '' } })
  t.equal(missing.code, 2)
  t.match(missing.stderr, /--mode-file FILE/)
  const nodir = await runCli(['mode', 'normal', '--mode-file', join(dir, 'no', 'MODE')])
  t.equal(nodir.code, 2)
  t.match(nodir.stderr, /--mode-file .*the directory .* does not exist/)
  const after = statSync(modeFile)
  t.equal(after.ino, before.ino, 'the mode file was not replaced')
  t.equal(readFileSync(modeFile, 'utf8').split('\n')[0], 'maintenance')
})
