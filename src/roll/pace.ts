/**
 * How often a wait looks again. While a transition is due (a signalled worker's exit, the master's
 * fork after TTIN) it looks within milliseconds at first and backs off, so a fast transition is
 * noticed at once and a long drain costs a few looks a second. A wait for a datagram needs no
 * pace: the datagram wakes it (listener.ts).
 */

/** The first pause of a wait for a transition. */
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
