/**
 * Reading one small /proc file in as few system calls as it takes: open, one read into a buffer
 * kept for the purpose, close (readFileSync also asks fstat(2) for a size /proc does not give,
 * and reads again to find the end). A roll reads the master's stat and children list each round.
 */
import { closeSync, openSync, readSync } from 'node:fs'

const buf = Buffer.allocUnsafe(16 * 1024)

/**
 * The file's text (UTF-8: a process's comm may be any bytes), its first `maxBytes` at most, or
 * null when it cannot be read (the process is gone). A read shorter than the buffer is the end of
 * these files; a longer file is read on until the end.
 */
export function readProcText(path: string, maxBytes = Number.POSITIVE_INFINITY): string | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  try {
    let n = readSync(fd, buf, 0, Math.min(buf.length, maxBytes), null)
    if (n < buf.length) return buf.toString('utf8', 0, n)
    const parts = [Buffer.from(buf)]
    let total = n
    while (total < maxBytes && (n = readSync(fd, buf, 0, Math.min(buf.length, maxBytes - total), null)) > 0) {
      parts.push(Buffer.from(buf.subarray(0, n)))
      total += n
    }
    return Buffer.concat(parts).toString('utf8')
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}

/**
 * The same for a file read again and again (a process's stat, a thread's children list), through
 * a descriptor kept open: each read is one pread(2) from offset 0, which /proc answers afresh. A
 * kept descriptor names the process it was opened on, not its pid: once that process is reaped,
 * its reads fail (ESRCH) and the path is opened anew, so a reused pid is read as the new process
 * it is, as an open would. At most HELD_MAX are kept, the longest held closed first.
 */
export function readProcHeld(path: string): string | null {
  const fd = held.get(path)
  if (fd !== undefined) {
    const text = readAt0(fd)
    if (text !== null) return text
    held.delete(path)
    closeQuietly(fd)
  }
  let fresh: number
  try {
    fresh = openSync(path, 'r')
  } catch {
    return null
  }
  const text = readAt0(fresh)
  if (text === null) {
    closeQuietly(fresh)
    // a file longer than the buffer, or an error: one whole read the usual way
    return readProcText(path)
  }
  if (held.size >= HELD_MAX) {
    const [oldPath, oldFd] = held.entries().next().value as [string, number]
    held.delete(oldPath)
    closeQuietly(oldFd)
  }
  held.set(path, fresh)
  return text
}

const held = new Map<string, number>()
const HELD_MAX = 512

/** The whole file when it fits the buffer; null when the read fails or it does not fit. */
function readAt0(fd: number): string | null {
  try {
    const n = readSync(fd, buf, 0, buf.length, 0)
    return n < buf.length ? buf.toString('utf8', 0, n) : null
  } catch {
    return null
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch {
    // already closed
  }
}
