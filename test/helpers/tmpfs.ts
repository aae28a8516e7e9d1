// A tiny tmpfs for tests of a state directory that is full or read-only (mounting needs root).
// Unmounted, and its mount point removed, in the test's teardown.
import { execFileSync } from 'node:child_process'
import { closeSync, ftruncateSync, fstatSync, mkdtempSync, openSync, rmdirSync, statfsSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Teardown } from './tmp.js'

export const canMount = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0

/** Mounts a tmpfs of `sizeKb` (read-only with `readOnly`) on a fresh directory, unmounted in teardown. */
export const mountTmpfs = (t: Teardown, { sizeKb = 64, readOnly = false, mode = '0755' }: { sizeKb?: number; readOnly?: boolean; mode?: string } = {}): string => {
  const dir = mkdtempSync(join(tmpdir(), 'rr-tmpfs-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=${mode}${readOnly ? ',ro' : ''}`, 'rr-test-tmpfs', dir])
  t.teardown(() => {
    execFileSync('umount', [dir])
    rmdirSync(dir)
  })
  return dir
}

export const freeBytes = (dir: string): number => {
  const s = statfsSync(dir)
  return s.bavail * s.bsize
}

/** Fills the file system holding `dir` with one file, then gives back `leaveBytes` (rounded to pages). Returns the filler's path. */
export const fillLeaving = (dir: string, leaveBytes: number): string => {
  const path = join(dir, 'filler')
  const fd = openSync(path, 'a')
  const page = Buffer.alloc(4096, 120)
  try {
    for (;;) {
      try {
        writeSync(fd, page)
      } catch {
        break // ENOSPC: full
      }
    }
    const size = fstatSync(fd).size
    ftruncateSync(fd, Math.max(0, size - leaveBytes))
  } finally {
    closeSync(fd)
  }
  return path
}
