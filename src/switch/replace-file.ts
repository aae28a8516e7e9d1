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
import { closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, futimesSync, lstatSync, openSync, type Stats } from 'node:fs'
import { dirname } from 'node:path'
import { TargetError, UsageError, errnoCode } from '../errors.js'
import { replaceByRename, writeAll } from '../fs/atomic-write.js'

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
    const code = errnoCode(err)
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
  const bytes = Buffer.from(content, 'utf8')
  const { inode, mtimeMs } = replaceByRename(path, (tmp) => writeReplacement(tmp, path, bytes, old, opts), {
    renameFailed: (err) => {
      const code = errnoCode(err)
      return code === 'EACCES' || code === 'EPERM' ? new TargetError(`${flag} ${path}: not permitted to replace it (${code})`, 'denied') : err
    },
  })
  return { path, inode, previousInode: old ? old.ino : null, previousMtimeMs: old ? old.mtimeMs : null, mtimeMs, bytes: bytes.length }
}

/**
 * The new file at `tmp`, beside `path`: the bytes, the old file's mode and owner, an mtime after
 * the old one's, fsynced. Returns its inode and mtime.
 */
function writeReplacement(tmp: string, path: string, bytes: Buffer, old: Stats | null, opts: ReplaceOptions): { inode: number; mtimeMs: number } {
  const { flag } = opts
  const dir = dirname(path)
  let fd: number
  try {
    fd = openSync(tmp, 'wx', 0o600)
  } catch (err) {
    const code = errnoCode(err)
    if (code === 'ENOENT') throw new UsageError(`${flag} ${path}: the directory ${dir} does not exist; create it or give another path`)
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new TargetError(`${flag} ${path}: not permitted to create a file in ${dir} (${code}); run as a user who may write there`, 'denied')
    }
    throw err
  }
  try {
    writeAll(fd, bytes)
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
    return { inode: st.ino, mtimeMs: st.mtimeMs }
  } finally {
    closeSync(fd)
  }
}
