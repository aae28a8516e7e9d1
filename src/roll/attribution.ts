/**
 * Attribution by causality, as pure updates and queries over the run's records: which step's signal
 * (or which exit of a worker this run did not stop) made the master start each new worker. Facts
 * come from /proc, never from a datagram: a worker's start tick, and the tick read just before each
 * step's signal. A new worker can only be a step's replacement when it was forked at or after that
 * step's signal; the respawn of a worker that exited on its own (max-requests, a crash) is no step's.
 */
import { ticksToSeconds } from '../proc/boot-clock.js'
import type { BareStatus, Readiness } from '../readiness/protocol.js'
import {
  isBooting,
  isClaimed,
  isOldWorker,
  spawnOf,
  stopped,
  type ExitRecord,
  type RollRecords,
  type SpawnCause,
  type SpawnRecord,
  type StepRecord,
} from './records.js'

/** A worker as the process table shows it. */
export interface Seen {
  pid: number
  startTicks: number
}

/** What one look at the process table changed in the records. */
export interface Noticed {
  spawned: SpawnRecord[]
  /** workers gone that this run did not stop (each owes a respawn) */
  gone: ExitRecord[]
  credited: Array<{ spawn: SpawnRecord; cause: SpawnCause }>
}

/**
 * Take in one look at the group's workers at `tick`: new workers are recorded, exits this run did
 * not cause are recorded as owed respawns, then new workers are credited to their causes.
 * `watched`: pids whose exits are judged elsewhere (accepted replacements, new workers booting).
 * `tick` may be given as the clock to read, read only when an exit is recorded.
 */
export function notice(r: RollRecords, workers: readonly Seen[], tick: number | (() => number), watched: (pid: number) => boolean): Noticed {
  const now = new Set(workers.map((w) => w.pid))
  const spawned: SpawnRecord[] = []
  for (const w of workers) {
    if (isOldWorker(r, w.pid) || spawnOf(r, w.pid)) continue
    const s: SpawnRecord = { pid: w.pid, startTicks: w.startTicks, state: 'booting', cause: null, heardAt: null, heardReady: false }
    r.spawned.push(s)
    spawned.push(s)
  }
  const gone: ExitRecord[] = []
  const ours = stopped(r)
  for (const pid of r.present) {
    if (now.has(pid) || ours.includes(pid) || watched(pid) || accountRetirement(r, pid)) continue
    const e: ExitRecord = { pid, tick: typeof tick === 'number' ? tick : (tick = tick()), paidBy: null }
    r.exits.push(e)
    gone.push(e)
  }
  r.present = [...now]
  return { spawned, gone, credited: creditSpawns(r) }
}

/**
 * Surge: an old worker gone while a TTOU awaits its retirement is that retirement (the master stops
 * its oldest). True when `pid` is, or already was, accounted for so.
 */
export function accountRetirement(r: RollRecords, pid: number): boolean {
  if (r.retired.includes(pid)) return true
  if (r.retiring <= 0 || !isOldWorker(r, pid)) return false
  r.retiring--
  r.retired.push(pid)
  return true
}

/** Steps that signalled and have no replacement credited yet, earliest signal first. */
function awaitingCredit(r: RollRecords): StepRecord[] {
  return r.steps
    .filter((s) => s.signalTick !== null && s.state !== 'ready' && s.state !== 'failed')
    .filter((s) => !r.spawned.some((sp) => sp.cause?.kind === 'step' && sp.cause.step === s.index))
    .sort((a, b) => (a.signalTick as number) - (b.signalTick as number))
}

/**
 * Credit each uncredited new worker, oldest first, to the earliest cause it can have: a step that
 * signalled no later than the worker started, or an exit this run did not cause. An exit noticed no
 * later than a step's signal comes before that step (its respawn is due first); otherwise the step
 * does. A worker that no cause can explain stays uncredited: no step takes its readiness.
 */
export function creditSpawns(r: RollRecords): Noticed['credited'] {
  const out: Noticed['credited'] = []
  const open = [...r.spawned].filter((s) => s.cause === null && s.state !== 'died').sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid)
  for (const spawn of open) {
    const step = awaitingCredit(r).find((s) => (s.signalTick as number) <= spawn.startTicks)
    const exit = r.exits.find((e) => e.paidBy === null)
    let cause: SpawnCause | null = null
    if (exit && (!step || exit.tick <= (step.signalTick as number))) {
      exit.paidBy = spawn.pid
      cause = { kind: 'exit', pid: exit.pid }
    } else if (step) {
      cause = { kind: 'step', step: step.index }
    }
    if (cause === null) continue
    spawn.cause = cause
    out.push({ spawn, cause })
  }
  return out
}

/** The new worker credited to this step, if one is. */
export function creditedTo(r: RollRecords, step: StepRecord): SpawnRecord | null {
  return r.spawned.find((s) => s.cause?.kind === 'step' && s.cause.step === step.index) ?? null
}

/** `pid` and the master's respawns of it, and of those, as far as this run has seen them. */
export function lineage(r: RollRecords, pid: number): Set<number> {
  const out = new Set([pid])
  for (const s of r.spawned) if (s.cause?.kind === 'exit' && out.has(s.cause.pid)) out.add(s.pid)
  return out
}

/** A step that has not finished and whose old worker's lineage holds `pid`: it adopts (or may yet adopt) that respawn. */
function adopter(r: RollRecords, pid: number): StepRecord | null {
  return r.steps.find((s) => s.oldPid !== null && s.state !== 'ready' && s.state !== 'failed' && (s.adopted || s.startedAt === null) && lineage(r, s.oldPid).has(pid)) ?? null
}

/**
 * Why a datagram (that passed whyNotOurs) is no step's replacement: its worker was not caused by a
 * step's signal. null: a step's (maybe another step's, which will take it), or the respawn of an
 * old worker that exited on its own before its step, which that step adopts.
 */
export function whyNotCaused(v: Readiness | BareStatus, r: RollRecords): string | null {
  if (v.kind === 'bare') return null
  const spawn = spawnOf(r, v.pid)
  if (spawn === null) return `pid ${v.pid} was not seen starting during this run`
  const cause = spawn.cause
  if (cause?.kind === 'step') return null
  if (cause?.kind === 'exit') {
    if (adopter(r, cause.pid) !== null) return null
    return `pid ${v.pid} is the master's respawn of worker ${cause.pid}, which exited on its own (this run did not stop it)`
  }
  const later = r.steps.filter((s) => s.signalTick !== null && s.signalTick > spawn.startTicks)
  const first = later.sort((a, b) => (a.signalTick as number) - (b.signalTick as number))[0]
  return first
    ? `pid ${v.pid} was forked ${ticksToSeconds((first.signalTick as number) - spawn.startTicks)} before the signal of step ${first.index}: the master started it on its own`
    : `pid ${v.pid} was forked before any step's signal: the master started it on its own`
}

/**
 * Whether a datagram (that passed whyNotOurs) is this step's replacement: its worker was credited
 * to this step, or the step adopted the respawns of its old worker and this is one.
 */
export function isStepsOwn(v: Readiness | BareStatus, r: RollRecords, step: StepRecord): boolean {
  if (v.kind === 'bare') return true
  const cause = spawnOf(r, v.pid)?.cause
  if (cause?.kind === 'step') return cause.step === step.index
  return cause?.kind === 'exit' && step.adopted && step.oldPid !== null && lineage(r, step.oldPid).has(cause.pid)
}

/** A datagram arrived from this new worker: it is up, no longer booting (its death is judged as that of a worker that reported). */
export function heardFrom(r: RollRecords, pid: number, at: number, ready: boolean): void {
  const s = spawnOf(r, pid)
  if (s === null || s.heardAt !== null) return
  s.heardAt = at
  s.heardReady = ready
  if (isBooting(r, pid) && !isClaimed(r, pid)) s.state = 'heard'
}
