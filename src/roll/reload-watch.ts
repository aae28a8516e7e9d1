/**
 * A reload under our feet: the master replacing its workers on its own during the run (Gunicorn
 * HUP or USR2, a uWSGI reload). Seen in the server's log (the adapter's reloadSince, read from
 * where the log ended when the run started) or in the worker count (more than the master keeps).
 * The run stops touching workers at once, abort reason master-reloaded: not the release's fault,
 * so no error-resistance mode, but never a clean roll either.
 */
import { StepFailure } from './failure.js'
import { reloadedByCount } from './policy.js'
import { done } from './records.js'
import type { RollRun } from './types.js'

/** Throw master-reloaded when the server's log says so (read on from where the last look stopped). */
export function checkReload(run: RollRun): void {
  const { adapter, target } = run.input
  const line = run.logMark && adapter.reloadSince ? adapter.reloadSince(target, run.logMark) : null
  if (line !== null) reloaded(run, `${adapter.label}'s log: "${line}"`)
}

/**
 * Throw master-reloaded when the live count of one look is more than the master keeps. Each look
 * follows a round's checkReload, so a reload the log tells is told in its words.
 */
export function checkWorkerCount(run: RollRun, live: number): void {
  const why = reloadedByCount(run.records, live)
  if (why !== null) reloaded(run, why)
}

function reloaded(run: RollRun, why: string): never {
  const { target } = run.input
  const { steps } = run.records
  const message =
    `${target.description} replaced its workers on its own during the run (${why}). ` +
    `Stopped after ${done(steps).length} of ${steps.length} steps; no further worker was touched`
  run.abort(new StepFailure('master-reloaded', message))
  throw new StepFailure('master-reloaded', message)
}
