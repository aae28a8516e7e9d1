/** File reads that answer null instead of throwing: a file we cannot read is simply not known. */
import { readFileSync, realpathSync } from 'node:fs'

/** The file's text, or null when it cannot be read. */
export function readTextOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** realpath(3), or null when the path does not exist. */
export function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}
