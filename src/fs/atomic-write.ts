/**
 * Replacing a file (or a symlink) by rename(2), for everything that must never be seen half
 * written: the state files, the switch history, the routing and mode files, `current`.
 *
 *   make the new one at a temporary name in the same directory (same file system, so the rename is
 *   atomic) -> rename it over the old one -> fsync the directory, so the rename survives a crash
 *
 * A reader sees the old one or the new one, whole. When any step fails the temporary one is
 * removed and the error passed on; the old one is untouched.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'

/** `DIR/.NAME.PID.RANDOM.tmp`: hidden, beside `path`, and never the name of another run's. */
export function tmpPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

export interface ReplaceByRenameOptions {
  /** turn a failed rename into the error to throw (e.g. one that names the flag); the default passes it on */
  renameFailed?: (err: unknown) => unknown
  /** false: no fsync of the directory (see writeFileAtomic's `durable`) */
  durable?: boolean
}

/**
 * `make(tmp)` creates the new file or link at a temporary path beside `path`; it is then renamed
 * over `path` and the directory fsynced. Returns what `make` returned.
 */
export function replaceByRename<T>(path: string, make: (tmp: string) => T, opts: ReplaceByRenameOptions = {}): T {
  const tmp = tmpPathBeside(path)
  let made: T
  try {
    made = make(tmp)
  } catch (err) {
    unlinkQuietly(tmp)
    throw err
  }
  try {
    renameSync(tmp, path)
  } catch (err) {
    unlinkQuietly(tmp)
    throw opts.renameFailed ? opts.renameFailed(err) : err
  }
  if (opts.durable !== false) fsyncDirectory(dirname(path))
  return made
}

/**
 * write, fsync, rename over, fsync the directory: readers see the old file or the new one, never
 * half. `durable` false leaves out both fsyncs: the file is still replaced whole, and a reader or
 * a process that is killed sees the new one, but after a power loss it may be the old one.
 */
export function writeFileAtomic(path: string, content: string | Buffer, mode = 0o644, durable = true): void {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
  replaceByRename(path, (tmp) => writeNewFile(tmp, bytes, mode, durable), { durable })
}

/** writeSync until every byte is written (a single call may write fewer). */
export function writeAll(fd: number, bytes: Buffer): void {
  let off = 0
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
}

/**
 * fsync a directory, so a rename into it survives a crash. Some file systems refuse fsync on a
 * directory; the rename is atomic all the same, so that is not an error.
 */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // see above
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** Create a file that must not exist yet with these bytes, fsynced (unless `durable` is false); on any failure it is removed, never left half-written. */
export function writeNewFile(path: string, bytes: Buffer, mode = 0o644, durable = true): void {
  const fd = openSync(path, 'wx', mode)
  try {
    writeAll(fd, bytes)
    if (durable) fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    unlinkQuietly(path)
    throw err
  }
  closeSync(fd)
}

/** unlink, where a file that was never made or is already gone is not an error. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // never made, or already gone
  }
}
