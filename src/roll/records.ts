/**
 * One record per step, and pure queries over them, so the policy reads like prose and tests need
 * no processes. A run's records are all it knows: the workers at its start, its steps, and the new
 * workers it has seen booting before any step claimed them.
 */
import type { MinReady } from '../config.js'
import type { Aborted } from './types.js'

export type StepState = 'pending' | 'signaled' | 'exited' | 'awaiting-ready' | 'ready' | 'failed' | 'skipped'

export interface StepRecord {
  index: number
  /** the old worker this step replaces (surge: the one the master is expected to retire) */
  oldPid: number | null
  state: StepState
  newPid: number | null
  startedAt: number | null
  signaledAt: number | null
  exitedAt: number | null
  readyAt: number | null
  status: string | null
  release: string | null
  bootMs: number | null
  failure: string | null
  /** the old worker this step stopped: the one it signalled (replace), or the one the master retired on TTOU (surge) */
  stoppedPid: number | null
  /** when this step claimed its replacement's datagram, whatever that said; `readyAt` is set only when it was ready */
  claimedAt: number | null
  /** the hook version its replacement's datagram carried (HOOK); null: none; absent: not claimed, or a bare datagram */
  hookVersion?: string | null
  /** the boot-relative clock tick read just before this step's signal (replace: to the old worker; surge: TTIN) */
  signalTick: number | null
  /** with newPid, the accepted replacement's identity (its /proc start tick): watched until the run ends */
  newStartTicks: number | null
  /**
   * replace: the old worker had exited on its own (max-requests, a crash) before this step signalled
   * it, so nothing was signalled; the master's respawn of it (or of its respawn...) is this step's replacement
   */
  adopted: boolean
  /** the accepted replacement ended on purpose afterwards (the server's log says: max-requests), when it did */
  recycledAt: number | null
  /** the replacement reported PRELOAD=1, so it runs the master's code (with --recycle it is accepted, with no release recorded) */
  preload: boolean
}

export function newStep(index: number, oldPid: number | null): StepRecord {
  return {
    index,
    oldPid,
    state: 'pending',
    newPid: null,
    startedAt: null,
    signaledAt: null,
    exitedAt: null,
    readyAt: null,
    status: null,
    release: null,
    bootMs: null,
    failure: null,
    stoppedPid: null,
    claimedAt: null,
    signalTick: null,
    newStartTicks: null,
    adopted: false,
    recycledAt: null,
    preload: false,
  }
}

/**
 * What made the master start a new worker: one of our steps' signals, or the exit of a worker this
 * run did not stop (max-requests recycling, a crash), whose respawn it is.
 */
export type SpawnCause = { kind: 'step'; step: number } | { kind: 'exit'; pid: number }

/**
 * A new worker of the group, seen by this run: booting until a step claims it, it is heard from
 * (a datagram this run did not take), or it dies.
 */
export interface SpawnRecord {
  pid: number
  /** with the pid, its identity (pids get reused); also when it was forked, in boot-relative ticks */
  startTicks: number
  state: 'booting' | 'claimed' | 'heard' | 'died'
  /** null until credited; a spawn no cause explains yet is credited to none */
  cause: SpawnCause | null
  /** when a datagram from it arrived, if one did, and whether it said READY=1 */
  heardAt: number | null
  heardReady: boolean
}

/** A worker gone that this run did not stop: the master owes it a respawn, which is not any step's replacement. */
export interface ExitRecord {
  pid: number
  /** the tick at which this run noticed it gone */
  tick: number
  /** the spawn credited as its respawn, once one is */
  paidBy: number | null
}

/** A datagram the run did not take, and why: what a step that times out reports. */
export interface IgnoredDatagram {
  /** ms since the epoch when it was judged */
  at: number
  pid: number | null
  why: string
}

export interface RollRecords {
  /** every worker at the start */
  readonly oldPids: readonly number[]
  /** one per selected worker, oldest first */
  readonly steps: StepRecord[]
  /** new workers seen alive before their readiness, in the order seen */
  readonly spawned: SpawnRecord[]
  /** datagrams dropped as not ours, in the order judged */
  readonly ignored: IgnoredDatagram[]
  /** workers gone that this run did not stop, in the order noticed */
  readonly exits: ExitRecord[]
  /** the group's workers at the last look at the process table */
  present: readonly number[]
  /** surge: TTOUs sent whose retired worker has not been accounted for yet */
  retiring: number
  /** old workers the master retired on our TTOU */
  readonly retired: number[]
  /** how many workers the master keeps: the workers at the start, or at the run's first look if more (one was starting) */
  baseline: number
  looked: boolean
  /** the first failure: once set, no further step starts */
  aborted: Aborted | null
  /** surge: workers above the configured count this run added (TTIN) and did not take back (TTOU) */
  surplus: number
}

export function newRecords(oldPids: readonly number[], selected: readonly number[]): RollRecords {
  return {
    oldPids,
    steps: selected.map((pid, i) => newStep(i + 1, pid)),
    spawned: [],
    ignored: [],
    exits: [],
    present: oldPids,
    retiring: 0,
    retired: [],
    baseline: oldPids.length,
    looked: false,
    aborted: null,
    surplus: 0,
  }
}

export const pending = (steps: readonly StepRecord[]) => steps.filter((s) => s.state === 'pending')
export const inFlight = (steps: readonly StepRecord[]) =>
  steps.filter((s) => s.state === 'signaled' || s.state === 'exited' || s.state === 'awaiting-ready')
export const done = (steps: readonly StepRecord[]) => steps.filter((s) => s.state === 'ready')
export const failed = (steps: readonly StepRecord[]) => steps.filter((s) => s.state === 'failed')

/** Steps not begun yet, in order. */
export const unstarted = (steps: readonly StepRecord[]) => steps.filter((s) => s.startedAt === null)
/** Steps begun and not finished (including one still waiting for its turn at the master). */
export const running = (steps: readonly StepRecord[]) =>
  steps.filter((s) => s.startedAt !== null && s.state !== 'ready' && s.state !== 'failed')
export const awaitingReady = (steps: readonly StepRecord[]) => inFlight(steps).filter((s) => s.state === 'awaiting-ready')

export const isOldWorker = (r: RollRecords, pid: number) => r.oldPids.includes(pid)
/** A new worker some step has claimed as its replacement (whether or not it was ready). */
export const isClaimed = (r: RollRecords, pid: number) => r.steps.some((s) => s.claimedAt !== null && s.newPid === pid)
/** Old workers this run stopped, directly or through the master. */
export const stopped = (r: RollRecords) => [...r.steps.flatMap((s) => (s.stoppedPid === null ? [] : [s.stoppedPid])), ...r.retired]
export const spawnOf = (r: RollRecords, pid: number) => r.spawned.find((s) => s.pid === pid) ?? null

export const booting = (r: RollRecords) => r.spawned.filter((s) => s.state === 'booting')
export const isBooting = (r: RollRecords, pid: number) => booting(r).some((s) => s.pid === pid)
/** The one booting worker, when there is exactly one: the only possible sender of a bare status line. */
export function soleBooting(r: RollRecords): number | null {
  const b = booting(r)
  return b.length === 1 ? (b[0] as SpawnRecord).pid : null
}
/** The booting worker seen last: the likeliest replacement of a step that timed out. */
export function newestBooting(r: RollRecords): number | null {
  const b = booting(r)
  return b.length ? (b[b.length - 1] as SpawnRecord).pid : null
}
/** Steps whose replacement was accepted (READY) and is watched: not recycled by the server since. */
export const accepted = (r: RollRecords) => r.steps.filter((s) => s.state === 'ready' && s.newPid !== null && s.recycledAt === null)

/**
 * Accepted replacements that still owe time at `now` before the run may end: each its `eachMs`
 * after its READY, and the one up longest (the earliest READY still watched) the `releaseMs` the
 * release must be seen to stay up. Each comes with the moment it will have been up long enough.
 */
export function unsettled(r: RollRecords, now: number, w: MinReady): Array<{ step: StepRecord; at: number }> {
  const up = accepted(r).filter((s) => s.readyAt !== null)
  const longest = up.reduce<StepRecord | null>((a, s) => (a === null || (s.readyAt as number) < (a.readyAt as number) ? s : a), null)
  return up
    .map((s) => ({ step: s, at: (s.readyAt as number) + (s === longest ? Math.max(w.releaseMs, w.eachMs) : w.eachMs) }))
    .filter((u) => u.at > now)
}

/**
 * Whether a worker's exit is judged by the watch rather than owed a respawn: an accepted
 * replacement, a new worker still booting, or a step's replacement that sent its datagram and has
 * not been taken yet.
 */
export function isWatched(r: RollRecords, pid: number): boolean {
  if (accepted(r).some((s) => s.newPid === pid)) return true
  const sp = r.spawned.find((s) => s.pid === pid)
  return sp !== undefined && (sp.state === 'booting' || (sp.state === 'heard' && sp.cause?.kind === 'step'))
}

/** Why each datagram judged since `at` was not taken. */
export const ignoredSince = (r: RollRecords, at: number): string[] => r.ignored.filter((i) => i.at >= at).map((i) => i.why)

/** `2 / 4 ready, 1 in flight, 1 pending` */
export function progress(steps: readonly StepRecord[]): string {
  const parts = [`${done(steps).length} / ${steps.length} ready`]
  const f = inFlight(steps).length
  const p = pending(steps).length
  if (f) parts.push(`${f} in flight`)
  if (p) parts.push(`${p} pending`)
  const x = failed(steps).length
  if (x) parts.push(`${x} failed`)
  return parts.join(', ')
}

/**
 * The master retired `retired` for `step` (TTOU stops its oldest worker): that is the step's old
 * worker from now on. When it was another step's to replace, and that step has not signalled yet,
 * the two swap: the other step now replaces the worker this one was meant for.
 */
export function takeOver(r: RollRecords, step: StepRecord, retired: number): void {
  const planned = step.oldPid
  step.oldPid = retired
  if (planned === null || planned === retired) return
  const other = r.steps.find((s) => s !== step && s.oldPid === retired && s.state === 'pending' && s.signalTick === null && !s.adopted)
  if (other) other.oldPid = planned
}

/** Time from the step's start (signal, or TTIN) to its replacement's readiness. */
export function readyMs(s: StepRecord): number | null {
  return s.readyAt !== null && s.startedAt !== null ? s.readyAt - s.startedAt : null
}
