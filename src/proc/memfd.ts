/**
 * The anonymous files (memfd_create(2)) the bundled hook leaves in a server's processes: found
 * among the process's open files as `/proc/PID/fd/N -> /memfd:NAME (deleted)` and read there.
 * Opening one needs the same access as /proc/PID/environ.
 */
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs'

export interface Memfd {
  /** its first `maxBytes` (or all of it), as text */
  text: string
  /** where it was read: /proc/PID/fd/N */
  from: string
}

/** Each memfd named `name` that `pid` holds, its first `maxBytes` as text; [] when none can be read. */
export function memfdsOf(pid: number, name: string, maxBytes: number): Memfd[] {
  const link = `/memfd:${name} (deleted)`
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return []
  }
  const out: Memfd[] = []
  for (const fd of fds) {
    const from = `/proc/${pid}/fd/${fd}`
    try {
      if (readlinkSync(from) !== link) continue
      const text = readStart(from, maxBytes)
      if (text !== null) out.push({ text, from })
    } catch {
      // closed meanwhile
    }
  }
  return out
}

/** The first `maxBytes` of the file at `path` as text, or null when it cannot be read (closed meanwhile, not ours). */
export function readStart(path: string, maxBytes: number): string | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  try {
    const buf = Buffer.allocUnsafe(Math.min(maxBytes, 64 * 1024))
    const parts: Buffer[] = []
    let total = 0
    while (total < maxBytes) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, maxBytes - total), null)
      if (n === 0) break
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
