/**
 * Whether a replace may go through this master (TTIN, then TTOU), or why each worker gets its own
 * TERM instead. Gunicorn (20.1 and 26) repeats its TERM to a worker it retires on TTOU at every
 * turn of its loop (manage_workers stops the oldest worker it lists, until it is reaped), and the
 * hook's keep-alive drain (gthread with keep-alive on, and the Uvicorn worker) takes a second TERM
 * as "stop now", which resets the connections it is draining. Seen against a real 20.1: a gthread
 * roll through the master under keep-alive load reset 5 connections; one TERM each resets none.
 */
import type { Target } from '../types.js'
import type { GunicornSettings } from './settings.js'
import { settingsOf } from './settings-of.js'
import { workerKind } from './stack-hazards.js'

export function whyNotThroughMaster(target: Target): string | null {
  const settings = settingsOf(target)
  return settings ? drainsOnTerm(settings) : 'its settings cannot be read'
}

/** Why these workers drain on TERM (so the master's repeated TERM would cut the drain), or null. Pure. */
export function drainsOnTerm(settings: Pick<GunicornSettings, 'workerClass' | 'threads' | 'keepalive'>): string | null {
  const workerClass = settings.workerClass.value
  if (workerClass === null) return 'its worker class cannot be seen, and a draining worker must be signalled once'
  if (workerKind(workerClass) === 'asgi') return `its ${workerClass} workers drain keep-alive connections on TERM, which the master would repeat`
  const threads = settings.threads.value
  // sync with more than one thread is gthread (Gunicorn switches to it)
  const gthread = /gthread/i.test(workerClass) || (/sync/i.test(workerClass) && (threads === null || threads > 1))
  if (!gthread) return null
  const keepalive = settings.keepalive.value
  if (keepalive === null) return 'its gthread workers may keep connections alive (keepalive cannot be seen), and drain them on TERM'
  return keepalive > 0 ? `its gthread workers drain keep-alive connections on TERM (keepalive = ${keepalive} s), which the master would repeat` : null
}
