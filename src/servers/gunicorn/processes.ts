/**
 * Telling Gunicorn's processes apart: with python3-setproctitle the master is titled
 * `gunicorn: master [NAME]` and its workers `gunicorn: worker [NAME]`, NAME being proc_name;
 * without it they share one command line and only parentage tells them apart.
 */
import { childrenOf, procInfo, type ProcInfo } from '../../proc/procfs.js'
import type { Target } from '../types.js'

export const MASTER_TITLE = /^gunicorn: master \[(.*)\]$/
export const WORKER_TITLE = /^gunicorn: worker \[(.*)\]$/

/** The gunicorn entry point in a command line without a process title: `.../gunicorn ...` or `-m gunicorn`. */
export function gunicornArgIndex(argv: string[]): number {
  for (let i = 0; i < Math.min(argv.length, 4); i++) {
    const a = argv[i] as string
    if (/(^|\/)gunicorn3?$/.test(a)) return i
    if (a === '-m' && argv[i + 1] === 'gunicorn') return i + 1
  }
  return -1
}

function optionValue(argv: string[], short: string, long: string): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === short || a === long) return argv[i + 1] ?? null
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1)
    if (a.startsWith(short) && a.length > short.length && !a.startsWith('--')) return a.slice(short.length)
  }
  return null
}

/** The name Gunicorn uses for the group: proc_name (title), else --name, else the app spec (its default proc_name). */
export function gunicornName(p: ProcInfo): string | null {
  const title = MASTER_TITLE.exec(p.cmdline)
  if (title) return title[1] ?? null
  const gi = gunicornArgIndex(p.argv)
  if (gi < 0) return null
  const named = optionValue(p.argv, '-n', '--name')
  if (named) return named
  const positional = p.argv.slice(gi + 1).filter((a, i, all) => !a.startsWith('-') && !(all[i - 1] ?? '').startsWith('-'))
  return positional[positional.length - 1] ?? `gunicorn-${p.pid}`
}

export function isGunicornMaster(p: ProcInfo): boolean {
  if (MASTER_TITLE.test(p.cmdline)) return true
  if (WORKER_TITLE.test(p.cmdline) || gunicornArgIndex(p.argv) < 0) return false
  // Without process titles, master and workers share one command line: the master is the one
  // whose parent is not running that same command line.
  const parent = procInfo(p.ppid)
  return !parent || parent.cmdline !== p.cmdline
}

/** The group's live workers: every child of the arbiter, except a new master forked by USR2. */
export function workers(target: Target): ProcInfo[] {
  return childrenOf(target.masterPid).filter((c) => !MASTER_TITLE.test(c.cmdline))
}
