import t from 'tap'
import { done, failed, inFlight, newStep, pending, progress, readyMs } from '../../src/roll/records.js'

t.test('queries over step records read like the policy', async (t) => {
  const steps = [newStep(1, 10), newStep(2, 20), newStep(3, 30), newStep(4, 40)]
  t.equal(progress(steps), '0 / 4 ready, 4 pending')
  steps[0]!.state = 'ready'
  steps[1]!.state = 'awaiting-ready'
  steps[2]!.state = 'signaled'
  t.same(done(steps).map((s) => s.oldPid), [10])
  t.same(inFlight(steps).map((s) => s.oldPid), [20, 30])
  t.same(pending(steps).map((s) => s.oldPid), [40])
  t.equal(progress(steps), '1 / 4 ready, 2 in flight, 1 pending')
  steps[3]!.state = 'failed'
  t.same(failed(steps).map((s) => s.oldPid), [40])
  t.equal(progress(steps), '1 / 4 ready, 2 in flight, 1 failed')
})

t.test('readyMs runs from the step start to readiness', async (t) => {
  const s = newStep(1, 10)
  t.equal(readyMs(s), null)
  s.startedAt = 1000
  s.readyAt = 2210
  t.equal(readyMs(s), 1210)
})

t.test('takeOver: the worker the master retired becomes the step\'s; the step meant for it swaps with it, if it has not signalled', async (t) => {
  const { newRecords, takeOver } = await import('../../src/roll/records.js')
  const r = newRecords([10, 20, 30], [10, 20, 30])
  const [s1, s2, s3] = r.steps as [ReturnType<typeof newStep>, ReturnType<typeof newStep>, ReturnType<typeof newStep>]
  takeOver(r, s1, 10)
  t.same(r.steps.map((s) => s.oldPid), [10, 20, 30], 'the planned one: nothing moves')
  takeOver(r, s2, 30)
  t.same(r.steps.map((s) => s.oldPid), [10, 30, 20], 'step 2 retired 30: step 3 now replaces 20')
  s3.signalTick = 5
  s3.state = 'signaled'
  takeOver(r, s1, 20)
  t.equal(s1.oldPid, 20)
  t.equal(s3.oldPid, 20, 'a step that already signalled keeps its worker')
})
