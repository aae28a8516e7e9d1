/**
 * How a deploy's roll ends: the release goes into the history (and old ones are pruned), an
 * interruption leaves things for the next run to finish, a failure walks back to the old release.
 */
import { existsSync } from 'node:fs'
import { formatMs } from '../config.js'
import { EXIT, type ExitCode } from '../errors.js'
import { appendHistory, lastLive, previousRelease, releaseStack } from '../release/history.js'
import { listReleases, readCurrent, releaseDir } from '../release/layout.js'
import { removeRelease, selectPrunable } from '../release/prune.js'
import type { RollOutcome } from '../roll/roller.js'
import { recordOutcome, replacedEntries } from '../state/record-outcome.js'
import type { ReleaseHistoryEntry } from '../state/state-file.js'
import { rollBack } from './deploy-rollback.js'
import { afterRollbackNote, failingWorkers } from './failing-workers.js'
import type { DeployRun } from './deploy-context.js'
import { publish, reportErrorResistance } from './report.js'

/** Every worker runs the new release: record it in the history, prune with --keep. */
export function deployed(run: DeployRun, outcome: RollOutcome): ExitCode {
  const { layout, name, live, report } = run
  const entry: ReleaseHistoryEntry = { release: name, at: new Date().toISOString(), action: run.action, root: layout.root }
  let newHistory: ReleaseHistoryEntry[] = run.history
  recordOutcome(run.dir, run.resolved, outcome, undefined, (s) => {
    let h = s.releases?.history ?? []
    // the release live before this run, when the history does not have it on top: so a rollback can find it
    if (live !== null && live !== name && releaseStack(h).at(-1) !== live) h = appendHistory(h, { release: live, at: run.startedAt, action: 'found', root: layout.root })
    s.releases = { history: appendHistory(h, entry) }
    newHistory = s.releases.history
  })
  if (run.keep !== null) {
    const previous = live !== name ? live : previousRelease(newHistory, name, (n) => existsSync(releaseDir(layout, n)))
    prune(run, previous, run.keep, newHistory)
  }
  report.message =
    `${run.action === 'deploy' ? 'deployed' : 'rolled back to'} ${name}: ${layout.current} -> ${report.deploy.current}; ` +
    `${report.replaced.length} of ${run.workers.length} workers of ${run.resolved.target.description} replaced in ${formatMs(outcome.durationMs)}` +
    (report.deploy.pruned.length ? `; removed ${report.deploy.pruned.join(', ')}` : '')
  publish(run, report, 'info')
  return EXIT.OK
}

/** Ctrl-C mid-roll: `current` stays on the new release and the group is not in error-resistance mode. */
export function deployInterrupted(run: DeployRun, outcome: RollOutcome): ExitCode {
  const { layout, report } = run
  recordOutcome(run.dir, run.resolved, outcome)
  report.message =
    `interrupted after ${report.replaced.length} of ${run.workers.length} workers: ${layout.current} points to ${report.deploy.current}, ` +
    `the untouched workers (${outcome.untouched.join(', ') || 'none'}) still run ${run.live ?? 'the old code'}. Run the ${run.action} again to finish it, ` +
    `or \`rolling-restart rollback --root ${layout.root}\`. The group is not in error-resistance mode`
  publish(run, report, 'warn')
  return EXIT.INTERRUPTED
}

/** The new release failed: back to the old one, and error-resistance mode saying what the rollback did. */
export async function releaseFailed(run: DeployRun, outcome: RollOutcome): Promise<ExitCode> {
  const { report } = run
  const failing = report.failing
  const back = await rollBack(run, outcome)
  report.deploy.rolledBack = back.swapped
  report.deploy.rollback = back.report
  report.deploy.current = readCurrent(run.layout)?.target ?? null
  report.failing = failingWorkers(outcome)
  const a = outcome.aborted as NonNullable<RollOutcome['aborted']>
  const message =
    `${run.action} of ${run.name} failed after ${report.replaced.length} of ${run.workers.length} workers: ${a.message}. ${back.report.message}` +
    afterRollbackNote(failing, report.failing, run.live ?? 'the old release', run)
  const er = { reason: a.reason, message, untouched: outcome.untouched, replaced: replacedEntries(outcome) }
  recordOutcome(run.dir, run.resolved, outcome, er)
  if (back.outcome) {
    // a good rollback roll must not clear the surplus the failed roll (or an earlier one) left
    const surplus = Math.max(0, (run.prior?.surplus ?? 0) + outcome.surplus + back.outcome.surplus)
    recordOutcome(run.dir, run.resolved, back.outcome, er, (s) => {
      s.surplus = surplus
    })
  }
  return reportErrorResistance(run, report, { reason: a.reason, message, untouched: outcome.untouched })
}

/** --keep: remove the oldest releases that have been live, never the live or the previous one. */
function prune(run: DeployRun, previous: string | null, keep: number, history: readonly ReleaseHistoryEntry[]): void {
  const { layout, report, out } = run
  const doomed = selectPrunable({ releases: listReleases(layout), live: run.name, previous, keep, lastLive: lastLive(history) })
  for (const name of doomed) {
    try {
      removeRelease(layout, name)
      report.deploy.pruned.push(name)
      out.logger.info({ event: 'pruned', release: name }, `removed ${releaseDir(layout, name)} (--keep ${keep})`)
    } catch (err) {
      report.deploy.pruneErrors.push({ release: name, error: (err as Error).message })
      out.logger.warn({ event: 'prune-failed', release: name, error: (err as Error).message }, `could not remove ${releaseDir(layout, name)}`)
    }
  }
}
