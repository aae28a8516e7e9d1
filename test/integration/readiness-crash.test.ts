// Issue 10: a release whose new workers send READY and die 0.3 s later never ends in exit 0. Five
// runs, each on a fresh Gunicorn (Debian's 20.1): exit 4 every time, no worker signalled after the
// first death, and the message names the dead worker (and how it died, from Gunicorn's log).
import t from 'tap'
import { isAlive } from '../helpers/procs.js'
import { events, gunicornGroup, ofKind, rollRelease } from './readiness-shared.js'

const RUNS = 5

for (let i = 1; i <= RUNS; i++) {
  t.test(`run ${i} of ${RUNS}: new workers that die 0.3 s after READY stop the roll, exit 4`, async (t) => {
    const { original, run, report } = await rollRelease(await gunicornGroup(t, { name: `crash-after-ready-${i}`, workers: 3 }), 'crash_after_ready', 'bad')
    t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
    t.equal(report.aborted?.reason, 'died-after-ready')
    t.equal(report.errorResistance, true)
    const m = /^new worker (\d+) of Gunicorn master \d+ \[[^\]]+\] sent READY and died ([\d.]+ m?s) later \(Gunicorn's log: terminated by signal 9\)/.exec(report.aborted?.message ?? '')
    t.ok(m, `the message names the dead worker and how it died: ${report.aborted?.message}`)
    const dead = Number(m?.[1])
    t.equal(report.aborted?.newPid, dead)
    t.notOk(isAlive(dead), `worker ${dead} is dead`)
    t.same(report.replaced, [], 'no step counts as replaced')

    const log = events(run)
    const ready = ofKind(log, 'ready').find((e) => e.newPid === dead)
    t.ok(ready, 'the dead worker had been accepted on its READY')
    // it died CRASH_AFTER (0.3 s) after its status probe, which is just before its READY
    const deathBy = (ready?.at ?? 0) + 300
    const signals = ofKind(log, 'signal')
    t.ok(signals.every((s) => s.at < deathBy), `no signal after the death (signals at +${signals.map((s) => s.at - (ready?.at ?? 0)).join(', +')} ms from its READY)`)
    // a step stops one old worker: with TERM to it, or through the master (TTIN, then TTOU)
    const stepsSignalled = new Set(signals.map((s) => s.step)).size
    t.ok(stepsSignalled <= 2, `${stepsSignalled} step(s) signalled: the first, and at most the one in flight when it died`)
    const stopped = original.length - original.filter(isAlive).length
    t.ok(stopped >= 1 && stopped <= stepsSignalled, `the other old workers are untouched and serve (${stopped} stopped)`)
    t.same([...report.untouched].sort(), original.filter(isAlive).sort(), 'the report names the old workers still serving')
    t.comment(`run ${i}: ${report.aborted?.message.split(': the new')[0]}; ${stepsSignalled} steps signalled, ${report.untouched.length} untouched`)
  })
}

// The default --min-ready (auto) holds the new worker up longest to 1 s: on a one-worker group that
// is the only new worker, so a release that dies 0.8 s after READY (past the 100 ms every other new
// worker owes) still fails the run, and the old code is not reported as replaced.
t.test('one worker, default --min-ready: a release that dies 0.8 s after READY is exit 4, not a clean roll', async (t) => {
  const g = await gunicornGroup(t, { name: 'crash-after-ready-one', workers: 1, env: { CRASH_AFTER: '0.8' } })
  const { run, report } = await rollRelease(g, 'crash_after_ready', 'bad')
  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  t.equal(report.aborted?.reason, 'died-after-ready')
  t.match(report.aborted?.message, /sent READY and died (\d+ ms|[\d.]+ s) later/)
  const settling = ofKind(events(run), 'settling')[0]
  t.ok(settling && Number(settling.ms) > 500, `the run waited out the release window for its only new worker (${String(settling?.ms)} ms)`)
  t.same(report.replaced, [])
})
