// Remembers every child a server master ever had, so that teardown can wait for (and if need be
// kill) all of them by pid, including workers that were replaced during the test.
import { childrenOf, isAlive, readStat, stopPid, waitFor } from './procs.js'

export interface ChildTracker {
  /** Every child pid seen so far (live or not), with its start time. */
  readonly seen: ReadonlyMap<number, number>
  /** Rescans the master's children now; returns the live ones. */
  poll(): number[]
  /** Stops the background polling. */
  close(): void
}

export const trackChildren = (masterPid: number, intervalMs = 200): ChildTracker => {
  const seen = new Map<number, number>()
  const poll = (): number[] => {
    const live = childrenOf(masterPid)
    for (const pid of live) {
      if (!seen.has(pid)) seen.set(pid, readStat(pid)?.starttime ?? 0)
    }
    return live
  }
  poll()
  const timer = setInterval(poll, intervalMs)
  timer.unref()
  return { seen, poll, close: () => clearInterval(timer) }
}

export interface StopTreeOptions {
  masterPid: number
  tracker: ChildTracker
  /** What to call the server in errors. */
  label: string
  /** Asks the master to shut down (default: SIGTERM to it). */
  signalMaster?: () => void | Promise<void>
  graceMs?: number
}

/**
 * Shuts a server down: signal the master, wait for it and every child it ever had to be gone,
 * then SIGKILL, by pid, whatever is left. Safe to call more than once.
 */
export const stopTree = async ({
  masterPid,
  tracker,
  label,
  signalMaster,
  graceMs = 20_000,
}: StopTreeOptions): Promise<void> => {
  if (isAlive(masterPid)) tracker.poll()
  tracker.close()
  const masterStart = readStat(masterPid)?.starttime
  const stillOurs = (pid: number, start: number | undefined): boolean =>
    isAlive(pid) && readStat(pid)?.starttime === start
  if (stillOurs(masterPid, masterStart)) {
    if (signalMaster) await signalMaster()
    else await stopPid(masterPid, { graceMs })
  }
  const everyone = (): [number, number | undefined][] => [
    [masterPid, masterStart],
    ...tracker.seen.entries(),
  ]
  try {
    await waitFor(() => everyone().every(([pid, start]) => !stillOurs(pid, start)), {
      timeoutMs: graceMs,
      intervalMs: 100,
      what: `${label} (master ${masterPid}) and its workers to exit`,
    })
  } catch {
    for (const [pid, start] of everyone()) {
      if (stillOurs(pid, start)) await stopPid(pid, { signal: 'SIGKILL', graceMs: 5_000 })
    }
  }
}
