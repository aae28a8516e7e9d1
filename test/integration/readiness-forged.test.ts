// Issue 10: without a secret, a forged READY=1 carrying the booting replacement's PID and a wrong
// PPID, sent while it boots, is ignored and does not use up the pid: the step completes on the real
// datagram, seconds later, from the same pid.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { swapApp } from '../helpers/apps.js'
import { spawnCli } from '../helpers/cli.js'
import { waitFor } from '../helpers/procs.js'
import { events, gunicornGroup, ofKind, type Report } from './readiness-shared.js'

function sendUdp(port: number, text: string): Promise<void> {
  const s = createSocket('udp4')
  return new Promise((resolve, reject) => s.send(Buffer.from(text), port, '127.0.0.1', (err) => (s.close(), err ? reject(err) : resolve())))
}

t.test('a forged READY with the booting replacement\'s pid and PPID=1 is ignored; the real one is accepted', async (t) => {
  // slow_boot: each new worker takes 3 s to import the app, time enough to forge its readiness
  const { appDir, server, flags, notifyPort } = await gunicornGroup(t, { name: 'forged', workers: 2, fixture: 'slow_boot', env: { BOOT_DELAY: '3' } })
  const original = server.workerPids()
  swapApp(appDir, 'slow_boot', { revision: 'r2' })
  const cli = spawnCli([...flags, '--max-workers', '1'], { t })
  // the booting replacement, found from /proc: a child of the master that was not there before
  const booting = await waitFor(() => server.workerPids().find((p) => !original.includes(p)), { timeoutMs: 30_000, intervalMs: 20, what: 'the replacement to be forked' })
  const forgedAt = Date.now()
  await sendUdp(notifyPort, `READY=1\nPID=${booting}\nPPID=1\nGROUP=forged\nSTATUS=200 OK\nRELEASE=forged\n`)
  const run = await cli.result

  t.equal(run.code, 0, 'exit 0: the step completed', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.replaced.length, 1)
  t.equal(report.replaced[0]?.newPid, booting, 'on the same pid')
  t.equal(report.replaced[0]?.release, 'r2', 'with what the real datagram says, not the forgery')
  const log = events(run)
  const ignored = ofKind(log, 'datagram-ignored').find((e) => e.pid === booting)
  t.match(ignored?.detail, new RegExp(`^pid ${booting} PPID=1 is not the master ${server.masterPid}$`), 'the forgery was logged as ignored, with why')
  const ready = ofKind(log, 'ready').find((e) => e.newPid === booting)
  t.ok(ready && ready.at - forgedAt > 1000, `accepted on the real datagram, ${(ready?.at ?? 0) - forgedAt} ms after the forgery`)
})
