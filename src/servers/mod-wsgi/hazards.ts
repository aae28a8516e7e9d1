/** What would make a rolling restart of a mod_wsgi daemon group unsafe (for doctor and the warnings at start). */
import { readEnviron } from '../../proc/procfs.js'
import type { Hazard, Target } from '../types.js'
import { where, type ApacheConfig } from './apache-config.js'
import { HOOK_LINE, daemonGroupFacts, describeScript, type DaemonGroupFacts } from './group-facts.js'
import { TITLE_START } from './titles.js'

/** The group's definition and scripts: display-name, preloading, the hook line, WSGIScriptReloading. */
function groupHazards(target: Target, facts: DaemonGroupFacts, cfg: ApacheConfig): Hazard[] {
  const out: Hazard[] = []
  const def = cfg.daemons.find((d) => d.name === target.group)
  if (def && def.options['display-name'] !== '%{GROUP}') {
    out.push({
      id: 'no-display-name',
      severity: 'error',
      message: `WSGIDaemonProcess ${target.group} (${where(def)}) has ${def.options['display-name'] ? `display-name=${def.options['display-name']}` : 'no display-name'}: after the next Apache restart its processes will not be titled '(wsgi:${target.group})'`,
      fix: 'add display-name=%{GROUP} to the WSGIDaemonProcess line',
    })
  }
  if (facts.scripts.length + facts.routedOnly.length > 0 && facts.preloaded.length === 0) {
    const s = facts.scripts[0] ?? facts.routedOnly[0]
    out.push({
      id: 'not-preloaded',
      severity: 'error',
      message: `the WSGI script of group '${target.group}' is not preloaded (${s ? describeScript(s) : 'WSGIScriptAlias'} lacks application-group=): a new daemon process loads it, and sends its readiness datagram, only at its first request`,
      fix: `put both process-group=${target.group} and application-group=%{GLOBAL} on the WSGIScriptAlias line, or add WSGIImportScript`,
    })
  } else if (facts.scripts.length + facts.routedOnly.length === 0) {
    out.push({
      id: 'no-script',
      severity: 'error',
      message: `no WSGIScriptAlias with process-group=${target.group} and no WSGIImportScript for it in ${cfg.mainFile} (and its includes)`,
      fix: `route the application to the group: WSGIScriptAlias / /path/app.wsgi process-group=${target.group} application-group=%{GLOBAL}`,
    })
  }
  for (const s of facts.withoutHook) {
    out.push({
      id: 'hook-missing',
      severity: 'error',
      message: `${s.path} (the group's WSGI script) has no notify_ready line: new daemon processes never report ready`,
      fix: `end the script with \`${HOOK_LINE}\``,
    })
  }
  const reload = cfg.scriptReloading
  if (!reload || reload.on) {
    out.push({
      id: 'script-reloading',
      severity: 'warning',
      message:
        `WSGIScriptReloading is On (${reload ? where(reload) : "mod_wsgi's default"}): when the WSGI script file changes, every daemon process of the group ` +
        'restarts at its next request, all at once and without waiting for readiness; a deploy that rewrites the script races with the rolling restart',
      fix: 'set WSGIScriptReloading Off and let rolling-restart replace the processes',
    })
  }
  return out
}

/** The environment daemon processes get: only the Apache parent's, never SetEnv. */
function environmentHazards(target: Target, cfg: ApacheConfig): Hazard[] {
  const out: Hazard[] = []
  const env = readEnviron(target.masterPid)
  if (env && env.ROLLING_RESTART_NOTIFY === undefined) {
    out.push({
      id: 'notify-unset',
      severity: 'warning',
      message: "the Apache parent's environment has no ROLLING_RESTART_NOTIFY: the hook in its daemon processes sends to 127.0.0.1:4012",
      fix: 'export ROLLING_RESTART_NOTIFY=host:port in /etc/apache2/envvars (or Environment= in the systemd unit) and restart Apache; SetEnv does not reach daemon processes',
    })
  }
  for (const s of cfg.setEnv) {
    out.push({
      id: 'setenv',
      severity: 'warning',
      message: `SetEnv ${s.name} (${where(s)}) never reaches daemon processes (it only sets the per-request WSGI environ)`,
      fix: `set ${s.name} in /etc/apache2/envvars or the systemd unit instead`,
    })
  }
  return out
}

export function hazards(target: Target): Hazard[] {
  const out: Hazard[] = []
  const facts = daemonGroupFacts(target)
  if (target.meta.truncated === true) {
    out.push({
      id: 'title-truncated',
      severity: 'warning',
      message: `the title of group '${target.group}' is cut to '${target.meta.title}' (the ${target.meta.room} characters of Apache's argv[0]); a new group whose name starts the same would make it ambiguous`,
      fix: `use a group name of at most ${Number(target.meta.room) - TITLE_START.length - 1} characters`,
    })
  }
  if (!facts.cfg || facts.cfg.files.length === 0) {
    out.push({
      id: 'config-unreadable',
      severity: 'warning',
      message: `cannot read Apache's configuration (${facts.cfg?.mainFile ?? 'unknown'}), so preloading and the hook line were not checked`,
      fix: 'run as a user who can read the Apache configuration (root)',
    })
    return out
  }
  return [...out, ...groupHazards(target, facts, facts.cfg), ...environmentHazards(target, facts.cfg)]
}
