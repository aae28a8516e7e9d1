/**
 * What a worker loaded, as the bundled hook records it once the worker's probe passed
 * (python-hooks/rolling_restart_hook/loaded_record.py): a memfd `rolling-restart-loaded` held by
 * the worker, two lines of JSON, a header (version, pid, time, the SHA-1 of the body, what its
 * keep-alive drain does with a repeated TERM) and the body
 * (each module file and directory with its identity). Workers that loaded the same files hold the
 * same body, so each worker's header is read, and each distinct body once.
 */
import { memfdsOf } from './memfd.js'
import { readProcText } from './proc-read.js'

const NAME = 'rolling-restart-loaded'
const MAX_BYTES = 8 * 1024 * 1024

/** A file's identity as stat(2) gives it: any change to its content or name shows in one of these. */
export interface FileIdentity {
  dev: number
  ino: number
  /** files only; null for a directory */
  size: number | null
  mtimeNs: string
  ctimeNs: string
}

export interface LoadedFiles {
  files: Array<{ path: string } & FileIdentity>
  dirs: Array<{ path: string } & FileIdentity>
  /** module files the worker could not examine (inside a zip archive): nothing can vouch for them */
  unreadable: string[]
}

/** A header is far shorter than this: it is all that is read of each worker's record. */
const HEADER_BYTES = 1024

export interface LoadedRecord {
  /** the SHA-1 of the body, as the worker wrote it: the same for workers that loaded the same files */
  digest: string
  /**
   * what the worker's keep-alive drain does with a TERM that comes again (`keeps-draining`), as
   * its hook says (keepalive.py); null from a hook that does not say, which stopped at once
   */
  termRepeat: string | null
  /** the body's text, read now (null: gone meanwhile) */
  body(): string | null
}

/** The record that worker `pid` wrote itself (not one inherited from its parent), or null. */
export function loadedRecordOf(pid: number): LoadedRecord | null {
  for (const { text, from } of memfdsOf(pid, NAME, HEADER_BYTES)) {
    const newline = text.indexOf('\n')
    try {
      const header = JSON.parse(text.slice(0, newline)) as { version?: unknown; pid?: unknown; body?: unknown; termRepeat?: unknown }
      if (header.version !== 1 || header.pid !== pid || typeof header.body !== 'string') continue
      return { digest: header.body, termRepeat: typeof header.termRepeat === 'string' ? header.termRepeat : null, body: () => bodyAt(from) }
    } catch {
      // not a record of a version we read
    }
  }
  return null
}

function bodyAt(from: string): string | null {
  const text = readProcText(from, MAX_BYTES)
  if (text === null) return null
  return text.slice(text.indexOf('\n') + 1).trimEnd()
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const str = (v: unknown): v is string => typeof v === 'string'

/** The body's JSON, checked entry by entry; null when any entry is not what the hook writes. Pure. */
export function parseLoadedFiles(body: string): LoadedFiles | null {
  let data: { files?: unknown; dirs?: unknown; unreadable?: unknown }
  try {
    data = JSON.parse(body) as typeof data
  } catch {
    return null
  }
  if (!Array.isArray(data.files) || !Array.isArray(data.dirs) || !Array.isArray(data.unreadable) || !data.unreadable.every(str)) return null
  const out: LoadedFiles = { files: [], dirs: [], unreadable: data.unreadable }
  for (const e of data.files as unknown[]) {
    if (!Array.isArray(e) || !str(e[0]) || !num(e[1]) || !num(e[2]) || !num(e[3]) || !str(e[4]) || !str(e[5])) return null
    out.files.push({ path: e[0], dev: e[1], ino: e[2], size: e[3], mtimeNs: e[4], ctimeNs: e[5] })
  }
  for (const e of data.dirs as unknown[]) {
    if (!Array.isArray(e) || !str(e[0]) || !num(e[1]) || !num(e[2]) || !str(e[3]) || !str(e[4])) return null
    out.dirs.push({ path: e[0], dev: e[1], ino: e[2], size: null, mtimeNs: e[3], ctimeNs: e[4] })
  }
  return out
}
