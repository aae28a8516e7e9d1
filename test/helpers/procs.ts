// Pure-Node process utilities over /proc (Linux only). A process that is gone (ESRCH, no /proc
// entry) is an outcome, not an exception: these functions report it and never throw for it.
import { readFileSync, readdirSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

export interface ProcStat {
  pid: number
  /** The kernel's short name (/proc/PID/comm, at most 15 bytes). */
  comm: string
  /** R, S, D, Z, T, X, ... */
  state: string
  ppid: number
  /** Start time in clock ticks after boot: with the pid, identifies one process across pid reuse. */
  starttime: number
}

/** Parsed /proc/PID/stat, or undefined if the process does not exist. */
export const readStat = (pid: number): ProcStat | undefined => {
  let raw: string
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // comm is in parentheses and may itself contain spaces and parentheses: split at the last ')'.
  const open = raw.indexOf('(')
  const close = raw.lastIndexOf(')')
  const rest = raw.slice(close + 2).split(' ')
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return {
    pid,
    comm: raw.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    starttime: Number(rest[19]),
  }
}

/** True while the process exists and is not a zombie (state Z) or dead (X). */
export const isAlive = (pid: number): boolean => {
  const stat = readStat(pid)
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X'
}

/** Pids of every live process on the system. */
export const allPids = (): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)

/** Live (non-zombie) children of `pid`, found by scanning /proc/*\/stat for the parent pid. */
export const childrenOf = (pid: number): number[] =>
  allPids()
    .filter((child) => {
      const stat = readStat(child)
      return stat !== undefined && stat.ppid === pid && stat.state !== 'Z' && stat.state !== 'X'
    })
    .sort((a, b) => a - b)

/** argv as /proc/PID/cmdline shows it (after any title rewriting, trailing NUL padding dropped); [] if gone. */
export const argv = (pid: number): string[] => {
  let raw: string
  try {
    raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return []
  }
  // Title-rewriting servers pad the old argv area with NULs (setproctitle) or spaces (mod_wsgi).
  const parts = raw.split('\0')
  while (parts.length > 0 && parts.at(-1) === '') parts.pop()
  return parts
}

/** The command line as one string (NULs as spaces, trailing padding trimmed); '' if gone. */
export const cmdline = (pid: number): string => argv(pid).join(' ').trimEnd()

/** /proc/PID/comm without the newline; '' if gone. */
export const comm = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '')
  } catch {
    return ''
  }
}

export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
  /** Named in the timeout error: "timed out after 60000 ms waiting for <what>". */
  what?: string
}

/** Thrown from a waitFor predicate to stop waiting at once (e.g. the server process died). */
export class WaitAborted extends Error {
  override name = 'WaitAborted'
}

/**
 * Polls `predicate` until it returns a truthy value, and returns that value. A predicate that
 * throws is retried (its last error is quoted on timeout), except for WaitAborted, which ends the
 * wait immediately.
 */
export const waitFor = async <T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' }: WaitOptions = {},
): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await predicate()
      if (value) return value as NonNullable<T>
    } catch (error) {
      if (error instanceof WaitAborted) throw error
      lastError = error
    }
    if (Date.now() >= deadline) {
      const cause =
        lastError === undefined
          ? ''
          : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`)
    }
    await sleep(intervalMs)
  }
}

/** Sends `signal` to `pid`; returns false if the process does not exist (ESRCH). */
export const signalPid = (pid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(pid, signal)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw error
  }
}

export interface StopOptions {
  /** How long to wait after `signal` before escalating to SIGKILL. Default 10 s. */
  graceMs?: number
  /** Default SIGTERM. */
  signal?: NodeJS.Signals
}

export type StopOutcome = 'not-running' | 'exited' | 'killed'

/**
 * Stops one process: `signal`, wait up to graceMs, then SIGKILL and wait again. The process is
 * identified by pid and start time, so a pid reused in the meantime is never killed.
 */
export const stopPid = async (
  pid: number,
  { graceMs = 10_000, signal = 'SIGTERM' }: StopOptions = {},
): Promise<StopOutcome> => {
  const first = readStat(pid)
  if (!first || !isAlive(pid)) return 'not-running'
  const same = (): boolean => {
    const now = readStat(pid)
    return now !== undefined && now.starttime === first.starttime && now.state !== 'Z' && now.state !== 'X'
  }
  signalPid(pid, signal)
  if (await gone(same, graceMs)) return 'exited'
  if (same()) signalPid(pid, 'SIGKILL')
  if (await gone(same, 10_000)) return 'killed'
  throw new Error(`pid ${pid} survived ${signal} and SIGKILL (state ${readStat(pid)?.state ?? '?'})`)
}

const gone = async (alive: () => boolean, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms
  while (alive()) {
    if (Date.now() >= deadline) return false
    await sleep(50)
  }
  return true
}
