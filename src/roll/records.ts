/**
 * One record per step, and pure queries over them, so the policy reads like prose and tests need
 * no processes. A run's records are all it knows: the workers at its start, its steps, and the new
 * workers it has seen booting before any step claimed them.
 */
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
  }
}

/** A new worker of the group that no step has claimed yet: booting until a step claims it or it dies. */
export interface SpawnRecord {
  pid: number
  /** with the pid, its identity (pids get reused) */
  startTicks: number
  state: 'booting' | 'claimed' | 'died'
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
  /** the first failure: once set, no further step starts */
  aborted: Aborted | null
  /** surge: workers above the configured count this run added (TTIN) and did not take back (TTOU) */
  surplus: number
}

export function newRecords(oldPids: readonly number[], selected: readonly number[]): RollRecords {
  return { oldPids, steps: selected.map((pid, i) => newStep(i + 1, pid)), spawned: [], ignored: [], aborted: null, surplus: 0 }
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
export const stopped = (r: RollRecords) => r.steps.flatMap((s) => (s.stoppedPid === null ? [] : [s.stoppedPid]))

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
/** Workers of the group now that the records know nothing of: new ones, to watch while they boot. */
export function unseen<W extends { pid: number }>(r: RollRecords, workers: readonly W[]): W[] {
  return workers.filter((w) => !isOldWorker(r, w.pid) && !isClaimed(r, w.pid) && !isBooting(r, w.pid))
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

/** Time from the step's start (signal, or TTIN) to its replacement's readiness. */
export function readyMs(s: StepRecord): number | null {
  return s.readyAt !== null && s.startedAt !== null ? s.readyAt - s.startedAt : null
}
