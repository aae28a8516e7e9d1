/**
 * Telling Gunicorn's processes apart: with python3-setproctitle the master is titled
 * `gunicorn: master [NAME]` and its workers `gunicorn: worker [NAME]`, NAME being proc_name;
 * without it they share one command line and only parentage tells them apart.
 */
import { join } from 'node:path'
import { childrenOf, procInfo, readEnviron, type ProcInfo } from '../../proc/procfs.js'
import { readTextOrNull } from '../shared/quiet-fs.js'
import type { Target } from '../types.js'

export const MASTER_TITLE = /^gunicorn: master \[(.*)\]$/
export const WORKER_TITLE = /^gunicorn: worker \[(.*)\]$/
/** Gunicorn 26's dirty arbiter (dirty_apps): a child of the master that is not a worker */
const DIRTY_TITLE = /^gunicorn: dirty-/

const GUNICORN_SCRIPT = /(^|\/)gunicorn3?$/
/** Python's options that take a value (`-X dev`, `-W ignore`) */
const PYTHON_VALUE_OPTIONS = new Set(['-X', '-W', '-Q'])

/**
 * The gunicorn entry point in a command line without a process title: `.../gunicorn ...`, or a
 * Python running the gunicorn script or `-m gunicorn`. Any other program is not Gunicorn, whatever
 * its arguments say (`rolling-restart --server gunicorn` is not a master).
 */
export function gunicornArgIndex(argv: readonly string[]): number {
  if (GUNICORN_SCRIPT.test(argv[0] ?? '')) return 0
  if (!/(^|\/)(python|pypy)[0-9.]*$/.test(argv[0] ?? '')) return -1
  for (let i = 1; i < Math.min(argv.length, 6); i++) {
    const a = argv[i] as string
    if (a === '-m') return argv[i + 1] === 'gunicorn' ? i + 1 : -1
    if (PYTHON_VALUE_OPTIONS.has(a)) i++
    else if (!a.startsWith('-')) return GUNICORN_SCRIPT.test(a) ? i : -1
  }
  return -1
}

export function isGunicornMaster(p: ProcInfo): boolean {
  if (MASTER_TITLE.test(p.cmdline)) return true
  if (WORKER_TITLE.test(p.cmdline) || gunicornArgIndex(p.argv) < 0) return false
  // Without process titles, master and workers share one command line: the master is the one
  // whose parent is not running that same command line.
  const parent = procInfo(p.ppid)
  return !parent || parent.cmdline !== p.cmdline
}

/**
 * The dirty arbiter's pid, from the file Gunicorn 26 keeps for it (arbiter.py
 * _get_dirty_pidfile_path: TMPDIR/gunicorn-dirty-PROC_NAME.pid); null when there is none.
 */
function dirtyArbiterPid(target: Target): number | null {
  const tmp = readEnviron(target.masterPid)?.TMPDIR || '/tmp'
  const text = readTextOrNull(join(tmp, `gunicorn-dirty-${target.group.replace(/[/ ]/g, '_')}.pid`))
  const pid = text !== null ? Number(text.trim()) : NaN
  return Number.isInteger(pid) ? pid : null
}

/** The group's live workers: every child of the arbiter, except a new master forked by USR2 and Gunicorn 26's dirty arbiter. */
export function workers(target: Target): ProcInfo[] {
  return workersAmong(target, childrenOf(target.masterPid))
}

/** Of these children of the arbiter, its workers. */
export function workersAmong(target: Target, children: readonly ProcInfo[]): ProcInfo[] {
  const kids = children.filter((c) => !MASTER_TITLE.test(c.cmdline) && !DIRTY_TITLE.test(c.cmdline))
  const dirty = kids.length > 0 ? dirtyArbiterPid(target) : null
  return dirty === null ? kids : kids.filter((c) => c.pid !== dirty)
}
