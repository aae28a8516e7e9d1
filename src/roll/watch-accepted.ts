/**
 * Every replacement accepted in the run stays watched (same pid, same start tick) until the run
 * ends. One that is gone either ended on purpose, as the server's log says (max-requests: the
 * master respawns it, and that respawn is no step's), or the release dies after READY: the run
 * stops at once, naming the dead worker and, when the log says it, how it ended.
 */
import { formatMs } from '../config.js'
import { StepFailure } from './failure.js'
import { diedAfterReadyMessage, recycledAfterReady } from './policy.js'
import { accepted } from './records.js'
import type { RollRun } from './types.js'

/** Check the accepted replacements (those `only` picks, else all) and act on one that is gone. */
export function watchAccepted(run: RollRun, only?: (pid: number) => boolean): void {
  const { adapter, target, emit } = run.input
  for (const step of accepted(run.records)) {
    const pid = step.newPid as number
    if (only && !only(pid)) continue
    if (step.newStartTicks === null || run.proc.isSameProcess(pid, step.newStartTicks)) continue
    const evidence = adapter.exitEvidence?.(target, pid) ?? null
    const now = Date.now()
    if (recycledAfterReady(evidence)) {
      step.recycledAt = now
      run.records.exits.push({ pid, tick: run.proc.bootTick(), paidBy: null })
      emit({ event: 'worker-gone', pid, detail: `(step ${step.index}'s replacement) ${evidence?.detail ?? 'ended'}, as the server's log says: the master respawns it` })
      continue
    }
    // a master told to stop takes its workers with it: not the release's doing (issue 11)
    const stopping = adapter.stopping?.(target) ?? null
    if (stopping !== null) {
      const said = /Handling signal: \w+/.exec(stopping)?.[0] ?? stopping
      const why = `${target.description} is stopping during the run. Master ${target.masterPid} was told to stop (its log: "${said}") and worker ${pid} exited with it, which says nothing about the release. No further worker was signalled`
      run.abort(new StepFailure('master-gone', why, pid, step.oldPid), step)
      throw new StepFailure('master-gone', why)
    }
    const message = diedAfterReadyMessage(pid, target.description, formatMs(now - (step.readyAt ?? now)), evidence, adapter.label)
    step.state = 'failed'
    step.failure = message
    run.abort(new StepFailure('died-after-ready', message, pid, step.oldPid), step)
    throw new StepFailure('died-after-ready', message)
  }
}
