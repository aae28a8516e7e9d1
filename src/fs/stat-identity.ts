/** A path's identity now, as the loaded-files record holds it (see proc/loaded-record.ts). */
import { statSync } from 'node:fs'
import type { FileIdentity } from '../proc/loaded-record.js'

/** stat(2), following links like the import that loaded it did; null when it cannot be examined. */
export function statIdentity(path: string, directory: boolean): FileIdentity | null {
  try {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false })
    if (!st) return null
    return {
      dev: Number(st.dev),
      ino: Number(st.ino),
      size: directory ? null : Number(st.size),
      mtimeNs: String(st.mtimeNs),
      ctimeNs: String(st.ctimeNs),
    }
  } catch {
    return null
  }
}
