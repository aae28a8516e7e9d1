/**
 * The roll's policy as pure queries over its records: which step may start, when the walk is done,
 * whether a datagram comes from a replacement we may claim, and what its readiness says. No I/O:
 * what the process table shows is passed in, as is the release check.
 */
import type { MinReady } from '../config.js'
import { isReady, type BareStatus, type Readiness } from '../readiness/protocol.js'
import type { ExitEvidence } from '../servers/shared/master-log.js'
import { awaitingReady, isClaimed, isOldWorker, running, spawnOf, unsettled, unstarted, type RollRecords, type StepRecord } from './records.js'
import type { AbortReason } from './types.js'

/** --wait-min-ready: the clock and the windows that hold the next step back. */
export interface SettleGate {
  now: number
  minReady: MinReady
}

/**
 * The next step to start: none after a failure, none while `batch` are in flight, none (with a
 * gate, --wait-min-ready) while an accepted replacement is still inside its --min-ready window,
 * else the first not begun.
 */
export function nextStep(r: RollRecords, batch: number, gate?: SettleGate): StepRecord | null {
  if (r.aborted !== null) return null
  if (running(r.steps).length >= batch) return null
  if (gate && unsettled(r, gate.now, gate.minReady).length > 0) return null
  return unstarted(r.steps)[0] ?? null
}

/**
 * Failures that end the whole run at once, steps in flight included: the user stopped it, a
 * replacement proved the release dies after READY, or the master replaced its workers on its own.
 */
export function stopsInFlight(reason: AbortReason): boolean {
  return reason === 'interrupted' || reason === 'died-after-ready' || reason === 'master-reloaded'
}

/** Reasons that leave the group as it was, not in error-resistance mode: the release is not at fault. */
export function entersErrorResistance(reason: string | undefined): boolean {
  return reason !== 'interrupted' && reason !== 'master-reloaded'
}

/**
 * Why `live` workers now mean the master started a new set on its own (Gunicorn's HUP forks N new
 * workers before it stops the old ones): more than it keeps, plus the ones this run's surge asked
 * for, and the ones it was told to stop (TTOU) and has not reaped. `live` leaves out the old
 * workers already known retired. null when the count is as it should be. The first look sets what
 * it keeps.
 */
export function reloadedByCount(r: RollRecords, live: number): string | null {
  if (!r.looked) {
    r.looked = true
    r.baseline = Math.max(r.baseline, live)
  }
  // a worker the master was told to stop on TTOU is still listed until it has exited and been reaped
  const allowed = r.baseline + Math.max(0, r.surplus) + Math.max(0, r.retiring)
  if (live <= allowed) return null
  return `it runs ${live} workers, more than the ${r.baseline} it keeps${r.surplus > 0 ? ` plus ${r.surplus} this run asked for` : ''}: it started a new set of workers on its own`
}

/**
 * An accepted replacement is gone. Recycled: the server's log says it ended on purpose (its
 * max-requests), and the master respawns it. Anything else, a crash or no word at all, is the
 * release dying after READY: null, the run stops.
 */
export function recycledAfterReady(evidence: ExitEvidence | null): boolean {
  return evidence?.kind === 'recycled'
}

/** `new worker 5160 of M sent READY and died 0.31 s later (Gunicorn's log: terminated by signal 9)`, and what that means. */
export function diedAfterReadyMessage(pid: number, description: string, later: string, evidence: ExitEvidence | null, server: string): string {
  return (
    `new worker ${pid} of ${description} sent READY and died ${later} later${how(evidence, server)}: the new release does not stay up. ` +
    'No further worker was signalled'
  )
}

/** The same message once the server's log has said how the worker died (a master logs the exit when it reaps, just after /proc shows it gone). */
export function withExitEvidence(message: string, evidence: ExitEvidence, server: string): string {
  return message.includes("'s log: ") ? message : message.replace(/ later: /, ` later${how(evidence, server)}: `)
}

const how = (evidence: ExitEvidence | null, server: string) => (evidence ? ` (${server}'s log: ${evidence.detail})` : '')

/** The walk is over when nothing runs and nothing more may start. */
export function walkDone(r: RollRecords, batch: number): boolean {
  return running(r.steps).length === 0 && nextStep(r, batch) === null
}

/**
 * The old worker of the step the walk starts as soon as `step` (about to end on its READY) does:
 * the first not begun, unless the run is stopped, or --wait-min-ready holds it back for the
 * window. null: none starts at once. The state file records it as in flight with the READY.
 */
export function startsNext(r: RollRecords, step: StepRecord, waitMinReady: boolean): number | null {
  if (r.aborted !== null || waitMinReady) return null
  return unstarted(r.steps).find((s) => s !== step)?.oldPid ?? null
}

/** What the run knows, besides its records, when it judges a datagram. */
export interface ArrivalContext {
  acceptBareOk: boolean
  /** the group's worker pids now: the master's children that belong to this group */
  live: ReadonlySet<number>
  /** whether a pid that is not one of them runs at all (asked only to word the reason) */
  isRunning: (pid: number) => boolean
  /** the server's check of a datagram's GROUP field, when it has one (advisory: a mismatch is only warned of) */
  groupMatches?: ((r: Readiness) => boolean) | undefined
  target: { description: string; group: string; masterPid: number }
}

/**
 * null: a replacement's readiness, ours to claim; otherwise why it is not. A full datagram must come
 * from a live worker of the group that is neither one of the workers being replaced nor a replacement
 * already claimed, and its PPID, when it has one, must be the master (and /proc must agree: the pid
 * is among the master's workers now). GROUP is not checked here: a verified child of the master is
 * ours whatever its GROUP text says (see groupMismatch). A bare status line carries no pid: it is
 * ours only when exactly one step awaits.
 */
export function whyNotOurs(v: Readiness | BareStatus, r: RollRecords, ctx: ArrivalContext): string | null {
  if (v.kind === 'bare') {
    if (!ctx.acceptBareOk) return 'bare status line without --accept-bare-ok'
    if (awaitingReady(r.steps).length !== 1) return 'bare status line while more than one replacement is awaited: it cannot be attributed'
    return null
  }
  if (isOldWorker(r, v.pid)) return `pid ${v.pid} is one of the workers being replaced, not a new one`
  if (isClaimed(r, v.pid)) return `pid ${v.pid} was already accepted`
  if (v.ppid !== null && v.ppid !== ctx.target.masterPid) return `pid ${v.pid} PPID=${v.ppid} is not the master ${ctx.target.masterPid}`
  if (!ctx.live.has(v.pid)) {
    return ctx.isRunning(v.pid)
      ? `pid ${v.pid} is not a worker of ${ctx.target.description} (another group sharing the port?)`
      : `pid ${v.pid} is not running (any more)`
  }
  return null
}

/**
 * Whether a datagram that is not ours only because its sender is gone came from one of this run's
 * new workers, which sent it before it died: the round that would have claimed it came after the
 * death (a busy machine), and the worker did report. Pure.
 */
export function sentBeforeItDied(v: Readiness | BareStatus, r: RollRecords, ctx: ArrivalContext): boolean {
  if (v.kind === 'bare' || ctx.live.has(v.pid) || spawnOf(r, v.pid) === null) return false
  return whyNotOurs(v, r, { ...ctx, live: new Set([...ctx.live, v.pid]) }) === null
}

/**
 * A claimed datagram whose GROUP the server would not give this group: worth a warning, not a
 * rejection. The sender is a verified child of the master, and GROUP is free text (a uWSGI
 * procname-master such as `uWSGI master app:blue` is not the name the tool gives the group).
 */
export function groupMismatch(v: Readiness | BareStatus, ctx: ArrivalContext): string | null {
  if (v.kind === 'bare' || v.group === null || !ctx.groupMatches || ctx.groupMatches(v)) return null
  return `GROUP=${v.group} is not ${ctx.target.group}`
}

/** What a timed-out step says: the datagrams it ignored and why, when there were any; else the server's likely cause. */
export function readyTimeoutMessage(timeout: string, ignored: readonly string[], hint: () => string): string {
  const head = `no READY within ${timeout} (--ready-timeout)`
  if (ignored.length === 0) return `${head}: ${hint()}`
  const distinct = [...new Set(ignored)]
  const shown = distinct.slice(0, IGNORED_SHOWN)
  const more = distinct.length > shown.length ? `; and ${distinct.length - shown.length} more (see the datagram-ignored events in the log)` : ''
  return `${head}; ignored during this step: ${shown.join('; ')}${more}`
}

/** How many distinct ignored datagrams a timeout message lists. */
const IGNORED_SHOWN = 5

/** null: keep it queued; otherwise why it can never be ours. Bare lines wait (with --accept-bare-ok): they may become attributable. */
export function whyDrop(v: Readiness | BareStatus, r: RollRecords, ctx: ArrivalContext): string | null {
  if (v.kind === 'bare' && ctx.acceptBareOk) return null
  return whyNotOurs(v, r, ctx)
}

export type Verdict =
  | { verdict: 'ready' }
  /** --recycle: PRELOAD=1 accepted; it runs the master's code, unchanged, and no release is claimed for it */
  | { verdict: 'recycled' }
  /** READY=0, or a status line that is not 2xx */
  | { verdict: 'not-ready'; status: string | null }
  /** PRELOAD=1 (without --recycle): it runs the code its master imported, whatever is on disk */
  | { verdict: 'preloaded'; release: string | null }
  | { verdict: 'wrong-release'; why: string }

/**
 * What a claimed readiness says. PRELOAD=1 fails the step (a restart of a preloading master brings
 * no new code), unless --recycle asked for exactly that. The release is checked only on full
 * datagrams, and only when a check is given.
 */
export function verdictOn(v: Readiness | BareStatus, checkRelease?: ((r: Readiness) => string | null) | undefined, recycle = false): Verdict {
  if (!isReady(v)) return { verdict: 'not-ready', status: v.status }
  if (v.kind === 'bare') return { verdict: 'ready' }
  if (v.preload) return recycle ? { verdict: 'recycled' } : { verdict: 'preloaded', release: v.release }
  if (!checkRelease) return { verdict: 'ready' }
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
    case 'recycled':
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
          `imported when it started, whatever RELEASE=${verdict.release ?? '(none)'} on disk says. A restart of its workers brings no new code: ` +
          `pass --recycle to recycle them anyway (memory; code unchanged), or restart the master for new code. Likely cause: ${hint()}`,
      }
    case 'wrong-release':
      return { reason: 'wrong-release', message: `new worker ${newPid} ${verdict.why}. Likely cause: ${hint()}` }
  }
}
