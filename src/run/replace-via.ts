/**
 * How a replace run stops each old worker: through the master (TTIN, then TTOU, so the old
 * worker's exit overlaps its replacement's boot) or with a signal to each one, and why not through
 * the master when it could be. Asked by the run (roll-tracked.ts) and its dry run alike.
 */
import type { WorkerView } from '../roll/plan.js'
import { replacesThroughMaster } from '../roll/plan.js'
import type { ServerAdapter, Target } from '../servers/types.js'

export interface ReplaceVia {
  via: 'master' | 'worker'
  /** why a master that can retire its oldest worker is not asked to: null when it is, or cannot be */
  why: string | null
}

export function replaceVia(strategy: string, adapter: ServerAdapter, target: Target, all: readonly WorkerView[], selected: readonly WorkerView[]): ReplaceVia {
  if (strategy === 'surge') return { via: 'master', why: null }
  if (!replacesThroughMaster(strategy, adapter.canSurge, all, selected)) return { via: 'worker', why: null }
  const why = adapter.whyNotThroughMaster?.(target, selected) ?? null
  return why === null ? { via: 'master', why: null } : { via: 'worker', why }
}

/**
 * Why a surge of these workers is refused, or null. A surge can only retire through the master
 * (TTOU), whose repeated TERM would cut the keep-alive drain of a worker whose hook stops at once
 * on it; a replace signals such workers once each. Workers fork with the hook their master loaded,
 * so only a restart of the master gives them one that keeps draining. Asked before any worker is
 * touched, by the run and its dry run.
 */
export function whySurgeRefused(strategy: string, adapter: ServerAdapter, target: Target, selected: readonly WorkerView[]): string | null {
  if (strategy !== 'surge' || selected.length === 0) return null
  const why = adapter.whyNotThroughMaster?.(target, selected) ?? null
  if (why === null) return null
  return (
    `--strategy surge lets the master retire each old worker (TTOU) and the master repeats that TERM until the worker is gone: ${why}. ` +
    "Nothing was touched. Workers fork with the hook their master loaded: install this version's hook where the master imports it and restart the master once, then surge. " +
    'Until then use --strategy replace, which gives each worker its own TERM'
  )
}
