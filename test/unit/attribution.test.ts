// Attribution by causality as tables over plain records: start ticks and signal ticks only, no
// processes. A new worker is a step's replacement only when forked at or after that step's signal;
// the respawn of a worker that exited on its own is no step's (or, replace, the adopting step's).
import t from 'tap'
import type { Readiness } from '../../src/readiness/protocol.js'
import { creditSpawns, isStepsOwn, lineage, notice, whyNotCaused, type Seen } from '../../src/roll/attribution.js'
import { newRecords, type RollRecords } from '../../src/roll/records.js'

const full = (pid: number): Readiness => ({
  kind: 'full', ready: true, pid, ppid: 1, group: 'g', status: '200 OK', statusCode: 200,
  release: 'r2', root: null, bootMs: 5, preload: false, app: null, mac: null,
})

/** Old workers 10, 20, 30 (start ticks 1, 2, 3), one step each; `signals`: step index -> signal tick. */
function records(signals: Record<number, number>): RollRecords {
  const r = newRecords([10, 20, 30], [10, 20, 30])
  for (const [i, tick] of Object.entries(signals)) {
    const s = r.steps[Number(i) - 1]!
    s.startedAt = 1
    s.state = 'awaiting-ready'
    s.signalTick = tick
    s.stoppedPid = s.oldPid
  }
  return r
}
const old = (...pids: number[]): Seen[] => pids.map((pid) => ({ pid, startTicks: pid / 10 }))
const never = () => false

t.test('a new worker goes to the earliest cause it can have', async (t) => {
  const cases: Array<{ name: string; signals: Record<number, number>; looks: Array<{ tick: number; workers: Seen[] }>; want: Record<number, string> }> = [
    {
      name: 'forked after the signal: the step\'s',
      signals: { 1: 100 },
      looks: [{ tick: 110, workers: [...old(20, 30), { pid: 11, startTicks: 104 }] }],
      want: { 11: 'step 1' },
    },
    {
      name: 'forked in the same tick as the signal: the step\'s (resolution is one tick)',
      signals: { 1: 100 },
      looks: [{ tick: 110, workers: [...old(20, 30), { pid: 11, startTicks: 100 }] }],
      want: { 11: 'step 1' },
    },
    {
      name: 'forked before the signal (a max-requests respawn already booting): nobody\'s',
      signals: { 1: 100 },
      looks: [{ tick: 110, workers: [...old(10, 20, 30), { pid: 12, startTicks: 95 }] }],
      want: { 12: 'none' },
    },
    {
      name: 'an untouched worker gone before the signal: the next new worker is its respawn, the one after it the step\'s',
      signals: { 1: 100 },
      looks: [
        { tick: 99, workers: old(10, 20) }, // 30 gone, noticed at tick 99, before step 1's signal at 100
        { tick: 110, workers: [...old(20), { pid: 31, startTicks: 101 }, { pid: 11, startTicks: 105 }] },
      ],
      want: { 31: 'respawn of 30', 11: 'step 1' },
    },
    {
      name: 'an untouched worker gone, noticed after the signal: the step takes the first worker forked after its signal',
      signals: { 1: 100 },
      looks: [{ tick: 110, workers: [...old(20), { pid: 11, startTicks: 103 }, { pid: 31, startTicks: 106 }] }],
      want: { 11: 'step 1', 31: 'respawn of 30' },
    },
    {
      name: 'batch 2: each new worker to the earliest-signalled step still awaiting one',
      signals: { 1: 100, 2: 102 },
      looks: [{ tick: 120, workers: [...old(30), { pid: 21, startTicks: 104 }, { pid: 11, startTicks: 103 }] }],
      want: { 11: 'step 1', 21: 'step 2' },
    },
    {
      name: 'batch 2: a worker forked between the two signals can only be the first step\'s',
      signals: { 1: 100, 2: 110 },
      looks: [{ tick: 120, workers: [...old(30), { pid: 11, startTicks: 105 }] }],
      want: { 11: 'step 1' },
    },
  ]
  for (const c of cases) {
    const r = records(c.signals)
    for (const look of c.looks) notice(r, look.workers, look.tick, never)
    const got: Record<number, string> = {}
    for (const s of r.spawned) got[s.pid] = s.cause === null ? 'none' : s.cause.kind === 'step' ? `step ${s.cause.step}` : `respawn of ${s.cause.pid}`
    t.same(got, c.want, c.name)
  }
})

t.test('exits judged elsewhere, stopped by the run, or a surge retirement owe no respawn', async (t) => {
  const r = records({ 1: 100 })
  notice(r, old(20, 30), 105, never)
  t.same(r.exits, [], 'worker 10 was stopped by step 1')
  r.retiring = 1
  notice(r, old(30), 106, never)
  t.same(r.exits, [], 'worker 20 went on the TTOU the run sent')
  t.same(r.retired, [20])
  notice(r, [], 107, (pid) => pid === 30)
  t.same(r.exits, [], 'a watched worker (an accepted replacement) is judged by the watch')
  const r2 = records({})
  notice(r2, old(10, 20), 50, never)
  t.same(r2.exits.map((e) => e.pid), [30], 'an untouched worker gone on its own owes one')
})

t.test('datagrams: whose they are, and why a respawn is nobody\'s', async (t) => {
  const r = records({ 1: 100 })
  // step 2's old worker (20) recycles before its turn; 30 is not selected here
  r.steps.splice(2, 1)
  notice(r, [...old(30), { pid: 11, startTicks: 104 }], 110, never) // 10 stopped, 20 gone on its own
  notice(r, [...old(30), { pid: 11, startTicks: 104 }, { pid: 21, startTicks: 111 }], 115, never)
  notice(r, [{ pid: 11, startTicks: 104 }, { pid: 21, startTicks: 111 }, { pid: 31, startTicks: 116 }], 120, never) // 30 gone on its own
  const [s1, s2] = r.steps as [NonNullable<(typeof r.steps)[0]>, NonNullable<(typeof r.steps)[0]>]
  t.equal(whyNotCaused(full(11), r), null)
  t.ok(isStepsOwn(full(11), r, s1))
  t.notOk(isStepsOwn(full(11), r, s2), "another step's replacement")
  t.equal(whyNotCaused(full(21), r), null, "21 is the respawn of 20, whose step has not started: kept for it to adopt")
  t.notOk(isStepsOwn(full(21), r, s2), 'until the step adopts')
  s2.startedAt = 2
  s2.adopted = true
  t.ok(isStepsOwn(full(21), r, s2), 'the adopting step takes it')
  t.same([...lineage(r, 20)], [20, 21])
  t.equal(whyNotCaused(full(31), r), "pid 31 is the master's respawn of worker 30, which exited on its own (this run did not stop it)")
  const early = records({ 1: 100 })
  notice(early, [...old(10, 20, 30), { pid: 12, startTicks: 88 }], 101, never)
  t.equal(whyNotCaused(full(12), early), 'pid 12 was forked 0.12 s before the signal of step 1: the master started it on its own')
  t.equal(whyNotCaused(full(99), early), 'pid 99 was not seen starting during this run')
})

t.test('credit is given once, oldest new worker first', async (t) => {
  const r = records({ 1: 100 })
  r.spawned.push({ pid: 12, startTicks: 120, state: 'booting', cause: null, heardAt: null, heardReady: false })
  r.spawned.push({ pid: 11, startTicks: 110, state: 'booting', cause: null, heardAt: null, heardReady: false })
  t.same(creditSpawns(r).map((c) => c.spawn.pid), [11], 'the older one takes the only step awaiting one')
  t.same(creditSpawns(r), [], 'nothing more to credit')
})
