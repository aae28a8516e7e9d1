/**
 * A master's log file, found from its open file descriptors, and what it says about one worker's
 * end. Best effort: a log that cannot be found or read is simply not quoted.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
import { readFdTarget } from '../../proc/procfs.js'
import type { Target } from '../types.js'
import { readTail } from './log-tail.js'

/** The master's log file, when its stderr (or stdout) goes to a regular file. */
export function logFileOf(pid: number): string | null {
  for (const fd of [2, 1]) {
    const t = readFdTarget(pid, fd)
    if (t && t.startsWith('/') && !t.startsWith('/dev/') && !t.endsWith(' (deleted)')) return t
  }
  return null
}

/** What a server's log says about how a worker ended, when it says anything. */
export interface ExitEvidence {
  /** crashed: a signal, a non-zero exit, a timeout kill. recycled: it ended on purpose (max-requests), its master respawns it */
  kind: 'crashed' | 'recycled'
  /** in the server's words, for the message: `terminated by signal 9` */
  detail: string
}

export interface EvidenceRule {
  /** matched against each log line; `$PID` stands for the worker's pid */
  pattern: string
  kind: ExitEvidence['kind']
  /** the detail, with $1, $2 replaced by the pattern's groups */
  detail: string
}

/**
 * The evidence of the last line about `pid` that a rule matches; a crash wins over a recycle seen
 * in the same text (a worker that logged its recycle and then crashed crashed).
 */
export function exitEvidence(text: string, pid: number, rules: readonly EvidenceRule[]): ExitEvidence | null {
  let found: ExitEvidence | null = null
  const compiled = rules.map((r) => ({ ...r, re: new RegExp(r.pattern.replaceAll('$PID', String(pid))) }))
  for (const line of text.split('\n')) {
    for (const r of compiled) {
      const m = r.re.exec(line)
      if (!m) continue
      const detail = r.detail.replace(/\$(\d)/g, (_, i: string) => m[Number(i)] ?? '')
      if (found?.kind !== 'crashed' || r.kind === 'crashed') found = { kind: r.kind, detail }
    }
  }
  return found
}

/** What the target master's log (meta.log, else its stderr) says about worker `pid`'s end, by `rules`. */
export function logExitEvidence(target: Target, pid: number, rules: readonly EvidenceRule[]): ExitEvidence | null {
  const path = (target.meta.log as string | null | undefined) ?? logFileOf(target.masterPid)
  const text = path ? readTail(path) : null
  return text ? exitEvidence(text, pid, rules) : null
}

/** Where a run started reading a master's log, and how far it has read. */
export interface LogMark {
  path: string
  offset: number
}

/** The end of the target master's log now: what the server logs from here on is this run's. */
export function markLog(target: Target): LogMark | null {
  const path = (target.meta.log as string | null | undefined) ?? logFileOf(target.masterPid)
  if (!path) return null
  const text = readFrom(path, Number.MAX_SAFE_INTEGER)
  return text === null ? null : { path, offset: text.size }
}

/** What the log gained since the mark (whole lines only), moving the mark past it; '' when nothing or unreadable. */
export function readSinceMark(mark: LogMark): string {
  const got = readFrom(mark.path, mark.offset)
  if (got === null) return ''
  if (got.size < mark.offset) {
    // rotated or truncated: start over at its beginning
    mark.offset = 0
    return readSinceMark(mark)
  }
  const end = got.text.lastIndexOf('\n') + 1
  mark.offset += Buffer.byteLength(got.text.slice(0, end), 'utf8')
  return got.text.slice(0, end)
}

/** At most 256 KiB from `offset`, and the file's size; null when it cannot be read. */
function readFrom(path: string, offset: number): { text: string; size: number } | null {
  let fd: number | undefined
  try {
    // each round of a roll asks: most of the time the log has not grown, and one stat(2) says so
    const grown = statSync(path).size
    if (offset >= grown) return { text: '', size: grown }
    fd = openSync(path, 'r')
    const size = fstatSync(fd).size
    if (offset >= size) return { text: '', size }
    const buf = Buffer.alloc(Math.min(size - offset, 256 * 1024))
    const n = readSync(fd, buf, 0, buf.length, offset)
    return { text: buf.subarray(0, n).toString('utf8'), size }
  } catch {
    return null
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** The first line of `text` that says the master reloads its workers, by `patterns`, for the message; null when none does. */
export function reloadLine(text: string, patterns: readonly RegExp[]): string | null {
  for (const line of text.split('\n')) if (patterns.some((p) => p.test(line))) return line.trim()
  return null
}
