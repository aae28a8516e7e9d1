/**
 * A group's memory. Prefork workers share most of their pages with their master (copy-on-write),
 * so the sum of their RSS counts those pages once per process and overstates what the group uses.
 * PSS (/proc/PID/smaps_rollup, Linux 4.14+) splits each shared page between the processes that
 * map it, so the PSS of master + workers adds up to what they really hold. It needs the right to
 * read the process's memory maps (its user, or root); without it the total falls back to RSS and
 * says so.
 */
import { readProcText } from './proc-read.js'

/** Proportional set size of `pid`, in bytes, or null when smaps_rollup cannot be read. */
export function readPss(pid: number): number | null {
  const text = readProcText(`/proc/${pid}/smaps_rollup`)
  if (text === null) return null
  const m = /^Pss:\s+(\d+) kB$/m.exec(text)
  return m ? Number(m[1]) * 1024 : null
}

export interface MemorySample {
  pid: number
  rssBytes: number | null
  pssBytes: number | null
}

export interface GroupMemory {
  bytes: number
  measure: 'PSS' | 'RSS'
  /** how many processes are counted (master + workers that could be read) */
  processes: number
  /** what is left out or overstated, in words; null when the total is the PSS of every process */
  note: string | null
}

/** `4125, 4144, 4146 and 12 more` */
function pidList(pids: number[]): string {
  return pids.length <= 3 ? pids.join(', ') : `${pids.slice(0, 3).join(', ')} and ${pids.length - 3} more`
}

/** Master + workers: their PSS when every one is readable, else their RSS, saying what that means. */
export function groupMemory(samples: MemorySample[]): GroupMemory | null {
  if (samples.length === 0) return null
  if (samples.every((s) => s.pssBytes !== null)) {
    return { bytes: samples.reduce((n, s) => n + (s.pssBytes as number), 0), measure: 'PSS', processes: samples.length, note: null }
  }
  const readable = samples.filter((s) => s.rssBytes !== null)
  if (readable.length === 0) return null
  const noPss = samples.filter((s) => s.pssBytes === null).map((s) => s.pid)
  const missing = samples.length - readable.length
  const which = noPss.length === samples.length ? "no process's PSS can be read" : `the PSS of ${pidList(noPss)} cannot be read`
  const note =
    `summed RSS, since ${which} (/proc/PID/smaps_rollup needs the server's user or root); RSS counts ` +
    'the pages the workers share with their master once per process, so this overstates' +
    (missing ? `; ${missing} process(es) left out (gone or unreadable)` : '')
  return { bytes: readable.reduce((n, s) => n + (s.rssBytes as number), 0), measure: 'RSS', processes: readable.length, note }
}
