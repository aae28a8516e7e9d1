/** Durability helpers shared by everything that replaces a file by rename. */
import { closeSync, fsyncSync, openSync } from 'node:fs'

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
