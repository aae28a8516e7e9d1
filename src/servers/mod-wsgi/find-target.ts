/** --group and/or the named Apache -> the daemon group's target: which Apache, which title. */
import { TargetError } from '../../errors.js'
import type { ProcInfo } from '../../proc/procfs.js'
import type { Target, TargetOptions } from '../types.js'
import { allApaches, configOf, describeApache, room, type ApacheView } from './apache-processes.js'
import { groupsUnder, matchGroup, type Match } from './match-group.js'
import { namedApache, type NamedApache } from './named-apache.js'
import { argv0 } from './titles.js'

type Found = Extract<Match, { kind: 'found' }>

function targetOf(v: ApacheView, group: string, m: Found, via: Target['via']): Target {
  return {
    server: 'mod_wsgi',
    group,
    masterPid: v.parent.pid,
    masterStartTicks: v.parent.startTicks,
    description: `mod_wsgi daemon group '${group}' of Apache ${v.parent.pid}`,
    via,
    meta: {
      title: m.shown,
      truncated: m.truncated,
      room: room(v),
      apacheArgv0: argv0(v.parent),
      found: `${m.pids.length} daemon process(es) titled '${m.shown.trimEnd()}'`,
      processes: configuredProcesses(v.parent.pid, group),
    },
  }
}

/** `processes=` of the group's WSGIDaemonProcess (mod_wsgi runs one process without it); undefined when the config cannot be read. */
function configuredProcesses(parentPid: number, group: string): number | undefined {
  const def = configOf(parentPid)?.daemons.find((d) => d.name === group)
  if (!def) return undefined
  const n = Number(def.options.processes ?? '1')
  return Number.isInteger(n) && n > 0 ? n : undefined
}

/** Without --group: the one daemon group the named Apache runs. */
function onlyGroupUnder(n: NamedApache): string {
  const groups = groupsUnder(n.view)
  if (groups.length === 0) {
    throw new TargetError(
      `${n.flag}: ${describeApache(n.view.parent)} runs no mod_wsgi daemon process titled '(wsgi:...)': ` +
        'set display-name=%{GROUP} on each WSGIDaemonProcess (and restart Apache), then name the group with --group',
      'not-found',
    )
  }
  if (groups.length > 1) {
    throw new TargetError(`${n.flag}: ${describeApache(n.view.parent)} runs several mod_wsgi daemon groups (${groups.join(', ')}): name one with --group`, 'ambiguous')
  }
  return groups[0] as string
}

/** Every daemon group of every Apache among `procs`, named by its Apache parent and its group. */
export function findAll(procs: readonly ProcInfo[]): TargetOptions[] {
  return allApaches(procs).flatMap((v) => groupsUnder(v).map((group) => ({ master: v.parent.pid, group, server: 'mod_wsgi' as const })))
}

export function resolve(opts: TargetOptions): Target | null {
  const named = namedApache(opts)
  if (opts.master !== undefined || opts.pidfile !== undefined || opts.apachePidfile !== undefined) {
    if (!named) return null
  }
  const group = opts.group ?? onlyGroupUnder(named as NamedApache)
  const views = named ? [named.view] : allApaches()
  const found: Array<{ v: ApacheView; m: Found }> = []
  for (const v of views) {
    const m = matchGroup(v, group)
    if (m.kind === 'ambiguous') throw new TargetError(m.message, 'ambiguous')
    if (m.kind === 'found') found.push({ v, m })
  }
  if (found.length === 0) return null
  if (found.length > 1) {
    throw new TargetError(
      `--group ${group} has daemon processes under ${found.length} Apaches (${found.map((f) => `pid ${f.v.parent.pid}: ${f.v.parent.cmdline}`).join('; ')}). ` +
        "Name one with --apache-pidfile FILE (that Apache's PidFile) or --master PID",
      'ambiguous',
    )
  }
  const { v, m } = found[0] as (typeof found)[number]
  return targetOf(v, group, m, named?.via ?? 'group')
}
