/**
 * The record the bundled hook writes when the server first imports it, before a process title
 * hides the master's command line and environment (python-hooks/rolling_restart_hook/master_record.py):
 * an anonymous memfd, `/proc/PID/fd/N -> /memfd:rolling-restart-record (deleted)`, holding JSON.
 *
 * Found among the open files of the master, else of its children (uWSGI lazy-apps workers write
 * their own). Opening it needs the same access as /proc/PID/environ. MFD_CLOEXEC means whoever
 * holds it is a fork of the writer with no exec between: the same program.
 */
import { memfdsOf } from './memfd.js'
import { childrenOf } from './procfs.js'

const RECORD_NAME = 'rolling-restart-record'
const MAX_BYTES = 1024 * 1024

export interface MasterRecord {
  version: number
  server: string
  /** the process that wrote it (the master, a lazy-apps worker, or the process Gunicorn daemonized from) */
  pid: number
  /** seconds since the epoch */
  at: number
  /** sys.argv: `['/usr/bin/gunicorn', '-c', 'conf.py', 'app:app']`; uWSGI: `['uwsgi']` */
  argv: string[]
  /** sys.orig_argv (Python 3.10+): the interpreter's own command line, or null */
  origArgv: string[] | null
  executable: string | null
  /** a Python that loads what the server loads (its sys.executable, or PREFIX/bin/pythonX.Y) */
  interpreter: string | null
  prefix: string | null
  pythonVersion: string | null
  cwd: string
  path: string[]
  env: Record<string, string>
  /** uWSGI: uwsgi.opt, option -> value, values, or true for a flag */
  uwsgi?: Record<string, string | true | Array<string | true>> | null
  /** where it was read: /proc/PID/fd/N */
  from: string
}

/** The record held by `pid`, or null (none, unreadable, not ours). */
export function readRecordOf(pid: number): MasterRecord | null {
  for (const { text, from } of memfdsOf(pid, RECORD_NAME, MAX_BYTES)) {
    const record = parseRecord(text, from)
    if (record) return record
  }
  return null
}

/** The master's record, else the first child's that has one. */
export function masterRecord(masterPid: number): MasterRecord | null {
  const own = readRecordOf(masterPid)
  if (own) return own
  for (const child of childrenOf(masterPid)) {
    const r = readRecordOf(child.pid)
    if (r) return r
  }
  return null
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')

/** The JSON, checked field by field; null when it is not a record of a version we read. Pure. */
export function parseRecord(text: string, from: string): MasterRecord | null {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof data !== 'object' || data === null) return null
  const d = data as Record<string, unknown>
  if (d.version !== 1 || typeof d.cwd !== 'string' || !strings(d.argv)) return null
  const env: Record<string, string> = {}
  if (typeof d.env === 'object' && d.env !== null) for (const [k, v] of Object.entries(d.env)) if (typeof v === 'string') env[k] = v
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null)
  return {
    version: 1,
    server: str(d.server) ?? '',
    pid: typeof d.pid === 'number' ? d.pid : 0,
    at: typeof d.at === 'number' ? d.at : 0,
    argv: d.argv,
    origArgv: strings(d.origArgv) ? d.origArgv : null,
    executable: str(d.executable),
    interpreter: str(d.interpreter),
    prefix: str(d.prefix),
    pythonVersion: str(d.pythonVersion),
    cwd: d.cwd,
    path: strings(d.path) ? d.path : [],
    env,
    uwsgi: typeof d.uwsgi === 'object' && d.uwsgi !== null ? (d.uwsgi as MasterRecord['uwsgi']) : null,
    from,
  }
}
