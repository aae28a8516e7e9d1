/**
 * The walk back after a failed deploy: point `current` to what it was and replace every worker that
 * is not one of the untouched old ones (the replaced workers, a failed new one still running, one
 * still booting), each checked to report the old release.
 */
import { isSameProcess } from '../proc/procfs.js'
import { readCurrent, swapSymlink } from '../release/layout.js'
import type { RollOutcome } from '../roll/roller.js'
import { replacedEntries } from '../state/record-outcome.js'
import type { DeployRun, RollbackReport } from './deploy-context.js'
import { releaseMatch } from './release-check.js'
import { rollTracked } from './roll-tracked.js'

export interface RolledBack {
  /** `current` was pointed back */
  swapped: boolean
  report: RollbackReport
  /** the roll that restarted the workers on the old release, when one ran */
  outcome: RollOutcome | null
}

export async function rollBack(run: DeployRun, failed: RollOutcome): Promise<RolledBack> {
  const { layout, before, name, out } = run
  const { adapter, target } = run.resolved
  const report: RollbackReport = { ok: false, current: readCurrent(layout)?.target ?? null, replaced: [], aborted: null, message: '' }
  if (!before) {
    report.message = `There was no ${layout.current} before this run, so there is nothing to go back to: it still points to releases/${name}`
    return { swapped: false, report, outcome: null }
  }
  if (before.release === name) {
    report.message = `${name} was already live before this run, so there is no older release to go back to`
    return { swapped: false, report, outcome: null }
  }
  swapSymlink(layout.current, before.target)
  report.current = readCurrent(layout)?.target ?? null
  out.logger.warn({ event: 'current-restored', to: report.current }, `rolled back: ${layout.current} -> ${report.current}`)
  out.progress(`rolling back: ${layout.current} -> ${report.current}`)
  const old = before.release ?? before.target

  if (!isSameProcess(target.masterPid, target.masterStartTicks)) {
    report.message = `Rolled back: ${layout.current} points to ${report.current} again. ${target.description} has exited, so no worker could be restarted: start the server again (it will load ${old})`
    return { swapped: true, report, outcome: null }
  }
  const untouched = new Set(failed.untouched)
  const now = adapter.workers(target)
  const toReplace = now.filter((w) => !untouched.has(w.pid))
  if (toReplace.length === 0) {
    report.ok = true
    report.message = `Rolled back: ${layout.current} points to ${report.current} again; no worker had loaded ${name}, so none needed restarting`
    return { swapped: true, report, outcome: null }
  }
  out.progress(`rolling back: restarting ${toReplace.length} worker(s) that run ${name} (${toReplace.map((w) => w.pid).join(', ')})`)
  const outcome = await rollTracked(run, {
    workers: now,
    selected: toReplace,
    plan: { ...run.plan, strategy: 'replace', batch: 1 },
    checkRelease: before.release !== null ? releaseMatch(layout, before.release, null) : undefined,
    surplus: 0,
  })
  report.ok = outcome.ok
  report.replaced = replacedEntries(outcome)
  report.aborted = outcome.aborted
  report.message = outcome.ok
    ? `Rolled back: ${layout.current} points to ${report.current} again, and the ${report.replaced.length} worker(s) that had loaded ${name} were restarted on ${old}; every worker now runs ${old}`
    : `Rollback FAILED: ${layout.current} points to ${report.current} again, but restarting the workers that had loaded ${name} stopped after ${report.replaced.length} of ${toReplace.length}: ${outcome.aborted?.message}. ` +
      `Workers still on ${name}: ${stillOnNewRelease(run, untouched, report).join(', ') || 'none'}`
  return { swapped: true, report, outcome }
}

/** The workers neither untouched by the failed roll nor replaced by the rollback. */
function stillOnNewRelease(run: DeployRun, untouched: Set<number>, report: RollbackReport): number[] {
  const { adapter, target } = run.resolved
  return adapter
    .workers(target)
    .filter((w) => !untouched.has(w.pid) && !report.replaced.some((r) => r.newPid === w.pid))
    .map((w) => w.pid)
}
