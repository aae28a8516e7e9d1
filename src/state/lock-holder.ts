/** The record of who holds a group's lock: read by the lock itself, `status`, `doctor` and `switch`. */
import { readFileSync } from 'node:fs'
import { isSameProcess } from '../proc/procfs.js'

export interface LockHolder {
  pid: number
  startTicks: number
  since: string
  command: string
}

/** null: no record; 'partial': a record that is not a holder (written by hand, or by an old version). */
export function readHolder(path: string): LockHolder | null | 'partial' {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return null
  }
  try {
    const h = JSON.parse(text) as LockHolder
    return typeof h.pid === 'number' ? h : 'partial'
  } catch {
    return 'partial'
  }
}

/** The holder still runs: same pid and same start tick (a reused pid is another process). */
export function holderAlive(h: LockHolder): boolean {
  return isSameProcess(h.pid, h.startTicks)
}
