/**
 * The one seam over the process table: /proc reads, ps-tree, pidusage and kill(2).
 * Everything that looks at or signals another process goes through here, so the
 * rest of the code can be tested with plain data.
 *
 * A process that is already gone (ESRCH, or a missing /proc entry) is an outcome,
 * not an exception: readers return null, `signal()` returns 'gone'.
 */
import { readFileSync, readlinkSync, readdirSync } from 'node:fs'
import psTree from 'ps-tree'
import pidusage from 'pidusage'
import { errnoCode } from '../errors.js'

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
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
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
  let raw: string
  try {
    raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return null
  }
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
  const argv = readArgv(pid)
  if (!stat || !argv) return null
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

/** Direct children of `ppid`, read from /proc (cheap enough to poll). Zombies excluded. */
export function childrenOf(ppid: number): ProcInfo[] {
  const out: ProcInfo[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = readStat(Number(name))
    if (!stat || stat.ppid !== ppid || stat.state === 'Z' || stat.state === 'X') continue
    const info = procInfo(stat.pid)
    if (info) out.push(info)
  }
  return out.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid)
}

/** Direct children of `ppid` as ps(1) sees them (through ps-tree), with their command lines from /proc. */
export async function childrenViaPs(ppid: number): Promise<ProcInfo[]> {
  const rows = await new Promise<readonly psTree.PS[]>((resolve, reject) =>
    psTree(ppid, (err, children) => (err ? reject(err) : resolve(children))),
  )
  const out: ProcInfo[] = []
  for (const row of rows) {
    if (Number(row.PPID) !== ppid || row.STAT.startsWith('Z')) continue
    const info = procInfo(Number(row.PID))
    if (info && info.ppid === ppid) out.push(info)
  }
  return out.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid)
}

/** Every process on the host, for finding a master by its title. */
export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const info = procInfo(Number(name))
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
  let raw: string
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'utf8')
  } catch {
    return null
  }
  const env: Record<string, string> = {}
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=')
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  return env
}

export interface Usage {
  cpu: number
  rssBytes: number
}

/** CPU % and resident memory, from pidusage. Missing processes are simply absent from the map. */
export async function usage(pids: number[]): Promise<Map<number, Usage>> {
  const out = new Map<number, Usage>()
  if (pids.length === 0) return out
  const stats = await Promise.all(
    pids.map((pid) =>
      pidusage(pid).then(
        (s) => [pid, s] as const,
        () => null,
      ),
    ),
  )
  for (const entry of stats) {
    if (entry) out.set(entry[0], { cpu: entry[1].cpu, rssBytes: entry[1].memory })
  }
  return out
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
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return null
  }
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
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return null
  }
  // Uid: real effective saved fs
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(text)
  const gid = /^Gid:\s+\d+\s+(\d+)/m.exec(text)
  if (!uid || !gid) return null
  return { uid: Number(uid[1]), gid: Number(gid[1]) }
}

/** The files a process has mapped (/proc/PID/maps): its executable, shared libraries, extension modules. */
export function mappedFiles(pid: number): string[] {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'utf8')
  } catch {
    return []
  }
  const out = new Set<string>()
  for (const line of text.split('\n')) {
    const m = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line)
    if (m) out.add((m[1] as string).replace(/ \(deleted\)$/, ''))
  }
  return [...out]
}
