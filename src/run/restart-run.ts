/**
 * `rolling-restart [restart]` inside the group-run scaffold: warn of hazards -> select -> preflight
 * -> roll -> record -> report.
 */
import { formatMs } from '../config.js'
import { EXIT, UsageError, type ExitCode } from '../errors.js'
import type { ProcInfo } from '../proc/procfs.js'
import { skippedReport, type PreflightReport } from '../preflight/verdict.js'
import { isOldestPrefix } from '../roll/plan.js'
import type { RollOutcome } from '../roll/roller.js'
import { bootingWorkers, select } from '../roll/select.js'
import type { Hazard } from '../servers/types.js'
import { recordErrorResistance, recordOutcome } from '../state/record-outcome.js'
import { printJson } from '../commands/common.js'
import type { Chosen, GroupRun, GroupRunSteps, LockedRun } from './group-run.js'
import { drainAround, exitAfterHaproxy } from './haproxy-gate.js'
import type { HaproxyReport } from './haproxy-report.js'
import { preflightFailed, preflightStep } from './preflight-step.js'
import { recycleSkipsPreflight, refusePreloadedRestart } from './preload-guard.js'
import { releaseCheck } from './release-check.js'
import { baseReport, fillFromOutcome, inErrorResistance, publish, reportErrorResistance } from './report.js'
import { failingNote, haltNote } from './failing-workers.js'
import { rollTracked } from './roll-tracked.js'
import { preflightNotNeeded } from './unchanged-release.js'

export const restartSteps: GroupRunSteps<Hazard[]> = {
  prepare: (run) => {
    const hazards = warnHazards(run)
    refusePreloadedRestart(run.plan, hazards, run.prior, run.resolved.target)
    return hazards
  },
  choose: chooseWorkers,
  body: restartBody,
  preflightNotNeeded: whyNoPreflight,
}

/** Log what the adapter sees as unsafe (doctor explains it in full); a run is not stopped by it. */
function warnHazards({ resolved, out }: LockedRun): Hazard[] {
  let hazards: Hazard[] = []
  try {
    hazards = resolved.adapter.hazards?.(resolved.target, { forRun: true }) ?? []
  } catch (err) {
    out.logger.warn({ event: 'hazards-failed', error: (err as Error).message }, 'could not check for hazards')
  }
  for (const h of hazards.filter((x) => x.severity === 'error')) {
    out.logger.warn({ event: 'hazard', ...h }, `${h.message}. Fix: ${h.fix}`)
    out.progress(`warning: ${h.message} (see rolling-restart doctor)`)
  }
  return hazards
}

async function chooseWorkers(run: LockedRun & { workers: ProcInfo[] }): Promise<Chosen | ExitCode> {
  const { workers, plan } = run
  // a worker still booting after stableWorkers() waited is left out: signalling it could go astray
  const booting = bootingWorkers(run.resolved, workers)
  const selection = await select(workers.filter((w) => !booting.some((b) => b.pid === w.pid)), plan.criteria)
  selection.skipped.push(...booting)
  if (plan.strategy === 'surge' && !isOldestPrefix(workers, selection.selected)) {
    throw new UsageError(
      `--strategy surge lets the master retire its oldest workers (Gunicorn TTOU), but this selection picks others ` +
        `(${selection.selected.map((w) => w.pid).join(', ')}). Use --strategy replace with --rss-above`,
    )
  }
  const selected = selection.selected.map((s) => workers.find((w) => w.pid === s.pid) as ProcInfo)
  if (selected.length > 0) return { selected, skipped: selection.skipped }

  const report = baseReport({ ...run, skipped: selection.skipped }, [])
  report.message = `nothing to do: none of the ${workers.length} workers matches the selection`
  run.out.logger.info({ event: 'nothing-selected', skipped: selection.skipped }, report.message)
  run.out.progress(report.message)
  if (run.flags.json) printJson(report)
  return EXIT.OK
}

/**
 * Why this restart needs no preflight (logged), or null: the recycle of a master known to
 * preload, or running workers that vouch for the code on disk. The run and the dry run ask here.
 */
function whyNoPreflight(run: LockedRun & { workers: ReadonlyArray<{ pid: number }> }, hazards: readonly Hazard[]): string | null {
  const recycled = recycleSkipsPreflight(run.plan, hazards, run.prior, run.resolved.target)
  if (recycled !== null) run.out.logger.info({ event: 'preflight-off', why: recycled }, recycled)
  return recycled ?? preflightNotNeeded(run)
}

async function restartBody(run: GroupRun, hazards: Hazard[]): Promise<ExitCode> {
  const notNeeded = whyNoPreflight(run, hazards)
  if (notNeeded !== null) run.out.progress(notNeeded)
  const verdict = notNeeded === null ? await preflightStep(run) : null
  const preflight = notNeeded !== null ? skippedReport(notNeeded) : (verdict?.report ?? null)
  const failure = preflightFailed(verdict)
  if (failure !== null) {
    // the release is at fault: error-resistance mode (reason `preflight`), exit 4, nothing touched
    const report = baseReport(run, [])
    report.preflight = preflight
    const what = { reason: 'preflight', message: failure, untouched: run.workers.map((w) => w.pid) }
    recordErrorResistance(run.dir, run.resolved, what)
    return reportErrorResistance(run, report, what, `preflight failed, no worker was touched: ${failure}`)
  }
  const { outcome, haproxy } = await drainAround(run, () =>
    rollTracked(run, {
      workers: run.workers,
      selected: run.selected,
      checkRelease: run.plan.expectRelease !== null ? releaseCheck(run.plan.expectRelease, hazards) : undefined,
      surplus: run.prior?.surplus ?? 0,
    }),
  )
  return finish(run, outcome, preflight, haproxy)
}

function finish(run: GroupRun, outcome: RollOutcome, preflight: PreflightReport | null, haproxy: HaproxyReport | null): ExitCode {
  const { target } = run.resolved
  const interrupted = outcome.aborted?.reason === 'interrupted'
  const reloaded = outcome.aborted?.reason === 'master-reloaded'
  const replaced = recordOutcome(run.dir, run.resolved, outcome)
  const report = baseReport(run, outcome.steps.map((s) => s.oldPid ?? 0))
  report.preflight = preflight
  if (haproxy) report.haproxy = haproxy
  fillFromOutcome(report, outcome)
  report.errorResistance = !outcome.ok && !interrupted && !reloaded

  if (outcome.ok) {
    const recycled = outcome.steps.filter((s) => s.preload).length
    report.message =
      `${replaced.length} of ${run.workers.length} workers of ${target.description} ${recycled ? 'recycled' : 'replaced'} in ${formatMs(outcome.durationMs)}` +
      (recycled ? `: recycled, code unchanged (${recycled} reported PRELOAD=1: they run the master's code)` : '')
  } else if (interrupted) {
    report.message = `interrupted after ${replaced.length} of ${outcome.steps.length} workers; the group is not in error-resistance mode`
  } else if (reloaded) {
    report.message = reloadedMessage(outcome, replaced.length)
  } else {
    const a = outcome.aborted as NonNullable<RollOutcome['aborted']>
    report.message =
      `stopped after ${replaced.length} of ${outcome.steps.length} workers: ${a.message}. ` +
      `${outcome.untouched.length} old worker(s) were not touched and keep serving (${outcome.untouched.join(', ') || 'none'}). ` +
      inErrorResistance(target.group) +
      (outcome.surplus > 0 ? ` The master runs ${outcome.surplus} worker(s) above its configured count; the next good run retires them.` : '') +
      failingNote(run, report.failing) +
      haltNote(outcome)
  }
  publish(run, report, outcome.ok ? 'info' : 'error', !outcome.ok)
  if (outcome.ok) return exitAfterHaproxy(EXIT.OK, haproxy)
  return interrupted ? EXIT.INTERRUPTED : reloaded ? EXIT.RELOADED : EXIT.ABORTED
}

/** The master reloaded on its own: never a clean roll, not the release's fault either. */
function reloadedMessage(outcome: RollOutcome, replaced: number): string {
  const a = outcome.aborted as NonNullable<RollOutcome['aborted']>
  return (
    `${a.message}. ${replaced} of ${outcome.steps.length} workers were replaced by this run before that; what the master started on its own ` +
    'was not checked by it. This is not a failure of the release: the group is not in error-resistance mode. Run again to roll what is left'
  )
}
