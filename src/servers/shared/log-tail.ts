/**
 * Reading the end of a server's log file, to quote what it said about a worker that did not
 * report ready. Never throws: a log we cannot read is simply not quoted.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

export const LOG_TAIL_BYTES = 512 * 1024

/** The last `bytes` of `path` as text (starting at a line boundary), or null when it cannot be read. */
export function readTail(path: string, bytes = LOG_TAIL_BYTES): string | null {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const size = fstatSync(fd).size
    const start = Math.max(0, size - bytes)
    const buf = Buffer.alloc(size - start)
    readSync(fd, buf, 0, buf.length, start)
    const text = buf.toString('utf8')
    return start > 0 ? text.slice(text.indexOf('\n') + 1) : text
  } catch {
    return null
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** The hook's own log lines start with this (python-hooks/rolling_restart_hook/notify.py). */
export const HOOK_LOG_PREFIX = 'rolling-restart-hook: '

/** Shorten a quoted log line for a message. */
export function clip(s: string, max = 200): string {
  const t = s.trim()
  return t.length > max ? `${t.slice(0, max - 3)}...` : t
}
