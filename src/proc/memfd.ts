/**
 * The anonymous files (memfd_create(2)) the bundled hook leaves in a server's processes: found
 * among the process's open files as `/proc/PID/fd/N -> /memfd:NAME (deleted)` and read there.
 * Opening one needs the same access as /proc/PID/environ.
 */
import { readdirSync, readlinkSync } from 'node:fs'
import { readProcText } from './proc-read.js'

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
      const text = readProcText(from, maxBytes)
      if (text !== null) out.push({ text, from })
    } catch {
      // closed meanwhile
    }
  }
  return out
}
