/**
 * One run per group. The lock is a file created with O_EXCL that names its holder (pid and the
 * process's start tick, so a reused pid is not mistaken for the holder). A lock whose holder is
 * gone is recovered by renaming it away, which only one contender can do.
 */
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { RefusedError } from '../errors.js'
import { isSameProcess, readStat } from '../proc/procfs.js'
import { ensureStateDir } from './state-file.js'

export interface LockHolder {
  pid: number
  startTicks: number
  since: string
  command: string
}

export interface Lock {
  path: string
  /** the lock this run recovered from a dead holder, if any */
  recoveredFrom: LockHolder | null
  release(): void
}

/** A lock file still being written by its creator is given this long before it counts as stale. */
const PARTIAL_LOCK_GRACE_MS = 5_000

export function lockPath(dir: string, key: string): string {
  return join(dir, `${key}.lock`)
}

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

export function holderAlive(h: LockHolder): boolean {
  return isSameProcess(h.pid, h.startTicks)
}

export function acquireLock(dir: string, key: string, group: string): Lock {
  ensureStateDir(dir)
  const path = lockPath(dir, key)
  const me: LockHolder = {
    pid: process.pid,
    startTicks: readStat(process.pid)?.startTicks ?? 0,
    since: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
  }
  let recoveredFrom: LockHolder | null = null
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644)
      try {
        writeSync(fd, JSON.stringify(me) + '\n')
      } finally {
        closeSync(fd)
      }
      return {
        path,
        recoveredFrom,
        release() {
          const h = readHolder(path)
          if (h && h !== 'partial' && h.pid === me.pid && h.startTicks === me.startTicks) {
            try {
              unlinkSync(path)
            } catch {
              // already gone
            }
          }
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = readHolder(path)
    if (holder === null) continue // released between our open and our read: try again
    if (holder === 'partial') {
      let age = 0
      try {
        age = Date.now() - statSync(path).mtimeMs
      } catch {
        continue
      }
      if (age < PARTIAL_LOCK_GRACE_MS) {
        throw new RefusedError(`another run is taking the lock on group '${group}' (${path}) right now; try again in a few seconds`, 'locked')
      }
    } else if (holderAlive(holder)) {
      throw new RefusedError(
        `another rolling-restart run (pid ${holder.pid}, since ${holder.since}) holds the lock on group '${group}': ` +
          `wait for it to finish; the lock is ${path}`,
        'locked',
      )
    } else {
      recoveredFrom = holder
    }
    // The holder is dead: move its lock aside. Only one contender's rename succeeds.
    try {
      renameSync(path, `${path}.stale-${process.pid}`)
      unlinkSync(`${path}.stale-${process.pid}`)
    } catch {
      // someone else recovered it first; loop and compete for the fresh lock
    }
  }
  throw new RefusedError(`could not take the lock on group '${group}' (${path}) after several tries: another run keeps taking it`, 'locked')
}
