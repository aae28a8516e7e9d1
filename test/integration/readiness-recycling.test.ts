// Issue 10: a real Gunicorn with --max-requests 50 under load, rolled three times. Workers recycle
// on their own all through the runs; every run exits 0, and no step is credited with a worker
// forked before that step's signal: the ready event's start tick (also read from /proc while the
// worker lived) is never earlier than the tick the signal event logged.
import t from 'tap'
import { swapApp } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startLoad } from '../helpers/load.js'
import { childrenOf, readStat } from '../helpers/procs.js'
import { events, gunicornGroup, ofKind, type LogEvent, type Report } from './readiness-shared.js'

/** Every child of `master` seen while `work` runs, with its /proc start tick. */
async function sampleStarts<T>(master: number, work: () => Promise<T>): Promise<{ result: T; starts: Map<number, number> }> {
  const starts = new Map<number, number>()
  let on = true
  const sampler = (async () => {
    while (on) {
      for (const pid of childrenOf(master)) if (!starts.has(pid)) starts.set(pid, readStat(pid)?.starttime ?? -1)
      await new Promise((r) => setTimeout(r, 10))
    }
  })()
  const result = await work()
  on = false
  await sampler
  return { result, starts }
}

t.test('--max-requests 50 under load, rolled three times: exit 0, each step credited only with a worker forked after its signal', async (t) => {
  const { appDir, server, flags } = await gunicornGroup(t, { name: 'max-requests', workers: 4, extraConfig: 'max_requests = 50', env: { BOOT_DELAY: '0.5' } })
  // 40 ms per request: each worker serves its 50 in two or three seconds, so recycling goes on all through each run
  const load = startLoad({ port: server.port, path: '/slow?ms=40', concurrency: 3, maxDurationMs: 240_000 })
  let recycledDuringRuns = 0
  let signalledSteps = 0
  for (let round = 1; round <= 3; round++) {
    swapApp(appDir, 'good', { revision: `r${round + 1}` })
    const { result: run, starts } = await sampleStarts(server.masterPid, () => runCli(flags))
    t.equal(run.code, 0, `run ${round}: exit 0`, { stderr: run.stderr.slice(-3000) })
    const report = run.json as Report
    const log = events(run)
    // each step's first signal: TERM to its old worker, or (through the master) the TTIN that made the master fork its replacement
    const signals = new Map(ofKind(log, 'signal').filter((e) => e.signal !== 'SIGTTOU' && e.step !== undefined).map((e) => [e.step as number, e]))
    const adopted = new Set(ofKind(log, 'adopted').map((e) => e.oldPid as number))
    let checked = 0
    for (const ready of ofKind(log, 'ready')) {
      const newPid = ready.newPid as number
      const oldPid = ready.oldPid as number
      const signal = signals.get(ready.step as number) as LogEvent | undefined
      const proc = starts.get(newPid)
      if (proc !== undefined) t.equal(proc, ready.startTicks, `run ${round}, step ${String(ready.step)}: /proc agrees on ${newPid}'s start tick`)
      if (signal) {
        t.ok((ready.startTicks as number) >= (signal.tick as number), `run ${round}, step ${String(ready.step)}: ${newPid} forked at tick ${String(ready.startTicks)}, the step's ${String(signal.signal)} at ${String(signal.tick)}`)
        checked++
      } else {
        t.ok(adopted.has(oldPid), `run ${round}, step ${String(ready.step)}: ${oldPid} exited on its own before its turn, and ${newPid} is the master's respawn of it`)
      }
    }
    t.equal(report.replaced.length, (report as Report & { selected: number[] }).selected.length, `run ${round}: every selected worker replaced`)
    const notOurs = ofKind(log, 'datagram-ignored').filter((e) => e.reason === 'not-caused-by-step').length
    const gone = ofKind(log, 'worker-gone').length
    const replacementsRecycled = ofKind(log, 'worker-gone').filter((e) => /replacement\) restarted after max_requests/.test(String(e.detail))).length
    recycledDuringRuns += gone
    signalledSteps += checked
    t.comment(`run ${round}: ${report.durationMs} ms, ${checked} steps checked against their signal, ${adopted.size} adopted, ${gone} workers recycled on their own (${replacementsRecycled} of them accepted replacements, within the run), ${notOurs} respawn datagrams not credited`)
  }
  const traffic = await load.stop()
  t.ok(recycledDuringRuns > 0, `workers really recycled during the runs (${recycledDuringRuns})`)
  t.ok(signalledSteps > 0, `steps signalled their old worker (${signalledSteps}) and were checked against their signal`)
  t.equal(traffic.failed, 0, `no failed request (${traffic.total} requests)`)
})
