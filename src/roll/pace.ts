/**
 * How often a wait that the next step depends on looks again: surge's wait for the worker the
 * master retires on TTOU. It looks within milliseconds at first and backs off, so a fast exit is
 * noticed at once and a long drain costs a few looks a second.
 *
 * The other waits poll at the run's poll interval: a replace step's wait for its old worker's exit
 * is not what the next signal waits for (the replacement's READY is, and a datagram wakes every
 * wait), and a faster pace there only cost CPU: rolling 16 Gunicorn workers that boot in 0.3 s
 * (2 CPUs) it took the tool's CPU from about 0.55 s to 0.75 s and gained no time.
 */
import type { MinReady } from '../config.js'

/**
 * The pause of a replace step's wait once its replacement is known and booting: what the next
 * signal waits for then is that worker's READY, and its datagram wakes the wait at once. A look
 * this often still notices a boot that dies, the master's exit, and an accepted worker gone.
 * Looking every poll interval instead cost a 64-worker roll about a quarter of its CPU and gained
 * nothing.
 */
const BOOTING_MS = 250

/**
 * That pause for a run: never shorter than its poll interval, and short enough that a release
 * dying within its --min-ready window is still seen within it (a quarter of the release's window).
 * A replacement dying later is still seen before the run ends: the end's own wait looks every
 * poll interval.
 */
export function bootingPause(opts: { pollIntervalMs: number; minReady: MinReady }): number {
  return Math.max(opts.pollIntervalMs, Math.min(BOOTING_MS, Math.floor(opts.minReady.releaseMs / 4)))
}

/** The first pause of a fast wait. */
export const FAST_MS = 2
/** Each pause is this much longer than the one before, up to the run's poll interval. */
const GROWTH = 1.5

/** Successive pauses: FAST_MS, then GROWTH times longer each time, never above `maxMs`. */
export function backoff(maxMs: number): () => number {
  let next = Math.min(FAST_MS, maxMs)
  return () => {
    const now = next
    next = Math.min(maxMs, next * GROWTH)
    return Math.round(now)
  }
}
