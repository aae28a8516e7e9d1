/**
 * Replace a file that a running server reads (RewriteMap txt file, WSGIDispatchScript, mode file)
 * so that a reader only ever sees the old file or the new one, whole:
 *
 *   temp file in the same directory (same file system, so rename(2) is atomic) -> write -> mode and
 *   owner of the old file -> mtime strictly after the old file's -> fsync -> rename over -> fsync dir
 *
 * The new file is a new inode. Its mtime is forced past the old one because that is how readers
 * notice a change: mod_rewrite keys its txt-map cache on the file's mtime, mod_wsgi reloads a
 * dispatch script when its mtime differs, ModeMiddleware re-reads on (mtime, size, inode). Two
 * switches inside one tick of the kernel's file-time clock would otherwise leave equal mtimes.
 */
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  futimesSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { TargetError, UsageError } from '../errors.js'
import { fsyncDirectory } from '../fs-sync.js'

export interface Replaced {
  path: string
  /** inode of the file now at `path` */
  inode: number
  /** inode of the file it replaced, null when there was none */
  previousInode: number | null
  /** mtime of the file it replaced */
  previousMtimeMs: number | null
  /** the new file's mtime, ms since the epoch (fractional) */
  mtimeMs: number
  bytes: number
}

export interface ReplaceOptions {
  /** the flag that named the file, for messages (`--map`) */
  flag: string
  /** permission bits when there is no old file to copy them from */
  mode?: number
}

/** lstat, or null when nothing is there. Other failures name the flag and the path. */
export function statOrNull(path: string, flag: string): Stats | null {
  try {
    return lstatSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    if (code === 'ENOTDIR') throw new UsageError(`${flag} ${path}: a part of the path is not a directory; give the path of a file`)
    if (code === 'EACCES') throw new TargetError(`${flag} ${path}: not permitted to look at it; run as a user who may write that directory`, 'denied')
    throw err
  }
}

export function replaceFile(path: string, content: string, opts: ReplaceOptions): Replaced {
  const { flag } = opts
  const old = statOrNull(path, flag)
  if (old?.isSymbolicLink()) {
    throw new UsageError(
      `${flag} ${path} is a symbolic link; replacing it would replace the link, not the file it points to. Give the real path of the file (realpath ${path}) or point Apache at a regular file`,
    )
  }
  if (old && !old.isFile()) throw new UsageError(`${flag} ${path} is not a regular file; give the path of a file`)
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const bytes = Buffer.from(content, 'utf8')
  let fd: number
  try {
    fd = openSync(tmp, 'wx', 0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new UsageError(`${flag} ${path}: the directory ${dir} does not exist; create it or give another path`)
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new TargetError(`${flag} ${path}: not permitted to create a file in ${dir} (${code}); run as a user who may write there`, 'denied')
    }
    throw err
  }
  let inode: number
  let mtimeMs: number
  try {
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    // The server reads this file as its own user (www-data): set the bits explicitly, the umask
    // of whoever runs the switch must not decide them.
    fchmodSync(fd, old ? old.mode & 0o7777 : (opts.mode ?? 0o644))
    if (old && process.getuid?.() === 0) fchownSync(fd, old.uid, old.gid)
    let st = fstatSync(fd)
    if (old && st.mtimeMs <= old.mtimeMs) {
      const after = (old.mtimeMs + 1) / 1000 // 1 ms later: APR and Python see microseconds or better
      futimesSync(fd, st.atimeMs / 1000, after)
      st = fstatSync(fd)
    }
    fsyncSync(fd)
    inode = st.ino
    mtimeMs = st.mtimeMs
  } catch (err) {
    closeSync(fd)
    unlinkQuietly(tmp)
    throw err
  }
  closeSync(fd)
  try {
    renameSync(tmp, path)
  } catch (err) {
    unlinkQuietly(tmp)
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') throw new TargetError(`${flag} ${path}: not permitted to replace it (${code})`, 'denied')
    throw err
  }
  fsyncDirectory(dir)
  return { path, inode, previousInode: old ? old.ino : null, previousMtimeMs: old ? old.mtimeMs : null, mtimeMs, bytes: bytes.length }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}
