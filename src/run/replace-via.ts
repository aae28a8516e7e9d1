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
  const why = adapter.whyNotThroughMaster?.(target) ?? null
  return why === null ? { via: 'master', why: null } : { via: 'worker', why }
}
