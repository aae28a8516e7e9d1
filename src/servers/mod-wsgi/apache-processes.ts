/**
 * The Apache processes on the host: each parent with its titled daemon processes, its
 * configuration, and the workers of one group. The Apache parent forks the daemon processes of
 * every group and restarts any that exits.
 */
import { allProcesses, childrenOf, procInfo, readEnviron, readExe, type ProcInfo } from '../../proc/procfs.js'
import type { Target } from '../types.js'
import { configLocation, readApacheConfig, type ApacheConfig } from './apache-config.js'
import { argv0, isTitledDaemon, shownTitle } from './titles.js'

export function isApacheProcess(p: ProcInfo): boolean {
  if (/^(apache2|httpd)/.test(p.comm)) return true
  const exe = readExe(p.pid)
  return exe !== null && /\/(apache2|httpd)[^/]*$/.test(exe)
}

/** An Apache parent: an Apache process whose own parent is not Apache. */
export function isApacheParent(p: ProcInfo): boolean {
  if (!isApacheProcess(p)) return false
  const parent = procInfo(p.ppid)
  return !parent || !isApacheProcess(parent)
}

export interface ApacheView {
  parent: ProcInfo
  /** children titled `(wsgi:...` */
  daemons: ProcInfo[]
}

export function viewOf(parent: ProcInfo): ApacheView {
  return { parent, daemons: childrenOf(parent.pid).filter(isTitledDaemon) }
}

/** Every Apache parent on the host (or among `procs`), with its titled daemon processes. */
export function allApaches(procs: readonly ProcInfo[] = allProcesses()): ApacheView[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]))
  const apache = new Set(procs.filter(isApacheProcess).map((p) => p.pid))
  const views = new Map<number, ApacheView>()
  for (const p of procs) {
    if (apache.has(p.pid) && !apache.has(p.ppid)) views.set(p.pid, { parent: p, daemons: [] })
  }
  for (const p of procs) {
    const v = views.get(p.ppid)
    if (v && isTitledDaemon(p) && byPid.has(p.ppid)) v.daemons.push(p)
  }
  for (const v of views.values()) v.daemons.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid)
  return [...views.values()]
}

/** The Apache parent's configuration, as far as it can be read. */
export function configOf(parentPid: number): ApacheConfig | null {
  const parent = procInfo(parentPid)
  if (!parent) return null
  const env = readEnviron(parentPid) ?? {}
  return readApacheConfig(configLocation(parent.argv, env, readExe(parentPid)), env)
}

/** How many characters a daemon title may have under this Apache: the length of its argv[0]. */
export const room = (v: ApacheView): number => argv0(v.parent).length

export function describeApache(p: ProcInfo): string {
  return `Apache (pid ${p.pid})`
}

/** The group's live daemon processes: the Apache parent's children with the group's title. */
export function workers(target: Target): ProcInfo[] {
  return workersAmong(target, childrenOf(target.masterPid))
}

/** Of these children of the Apache parent, the group's daemon processes. */
export function workersAmong(target: Target, children: readonly ProcInfo[]): ProcInfo[] {
  const title = String(target.meta.title ?? '').trimEnd()
  return children.filter((c) => isTitledDaemon(c) && shownTitle(c) === title)
}
