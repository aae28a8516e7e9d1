/**
 * The roll's policy as pure queries over its records: which step may start, when the walk is done,
 * whether a datagram comes from a replacement we may claim, and what its readiness says. No I/O:
 * what the process table shows is passed in, as is the release check.
 */
import { isReady, type BareStatus, type Readiness } from '../readiness/protocol.js'
import { awaitingReady, isClaimed, isOldWorker, running, unstarted, type RollRecords, type StepRecord } from './records.js'
import type { AbortReason } from './types.js'

/** The next step to start: none after a failure, none while `batch` are in flight, else the first not begun. */
export function nextStep(r: RollRecords, batch: number): StepRecord | null {
  if (r.aborted !== null) return null
  if (running(r.steps).length >= batch) return null
  return unstarted(r.steps)[0] ?? null
}

/** The walk is over when nothing runs and nothing more may start. */
export function walkDone(r: RollRecords, batch: number): boolean {
  return running(r.steps).length === 0 && nextStep(r, batch) === null
}

/** What the run knows, besides its records, when it judges a datagram. */
export interface ArrivalContext {
  acceptBareOk: boolean
  /** the group's worker pids now: the master's children that belong to this group */
  live: ReadonlySet<number>
  /** whether a pid that is not one of them runs at all (asked only to word the reason) */
  isRunning: (pid: number) => boolean
  /** the server's check of a datagram's GROUP field, when it has one */
  groupMatches?: ((r: Readiness) => boolean) | undefined
  target: { description: string; group: string }
}

/**
 * null: a replacement's readiness, ours to claim; otherwise why it is not. A full datagram must come
 * from a live worker of the group that is neither one of the workers being replaced nor a replacement
 * already claimed. A bare status line carries no pid: it is ours only when exactly one step awaits.
 */
export function whyNotOurs(v: Readiness | BareStatus, r: RollRecords, ctx: ArrivalContext): string | null {
  if (v.kind === 'bare') {
    if (!ctx.acceptBareOk) return 'bare status line without --accept-bare-ok'
    if (awaitingReady(r.steps).length !== 1) return 'bare status line while more than one replacement is awaited: it cannot be attributed'
    return null
  }
  if (isOldWorker(r, v.pid)) return `pid ${v.pid} is one of the workers being replaced, not a new one`
  if (isClaimed(r, v.pid)) return `pid ${v.pid} was already accepted`
  if (!ctx.live.has(v.pid)) {
    return ctx.isRunning(v.pid)
      ? `pid ${v.pid} is not a worker of ${ctx.target.description} (another group sharing the port?)`
      : `pid ${v.pid} is not running (any more)`
  }
  if (v.group !== null && ctx.groupMatches && !ctx.groupMatches(v)) return `GROUP=${v.group} is not ${ctx.target.group}`
  return null
}

/** null: keep it queued; otherwise why it can never be ours. Bare lines wait (with --accept-bare-ok): they may become attributable. */
export function whyDrop(v: Readiness | BareStatus, r: RollRecords, ctx: ArrivalContext): string | null {
  if (v.kind === 'bare' && ctx.acceptBareOk) return null
  return whyNotOurs(v, r, ctx)
}

export type Verdict =
  | { verdict: 'ready' }
  /** READY=0, or a status line that is not 2xx */
  | { verdict: 'not-ready'; status: string | null }
  /** PRELOAD=1 while a release is expected: it runs the code its master imported, whatever is on disk */
  | { verdict: 'preloaded'; release: string | null }
  | { verdict: 'wrong-release'; why: string }

/** What a claimed readiness says. The release is checked only on full datagrams, and only when a check is given. */
export function verdictOn(v: Readiness | BareStatus, checkRelease?: ((r: Readiness) => string | null) | undefined): Verdict {
  if (!isReady(v)) return { verdict: 'not-ready', status: v.status }
  if (v.kind === 'bare' || !checkRelease) return { verdict: 'ready' }
  if (v.preload) return { verdict: 'preloaded', release: v.release }
  const why = checkRelease(v)
  return why ? { verdict: 'wrong-release', why } : { verdict: 'ready' }
}

export interface Refusal {
  reason: AbortReason
  message: string
}

/** Why a verdict ends the step, in words; null for a ready one. `hint`: the server's likely cause of old code, asked only when needed. */
export function refusal(
  verdict: Verdict,
  newPid: number | null,
  description: string,
  hint: () => string,
): Refusal | null {
  switch (verdict.verdict) {
    case 'ready':
      return null
    case 'not-ready':
      return {
        reason: 'not-ready',
        message:
          `new worker ${newPid ?? '(unknown pid)'} of ${description} reported READY=0: its status probe said ${JSON.stringify(verdict.status ?? 'nothing')}. ` +
          // the hook names the probe setting when the probe's own request (Host, path) is the likely cause
          (/ROLLING_RESTART_STATUS_(HOST|PATH)/.test(verdict.status ?? '')
            ? 'The probe itself may be what failed, as that says; the remaining old workers keep serving'
            : 'The new release is not healthy; the remaining old workers keep serving'),
      }
    case 'preloaded':
      return {
        reason: 'wrong-release',
        message:
          `new worker ${newPid} reported PRELOAD=1: it was forked from a master that preloaded the app (preload_app), so it runs the code the master ` +
          `imported when it started, whatever RELEASE=${verdict.release ?? '(none)'} on disk says. Likely cause: ${hint()}`,
      }
    case 'wrong-release':
      return { reason: 'wrong-release', message: `new worker ${newPid} ${verdict.why}. Likely cause: ${hint()}` }
  }
}
