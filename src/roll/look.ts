/**
 * Looking at the group's workers at O(workers) cost per transition, not per round. A full look
 * (the adapter's workers(): every child's stat and command line) is taken only when the master
 * has a child it has not classified yet: a fork since the last look, or a child the adapter left
 * out that was forked less than SETTLE_TICKS before it (a new worker carries its master's title
 * until it renames itself, a spawned one its parent's command line until its exec). Otherwise,
 * from the master's list of children (procfs childPids: one read per master thread):
 *
 *   same children     the last look stands; `verify` (before a signal, and when a datagram is
 *                     to be judged) re-reads each worker's stat, so one that exited and is not
 *                     reaped yet is not counted
 *   children gone     the last look without them (a reap; a child the kernel's list skipped is
 *                     kept while its own stat says it is one)
 *
 * Without the kernel's list (or with a plain-data process table in tests) every look is full.
 */
import type { ProcInfo } from '../proc/procfs.js'
import type { RollRun } from './types.js'

/** How long after its fork a child the adapter left out is looked at again: 2 s. */
const SETTLE_TICKS = 200

export interface LookState {
  /** the master's children at the last look; null: no look that can stand */
  children: Set<number> | null
  workers: ProcInfo[]
  /** every child the adapter left out was forked at least SETTLE_TICKS before the last full look */
  settled: boolean
  /** when every accepted replacement was last checked (watch.ts) */
  checkedAt: number
}

export function newLook(): LookState {
  return { children: null, workers: [], settled: false, checkedAt: 0 }
}

/** The master's children now; null when the process table cannot list them cheaply. */
export function childrenNow(run: RollRun): number[] | null {
  return run.proc.childPids?.(run.input.target.masterPid) ?? null
}

/**
 * The group's workers. `verify`: each one's stat read again (before a signal); otherwise the last
 * look stands while the master's children stay the same. `children`: the list this round already
 * read, if it did.
 */
export function lookAtWorkers(run: RollRun, verify: boolean, children: number[] | null = childrenNow(run)): ProcInfo[] {
  const look = run.look
  const known = look.children
  if (children === null || known === null || !look.settled || children.some((pid) => !known.has(pid))) return fullLook(run, children)
  const now = new Set(children)
  // a child missing from the list was reaped, or skipped by the kernel while another one was: its own stat tells
  const gone = [...known].filter((pid) => !now.has(pid) && !isChild(run, pid))
  if (gone.length > 0) {
    for (const pid of gone) known.delete(pid)
    look.workers = look.workers.filter((w) => known.has(w.pid))
  }
  if (verify) look.workers = look.workers.filter((w) => stillRunning(run, w))
  return look.workers
}

function isChild(run: RollRun, pid: number): boolean {
  const s = run.proc.readStat(pid)
  return s !== null && s.ppid === run.input.target.masterPid && s.state !== 'X'
}

function stillRunning(run: RollRun, w: ProcInfo): boolean {
  const s = run.proc.readStat(w.pid)
  return s !== null && s.state !== 'Z' && s.state !== 'X' && s.startTicks === w.startTicks && s.ppid === w.ppid
}

function fullLook(run: RollRun, children: number[] | null): ProcInfo[] {
  const { adapter, target } = run.input
  const look = run.look
  const workers = adapter.workers(target)
  look.workers = workers
  look.children = children === null ? null : new Set([...children, ...workers.map((w) => w.pid)])
  look.settled = children !== null && settled(run, children, workers)
  return workers
}

function settled(run: RollRun, children: readonly number[], workers: readonly ProcInfo[]): boolean {
  // workers that are not the master's own children do not show in its list of children
  if (workers.some((w) => w.ppid !== run.input.target.masterPid)) return false
  const tick = run.proc.bootTick()
  const isWorker = new Set(workers.map((w) => w.pid))
  for (const pid of children) {
    if (isWorker.has(pid)) continue
    const stat = run.proc.readStat(pid)
    if (stat && tick - stat.startTicks < SETTLE_TICKS) return false
  }
  return true
}
