/**
 * Whether the master may retire these workers (TTOU: a replace through the master, or a surge), or
 * why not. Gunicorn (20.1 and 26) repeats its TERM to a worker it retires on TTOU at every turn of
 * its loop (manage_workers stops the oldest worker it lists, until it is reaped). The hook's
 * keep-alive drain (gthread with keep-alive on, and the Uvicorn worker) keeps draining on that
 * repeated TERM, and says so in its loaded-files record (`termRepeat`); hooks before it took the
 * second TERM as "stop now" and reset the connections they were draining. Seen against a real 20.1:
 * a gthread roll through the master under keep-alive load reset 5 connections with such a hook.
 */
import { loadedRecordOf } from '../../proc/loaded-record.js'
import type { Hazard, Target } from '../types.js'
import type { GunicornSettings } from './settings.js'
import { workers } from './processes.js'
import { settingsOf } from './settings-of.js'
import { workerKind } from './stack-hazards.js'

/** What the hook's drain says when a repeated TERM leaves it draining (keepalive.py TERM_REPEAT). */
export const KEEPS_DRAINING = 'keeps-draining'

export function whyNotThroughMaster(target: Target, retiring: readonly { pid: number }[]): string | null {
  const settings = settingsOf(target)
  if (!settings) return 'its settings cannot be read'
  const drains = drainsOnTerm(settings)
  if (drains === null) return null
  return cutDrains(drains, unmarked(retiring))
}

/** Of these workers, the pids of those whose loaded-files record does not say they keep draining. */
function unmarked(of: readonly { pid: number }[]): number[] {
  return of.filter((w) => loadedRecordOf(w.pid)?.termRepeat !== KEEPS_DRAINING).map((w) => w.pid)
}

/** For doctor: running workers that drain and would stop at once on the master's repeated TERM. */
export function drainCutHazard(target: Target, settings: GunicornSettings): Hazard | null {
  const drains = drainsOnTerm(settings)
  if (drains === null) return null
  const why = cutDrains(drains, unmarked(workers(target)))
  if (why === null) return null
  return {
    id: 'drain-stops-on-repeated-term',
    severity: 'warning',
    message:
      `${target.description}: ${why}. So a replace gives each of them its own TERM (its teardown then comes before its replacement's boot), ` +
      'and --strategy surge is refused',
    fix: `install this version's hook where the master imports it and restart the master once: its workers fork with the hook the master loaded. Until then a replace gives each worker its own TERM`,
  }
}

/**
 * Why the master's repeated TERM would cut a drain: `drains` (why these workers drain on TERM)
 * and `unmarked`, the workers whose hook does not say that it keeps draining. Pure.
 */
export function cutDrains(drains: string, unmarked: readonly number[]): string | null {
  if (unmarked.length === 0) return null
  const which = unmarked.length === 1 ? `worker ${unmarked[0]} runs` : `workers ${unmarked.join(', ')} run`
  return (
    `${drains}, and ${which} a hook that stops at once on a repeated TERM ` +
    '(it was loaded before the hook learned to keep draining, or ROLLING_RESTART_LOADED_RECORD=off hides what it does)'
  )
}

/** Why these workers drain on TERM (so the master's repeated TERM reaches a drain), or null. Pure. */
export function drainsOnTerm(settings: Pick<GunicornSettings, 'workerClass' | 'threads' | 'keepalive'>): string | null {
  const workerClass = settings.workerClass.value
  if (workerClass === null) return 'its worker class cannot be seen, so its workers may drain on TERM'
  if (workerKind(workerClass) === 'asgi') return `its ${workerClass} workers drain keep-alive connections on TERM, which the master repeats`
  const threads = settings.threads.value
  // sync with more than one thread is gthread (Gunicorn switches to it)
  const gthread = /gthread/i.test(workerClass) || (/sync/i.test(workerClass) && (threads === null || threads > 1))
  if (!gthread) return null
  const keepalive = settings.keepalive.value
  if (keepalive === null) return 'its gthread workers may keep connections alive (keepalive cannot be seen), and drain them on TERM, which the master repeats'
  return keepalive > 0 ? `its gthread workers drain keep-alive connections on TERM (keepalive = ${keepalive} s), which the master repeats` : null
}
