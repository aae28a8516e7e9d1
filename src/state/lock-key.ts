/**
 * The state directory's lock key: 32 random bytes in `.lock-key`, readable only by the directory's
 * owner, made once. Lock socket names are derived from it, so they cannot be guessed by a user who
 * cannot read the directory. Made by link(2) from a complete temporary file, so a reader never sees
 * it half-written and two first runs agree on one key.
 */
import { randomBytes } from 'node:crypto'
import { linkSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { errnoCode } from '../errors.js'
import { tmpPathBeside, unlinkQuietly, writeNewFile } from '../fs/atomic-write.js'

const KEY_BYTES = 32

export function lockKeyPath(dir: string): string {
  return join(dir, '.lock-key')
}

export function readLockKey(dir: string): Buffer {
  const path = lockKeyPath(dir)
  const existing = readKey(path)
  if (existing) return existing
  const tmp = tmpPathBeside(path)
  try {
    writeNewFile(tmp, randomBytes(KEY_BYTES), 0o600)
    linkSync(tmp, path)
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err
  } finally {
    unlinkQuietly(tmp)
  }
  const made = readKey(path)
  if (!made) throw new Error(`the lock key ${path} is not ${KEY_BYTES} bytes long: move it aside and run again`)
  return made
}

function readKey(path: string): Buffer | null {
  try {
    const key = readFileSync(path)
    return key.length === KEY_BYTES ? key : null
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null
    throw err
  }
}
