/**
 * `rolling-restart deploy --root DIR --release NAME` and `rolling-restart rollback --root DIR`
 * inside the group-run scaffold:
 *
 *   refuse when the server cannot load new code on a worker restart (preload_app, stale chdir)
 *   -> preflight the new release (its own directory, before `current` moves)
 *   -> point `current` at it (symlink + rename(2))
 *   -> roll every worker, each new one checked to report the new release
 *   -> success: record it in the release history, prune with --keep
 *   -> failure: point `current` back, restart the workers already replaced (and any new one still
 *      booting) so only the old release serves; error-resistance mode either way; exit 4
 *
 * `rollback` is the same walk towards the release before the live one in the history.
 */
import type { ExitCode } from '../errors.js'
import { checkRelease, pointCurrentAt, readCurrent, releaseDir } from '../release/layout.js'
import { recordErrorResistance } from '../state/record-outcome.js'
import { refuseOldCodeHazards, rollbackTarget } from './deploy-checks.js'
import type { DeployReport, DeployRun, DeployStart, DeployTarget } from './deploy-context.js'
import { deployed, deployInterrupted, releaseFailed } from './deploy-outcome.js'
import type { ChosenRun, GroupRunSteps } from './group-run.js'
import { drainAround, exitAfterHaproxy } from './haproxy-gate.js'
import { preflightFailed, preflightStep } from './preflight-step.js'
import { releaseMatch } from './release-check.js'
import { baseReport, fillFromOutcome, reportErrorResistance } from './report.js'
import { rollTracked } from './roll-tracked.js'

/** Nothing done yet: every worker selected, `current` where it was. */
function newDeployReport(run: ChosenRun, d: DeployStart, { name, live }: DeployTarget): DeployReport {
  const report = baseReport(run, run.workers.map((w) => w.pid)) as DeployReport
  report.deploy = {
    action: d.action,
    root: d.layout.root,
    release: name,
    previous: live,
    swapped: false,
    current: d.before?.target ?? null,
    rolledBack: false,
    rollback: null,
    pruned: [],
    pruneErrors: [],
  }
  return report
}

export function deploySteps(d: DeployStart): GroupRunSteps<DeployTarget> {
  return {
    prepare: (run) => {
      const history = run.prior?.releases?.history ?? []
      const live = d.before?.release ?? null
      const name = d.requested ?? rollbackTarget(d.layout, history, live)
      checkRelease(d.layout, name)
      refuseOldCodeHazards(run.resolved, d.layout, name)
      return { history, live, name }
    },
    choose: async ({ workers }) => ({ selected: workers, skipped: [] }),
    announce: ({ out, workers }, t) => {
      const verb = d.action === 'deploy' ? 'deploying' : 'rolling back to'
      out.logger.info(
        { event: `${d.action}-start`, root: d.layout.root, release: t.name, live: t.live, workers: workers.map((w) => w.pid) },
        `${verb} ${t.name} (live: ${t.live ?? 'none'})`,
      )
      out.progress(`${verb} ${t.name} in ${d.layout.root} (live: ${t.live ?? 'none'})`)
    },
    body: (run, t) => deployBody({ ...run, ...d, ...t, startedAt: new Date().toISOString(), report: newDeployReport(run, d, t) }),
  }
}

async function deployBody(run: DeployRun): Promise<ExitCode> {
  const { layout, name, report } = run
  // 1. preflight the new release, from its own directory: `current` has not moved yet
  const verdict = await preflightStep(run, { layout, dir: releaseDir(layout, name) })
  report.preflight = verdict?.report ?? null
  const failure = preflightFailed(verdict)
  if (failure !== null) {
    const message = `${run.action} of ${name} stopped by the preflight; ${layout.current} still points to ${run.before?.target ?? 'nothing'} and no worker was touched: ${failure}`
    const what = { reason: 'preflight', message, untouched: run.workers.map((w) => w.pid) }
    recordErrorResistance(run.dir, run.resolved, what)
    return reportErrorResistance(run, report, what)
  }

  // 2. swap `current`
  if (run.live !== name) {
    pointCurrentAt(layout, name)
    report.deploy.swapped = true
    report.deploy.current = readCurrent(layout)?.target ?? null
    run.out.logger.info({ event: 'current-swapped', from: run.before?.target ?? null, to: report.deploy.current }, `${layout.current} -> ${report.deploy.current}`)
    run.out.progress(`${layout.current} -> ${report.deploy.current}`)
  } else {
    run.out.logger.info({ event: 'already-live', release: name }, `${name} is already live; rolling the workers onto it`)
  }

  // 3. roll every worker, each new one checked to run the new release
  //    (drained at HAProxy with --haproxy-socket; set ready again only if it succeeds)
  const { outcome, haproxy } = await drainAround(run, () =>
    rollTracked(run, {
      workers: run.workers,
      selected: run.workers,
      checkRelease: releaseMatch(layout, name, run.plan.expectRelease),
      surplus: run.prior?.surplus ?? 0,
    }),
  )
  if (haproxy) report.haproxy = haproxy
  fillFromOutcome(report, outcome)
  if (outcome.ok) return exitAfterHaproxy(deployed(run, outcome), haproxy)
  if (outcome.aborted?.reason === 'interrupted') return deployInterrupted(run, outcome)
  // 4. the release failed: back to where we were
  return releaseFailed(run, outcome)
}
