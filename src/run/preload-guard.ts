/**
 * A master that preloads the app (Gunicorn preload_app) never gives a restarted worker new code:
 * every worker forks the code the master imported when it started. A plain restart of such a group
 * is refused before any worker is touched; --recycle (memory recycling, from cron) rolls it and
 * claims no release. The tool knows it from the adapter's preload-app hazard (the command line or
 * the config file) or from a worker of the same master that reported PRELOAD=1 in an earlier run.
 */
import { UsageError } from '../errors.js'
import type { Hazard, Target } from '../servers/types.js'
import type { GroupState } from '../state/state-file.js'
import type { RestartPlan } from './flags.js'

/** What the state file keeps of a PRELOAD=1 report (extra.preload): valid while the same master runs. */
export interface PreloadRecord {
  reportedBy: number
  masterPid: number
  masterStartTicks: number
  at: string
}

export function recordPreload(s: GroupState, r: PreloadRecord): void {
  s.extra.preload = r
}

/** A PRELOAD=1 report by a worker of this very master (pid and start tick), from an earlier run. */
export function preloadReported(prior: GroupState | null, target: Target): PreloadRecord | null {
  const r = prior?.extra.preload as Partial<PreloadRecord> | undefined
  if (!r || r.masterPid !== target.masterPid || r.masterStartTicks !== target.masterStartTicks) return null
  return r as PreloadRecord
}

/** How the tool knows this master preloads, in words; null when it does not know it. */
export function preloadKnown(hazards: readonly Hazard[], prior: GroupState | null, target: Target): string | null {
  const hazard = hazards.find((h) => h.id === 'preload-app' && h.severity === 'error')
  if (hazard) return hazard.message
  const reported = preloadReported(prior, target)
  return reported ? `worker ${reported.reportedBy} of ${target.description} reported PRELOAD=1 at ${reported.at}: the master preloads the app (preload_app)` : null
}

/** Refuse a plain restart of a master known to preload: it would claim new code that no worker runs. */
export function refusePreloadedRestart(plan: Pick<RestartPlan, 'recycle'>, hazards: readonly Hazard[], prior: GroupState | null, target: Target): void {
  if (plan.recycle) return
  const known = preloadKnown(hazards, prior, target)
  if (known === null) return
  throw new UsageError(
    `${known}. A restart of its workers brings no new code, so nothing was touched. ` +
      'For memory recycling (code unchanged), pass --recycle; for new code, restart the master (Gunicorn: USR2, then QUIT to the old master) or set preload_app = False and restart it once',
    'preloaded-master',
  )
}

/**
 * Why a --recycle of a master known to preload needs no preflight, or null: its new workers fork
 * the code the master already runs and load nothing from disk, so there is nothing to check (and,
 * when the title hides the master's config, nothing to say what the preflight would load).
 */
export function recycleSkipsPreflight(plan: Pick<RestartPlan, 'recycle'>, hazards: readonly Hazard[], prior: GroupState | null, target: Target): string | null {
  if (!plan.recycle) return null
  const known = preloadKnown(hazards, prior, target)
  return known === null ? null : `preflight not needed: ${known}, so the recycled workers load no code from disk (--recycle)`
}
