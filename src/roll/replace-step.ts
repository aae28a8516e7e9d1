/**
 * A replace step: signal the old worker gracefully -> await its exit -> await a READY from the
 * replacement its master starts.
 */
import { awaitReady } from './await-ready.js'
import { StepFailure } from './failure.js'
import type { StepRecord } from './records.js'
import type { RollRun } from './types.js'
import { awaitExit, ensureMaster } from './watch.js'

export async function replaceStep(run: RollRun, step: StepRecord): Promise<void> {
  const { adapter, target, emit } = run.input
  const oldPid = step.oldPid as number
  ensureMaster(run)
  const outcome = run.proc.signal(oldPid, adapter.stopSignal)
  step.stoppedPid = oldPid
  emit({ event: 'signal', pid: oldPid, signal: adapter.stopSignal, to: 'worker', outcome })
  if (outcome === 'denied') throw new StepFailure('denied', `not permitted to signal worker ${oldPid} of ${target.description}`)
  step.state = 'signaled'
  step.signaledAt = Date.now()
  run.progress()
  await awaitExit(run, step, oldPid)
  step.state = 'awaiting-ready'
  run.progress()
  await awaitReady(run, step)
}
