/**
 * The scaffold of every run that rolls a group's workers (restart, deploy, rollback):
 *
 *   resolve -> lock -> refuse in error-resistance mode -> probe the state directory with the state
 *   record (one that will not take it is exit 3, nothing touched) -> the command's own checks -> list the
 *   workers -> choose the ones to signal -> refuse a surge that would cut their drain -> check we
 *   may signal them -> open the readiness listener
 *   -> the command's body -> close the listener, release the lock (always)
 */
import { EXIT, Interrupted, TargetError, type ExitCode } from '../errors.js'
import { createOutput, type Output } from '../output/logger.js'
import type { ProcInfo } from '../proc/procfs.js'
import type { ReadinessListener } from '../readiness/listener.js'
import { stableWorkers, type Skipped } from '../roll/select.js'
import type { Resolved } from '../servers/resolve.js'
import { readState, type GroupState } from '../state/state-file.js'
import { outputOptions, stateDir } from '../commands/common.js'
import type { RestartFlags, RestartPlan } from './flags.js'
import { checkPermission, openListener, refuseInErrorResistance, refuseSurgeCuttingDrain, resolveForRun } from './guards.js'
import { tellUnfinishedRun } from './killed-run.js'
import { checkRecordable, lockOrFault } from './state-guard.js'

/** What a run starts from: its flags, parsed, and where it speaks. */
export interface RunStart {
  flags: RestartFlags
  plan: RestartPlan
  out: Output
  interrupt?: AbortSignal | undefined
}

/** The group resolved and locked, and what the state file said about it before this run. */
export interface LockedRun extends RunStart {
  /** the state directory */
  dir: string
  resolved: Resolved
  prior: GroupState | null
}

/** The workers to signal, out of the ones seen. */
export interface Chosen {
  selected: ProcInfo[]
  skipped: Skipped[]
}

export interface ChosenRun extends LockedRun, Chosen {
  /** every worker at the start, oldest first */
  workers: ProcInfo[]
}

export interface GroupRun extends ChosenRun {
  listener: ReadinessListener
}

/** A command's part in the scaffold; `P` is what its own checks found. */
export interface GroupRunSteps<P> {
  /** after the lock and the mode check, before the workers are listed */
  prepare(run: LockedRun): P
  /** the workers to signal; an exit code ends the run here, with nothing touched (nothing to do) */
  choose(run: LockedRun & { workers: ProcInfo[] }, prepared: P): Promise<Chosen | ExitCode>
  /** permissions checked, the listener not open yet */
  announce?(run: ChosenRun, prepared: P): void
  body(run: GroupRun, prepared: P): Promise<ExitCode>
  /** why this command's preflight is not needed for these workers, or null; the dry run asks the command's own answer */
  preflightNotNeeded?(run: LockedRun & { workers: ProcInfo[] }, prepared: P): string | null
}

export async function withGroupRun<P>(start: RunStart, steps: GroupRunSteps<P>): Promise<ExitCode> {
  if (start.plan.dryRun) return (await import('./dry-run.js')).dryRun(start, steps)
  const dir = stateDir(start.flags)
  const resolved = await resolveForRun(start.flags, start.plan, start.out)
  const { target } = resolved
  const { key, lock } = await lockOrFault(dir, target, start.out)
  try {
    const prior = readState(dir, key)
    tellUnfinishedRun(start.out, prior, new Set(resolved.adapter.workers(target).map((w) => w.pid)), lock.recoveredFrom)
    refuseInErrorResistance(prior, start.flags, target.group)
    checkRecordable(dir, resolved)
    const locked: LockedRun = { ...start, dir, resolved, prior }
    const prepared = steps.prepare(locked)

    const workers = await stableWorkers(resolved, start.out)
    if (workers.length === 0) {
      throw new TargetError(`${target.description} has no workers right now: is it starting up or shutting down?`, 'no-workers')
    }
    const chosen = await steps.choose({ ...locked, workers }, prepared)
    if (typeof chosen === 'number') return chosen
    refuseSurgeCuttingDrain(start.plan, resolved, chosen.selected)
    checkPermission(target.masterPid, target.description)
    for (const w of chosen.selected) checkPermission(w.pid, `worker ${w.pid}`)
    const run: ChosenRun = { ...locked, workers, ...chosen }
    steps.announce?.(run, prepared)

    const listener = await openListener(start.plan, start.out)
    try {
      return await steps.body({ ...run, listener }, prepared)
    } finally {
      await listener.close()
    }
  } finally {
    lock.release()
  }
}

/**
 * The output a run logs to, flushed at the end whatever happens. An interruption before any worker
 * was touched (Interrupted) is logged and ends with its exit code, EXIT.INTERRUPTED (130).
 */
export async function withRunOutput(flags: RestartFlags, body: (out: Output) => Promise<ExitCode>): Promise<ExitCode> {
  const out = createOutput(outputOptions(flags))
  try {
    return await body(out)
  } catch (err) {
    if (err instanceof Interrupted) return interrupted(err, out)
    throw err
  } finally {
    out.flush()
  }
}

function interrupted(err: Interrupted, out: Output): ExitCode {
  out.logger.warn({ event: 'interrupted' }, err.message)
  process.stderr.write(`rolling-restart: ${err.message}\n`)
  return EXIT.INTERRUPTED
}
