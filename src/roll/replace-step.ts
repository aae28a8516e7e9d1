/**
 * A replace step: signal the old worker gracefully -> await its exit -> await a READY from the
 * replacement its master starts. Just before the signal, one look at the workers (so an exit the
 * run did not cause is known to come first) and the boot-relative tick: only a worker forked at or
 * after it can be this step's replacement.
 */
import { awaitReady } from './await-ready.js'
import { StepFailure } from './failure.js'
import type { StepRecord } from './records.js'
import type { RollRun } from './types.js'
import { awaitExit, lookBeforeSignal } from './watch.js'

export async function replaceStep(run: RollRun, step: StepRecord): Promise<void> {
  const { adapter, target, emit } = run.input
  const oldPid = step.oldPid as number
  if (!lookBeforeSignal(run).some((w) => w.pid === oldPid)) return adopt(run, step)
  step.stoppedPid = oldPid
  step.signalTick = run.proc.bootTick()
  const outcome = run.proc.signal(oldPid, adapter.stopSignal)
  emit({ event: 'signal', pid: oldPid, signal: adapter.stopSignal, to: 'worker', outcome, step: step.index, tick: step.signalTick })
  if (outcome === 'denied') throw new StepFailure('denied', `not permitted to signal worker ${oldPid} of ${target.description}`)
  if (outcome === 'gone') {
    // it exited on its own just before the signal: nothing was signalled
    step.stoppedPid = null
    step.signalTick = null
    return adopt(run, step)
  }
  step.state = 'signaled'
  step.signaledAt = Date.now()
  run.progress()
  await awaitExit(run, step, oldPid)
  step.state = 'awaiting-ready'
  run.progress()
  await awaitReady(run, step)
}

/** The old worker exited on its own before its turn: the master's respawn of it is this step's replacement, once it is ready. */
export async function adopt(run: RollRun, step: StepRecord): Promise<void> {
  step.adopted = true
  step.state = 'awaiting-ready'
  run.input.emit({ event: 'adopted', step: step.index, oldPid: step.oldPid as number })
  run.progress()
  await awaitReady(run, step)
}
