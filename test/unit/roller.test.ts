// The step machine against a simulated server: a process table in memory, a master that starts a
// replacement when a worker exits, and replacements that report after a delay. No real processes:
// this checks the policy (batching, first failure stops the walk, in-flight steps finish).
import t from 'tap'
import type { Arrival } from '../../src/readiness/listener.js'
import { runRoll, simulation } from '../helpers/roller-sim.js'

t.test('batch 1: one worker at a time, every one replaced', async (t) => {
  const sim = simulation({ workers: 4 })
  const { outcome, events } = await runRoll(t, sim, { batch: 1 })
  t.equal(outcome.ok, true)
  t.equal(sim.stats().maxInFlight, 1)
  t.same(sim.signalled, sim.original, 'oldest first')
  t.equal(events.filter((e) => e.event === 'ready').length, 4)
  t.same(outcome.untouched, [])
})

t.test('batch 3: never more than 3 in flight', async (t) => {
  const sim = simulation({ workers: 7, bootMs: 30 })
  const { outcome } = await runRoll(t, sim, { batch: 3 })
  t.equal(outcome.ok, true)
  t.equal(sim.stats().maxInFlight, 3)
  t.equal(outcome.steps.filter((s) => s.state === 'ready').length, 7)
})

t.test('the first failure stops the walk: no further worker is signalled', async (t) => {
  const sim = simulation({ workers: 5, ready: (n) => n !== 2 })
  const { outcome, events } = await runRoll(t, sim, { batch: 1 })
  t.equal(outcome.ok, false)
  t.equal(outcome.aborted?.reason, 'not-ready')
  t.same(sim.signalled, sim.original.slice(0, 2), 'the third worker was never signalled')
  t.same(outcome.untouched, sim.original.slice(2))
  t.equal(events.filter((e) => e.event === 'abort').length, 1, 'one abort event: the first failure is the reason')
})

t.test('with a batch, a failure starts no new step but sees the in-flight ones through', async (t) => {
  // replacement 1 fails fast; replacement 2 is in flight at that moment and succeeds well after
  // (a gap no loaded machine closes: with equal boots the two datagrams could be handled in either order)
  const sim = simulation({ workers: 6, ready: (n) => n !== 1, bootMsOf: (n) => (n === 1 ? 30 : 600) })
  const { outcome } = await runRoll(t, sim, { batch: 2 })
  t.equal(outcome.ok, false)
  t.equal(sim.signalled.length, 2, 'only the two steps in flight were ever started')
  t.equal(outcome.steps.filter((s) => s.state === 'ready').length, 1, 'the in-flight step finished')
  t.equal(outcome.steps.filter((s) => s.state === 'pending').length, 4)
  t.same(outcome.untouched, sim.original.slice(2))
})

t.test('a replacement that never reports times out, naming the hint', async (t) => {
  const sim = simulation({ workers: 2, silent: () => true })
  const { outcome } = await runRoll(t, sim, { batch: 1, readyTimeoutMs: 150 })
  t.equal(outcome.aborted?.reason, 'ready-timeout')
  t.match(outcome.aborted?.message, /no READY within 150 ms.*no datagram/)
  t.same(sim.signalled, [sim.original[0]])
})

t.test('datagrams from old workers or strangers are ignored and logged, not accepted', async (t) => {
  const sim = simulation({ workers: 2, bootMs: 40 })
  const datagram = (pid: number): Arrival => ({
    at: Date.now(),
    from: 'x',
    value: { kind: 'full', ready: true, pid, ppid: 1, group: 'g', status: '200 OK', statusCode: 200, release: null, root: null, bootMs: null, preload: false, app: null, mac: null },
  })
  // already waiting when the run starts: an old worker's datagram (e.g. from its own boot) and a stranger's
  sim.inject(datagram(sim.original[1] as number))
  sim.inject(datagram(99999))
  const { outcome, events } = await runRoll(t, sim, { batch: 1 })
  t.equal(outcome.ok, true)
  const ignored = events.filter((e) => e.event === 'datagram-ignored')
  t.same(
    ignored.map((e) => e.event === 'datagram-ignored' && e.pid),
    [sim.original[1], 99999],
    'both were logged as ignored',
  )
  t.match(ignored.map((e) => e.event === 'datagram-ignored' && e.detail), [/one of the workers being replaced/, /not running/])
  t.ok(outcome.steps.every((s) => s.newPid !== 99999 && s.newPid !== sim.original[1]), 'neither was taken as a replacement')
})

t.test('surge: every worker taken over, the master back at N, no surplus', async (t) => {
  const sim = simulation({ workers: 3 })
  const { outcome } = await runRoll(t, sim, { batch: 1, strategy: 'surge' })
  t.equal(outcome.ok, true)
  t.equal(outcome.surplus, 0)
  t.equal(sim.live.size, 3)
  t.same(sim.original.filter((p) => sim.live.has(p)), [], 'every original worker retired')
})

t.test('surge: a failed step leaves one worker above the count', async (t) => {
  const sim = simulation({ workers: 3, ready: (n) => n !== 2 })
  const { outcome } = await runRoll(t, sim, { batch: 1, strategy: 'surge' })
  t.equal(outcome.aborted?.reason, 'not-ready')
  t.equal(outcome.surplus, 1)
  t.equal(sim.live.size, 4, 'N old-and-new plus the broken extra one')
})

t.test('surge: a TTOU whose old worker drains too long still lowered the count: no surplus', async (t) => {
  const sim = simulation({ workers: 2, ttouDrainHangs: true })
  const { outcome } = await runRoll(t, sim, { batch: 1, strategy: 'surge', drainTimeoutMs: 100 })
  t.equal(outcome.aborted?.reason, 'drain-timeout')
  t.equal(outcome.surplus, 0, 'the master got its TTOU; nothing to hand back later')
})

t.test('a good run hands back the surplus an earlier failed surge left', async (t) => {
  const sim = simulation({ workers: 3 })
  const { outcome, events } = await runRoll(t, sim, { batch: 1, strategy: 'surge', surplusToRetire: 1 })
  t.equal(outcome.ok, true)
  t.equal(outcome.surplus, -1, 'one earlier surplus worker handed back')
  t.equal(sim.live.size, 2, 'one TTOU more than the steps')
  t.ok(events.some((e) => e.event === 'retired' && /earlier failed surge/.test(e.why)))
})

t.test('a forged READY (the booting replacement\'s pid, a wrong PPID) is ignored and does not use up the pid', async (t) => {
  const sim = simulation({ workers: 2, forge: true, bootMs: 30 })
  const { outcome, events } = await runRoll(t, sim, { batch: 1 })
  t.equal(outcome.ok, true, 'each step completed on the real datagram')
  const forged = events.filter((e) => e.event === 'datagram-ignored' && /PPID=4242 is not the master 1/.test(e.detail))
  t.equal(forged.length, 2, 'both forgeries were logged as ignored, with why')
  t.same(outcome.steps.map((s) => s.newPid), forged.map((e) => e.event === 'datagram-ignored' && e.pid), 'the real datagram of the same pid was then accepted')
})

t.test('a step that times out lists the datagrams it ignored, not a guess about the environment', async (t) => {
  const sim = simulation({ workers: 2, forge: true, silent: () => true })
  const { outcome } = await runRoll(t, sim, { batch: 1, readyTimeoutMs: 150 })
  t.equal(outcome.aborted?.reason, 'ready-timeout')
  t.match(outcome.aborted?.message, /^no READY within 150 ms \(--ready-timeout\); ignored during this step: pid \d+ PPID=4242 is not the master 1$/)
})

t.test('a respawn the master made on its own (max-requests) is no step\'s replacement, even if it reports first', async (t) => {
  // worker 102 (not selected) recycles while step 1 boots; its respawn reports while step 2 awaits its own
  const sim = simulation({ workers: 3, bootMs: 40, recycle: { afterMs: 20, bootMs: 30 } })
  const { outcome, events } = await runRoll(t, sim, { batch: 1, selected: 2 })
  t.equal(outcome.ok, true)
  const r = sim.respawned()
  t.ok(r !== null && outcome.steps.every((s) => s.newPid !== r), 'no step took the respawn')
  t.ok(events.some((e) => e.event === 'datagram-ignored' && e.reason === 'not-caused-by-step' && e.pid === r && /respawn of worker 102, which exited on its own/.test(e.detail)))
  t.ok(events.some((e) => e.event === 'credited' && e.pid === r && e.respawnOf === 102))
  for (const step of outcome.steps) t.ok((step.newStartTicks as number) >= (step.signalTick as number), `step ${step.index}: its replacement was forked after its signal`)
})

t.test('an old worker that exited on its own before its turn: its respawn is that step\'s replacement, nothing is signalled', async (t) => {
  const sim = simulation({ workers: 3, bootMs: 40, recycle: { afterMs: 20, bootMs: 30 } })
  const { outcome, events } = await runRoll(t, sim, { batch: 1 })
  t.equal(outcome.ok, true)
  t.same(sim.signalled, sim.original.slice(0, 2), 'the recycled worker was never signalled')
  t.ok(events.some((e) => e.event === 'adopted' && e.oldPid === 102))
  t.equal(outcome.steps[2]?.newPid, sim.respawned(), 'step 3 took the respawn of its old worker')
  t.not(outcome.steps[1]?.newPid, sim.respawned(), 'step 2 did not')
  t.same(outcome.untouched, [])
})

t.test('a replacement that dies after READY stops the run at once: no further worker signalled, exit reason died-after-ready', async (t) => {
  const sim = simulation({ workers: 4, bootMs: 40, diesAfterReadyMs: () => 15 })
  const { outcome, events } = await runRoll(t, sim, { batch: 1, minReadyMs: 100 })
  t.equal(outcome.aborted?.reason, 'died-after-ready')
  const first = outcome.steps[0]!
  t.match(outcome.aborted?.message, new RegExp(`^new worker ${first.newPid} of Sim master 1 \\[g\\] sent READY and died \\d+ ms later: the new release does not stay up`))
  t.equal(outcome.aborted?.newPid, first.newPid, 'the dead worker is named')
  t.equal(outcome.aborted?.oldPid, sim.original[0], "with its step's old worker")
  const abortAt = events.findIndex((e) => e.event === 'abort')
  t.ok(events.every((e, i) => e.event !== 'signal' || i < abortAt), 'no signal after the death was seen')
  t.same(sim.signalled, sim.original.slice(0, 2), 'the second step was in flight (no wait by default); the third never began')
  t.same(outcome.steps.filter((s) => s.state === 'ready'), [], 'a dead replacement does not count as replaced')
  t.same(outcome.untouched, sim.original.slice(2))
})

t.test('--wait-min-ready: the next step waits for the window, so the death is seen before a second worker is touched', async (t) => {
  const sim = simulation({ workers: 3, bootMs: 20, diesAfterReadyMs: () => 15 })
  const { outcome } = await runRoll(t, sim, { batch: 1, minReadyMs: 80, waitMinReady: true })
  t.equal(outcome.aborted?.reason, 'died-after-ready')
  t.same(sim.signalled, sim.original.slice(0, 1))
})

t.test('--wait-min-ready on a healthy release: every step waits out its window, all replaced', async (t) => {
  const sim = simulation({ workers: 3, bootMs: 10 })
  const t0 = Date.now()
  const { outcome } = await runRoll(t, sim, { batch: 1, minReadyMs: 60, waitMinReady: true })
  t.equal(outcome.ok, true)
  t.ok(Date.now() - t0 >= 180, 'three windows, one after another')
})

t.test('the last replacement is watched for --min-ready before the run ends', async (t) => {
  const dies = simulation({ workers: 1, bootMs: 10, diesAfterReadyMs: () => 30, evidence: { kind: 'crashed', detail: 'terminated by signal 9' } })
  const r1 = await runRoll(t, dies, { batch: 1, minReadyMs: 150 })
  t.equal(r1.outcome.aborted?.reason, 'died-after-ready')
  t.match(r1.outcome.aborted?.message, /died \d+ ms later \(Sim's log: terminated by signal 9\)/, 'how it died, from the server log')
  t.ok(r1.events.some((e) => e.event === 'settling'))
  const noWindow = simulation({ workers: 1, bootMs: 10, diesAfterReadyMs: () => 30 })
  const r2 = await runRoll(t, noWindow, { batch: 1, minReadyMs: 0 })
  t.equal(r2.outcome.ok, true, 'with --min-ready 0 the run ends at the last READY: the window is what catches the last one')
})

t.test('--min-ready auto: the release is held to the long window by the worker up longest, the last new worker to the short one', async (t) => {
  // auto's shape, its window shortened: the one up longest owes 200 ms, the others nothing of their own
  const auto = { releaseMs: 200, eachMs: 0 }
  // one worker: it is the one up longest, so a death within the long window still fails the run
  const one = simulation({ workers: 1, bootMs: 10, diesAfterReadyMs: () => 80 })
  const a = await runRoll(t, one, { batch: 1, minReady: auto })
  t.equal(a.outcome.aborted?.reason, 'died-after-ready', 'one worker that dies 80 ms after READY: exit 4, as with a 200 ms window for each')
  // a release whose workers all die 80 ms after READY, on three workers that boot in 100 ms: the first dies while the second boots
  const release = simulation({ workers: 3, bootMs: 100, diesAfterReadyMs: () => 80 })
  const b = await runRoll(t, release, { batch: 1, minReady: auto })
  t.equal(b.outcome.aborted?.reason, 'died-after-ready')
  t.equal(b.outcome.aborted?.newPid, b.outcome.steps[0]?.newPid, 'the first new worker is named')
  t.ok(release.signalled.length <= 2, 'no worker signalled after the death')
  // only the last new worker dies, 80 ms after its READY, while the first has been up for the long window: auto ends before
  const last = simulation({ workers: 3, bootMs: 100, diesAfterReadyMs: (n) => (n === 3 ? 80 : null) })
  const c = await runRoll(t, last, { batch: 1, minReady: auto })
  t.equal(c.outcome.ok, true, 'auto: the run ended at the last READY')
  t.notOk(c.events.some((e) => e.event === 'settling'), 'nothing left to wait for: the first had been up 200 ms')
  // a short window for the others (the shape allows it): the last one owes it, and is waited for alone
  const short = simulation({ workers: 3, bootMs: 100 })
  const e = await runRoll(t, short, { batch: 1, minReady: { releaseMs: 200, eachMs: 20 } })
  t.equal(e.outcome.ok, true)
  t.ok(e.events.some((ev) => ev.event === 'settling' && ev.pids.length === 1 && ev.pids[0] === e.outcome.steps[2]?.newPid), 'it waited for the last one only')
  // the same with one window for each (--min-ready 200ms): the last one must stay up all of it, so its death fails the run
  const each = simulation({ workers: 3, bootMs: 100, diesAfterReadyMs: (n) => (n === 3 ? 80 : null) })
  const d = await runRoll(t, each, { batch: 1, minReady: { releaseMs: 200, eachMs: 200 } })
  t.equal(d.outcome.aborted?.reason, 'died-after-ready', 'a duration holds the last new worker to all of it')
})

t.test('a replacement that sent READY and died before the next round looked (a busy machine): died after READY, not "exited before it reported"', async (t) => {
  const sim = simulation({ workers: 2, bootMs: 10, diesAfterReadyMs: () => 0, evidence: { kind: 'crashed', detail: 'terminated by signal 9' } })
  const { outcome } = await runRoll(t, sim, { batch: 1, minReadyMs: 150 })
  t.equal(outcome.aborted?.reason, 'died-after-ready')
  t.match(outcome.aborted?.message, /new worker \d+ of .* sent READY and died \d+ ms later \(Sim's log: terminated by signal 9\): the new release does not stay up/)
  t.notMatch(outcome.aborted?.message, /before it reported/)
  t.equal(sim.signalled.length, 1, 'no further worker signalled')
})

t.test('a replacement the server recycled on purpose (its log says max-requests) is no failure', async (t) => {
  const sim = simulation({ workers: 3, bootMs: 20, diesAfterReadyMs: () => 30, evidence: { kind: 'recycled', detail: 'restarted after max_requests' } })
  const { outcome, events } = await runRoll(t, sim, { batch: 1, minReadyMs: 60 })
  t.equal(outcome.ok, true, outcome.aborted?.message ?? '')
  t.equal(outcome.steps.filter((s) => s.state === 'ready').length, 3)
  t.ok(events.some((e) => e.event === 'worker-gone' && /max_requests/.test(e.detail)))
  t.ok(outcome.steps.every((s) => (s.newStartTicks as number) >= (s.signalTick as number)), "no step took a recycled worker's respawn")
})

t.test('a reload under our feet (the master starts a new set of workers): stopped, master-reloaded, never a clean roll', async (t) => {
  const byCount = simulation({ workers: 3, bootMs: 30, reload: { afterMs: 5, overlapMs: 40, logged: false } })
  const a = await runRoll(t, byCount, { batch: 1 })
  t.equal(a.outcome.aborted?.reason, 'master-reloaded')
  t.match(a.outcome.aborted?.message, /^Sim master 1 \[g\] replaced its workers on its own during the run \(it runs \d+ workers, more than the 3 it keeps: it started a new set of workers on its own\)\. Stopped after \d of 3 steps; no further worker was touched$/)
  t.ok(byCount.signalled.length <= 2, 'no worker signalled after it was seen')

  const byLog = simulation({ workers: 3, bootMs: 30, reload: { afterMs: 5, overlapMs: 0, logged: true } })
  const b = await runRoll(t, byLog, { batch: 1, minReadyMs: 100 })
  t.equal(b.outcome.aborted?.reason, 'master-reloaded', 'seen in the log before the stopped replacement counts as a death')
  t.match(b.outcome.aborted?.message, /\(Sim's log: "\[INFO\] Handling signal: hup"\)/)
})

t.test('replace through the master: TTIN, then TTOU per step, each old worker retired oldest first, nothing signalled to a worker', async (t) => {
  const sim = simulation({ workers: 3, exitMs: 20, bootMs: 40 })
  const { outcome, events } = await runRoll(t, sim, { batch: 1, handover: true })
  t.equal(outcome.ok, true, outcome.aborted?.message)
  t.equal(outcome.surplus, 0, 'each TTIN taken back by its TTOU')
  t.same(sim.signalled, [], 'no worker signalled')
  t.same({ ttins: sim.stats().ttins, ttous: sim.stats().ttous }, { ttins: 3, ttous: 3 })
  t.equal(sim.live.size, 3, 'the master is back at N')
  t.same(outcome.steps.map((s) => s.stoppedPid), sim.original, 'the oldest retired first, one per step')
  t.ok(events.filter((e) => e.event === 'step-start').every((e) => e.event === 'step-start' && e.via === 'master'))
  const signals = events.filter((e) => e.event === 'signal')
  t.same(signals.map((e) => e.event === 'signal' && [e.signal, e.step]), [['SIGTTIN', 1], ['SIGTTOU', 1], ['SIGTTIN', 2], ['SIGTTOU', 2], ['SIGTTIN', 3], ['SIGTTOU', 3]])
})

t.test('replace through the master, --batch 2: no TTOU until the last retired worker is reaped, so none is stopped twice', async (t) => {
  // the sim's master, like Gunicorn's, stops the oldest worker it lists, which may be one still exiting
  const sim = simulation({ workers: 4, exitMs: 30, bootMs: 60 })
  const { outcome, events } = await runRoll(t, sim, { batch: 2, handover: true })
  t.equal(outcome.ok, true, outcome.aborted?.message)
  t.equal(sim.live.size, 4, 'the master is back at N')
  t.same(sim.original.filter((p) => sim.live.has(p)), [], 'every original worker retired')
  const retired = events.flatMap((e) => (e.event === 'retired' ? [e.pid] : []))
  t.same(retired, sim.original, 'four distinct retirements, oldest first')
  t.equal(outcome.surplus, 0)
})

t.test('replace through the master: a worker that exits on its own before its turn is adopted, and the steps swap nothing', async (t) => {
  // the last original worker exits on its own while step 1 boots; the master respawns it
  const sim = simulation({ workers: 3, exitMs: 10, bootMs: 60, recycle: { afterMs: 20, bootMs: 60 } })
  const { outcome, events } = await runRoll(t, sim, { batch: 1, handover: true })
  t.equal(outcome.ok, true, outcome.aborted?.message)
  t.ok(events.some((e) => e.event === 'adopted' && e.oldPid === sim.original[2]), 'step 3 adopts the respawn of its worker')
  t.equal(outcome.steps[2]?.newPid, sim.respawned(), "the master's respawn is step 3's replacement")
  t.same({ ttins: sim.stats().ttins, ttous: sim.stats().ttous }, { ttins: 2, ttous: 2 }, 'no TTIN for the adopted step')
  t.equal(sim.live.size, 3)
})

t.test('replace through the master: a replacement that is not ready stops the run; its old worker is gone, the rest untouched, no surplus', async (t) => {
  const sim = simulation({ workers: 3, ready: (n) => n !== 2 })
  const { outcome } = await runRoll(t, sim, { batch: 1, handover: true })
  t.equal(outcome.aborted?.reason, 'not-ready')
  t.equal(outcome.surplus, 0, 'the step sent its TTOU before the boot: the master keeps N')
  t.same(outcome.untouched, [sim.original[2]], 'the third old worker still serves')
  t.same({ ttins: sim.stats().ttins, ttous: sim.stats().ttous }, { ttins: 2, ttous: 2 }, 'nothing sent after the failure')
})
