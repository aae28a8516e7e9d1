/** Why --group found nothing, in mod_wsgi's words: what each Apache defines and what its processes show. */
import type { TargetOptions } from '../types.js'
import { errorLogOf, where, type ApacheConfig } from './apache-config.js'
import { allApaches, configOf, describeApache, type ApacheView } from './apache-processes.js'
import { groupsUnder } from './match-group.js'
import { namedApache } from './named-apache.js'

/** What one Apache says about `group`: its definition, or the groups it runs instead. */
function findingFor(v: ApacheView, group: string): string {
  const who = describeApache(v.parent)
  const cfg = configOf(v.parent.pid)
  const def = cfg?.daemons.find((d) => d.name === group)
  if (def) {
    const dn = def.options['display-name']
    if (dn === undefined) {
      return (
        `${who} defines WSGIDaemonProcess ${group} (${where(def)}) without display-name=%{GROUP}, so its processes keep Apache's own ` +
        `title and cannot be told from Apache's other children: add display-name=%{GROUP} to that line and restart Apache`
      )
    }
    if (dn !== '%{GROUP}') {
      return `${who} defines WSGIDaemonProcess ${group} (${where(def)}) with display-name=${dn}: use display-name=%{GROUP}, so the processes are titled '(wsgi:${group})'`
    }
    return (
      `${who} defines WSGIDaemonProcess ${group} (${where(def)}) but runs none of its processes: was Apache restarted after the group was added? ` +
      `See ${errorLogOf(cfg as ApacheConfig, group)}`
    )
  }
  const names = groupsUnder(v)
  if (names.length) {
    return `${who} runs daemon groups ${names.map((n) => `'${n}'`).join(', ')}, not '${group}': --group takes the name given to WSGIDaemonProcess`
  }
  return `${who} runs no process titled '(wsgi:...)': is display-name=%{GROUP} set on WSGIDaemonProcess ${group}?`
}

export function notFoundHint(opts: TargetOptions): string | null {
  const group = opts.group
  if (group === undefined) return null
  let views: ApacheView[]
  try {
    const named = namedApache(opts)
    views = named ? [named.view] : allApaches()
  } catch {
    return null
  }
  if (views.length === 0) return null
  return `mod_wsgi daemon processes titled '(wsgi:${group})': none. ${views.map((v) => findingFor(v, group)).join('; ')}`
}
