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
