// Failures told as they are (issue 11, item 3), against a real Gunicorn (Debian's 20.1): a new
// worker that failed its status check and takes requests, a master killed or stopped by someone
// else (not blamed on the release), and a run killed with SIGKILL (the next run says what it left).
import t from 'tap'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli, spawnCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { httpGet } from '../helpers/http.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive, signalPid, waitFor } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

interface Report {
  aborted: { reason: string; message: string; oldPid: number | null; newPid: number | null } | null
  failing: Array<{ pid: number; release: string | null; status: string | null; serving: boolean }>
  untouched: number[]
  message: string
}

async function setup(t: Tap.Test, name: string, bootDelay: string, workers = 3) {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers, name, notifyPort, env: { BOOT_DELAY: bootDelay } })
  const stateDir = tempDir(t, 'state')
  return { appDir, server, stateDir, target: ['--group', name, '--state-dir', stateDir], notify: ['--notify', `127.0.0.1:${notifyPort}`] }
}

/** Wait until `pid` is gone: the run has signalled it. */
const gone = (pid: number) => waitFor(() => !isAlive(pid), { timeoutMs: 30_000, intervalMs: 10, what: `worker ${pid} to be signalled and exit` })

t.test('a release whose /_status answers 500: the message, the report and status name the new worker that serves it', async (t) => {
  const { appDir, server, target, notify } = await setup(t, 'tell-500', '0.5')
  const original = server.workerPids()
  swapApp(appDir, 'status_500', { revision: 'bad' })
  // --no-preflight: the preflight would stop this release before any worker is touched
  const run = await runCli([...target, ...notify, '--no-preflight', '--json'])
  t.equal(run.code, 4, { stderr: run.stderr.slice(-1500) })
  const report = run.json as Report
  const newPid = report.aborted?.newPid as number
  t.ok(newPid > 0 && !original.includes(newPid), `the new worker is ${newPid}`)
  t.same(report.failing, [{ pid: newPid, release: 'bad', status: '500 Internal Server Error', serving: true }], 'the JSON report names it')
  t.match(
    report.message,
    new RegExp(
      `Worker ${newPid} runs release bad, failed its check \\(500 Internal Server Error\\), and is taking requests\\. ` +
        'To stop serving it, fix the release \\(or put the old code back\\), then `rolling-restart resume --group tell-500` and run again',
    ),
    'so does the message, with what to do',
  )
  // and it really is taking requests
  const pids = new Set<number>()
  for (let i = 0; i < 40 && !pids.has(newPid); i++) {
    const r = await httpGet(server.port, '/')
    pids.add(Number(/pid=(\d+)/.exec(r.body)?.[1]))
  }
  t.ok(pids.has(newPid), `worker ${newPid} answered requests`)

  const status = await runCli(['status', ...target])
  t.match(status.stdout, new RegExp(`Attention: Worker ${newPid} runs release bad, failed its check \\(500 Internal Server Error\\), and is taking requests\\. .*rolling-restart resume --group tell-500`))
  t.match(status.stdout, new RegExp(`\\n +${newPid} .* bad +failed, serving\\n`))
  const json = await runCli(['status', ...target, '--json'])
  const st = json.json as { failing: Report['failing']; attention: string | null; workers: Array<{ pid: number; role: string }> }
  t.same(st.failing.map((f) => f.pid), [newPid])
  t.match(st.attention, /is taking requests/)
  t.equal(st.workers.find((w) => w.pid === newPid)?.role, 'failed')
})

for (const sig of ['SIGKILL', 'SIGTERM'] as const) {
  t.test(`a master ${sig === 'SIGKILL' ? 'killed' : 'stopped'} by someone else mid-roll is not blamed on the release (${sig})`, async (t) => {
    const { server, target, notify } = await setup(t, `master-${sig.toLowerCase()}`, '3.0')
    const original = server.workerPids()
    const run = spawnCli([...target, ...notify, '--json'], { t })
    await gone(original[0] as number)
    signalPid(server.masterPid, sig)
    const result = await run.result
    t.equal(result.code, 4, { stderr: result.stderr.slice(-1500) })
    const report = result.json as Report
    t.equal(report.aborted?.reason, 'master-gone')
    const said =
      sig === 'SIGKILL'
        ? /exited during the run\. Master \d+ exited and its log \(.*gunicorn\.log\) shows neither a boot error nor a stop signal: it was killed \(SIGKILL, the OOM killer\) or crashed, which says nothing about the release/
        : // the master's exit, or (when a replacement exits first) the master's stop line in its log
          /(exited during the run\. Master \d+ exited on SIGTERM \(its log: "Handling signal: term"\): it was stopped|is stopping during the run\. Master \d+ was told to stop \(its log: "Handling signal: term"\) and worker \d+ exited with it), which says nothing about the release/
    t.match(report.aborted?.message, said)
    t.notMatch(report.aborted?.message, /raises while importing/, 'not blamed on the release')
  })
}

t.test('a run killed with SIGKILL mid-roll: the next run says what it left, in its text output', async (t) => {
  const { server, target, notify } = await setup(t, 'killed-run', '2.0')
  const original = server.workerPids()
  const run = spawnCli([...target, ...notify], { t })
  await gone(original[0] as number)
  run.kill('SIGKILL')
  const killed = await run.result
  t.equal(killed.signal, 'SIGKILL')

  const status = await runCli(['status', ...target, '--json'])
  t.match(status.json, { mode: 'interrupted', detail: new RegExp(`run ${run.pid} stopped at step 1 of 3`) })

  const next = await runCli([...target, ...notify, '--log-format', 'text'])
  t.equal(next.code, 0, 'the next run rolls', { stderr: next.stderr.slice(-2000) })
  t.match(
    next.stderr,
    new RegExp(
      `warning: the previous run \\(pid ${run.pid}, started [^)]+\\) was killed \\(it left its lock behind\\) at step 1 of 3, after 0 replaced: ` +
        `2 worker\\(s\\) still run the code from before it \\(${original.slice(1).join(', ')}\\); it was replacing ${original[0]}`,
    ),
  )
  t.same(original.filter(isAlive), [], 'and every old worker is replaced')
})
