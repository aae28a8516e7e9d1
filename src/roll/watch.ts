/**
 * Waiting, with the master watched meanwhile: a run ends at once when the master is gone or the
 * user interrupted it, whatever it was waiting for.
 */
import { formatMs } from '../config.js'
import { StepFailure } from './failure.js'
import { stopsInFlight } from './policy.js'
import type { StepRecord } from './records.js'
import type { RollRun } from './types.js'
import { checkReload } from './reload-watch.js'
import { watchAccepted } from './watch-accepted.js'

/**
 * Throw when the master exited (or was replaced under its pid), when the run was stopped for good
 * (interrupted, a replacement died after READY...), when the master reloads its workers on its
 * own, or when an accepted replacement is gone.
 */
export function ensureMaster(run: RollRun): void {
  const { target, adapter } = run.input
  if (!run.proc.isSameProcess(target.masterPid, target.masterStartTicks)) {
    throw new StepFailure('master-gone', `${target.description} exited during the run. ${adapter.masterGoneHint(target)}`)
  }
  const aborted = run.records.aborted
  if (aborted && stopsInFlight(aborted.reason)) throw new StepFailure(aborted.reason, aborted.message)
  // a reload first: under HUP the master stops the accepted replacements too, which is no crash of theirs
  checkReload(run)
  watchAccepted(run)
}

/** Poll `ok` until it holds; watch the master meanwhile. */
export async function until(run: RollRun, timeoutMs: number, ok: () => boolean, onTimeout: () => StepFailure): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    ensureMaster(run)
    if (Date.now() > deadline) throw onTimeout()
    await run.proc.sleep(run.opts.pollIntervalMs)
  }
}

/** Wait for a signalled worker to exit (the same process: pids get reused), then record it. */
export async function awaitExit(run: RollRun, step: StepRecord, pid: number): Promise<void> {
  const { drainTimeoutMs } = run.opts
  const startTicks = run.proc.readStat(pid)?.startTicks
  const gone = () => startTicks === undefined || !run.proc.isSameProcess(pid, startTicks)
  await until(run, drainTimeoutMs, gone, () =>
    new StepFailure(
      'drain-timeout',
      `worker ${pid} did not exit within ${formatMs(drainTimeoutMs)} of ${run.input.adapter.stopSignal}: ` +
        'it is still finishing a request, or ignores the signal. It was left running; raise --drain-timeout if requests are that long',
    ),
  )
  step.exitedAt = Date.now()
  step.state = 'exited'
  run.input.emit({ event: 'exited', pid, ms: step.exitedAt - (step.signaledAt ?? step.exitedAt) })
}

/** Sleep for `ms`, watching the master each poll; then look once more. */
export async function watchMaster(run: RollRun, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    ensureMaster(run)
    await run.proc.sleep(run.opts.pollIntervalMs)
  }
  ensureMaster(run)
}
