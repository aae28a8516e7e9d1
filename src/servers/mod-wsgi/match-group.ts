/**
 * Which daemon processes of one Apache belong to a group. A cut title is accepted only when no
 * other group of that Apache (read from its configuration) would show the same characters.
 */
import type { ApacheConfig } from './apache-config.js'
import { configOf, describeApache, room, type ApacheView } from './apache-processes.js'
import { TITLE_START, argv0, daemonTitle, groupOfTitle, isTruncated, shownTitle } from './titles.js'

export type Match =
  | { kind: 'none' }
  | { kind: 'found'; shown: string; truncated: boolean; pids: number[] }
  | { kind: 'ambiguous'; message: string }


/** Find `group` among the daemon processes of one Apache, refusing a cut title that could be another group's. */
export function matchGroup(v: ApacheView, group: string): Match {
  const L = room(v)
  const shown = daemonTitle(group, L)
  const pids = v.daemons.filter((d) => shownTitle(d) === shown.trimEnd()).map((d) => d.pid)
  if (pids.length === 0) return { kind: 'none' }
  if (!isTruncated(group, L)) return { kind: 'found', shown, truncated: false, pids }

  const why =
    `mod_wsgi cuts daemon process titles to the ${L} characters of Apache's argv[0] (${JSON.stringify(argv0(v.parent))}), ` +
    `so group '${group}' shows as '${shown}'`
  const fix =
    `Give the groups names whose first ${L - TITLE_START.length} characters differ (or start Apache by a longer path, ` +
    `which gives the titles more room)`
  const cfg = configOf(v.parent.pid)
  if (!cfg || cfg.daemons.length === 0) {
    return {
      kind: 'ambiguous',
      message:
        `--group ${group}: ${why}, and the configuration of ${describeApache(v.parent)} (${cfg?.mainFile ?? 'unknown'}) could not be read ` +
        `to rule out another group with the same title. ${fix}`,
    }
  }
  const sharing = [...new Set(cfg.daemons.map((d) => d.name))].filter((g) => daemonTitle(g, L) === shown)
  if (!sharing.includes(group)) {
    return {
      kind: 'ambiguous',
      message:
        `--group ${group}: ${why}, but ${cfg.mainFile} defines no WSGIDaemonProcess ${group}; ` +
        (sharing.length ? `the processes titled '${shown}' belong to ${sharing.map((g) => `'${g}'`).join(', ')}` : 'check the name'),
    }
  }
  if (sharing.length > 1) {
    return {
      kind: 'ambiguous',
      message:
        `--group ${group}: ${why}, and groups ${sharing.map((g) => `'${g}'`).join(', ')} of ${describeApache(v.parent)} all show as '${shown}': ` +
        `their processes cannot be told apart, so none is touched. ${fix}. (--apache-pidfile only chooses between several Apaches)`,
    }
  }
  return { kind: 'found', shown, truncated: true, pids }
}

/** The groups whose processes run under one Apache (uncut titles directly, cut ones through its configuration). */
export function groupsUnder(v: ApacheView): string[] {
  const titles = [...new Set(v.daemons.map(shownTitle))]
  const out = new Set<string>()
  let cfg: ApacheConfig | null | undefined
  for (const t of titles) {
    const g = groupOfTitle(t)
    if (g !== null && !isTruncated(g, room(v))) {
      out.add(g)
      continue
    }
    cfg ??= configOf(v.parent.pid)
    const candidates = (cfg?.daemons ?? []).map((d) => d.name).filter((name) => daemonTitle(name, room(v)) === t)
    out.add(candidates.length === 1 ? (candidates[0] as string) : t)
  }
  return [...out].sort()
}
