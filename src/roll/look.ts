/**
 * Looking at the group's workers at O(workers) cost per transition, not per round. Each round reads
 * the master's list of children (procfs childPids: one read per master thread) and compares it
 * with the children already classified:
 *
 *   a new child       looked at alone (its stat and command line) and classified by the
 *                     adapter's workersAmong(); one it leaves out is looked at again each round
 *                     until it was forked SETTLE_TICKS ago (a new worker carries its master's
 *                     title until it renames itself, a spawned one its parent's command line
 *                     until its exec)
 *   a child gone      taken out (a reap; a child the kernel's list skipped is kept while its
 *                     own stat says it is one)
 *   nothing changed   the last look stands; `verify` (before a signal) re-reads each worker's
 *                     stat, so one that exited and is not reaped yet is not counted
 *
 * Without the kernel's list, without workersAmong, or with a plain-data process table in tests,
 * every look is a whole adapter.workers().
 */
import type { ProcInfo } from '../proc/procfs.js'
import type { RollRun } from './types.js'

/** How long after its fork a child the adapter left out is looked at again: 2 s. */
const SETTLE_TICKS = 200

export interface LookState {
  /** the children classified for good, workers or not; null: no look that can stand yet */
  known: Set<number> | null
  workers: ProcInfo[]
  /** when every accepted replacement was last checked (watch.ts) */
  checkedAt: number
}

export function newLook(): LookState {
  return { known: null, workers: [], checkedAt: 0 }
}

/** The master's children now; null when the process table cannot list them cheaply. */
export function childrenNow(run: RollRun): number[] | null {
  return run.proc.childPids?.(run.input.target.masterPid) ?? null
}

/**
 * The group's workers, oldest first. `verify`: each one's stat read again (before a signal).
 * `children`: the master's children as this round already read them, if it did.
 */
export function lookAtWorkers(run: RollRun, verify: boolean, children: number[] | null = childrenNow(run)): ProcInfo[] {
  const { adapter, target } = run.input
  if (children === null || !adapter.workersAmong || !run.proc.procInfo) {
    run.look.known = null
    return adapter.workers(target)
  }
  const look = run.look
  const known = (look.known ??= new Set())
  const listed = new Set(children)
  for (const pid of known) if (!listed.has(pid) && !isChild(run, pid)) known.delete(pid)
  look.workers = look.workers.filter((w) => known.has(w.pid))
  const fresh = children.filter((pid) => !known.has(pid))
  if (fresh.length > 0) classify(run, fresh)
  if (verify) look.workers = look.workers.filter((w) => stillRunning(run, w))
  return look.workers
}

/** New children looked at one by one; the workers among them join the look. */
function classify(run: RollRun, pids: readonly number[]): void {
  const { adapter, target } = run.input
  const look = run.look
  const known = look.known as Set<number>
  const children = pids.map((pid) => run.proc.procInfo?.(pid) ?? null).filter((p): p is ProcInfo => p !== null && isLiveChild(run, p))
  const found = adapter.workersAmong?.(target, children) ?? []
  const isWorker = new Set(found.map((w) => w.pid))
  const tick = run.proc.bootTick()
  for (const c of children) if (isWorker.has(c.pid) || tick - c.startTicks >= SETTLE_TICKS) known.add(c.pid)
  look.workers = [...look.workers, ...found].sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid)
}

function isLiveChild(run: RollRun, p: { ppid: number; state: string }): boolean {
  return p.ppid === run.input.target.masterPid && p.state !== 'Z' && p.state !== 'X'
}

function isChild(run: RollRun, pid: number): boolean {
  const s = run.proc.readStat(pid)
  return s !== null && isLiveChild(run, s)
}

function stillRunning(run: RollRun, w: ProcInfo): boolean {
  const s = run.proc.readStat(w.pid)
  return s !== null && isLiveChild(run, s) && s.startTicks === w.startTicks
}
