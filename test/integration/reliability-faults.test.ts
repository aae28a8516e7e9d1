// The faults of docs/reliability.md not shown elsewhere, each against a real Gunicorn (Debian's
// 20.1): an old worker that ignores TERM, the readiness port taken, no permission to signal, and an
// oversized datagram in the middle of a run.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { chmodSync } from 'node:fs'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli, spawnCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive, waitFor } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

interface Report {
  aborted: { reason: string; message: string; oldPid: number | null } | null
  replaced: unknown[]
  untouched: number[]
  errorResistance: boolean
}

async function setup(t: Tap.Test, name: string, fixture = 'good', bootDelay = '0.3') {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, fixture, { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers: 3, name, notifyPort, env: { BOOT_DELAY: bootDelay }, gracefulTimeoutSec: 3 })
  const stateDir = tempDir(t, 'state')
  return { appDir, server, stateDir, notifyPort, flags: ['--group', name, '--state-dir', stateDir, '--notify', `127.0.0.1:${notifyPort}`] }
}

t.test('an old worker that ignores TERM: drain-timeout, exit 4, it is left running and every other worker untouched', async (t) => {
  const { appDir, server, flags } = await setup(t, 'ignore-term', 'ignore_term')
  const original = server.workerPids()
  swapApp(appDir, 'good', { revision: 'r2' })
  const run = await runCli([...flags, '--drain-timeout', '3s', '--json'])
  t.equal(run.code, 4, { stderr: run.stderr.slice(-1500) })
  const report = run.json as Report
  t.equal(report.aborted?.reason, 'drain-timeout')
  t.match(report.aborted?.message, new RegExp(`worker ${original[0]} did not exit within 3\\.00 s of SIGTERM: .*It was left running`))
  t.same(original.filter(isAlive), original, 'all three old workers still run: the stubborn one and the two never signalled')
  t.same(report.untouched.sort(), original.slice(1).sort())
  t.equal(report.errorResistance, true)
  // the step went through the master: its TTIN started the replacement before the TTOU stopped the oldest
  const added = server.workerPids().filter((p) => !original.includes(p))
  t.equal(added.length, 1, `the replacement the master started on TTIN runs beside them (${added.join(', ')})`)
})

t.test('the readiness port already taken: exit 5 before any signal', async (t) => {
  const { server, flags, notifyPort } = await setup(t, 'port-taken')
  const squatter = createSocket('udp4')
  await new Promise<void>((resolve) => squatter.bind(notifyPort, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())))
  const before = server.workerPids()
  const run = await runCli([...flags, '--json'])
  t.equal(run.code, 5, { stderr: run.stderr.slice(-1500) })
  t.equal((run.json as { error: { code: string } }).error.code, 'notify-port-in-use')
  t.match(run.stderr, new RegExp(`the readiness address 127\\.0\\.0\\.1:${notifyPort} is already in use.*--notify HOST:PORT`))
  t.same(server.workerPids(), before, 'no worker touched')
})

t.test('no permission to signal the server (another user): exit 3 before any signal', { skip: process.getuid?.() !== 0 && 'needs root to run the CLI as nobody' }, async (t) => {
  const { server, flags, stateDir } = await setup(t, 'no-permission')
  chmodSync(stateDir, 0o777) // so that the state directory is not what refuses the run
  const before = server.workerPids()
  const run = await runCli([...flags, '--json'], { user: { uid: 65534, gid: 65534 } })
  t.equal(run.code, 3, { stderr: run.stderr.slice(-1500) })
  t.equal((run.json as { error: { code: string } }).error.code, 'denied')
  t.match(run.stderr, new RegExp(`not permitted to signal Gunicorn master ${server.masterPid} \\[no-permission\\].*run rolling-restart as the server's user or as root`))
  t.same(server.workerPids(), before, 'no worker touched')
})

t.test('an oversized datagram mid-run is dropped and logged; the run goes on', async (t) => {
  const { server, flags, notifyPort } = await setup(t, 'oversized', 'good', '1.5')
  const original = server.workerPids()
  const run = spawnCli([...flags, '--no-preflight', '--json', '--log-format', 'json'], { t })
  await waitFor(() => !isAlive(original[0] as number), { timeoutMs: 30_000, intervalMs: 10, what: 'the first worker to be signalled' })
  const sender = createSocket('udp4')
  const big = Buffer.from(`READY=1\nPID=${original[1]}\nSTATUS=200 OK\nPAD=${'x'.repeat(3000)}`)
  await new Promise<void>((resolve, reject) => sender.send(big, notifyPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())))
  sender.close()
  const result = await run.result
  t.equal(result.code, 0, 'the run completes', { stderr: result.stderr.slice(-1500) })
  t.match(result.stderr, /"event":"datagram-ignored".*"reason":"oversized".*"detail":"\d+ bytes, more than 2048"/)
  t.equal((result.json as Report).replaced.length, 3)
})
