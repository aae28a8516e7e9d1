/** The Apache parent --apache-pidfile, --pidfile or --master names, checked to be that and not a child. */
import { TargetError } from '../../errors.js'
import { procInfo } from '../../proc/procfs.js'
import { namedMaster, quotedCommandLine } from '../shared/named-master.js'
import type { Target, TargetOptions } from '../types.js'
import { isApacheParent, isApacheProcess, viewOf, type ApacheView } from './apache-processes.js'
import { groupOfTitle, isTitledDaemon, shownTitle } from './titles.js'

export interface NamedApache {
  view: ApacheView
  via: Target['via']
  flag: string
}

/** The Apache named by --apache-pidfile, --pidfile or --master; null when none is named or (auto) it is not Apache. */
export function namedApache(opts: TargetOptions): NamedApache | null {
  const named = namedMaster(opts, { apachePidfile: true })
  if (!named) return null
  const { proc: p, flag, via } = named
  const parent = procInfo(p.ppid)
  if (isTitledDaemon(p) && parent && isApacheProcess(parent)) {
    const g = groupOfTitle(shownTitle(p))
    throw new TargetError(
      `${flag}: process ${p.pid} is a mod_wsgi daemon process${g ? ` of group '${g}'` : ''}, not Apache's parent; ` +
        `its Apache parent is pid ${parent.pid}: use --master ${parent.pid}${g ? ` --group ${g}` : ''}`,
      'not-master',
    )
  }
  if (!isApacheProcess(p)) {
    if (opts.server !== 'mod_wsgi' && opts.apachePidfile === undefined) return null
    throw new TargetError(
      `${flag}: process ${p.pid} is not Apache (its command line is ${quotedCommandLine(p)}); ` +
        "give Apache's PidFile (Debian: /var/run/apache2/apache2.pid) or the pid of its parent process",
      'not-master',
    )
  }
  if (!isApacheParent(p)) {
    throw new TargetError(`${flag}: process ${p.pid} is one of Apache's children; its parent is pid ${p.ppid}: use --master ${p.ppid}`, 'not-master')
  }
  return { view: viewOf(p), via, flag }
}
