/**
 * Waiting, with the master watched meanwhile: a run ends at once when the master is gone or the
 * user interrupted it, whatever it was waiting for.
 */
import { formatMs } from '../config.js'
import type { ProcInfo } from '../proc/procfs.js'
import { StepFailure } from './failure.js'
import { stopsInFlight } from './policy.js'
import type { StepRecord } from './records.js'
import type { RollRun } from './types.js'
import { checkReload } from './reload-watch.js'
import { watchAccepted } from './watch-accepted.js'
import { childrenNow } from './look.js'
import { observe } from './observe.js'
import { backoff } from './pace.js'

/**
 * Throw when the master exited (or was replaced under its pid), when the run was stopped for good
 * (interrupted, a replacement died after READY...), when the master reloads its workers on its
 * own, or when an accepted replacement is gone: every one of them checked.
 */
export function ensureMaster(run: RollRun): void {
  checkMaster(run)
  run.look.checkedAt = Date.now()
  watchAccepted(run)
}

/**
 * Just before a signal: the same checks, with one look at the workers in which each one's stat
 * is read again (observe.ts); an accepted replacement that is not in it is checked on its own.
 */
export function lookBeforeSignal(run: RollRun): ProcInfo[] {
  checkMaster(run)
  const workers = observe(run, true)
  const live = new Set(workers.map((w) => w.pid))
  run.look.checkedAt = Date.now()
  watchAccepted(run, (pid) => !live.has(pid))
  return workers
}

/**
 * The same, once per round of a wait, at O(1) reads while nothing changes: of the accepted
 * replacements, only those the master no longer lists among its children are checked (reaped, or
 * skipped by the kernel's list), and every one of them at least every ACCEPTED_RECHECK_MS (one
 * that exited and is not reaped yet). Without a cheap list of children, every one each round.
 * Returns the master's children as this round read them (null: no cheap list), for its look.
 */
export function watchRound(run: RollRun): number[] | null {
  checkMaster(run)
  const children = childrenNow(run)
  if (children === null || recheckDue(run)) watchAccepted(run)
  else {
    const listed = new Set(children)
    watchAccepted(run, (pid) => !listed.has(pid))
  }
  return children
}

/** The master is the same process, the run is not stopped for good, the master does not reload on its own. */
function checkMaster(run: RollRun): void {
  const { target, adapter } = run.input
  if (!run.proc.isSameProcess(target.masterPid, target.masterStartTicks)) {
    throw new StepFailure('master-gone', `${target.description} exited during the run. ${adapter.masterGoneHint(target)}`)
  }
  const aborted = run.records.aborted
  if (aborted && stopsInFlight(aborted.reason)) throw new StepFailure(aborted.reason, aborted.message)
  // a reload first: under HUP the master stops the accepted replacements too, which is no crash of theirs
  checkReload(run)
}

/** At most this long between two checks of every accepted replacement. */
/** (A reaped one drops out of the list and is checked the same round; an unreaped one only stays a zombie while its master is stuck. The end of the run checks every one.) */
const ACCEPTED_RECHECK_MS = 1_000

function recheckDue(run: RollRun): boolean {
  const now = Date.now()
  if (now - run.look.checkedAt < ACCEPTED_RECHECK_MS) return false
  run.look.checkedAt = now
  return true
}

/**
 * Poll `ok` until it holds, each poll interval, watching the master meanwhile; `fast` when the
 * next step waits for it (pace.ts): fast at first, backing off to the poll interval. A datagram ends
 * a pause early: a replacement's READY says its predecessor has most likely gone, so look again.
 */
export async function until(run: RollRun, timeoutMs: number, ok: () => boolean, onTimeout: () => StepFailure, fast = false): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const pace = fast ? backoff(run.opts.pollIntervalMs) : () => run.opts.pollIntervalMs
  while (!ok()) {
    watchRound(run)
    if (Date.now() > deadline) throw onTimeout()
    await run.input.listener.wait(pace())
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
    watchRound(run)
    await run.proc.sleep(Math.max(1, Math.min(run.opts.pollIntervalMs, deadline - Date.now())))
  }
  ensureMaster(run)
}
