/**
 * Telling uWSGI's processes apart (/proc/PID/comm stays `uwsgi`): with `procname-master = NAME` the
 * master's command line is exactly NAME and the workers' `uWSGI worker N`; with `auto-procname`
 * they are `uWSGI master` / `uWSGI worker N`; without either, master and workers keep the full
 * command line and only parentage tells them apart.
 */
import { basename } from 'node:path'
import { childrenOf, procInfo, readExe, type ProcInfo } from '../../proc/procfs.js'
import type { Target } from '../types.js'

export const WORKER_TITLE = /uWSGI worker \d+\b/
export const OTHER_TITLE = /uWSGI (mule|spooler|http|https|fastrouter|rawrouter|sslrouter|forkrouter|cron|Emperor)\b/

export function isUwsgiProcess(p: ProcInfo): boolean {
  if (/^uwsgi/i.test(p.comm)) return true
  const exe = readExe(p.pid)
  return exe !== null && /^uwsgi/i.test(basename(exe))
}

/** True when argv is a uWSGI command line rather than a process title. */
export function isCommandLine(argv: string[]): boolean {
  return argv.length > 1 || /(^|\/)uwsgi[\w.-]*$/.test(argv[0] ?? '')
}

/** A worker or helper of a master: titled so, or an untitled copy of its parent's command line. */
export function isChildOfMaster(p: ProcInfo): boolean {
  if (WORKER_TITLE.test(p.cmdline) || OTHER_TITLE.test(p.cmdline)) return true
  const parent = procInfo(p.ppid)
  return parent !== null && isUwsgiProcess(parent) && parent.cmdline === p.cmdline
}

/** A master: a uWSGI process with worker children (titled `uWSGI worker N`, or untitled copies of it). */
export function isUwsgiMaster(p: ProcInfo): boolean {
  if (!isUwsgiProcess(p) || isChildOfMaster(p)) return false
  return childrenOf(p.pid).some((c) => WORKER_TITLE.test(c.cmdline) || (isUwsgiProcess(c) && c.cmdline === p.cmdline))
}

/** The master's live workers (its titled workers, or its untitled copies when nothing is titled). */
export function workers(target: Target): ProcInfo[] {
  return workersAmong(target, childrenOf(target.masterPid))
}

/** Of these children of the master, its workers. */
export function workersAmong(target: Target, children: readonly ProcInfo[]): ProcInfo[] {
  const master = procInfo(target.masterPid)
  if (!master) return []
  if (target.meta.titledWorkers === true) return children.filter((c) => WORKER_TITLE.test(c.cmdline))
  return children.filter((c) => c.cmdline === master.cmdline && isUwsgiProcess(c))
}
