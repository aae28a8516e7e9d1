/**
 * What the HAProxy drain says as it goes, one event per transition, in the shape of the roll's own
 * events (`{event, ...fields}`), so the same logger and JSON report can take them.
 */
import type { AdminState } from './servers-state.js'

export type HaproxyEvent =
  /** the server was set to drain; `scur` sessions were still on it */
  | { event: 'haproxy-drain'; server: string; before: AdminState; scur: number }
  /** its current sessions reached zero */
  | { event: 'haproxy-drained'; server: string; ms: number }
  /** the drain timeout passed with sessions still on it; the roll goes ahead */
  | { event: 'haproxy-drain-timeout'; server: string; ms: number; scur: number }
  /** set back to ready after a successful roll */
  | { event: 'haproxy-ready'; server: string }
  /** a failure left it drained on purpose */
  | { event: 'haproxy-left-drained'; server: string; why: string }

export type HaproxyEmit = (e: HaproxyEvent) => void
