/**
 * The one seam over the process table: /proc reads and kill(2) (pidusage's view of CPU and
 * memory is in usage.ts). Everything that looks at or signals another process goes through here,
 * so the rest of the code can be tested with plain data.
 *
 * A process that is already gone (ESRCH, or a missing /proc entry) is an outcome,
 * not an exception: readers return null, `signal()` returns 'gone'.
 */
import { existsSync, readFileSync, readlinkSync, readdirSync } from 'node:fs'
import { errnoCode } from '../errors.js'
import { readProcHeld, readProcText } from './proc-read.js'

/** Linux's USER_HZ: /proc/PID/stat counts process start in these ticks. 100 on every mainstream arch. */
export const CLK_TCK = 100

export interface ProcStat {
  pid: number
  comm: string
  /** R, S, D, Z, T ... */
  state: string
  ppid: number
  /** process start, in clock ticks since boot: with the pid, a stable identity (pids get reused) */
  startTicks: number
}

export interface ProcInfo extends ProcStat {
  /** argv as the process shows it now (process titles rewrite it) */
  argv: string[]
  /** argv joined with spaces, trailing padding removed */
  cmdline: string
  /** wall-clock start time, ms since the epoch */
  startedAt: number
}

export function readStat(pid: number): ProcStat | null {
  const text = readProcHeld(`/proc/${pid}/stat`)
  if (text === null) return null
  // comm is in parentheses and may itself contain spaces and parentheses: split on the last ')'.
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return null
  const rest = text.slice(close + 2).split(' ')
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    startTicks: Number(rest[19]),
  }
}

export function readArgv(pid: number): string[] | null {
  const raw = readProcText(`/proc/${pid}/cmdline`)
  if (raw === null) return null
  // Process titles (setproctitle, mod_wsgi's display-name) overwrite argv in place and pad with
  // NULs or spaces; drop the empty tail.
  const parts = raw.split('\0')
  while (parts.length && parts[parts.length - 1]?.trim() === '') parts.pop()
  return parts
}

let bootTimeMs: number | undefined
export function bootTime(): number {
  if (bootTimeMs === undefined) {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))
    bootTimeMs = m ? Number(m[1]) * 1000 : 0
  }
  return bootTimeMs
}

export function procInfo(pid: number): ProcInfo | null {
  const stat = readStat(pid)
  return stat && withArgv(stat)
}

/** A stat already read, with its command line: null when the process is gone meanwhile. */
function withArgv(stat: ProcStat): ProcInfo | null {
  const argv = readArgv(stat.pid)
  if (!argv) return null
  return {
    ...stat,
    argv,
    cmdline: argv.join(' ').trimEnd(),
    startedAt: bootTime() + (stat.startTicks * 1000) / CLK_TCK,
  }
}

/** Alive and not a zombie (a zombie has exited; it only waits for its parent to reap it). */
export function isAlive(pid: number): boolean {
  const s = readStat(pid)
  return s !== null && s.state !== 'Z' && s.state !== 'X'
}

/** The same process still: alive and started at the same tick (guards against pid reuse). */
export function isSameProcess(pid: number, startTicks: number): boolean {
  const s = readStat(pid)
  return s !== null && s.state !== 'Z' && s.state !== 'X' && s.startTicks === startTicks
}

let childrenFiles: boolean | undefined
/** Whether this kernel lists a task's children in /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN): asked once. */
function hasChildrenFiles(): boolean {
  childrenFiles ??= existsSync(`/proc/self/task/${process.pid}/children`)
  return childrenFiles
}

/**
 * The pids the kernel lists as children of `ppid` (every thread's /proc/PID/task/TID/children):
 * zombies included, O(children) to read. [] when `ppid` is gone; null when the kernel has no such
 * list. The list is not exact: a child can be skipped while another one is reaped (childrenOf
 * makes up for it).
 */
export function childPids(ppid: number): number[] | null {
  if (!hasChildrenFiles()) return null
  for (let fresh = false; ; fresh = true) {
    const tasks = tasksOf(ppid, fresh)
    if (tasks === null) return []
    const out = new Set<number>()
    let ended = false
    for (const tid of tasks) {
      const text = readProcHeld(`/proc/${ppid}/task/${tid}/children`)
      // the thread ended meanwhile: its children went to another thread of the group, read the list again
      if (text === null) ended = true
      else for (const p of text.split(/\s+/)) if (p !== '') out.add(Number(p))
    }
    if (!ended || fresh) return [...out]
  }
}

/**
 * Each parent's threads as last listed, and when. A master forks from the threads it has and
 * seldom starts one, so a poll reads its task list again only once a second (or as soon as a
 * thread in it is found gone): a child forked by a thread younger than that is seen within a
 * second. A kept descriptor of a thread that ended reads an empty list; its children went to
 * another thread of the group, which the list already holds.
 */
const taskLists = new Map<number, { tids: string[]; at: number }>()
const TASKS_FRESH_MS = 1_000
const TASK_LISTS_KEPT = 64

function tasksOf(ppid: number, fresh: boolean): string[] | null {
  const known = taskLists.get(ppid)
  if (!fresh && known && Date.now() - known.at < TASKS_FRESH_MS) return known.tids
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${ppid}/task`)
  } catch {
    taskLists.delete(ppid)
    return null
  }
  if (!known && taskLists.size >= TASK_LISTS_KEPT) taskLists.delete(taskLists.keys().next().value as number)
  taskLists.set(ppid, { tids, at: Date.now() })
  return tids
}

/** The children each parent had at its last look, looked at again the next time: the kernel's list may skip one. */
const lastChildren = new Map<number, number[]>()
const LAST_CHILDREN_KEPT = 256

/**
 * Direct children of `ppid` (cheap enough to poll), zombies excluded, oldest first. Read from the
 * kernel's children lists, plus the children of the last look (so a child the list skipped is not
 * taken for gone), each checked in its own /proc/PID/stat; without those lists, from a scan of
 * every process in /proc.
 */
export function childrenOf(ppid: number): ProcInfo[] {
  const listed = childPids(ppid)
  const candidates = listed === null ? allPids() : new Set([...listed, ...(lastChildren.get(ppid) ?? [])])
  const out: ProcInfo[] = []
  for (const pid of candidates) {
    const stat = readStat(pid)
    if (!stat || stat.ppid !== ppid || stat.state === 'Z' || stat.state === 'X') continue
    const info = withArgv(stat)
    if (info) out.push(info)
  }
  if (listed !== null) remember(ppid, out)
  return out.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid)
}

function remember(ppid: number, children: readonly ProcInfo[]): void {
  if (children.length === 0) lastChildren.delete(ppid)
  else {
    if (lastChildren.size >= LAST_CHILDREN_KEPT && !lastChildren.has(ppid)) lastChildren.clear()
    lastChildren.set(ppid, children.map((c) => c.pid))
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number)
}

/** Every process on the host, for finding a master by its title. */
export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = []
  for (const pid of allPids()) {
    const info = procInfo(pid)
    if (info && info.state !== 'Z') out.push(info)
  }
  return out
}

export type SignalOutcome = 'sent' | 'gone' | 'denied'

/** kill(2). ESRCH is 'gone', EPERM is 'denied'; both are answers, not exceptions. */
export function signal(pid: number, sig: NodeJS.Signals | 0): SignalOutcome {
  try {
    process.kill(pid, sig)
    return 'sent'
  } catch (err) {
    const code = errnoCode(err)
    if (code === 'ESRCH') return 'gone'
    if (code === 'EPERM') return 'denied'
    throw err
  }
}

export function readCwd(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`)
  } catch {
    return null
  }
}

export function readExe(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`)
  } catch {
    return null
  }
}

export function readEnviron(pid: number): Record<string, string> | null {
  const raw = readProcText(`/proc/${pid}/environ`)
  if (raw === null) return null
  const env: Record<string, string> = {}
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=')
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  return env
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export interface SignalMasks {
  /** signals with a handler installed (SigCgt), bit n-1 for signal n */
  caught: bigint
  /** signals set to SIG_IGN (SigIgn) */
  ignored: bigint
}

/** The caught and ignored signal masks from /proc/PID/status, or null when the process is gone. */
export function readSignalMasks(pid: number): SignalMasks | null {
  const text = readProcText(`/proc/${pid}/status`)
  if (text === null) return null
  const caught = /^SigCgt:\s*([0-9a-f]+)$/im.exec(text)
  const ignored = /^SigIgn:\s*([0-9a-f]+)$/im.exec(text)
  if (!caught || !ignored) return null
  return { caught: BigInt(`0x${caught[1]}`), ignored: BigInt(`0x${ignored[1]}`) }
}

/** Where file descriptor `fd` of `pid` points (a path, `pipe:[...]`, `socket:[...]`), or null. */
export function readFdTarget(pid: number, fd: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`)
  } catch {
    return null
  }
}

/** The effective uid and gid of a process (/proc/PID/status), or null when it is gone. */
export function readOwner(pid: number): { uid: number; gid: number } | null {
  const text = readProcText(`/proc/${pid}/status`)
  if (text === null) return null
  // Uid: real effective saved fs
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(text)
  const gid = /^Gid:\s+\d+\s+(\d+)/m.exec(text)
  if (!uid || !gid) return null
  return { uid: Number(uid[1]), gid: Number(gid[1]) }
}

/** The files a process has mapped (/proc/PID/maps): its executable, shared libraries, extension modules. */
export function mappedFiles(pid: number): string[] {
  const text = readProcText(`/proc/${pid}/maps`)
  if (text === null) return []
  const out = new Set<string>()
  for (const line of text.split('\n')) {
    const m = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line)
    if (m) out.add((m[1] as string).replace(/ \(deleted\)$/, ''))
  }
  return [...out]
}
