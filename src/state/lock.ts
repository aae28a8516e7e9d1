/**
 * One run per group. Mutual exclusion is the kernel's: the holder binds a Unix socket in Linux's
 * abstract namespace, which the kernel releases the moment the holder dies (however it dies), and
 * which a second process cannot bind while the first lives. There is nothing stale to recover and
 * no takeover to race: two runs that both find a dead holder's record cannot both bind.
 *
 * The socket's name is derived from a random key kept in the state directory (readable only by its
 * owner), so a user who cannot read the directory cannot guess the name and squat the lock.
 *
 * The lock file (`KEY.lock`) is the record of who holds it (pid, start tick, since, command), for
 * `status`, `doctor` and the refusal message. It is written after the socket is bound, by rename, so
 * it is never half-written; a record left by a killed run is only history (`recoveredFrom`).
 */
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { RefusedError, errnoCode } from '../errors.js'
import { isSameProcess, readStat } from '../proc/procfs.js'
import { readLockKey } from './lock-key.js'
import { unlinkQuietly, writeFileAtomic } from '../fs/atomic-write.js'
import { ensureStateDir } from './state-file.js'
import { readHolder, type LockHolder } from './lock-holder.js'

export { holderAlive, readHolder, type LockHolder } from './lock-holder.js'

export interface Lock {
  path: string
  /** the record left by a run that died holding the lock, if any */
  recoveredFrom: LockHolder | null
  release(): void
}

export function lockPath(dir: string, key: string): string {
  return join(dir, `${key}.lock`)
}

/** The abstract socket name for a group's lock: a hash of the directory's secret key and the group key. */
export function lockAddress(secret: Buffer, key: string): string {
  return '\0rolling-restart/' + createHash('sha256').update(secret).update('\0').update(key).digest('hex').slice(0, 40)
}

export async function acquireLock(dir: string, key: string, group: string): Promise<Lock> {
  ensureStateDir(dir)
  const path = lockPath(dir, key)
  const server = createServer()
  const bound = await bind(server, lockAddress(readLockKey(dir), key))
  if (!bound) throw refusal(path, group)
  server.unref()

  const left = readHolder(path)
  const me: LockHolder = {
    pid: process.pid,
    startTicks: readStat(process.pid)?.startTicks ?? 0,
    since: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
  }
  try {
    // whole (rename), but not fsynced: it names the holder while the lock is held, and the lock
    // itself (the socket) ends with the process, or with the machine
    writeFileAtomic(path, JSON.stringify(me) + '\n', 0o644, false)
  } catch (err) {
    server.close()
    throw err
  }
  return {
    path,
    recoveredFrom: left !== null && left !== 'partial' && !isSameProcess(left.pid, left.startTicks) ? left : null,
    release() {
      const h = readHolder(path)
      if (h && h !== 'partial' && h.pid === me.pid && h.startTicks === me.startTicks) unlinkQuietly(path)
      server.close()
    },
  }
}

/** true when bound; false when another live process holds the name. */
function bind(server: Server, address: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      if (errnoCode(err) === 'EADDRINUSE') resolve(false)
      else reject(err)
    }
    server.once('error', onError)
    server.listen(address, () => {
      server.off('error', onError)
      resolve(true)
    })
  })
}

function refusal(path: string, group: string): RefusedError {
  const holder = readHolder(path)
  if (holder !== null && holder !== 'partial' && isSameProcess(holder.pid, holder.startTicks)) {
    return new RefusedError(
      `another rolling-restart run (pid ${holder.pid}, since ${holder.since}) holds the lock on group '${group}': ` +
        `wait for it to finish; the lock is ${path}`,
      'locked',
    )
  }
  // bound a moment ago by a run that has not written its record yet
  return new RefusedError(`another run is taking the lock on group '${group}' (${path}) right now; try again in a few seconds`, 'locked')
}
