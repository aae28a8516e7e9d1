// The roll's policy as tables of cases over plain records: no processes, no sockets, no clock.
import t from 'tap'
import type { BareStatus, Readiness } from '../../src/readiness/protocol.js'
import { entersErrorResistance, groupMismatch, nextStep, reloadedByCount, stopsInFlight, readyTimeoutMessage, refusal, verdictOn, walkDone, whyDrop, whyNotOurs, type ArrivalContext, type Verdict } from '../../src/roll/policy.js'
import { newRecords, type RollRecords, type StepState } from '../../src/roll/records.js'

/** Records for old workers 10, 20, 30, 40, one step each; `states` sets the steps' states (started unless pending-unstarted). */
function records(states: Array<StepState | 'unstarted'>, aborted = false): RollRecords {
  const r = newRecords([10, 20, 30, 40], [10, 20, 30, 40].slice(0, states.length))
  states.forEach((st, i) => {
    const s = r.steps[i]!
    if (st === 'unstarted') return
    s.startedAt = 1000 + i
    s.state = st
  })
  if (aborted) r.aborted = { reason: 'not-ready', message: 'x', oldPid: 10, newPid: 11 }
  return r
}

t.test('which step may start: at most `batch` in flight, none after a failure', async (t) => {
  const cases: Array<{ name: string; states: Array<StepState | 'unstarted'>; batch: number; aborted?: boolean; next: number | null; done: boolean }> = [
    { name: 'first step of a fresh run', states: ['unstarted', 'unstarted'], batch: 1, next: 1, done: false },
    { name: 'batch 1: one in flight, the next waits', states: ['signaled', 'unstarted'], batch: 1, next: null, done: false },
    { name: 'a step waiting for its turn at the master counts as in flight', states: ['pending', 'unstarted'], batch: 1, next: null, done: false },
    { name: 'batch 2: a second may start beside the first', states: ['awaiting-ready', 'unstarted', 'unstarted'], batch: 2, next: 2, done: false },
    { name: 'batch 2: two in flight, the third waits', states: ['exited', 'awaiting-ready', 'unstarted'], batch: 2, next: null, done: false },
    { name: 'finished steps free their place', states: ['ready', 'failed', 'unstarted'], batch: 1, next: 3, done: false },
    { name: 'after a failure no step starts, the in-flight ones are seen through', states: ['failed', 'awaiting-ready', 'unstarted'], batch: 2, aborted: true, next: null, done: false },
    { name: 'after a failure, with nothing in flight, the walk is done', states: ['failed', 'unstarted', 'unstarted'], batch: 1, aborted: true, next: null, done: true },
    { name: 'every step finished: done', states: ['ready', 'ready'], batch: 1, next: null, done: true },
    { name: 'no steps at all: done', states: [], batch: 1, next: null, done: true },
  ]
  for (const c of cases) {
    const r = records(c.states, c.aborted)
    t.equal(nextStep(r, c.batch)?.index ?? null, c.next, `${c.name}: next step`)
    t.equal(walkDone(r, c.batch), c.done, `${c.name}: walk done`)
  }
})

const full = (pid: number, o: Partial<Readiness> = {}): Readiness => ({
  kind: 'full', ready: true, pid, ppid: 1, group: 'g', status: '200 OK', statusCode: 200,
  release: 'r2', root: null, bootMs: 5, preload: false, app: null, mac: null, ...o,
})
const bare = (code: number): BareStatus => ({ kind: 'bare', ready: code >= 200 && code < 300, status: `${code} X`, statusCode: code })

t.test('arrival attribution: a replacement is a live worker of the group, not an old one, not claimed already', async (t) => {
  const ctx = (o: Partial<ArrivalContext> = {}): ArrivalContext => ({
    acceptBareOk: false,
    live: new Set([20, 30, 40, 11, 12]),
    isRunning: () => false,
    groupMatches: (r) => r.group === 'g',
    target: { description: 'Sim master 1 [g]', group: 'g', masterPid: 1 },
    ...o,
  })
  // step 1 claimed worker 11; steps 2 and 3 await their replacements
  const r = records(['failed', 'awaiting-ready', 'awaiting-ready', 'unstarted'])
  r.steps[0]!.newPid = 11
  r.steps[0]!.claimedAt = 2000
  const one = records(['ready', 'awaiting-ready'])
  const cases: Array<{ name: string; v: Readiness | BareStatus; r?: RollRecords; ctx?: Partial<ArrivalContext>; why: RegExp | null; drop?: RegExp | null }> = [
    { name: 'a new live worker of the group', v: full(12), why: null },
    { name: 'one of the workers being replaced', v: full(20), why: /^pid 20 is one of the workers being replaced, not a new one$/ },
    { name: 'an old worker that already exited is still an old worker', v: full(10), why: /^pid 10 is one of the workers being replaced/ },
    { name: 'a replacement already claimed', v: full(11), why: /^pid 11 was already accepted$/ },
    { name: 'a running process that is not a child of this master', v: full(99), ctx: { isRunning: () => true }, why: /^pid 99 is not a worker of Sim master 1 \[g\] \(another group sharing the port\?\)$/ },
    { name: 'a process that is gone', v: full(99), why: /^pid 99 is not running \(any more\)$/ },
    // issue 10: GROUP is advisory; a verified child of the master is ours whatever its GROUP says (groupMismatch warns)
    { name: 'another GROUP: still ours', v: full(12, { group: 'other' }), why: null },
    { name: 'PPID is not the master: a forgery, or another master', v: full(12, { ppid: 4242 }), why: /^pid 12 PPID=4242 is not the master 1$/ },
    { name: 'PPID=1 with a live worker pid (a forged datagram)', v: full(12, { ppid: 1 }), ctx: { target: { description: 'M', group: 'g', masterPid: 456 } }, why: /^pid 12 PPID=1 is not the master 456$/ },
    { name: 'no PPID (a hand-made hook): /proc alone decides', v: full(12, { ppid: null }), why: null },
    { name: 'no GROUP: accepted', v: full(12, { group: null }), why: null },
    { name: 'a server without a GROUP check', v: full(12, { group: 'other' }), ctx: { groupMatches: undefined }, why: null },
    { name: 'bare line without --accept-bare-ok', v: bare(200), why: /^bare status line without --accept-bare-ok$/ },
    { name: 'bare line, two replacements awaited: kept queued', v: bare(200), ctx: { acceptBareOk: true }, why: /cannot be attributed$/, drop: null },
    { name: 'bare line, one replacement awaited', v: bare(200), r: one, ctx: { acceptBareOk: true }, why: null },
    { name: 'bare line, none awaited yet', v: bare(200), r: records(['signaled']), ctx: { acceptBareOk: true }, why: /cannot be attributed$/, drop: null },
  ]
  for (const c of cases) {
    const rr = c.r ?? r
    const cx = ctx(c.ctx)
    const why = whyNotOurs(c.v, rr, cx)
    if (c.why === null) t.equal(why, null, `${c.name}: ours`)
    else t.match(why, c.why, `${c.name}: not ours`)
    const drop = whyDrop(c.v, rr, cx)
    const wantDrop = c.drop === undefined ? c.why : c.drop
    if (wantDrop === null) t.equal(drop, null, `${c.name}: left queued`)
    else t.match(drop, wantDrop, `${c.name}: dropped`)
  }
})

t.test('GROUP is advisory: a mismatch is a warning on a datagram that is ours', async (t) => {
  const ctx: ArrivalContext = {
    acceptBareOk: false,
    live: new Set([12]),
    isRunning: () => true,
    groupMatches: (r) => r.group === 'uwsgi-77',
    target: { description: 'uWSGI master 77 [uwsgi-77]', group: 'uwsgi-77', masterPid: 77 },
  }
  t.equal(groupMismatch(full(12, { group: 'uWSGI master app:blue' }), ctx), 'GROUP=uWSGI master app:blue is not uwsgi-77')
  t.equal(groupMismatch(full(12, { group: 'uwsgi-77' }), ctx), null)
  t.equal(groupMismatch(full(12, { group: null }), ctx), null, 'no GROUP, nothing to warn of')
  t.equal(groupMismatch(full(12, { group: 'x' }), { ...ctx, groupMatches: undefined }), null, 'a server without a GROUP check')
  t.equal(groupMismatch(bare(200), ctx), null)
})

t.test('a timed-out step lists what it ignored, else the server hint', async (t) => {
  const hint = () => 'is the hook configured?'
  t.equal(readyTimeoutMessage('6.00 s', [], hint), 'no READY within 6.00 s (--ready-timeout): is the hook configured?')
  t.equal(
    readyTimeoutMessage('6.00 s', ['pid 123 PPID=1 is not the master 456', 'pid 123 PPID=1 is not the master 456', 'pid 9 is not running (any more)'], hint),
    'no READY within 6.00 s (--ready-timeout); ignored during this step: pid 123 PPID=1 is not the master 456; pid 9 is not running (any more)',
    'distinct reasons, no guess about the environment',
  )
  const many = Array.from({ length: 8 }, (_, i) => `pid ${i} is not running (any more)`)
  t.match(readyTimeoutMessage('1 s', many, hint), /pid 4 is not running \(any more\); and 3 more \(see the datagram-ignored events in the log\)$/)
})

t.test('readiness verdicts', async (t) => {
  const expect = (r: Readiness) => (r.release === 'r2' ? null : `runs release ${r.release ?? '(none)'}, not r2`)
  const cases: Array<{ name: string; v: Readiness | BareStatus; check?: typeof expect; recycle?: boolean; verdict: Verdict }> = [
    { name: 'READY=1, 200', v: full(12), check: expect, verdict: { verdict: 'ready' } },
    { name: 'READY=1 without a status line', v: full(12, { status: null, statusCode: null }), verdict: { verdict: 'ready' } },
    { name: 'READY=0', v: full(12, { ready: false, status: '503 Unavailable', statusCode: 503 }), verdict: { verdict: 'not-ready', status: '503 Unavailable' } },
    { name: 'READY=0 without a status line', v: full(12, { ready: false, status: null, statusCode: null }), verdict: { verdict: 'not-ready', status: null } },
    { name: 'READY=1 but a non-2xx status', v: full(12, { status: '500 Internal Server Error', statusCode: 500 }), check: expect, verdict: { verdict: 'not-ready', status: '500 Internal Server Error' } },
    { name: 'PRELOAD=1 with a release expected', v: full(12, { preload: true }), check: expect, verdict: { verdict: 'preloaded', release: 'r2' } },
    // issue 10: PRELOAD=1 fails the step even with no release expected (it used to be accepted), unless --recycle
    { name: 'PRELOAD=1, no release expected', v: full(12, { preload: true }), verdict: { verdict: 'preloaded', release: 'r2' } },
    { name: 'PRELOAD=1 with --recycle', v: full(12, { preload: true }), recycle: true, verdict: { verdict: 'recycled' } },
    { name: 'PRELOAD=1 with --recycle, READY=0 still fails', v: full(12, { preload: true, ready: false, status: '503 X', statusCode: 503 }), recycle: true, verdict: { verdict: 'not-ready', status: '503 X' } },
    { name: '--recycle on a worker that does not preload: an ordinary ready', v: full(12), recycle: true, verdict: { verdict: 'ready' } },
    { name: 'wrong release', v: full(12, { release: 'r1' }), check: expect, verdict: { verdict: 'wrong-release', why: 'runs release r1, not r2' } },
    { name: 'wrong release, no release expected', v: full(12, { release: 'r1' }), verdict: { verdict: 'ready' } },
    { name: 'bare OK', v: bare(200), check: expect, verdict: { verdict: 'ready' } },
    { name: 'bare non-2xx', v: bare(503), verdict: { verdict: 'not-ready', status: '503 X' } },
  ]
  for (const c of cases) t.same(verdictOn(c.v, c.check, c.recycle), c.verdict, c.name)
})

t.test('refusals in words: reason, message, and the server hint only when it helps', async (t) => {
  let asked = 0
  const hint = () => {
    asked++
    return 'preload_app is on'
  }
  t.equal(refusal({ verdict: 'ready' }, 12, 'Sim master 1 [g]', hint), null)
  t.equal(refusal({ verdict: 'recycled' }, 12, 'Sim master 1 [g]', hint), null)
  t.same(refusal({ verdict: 'not-ready', status: '503 Unavailable' }, 12, 'Sim master 1 [g]', hint), {
    reason: 'not-ready',
    message:
      'new worker 12 of Sim master 1 [g] reported READY=0: its status probe said "503 Unavailable". The new release is not healthy; the remaining old workers keep serving',
  })
  t.match(refusal({ verdict: 'not-ready', status: null }, null, 'M', hint)?.message, /^new worker \(unknown pid\) of M reported READY=0: its status probe said "nothing"\./)
  t.equal(asked, 0, 'no hint asked for an unhealthy release')
  t.same(refusal({ verdict: 'preloaded', release: null }, 12, 'M', hint), {
    reason: 'wrong-release',
    message:
      'new worker 12 reported PRELOAD=1: it was forked from a master that preloaded the app (preload_app), so it runs the code the master ' +
      'imported when it started, whatever RELEASE=(none) on disk says. A restart of its workers brings no new code: ' +
      'pass --recycle to recycle them anyway (memory; code unchanged), or restart the master for new code. Likely cause: preload_app is on',
  })
  t.same(refusal({ verdict: 'wrong-release', why: 'runs release r1, not r2' }, 12, 'M', hint), {
    reason: 'wrong-release',
    message: 'new worker 12 runs release r1, not r2. Likely cause: preload_app is on',
  })
  t.equal(asked, 2)
})

t.test('which failures stop everything, which enter error-resistance mode', async (t) => {
  const cases: Array<[string, boolean, boolean]> = [
    // reason, stops the steps in flight too, enters error-resistance mode
    ['not-ready', false, true],
    ['ready-timeout', false, true],
    ['died-after-ready', true, true],
    ['interrupted', true, false],
    ['master-reloaded', true, false],
    ['master-gone', false, true],
  ]
  for (const [reason, stops, er] of cases) {
    t.equal(stopsInFlight(reason as never), stops, `${reason}: stops in flight`)
    t.equal(entersErrorResistance(reason), er, `${reason}: error-resistance mode`)
  }
})

t.test('a reload by the count: more workers than the master keeps, plus what a surge asked for', async (t) => {
  const r = records(['awaiting-ready', 'unstarted'])
  t.equal(reloadedByCount(r, 5), null, 'the first look sets what the master keeps (a worker was starting when the run listed them)')
  t.equal(r.baseline, 5)
  t.equal(reloadedByCount(r, 4), null, 'fewer while one is replaced')
  r.surplus = 1
  t.equal(reloadedByCount(r, 6), null, 'a surge step asked for one more')
  t.equal(reloadedByCount(r, 8), 'it runs 8 workers, more than the 5 it keeps plus 1 this run asked for: it started a new set of workers on its own')
})

t.test('a reload by the count: a worker told to stop on TTOU is still listed until it is reaped, and is no reload', async (t) => {
  const r = records(['signaled', 'unstarted'])
  t.equal(reloadedByCount(r, 4), null)
  r.surplus = 0
  r.retiring = 1
  t.equal(reloadedByCount(r, 5), null, 'N new and old, plus the one stopping')
  t.match(reloadedByCount(r, 6), /it runs 6 workers, more than the 4 it keeps/)
  r.retiring = 0
  t.match(reloadedByCount(r, 5), /it runs 5 workers/, 'once it is accounted for, one more is a reload')
})

t.test('startsNext: the worker of the step that starts once this one ends, for the state file to name with the READY', async (t) => {
  const { startsNext } = await import('../../src/roll/policy.js')
  const r = records(['awaiting-ready', 'unstarted', 'unstarted'])
  const step = r.steps[0]!
  t.equal(startsNext(r, step, false), 20, 'the first not begun')
  t.equal(startsNext(r, step, true), null, '--wait-min-ready: it waits for the window first')
  const last = records(['ready', 'ready', 'awaiting-ready'])
  t.equal(startsNext(last, last.steps[2]!, false), null, 'the last step: none')
  const stopped = records(['awaiting-ready', 'unstarted'], true)
  t.equal(startsNext(stopped, stopped.steps[0]!, false), null, 'after a failure no step starts')
})

t.test('--min-ready windows: what each accepted replacement still owes before the run may end', async (t) => {
  const { unsettled } = await import('../../src/roll/records.js')
  // three replacements that send READY at 1000, 3000 and 5000; at `now` those READY by then are accepted
  const owed = (now: number, w: { releaseMs: number; eachMs: number }, recycled?: number) => {
    const r = records(['awaiting-ready', 'awaiting-ready', 'awaiting-ready'])
    r.steps.forEach((s, i) => {
      s.newPid = 11 + i
      if (1000 + 2000 * i > now) return
      s.state = 'ready'
      s.readyAt = 1000 + 2000 * i
      if (s.newPid === recycled) s.recycledAt = s.readyAt + 500
    })
    return unsettled(r, now, w).map((u) => [u.step.newPid, u.at])
  }
  const auto = { releaseMs: 1000, eachMs: 0 }
  t.same(owed(1500, auto), [[11, 2000]], 'auto, early: the one up longest owes the release window')
  t.same(owed(3050, auto), [], 'auto, second READY: the first has shown the release up 1 s; the others owe nothing of their own')
  t.same(owed(5000, auto), [], 'auto, at the last READY: the run may end')
  const short = { releaseMs: 1000, eachMs: 100 }
  t.same(owed(5050, short), [[13, 5100]], 'a short window for the others: the last owes it')
  const each = { releaseMs: 1000, eachMs: 1000 }
  t.same(owed(5050, each), [[13, 6000]], 'a duration: the last owes all of it')
  t.same(owed(5050, { releaseMs: 0, eachMs: 0 }), [], '0: nothing owed')
  // the one up longest left the watch (the server recycled it on purpose): the next one proves the release
  t.same(owed(3500, auto, 11), [[12, 4000]], 'the earliest READY still watched owes the release window')
  t.same(owed(1500, auto).map((u) => u[1]), [2000], 'a single replacement so far, as on a one-worker group: the full release window')
})
