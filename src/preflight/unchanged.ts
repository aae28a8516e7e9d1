/**
 * Whether the running workers vouch for the code on disk: each of them passed its probe having
 * loaded files that are, every one, still exactly what is on disk now. Then a preflight (load the
 * same files once more in a throwaway interpreter) proves nothing they have not, and a recycle of
 * an unchanged release need not pay a full import of the app before its first signal.
 *
 * Conservative by construction: a worker without a record (an older hook, a failed probe), a
 * module that cannot be examined, any file whose device, inode, size, modification or change time
 * differs, or a directory of the import path with an entry added, removed or renamed, and the
 * preflight runs. Pure: the records and stat(2) come in as data and a function.
 */
import type { FileIdentity, LoadedFiles } from '../proc/loaded-record.js'

/** The record worker `pid` wrote (its body's digest, and the body on demand), or null when it holds none. */
export type ReadRecord = (pid: number) => { digest: string; body(): string | null } | null

export type Vouch =
  | { vouched: true; workers: number; files: number; dirs: number }
  | { vouched: false; why: string }

export type StatNow = (path: string, directory: boolean) => FileIdentity | null
export type ParseBody = (body: string) => LoadedFiles | null

const FIELDS: Array<[keyof FileIdentity, string]> = [
  ['dev', 'device'],
  ['ino', 'inode'],
  ['size', 'size'],
  ['mtimeNs', 'modification time'],
  ['ctimeNs', 'change time'],
]

/** The first field in which `now` differs from `then`, in words, or null when it is the same file. */
export function changedField(then: FileIdentity, now: FileIdentity): string | null {
  for (const [key, word] of FIELDS) if (then[key] !== now[key]) return word
  return null
}

/** What differs between what a worker loaded and the disk now, in words, or null when nothing does. */
function difference(loaded: LoadedFiles, stat: StatNow, pid: number): string | null {
  const [unreadable] = loaded.unreadable
  if (unreadable !== undefined) return `worker ${pid} loaded ${unreadable}, which cannot be examined (a module inside an archive)`
  for (const f of loaded.files) {
    const now = stat(f.path, false)
    if (now === null) return `${f.path} is gone since worker ${pid} loaded it`
    const field = changedField(f, now)
    if (field !== null) return `${f.path} changed since worker ${pid} loaded it (its ${field})`
  }
  for (const d of loaded.dirs) {
    const now = stat(d.path, true)
    if (now === null) return `${d.path} is gone since worker ${pid} imported from it`
    if (changedField(d, now) !== null) return `an entry of ${d.path} was added, removed or renamed since worker ${pid} imported from it`
  }
  return null
}

/**
 * Every worker's record compared with the disk now, read one at a time and only while all agree.
 * Records with the same body (workers that loaded the same files: the same digest) are read and
 * compared once, and each path is examined once.
 */
export function vouchForRelease(pids: readonly number[], read: ReadRecord, parse: ParseBody, stat: StatNow): Vouch {
  if (pids.length === 0) return { vouched: false, why: 'there is no running worker to vouch for the code on disk' }
  const cache = new Map<string, FileIdentity | null>()
  const cachedStat: StatNow = (path, directory) => {
    const key = `${directory ? 'd' : 'f'}${path}`
    if (!cache.has(key)) cache.set(key, stat(path, directory))
    return cache.get(key) ?? null
  }
  const checked = new Map<string, LoadedFiles>()
  for (const pid of pids) {
    const record = read(pid)
    if (record === null) return { vouched: false, why: `worker ${pid} holds no record of what it loaded (a hook older than this version, or its probe has not passed)` }
    if (checked.has(record.digest)) continue
    const body = record.body()
    const loaded = body === null ? null : parse(body)
    if (loaded === null) return { vouched: false, why: `worker ${pid}'s record of what it loaded cannot be read` }
    const why = difference(loaded, cachedStat, pid)
    if (why !== null) return { vouched: false, why }
    checked.set(record.digest, loaded)
  }
  const all = [...checked.values()]
  return {
    vouched: true,
    workers: pids.length,
    files: Math.max(...all.map((l) => l.files.length)),
    dirs: Math.max(...all.map((l) => l.dirs.length)),
  }
}
