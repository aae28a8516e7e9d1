/** Why a roll step failed, in mod_wsgi's terms: the Apache parent exited, no readiness datagram, an old release. */
import { readEnviron, type ProcInfo } from '../../proc/procfs.js'
import { clip, readTail } from '../shared/log-tail.js'
import type { Target } from '../types.js'
import { errorLogOf, where } from './apache-config.js'
import { configOf, workers } from './apache-processes.js'
import { HOOK_LINE, daemonGroupFacts, describeScript, type DaemonGroupFacts } from './group-facts.js'
import { evidenceFor, type LogEvidence } from './log-evidence.js'

function envNotes(target: Target, facts: DaemonGroupFacts): string[] {
  const notes: string[] = []
  const env = readEnviron(target.masterPid)
  if (env && env.ROLLING_RESTART_NOTIFY === undefined) {
    notes.push(
      "the Apache parent's environment has no ROLLING_RESTART_NOTIFY, so the hook sends to 127.0.0.1:4012; daemon processes see only " +
        'that environment (set it in /etc/apache2/envvars or the systemd unit, then restart Apache), never SetEnv',
    )
  } else if (env?.ROLLING_RESTART_NOTIFY !== undefined) {
    notes.push(`the Apache parent's environment has ROLLING_RESTART_NOTIFY=${env.ROLLING_RESTART_NOTIFY}: --notify must listen on that address`)
  }
  for (const s of facts.cfg?.setEnv ?? []) {
    notes.push(`SetEnv ${s.name} (${where(s)}) only reaches the per-request WSGI environ, never the daemon processes' os.environ: set it in Apache's own environment instead`)
  }
  return notes
}

/** What the error log says about the newest daemon process: its script failed, or the hook's own line. */
function logCause(ev: LogEvidence | null, newest: ProcInfo | undefined): string | null {
  if (ev?.failedScript) {
    return (
      `Apache's error log says the new daemon process ${newest?.pid} failed to load ${ev.failedScript}` +
      (ev.exception ? ` (${clip(ev.exception)})` : '') +
      ': mod_wsgi keeps such a process running without the application (it answers 500), so the new release is broken'
    )
  }
  if (ev?.hook) return `the hook in daemon process ${newest?.pid} logged "${clip(ev.hook)}"`
  return null
}

/** What the configuration says about loading the script: no script, not preloaded, or (unreadable) what to check. */
function configCause(target: Target, facts: DaemonGroupFacts): { cause: string | null; unchecked: string | null } {
  if (!facts.cfg || facts.cfg.files.length === 0) {
    return {
      cause: null,
      unchecked:
        `the Apache configuration (${facts.cfg?.mainFile ?? 'unknown'}) could not be read to check it. Check that the WSGI script is preloaded ` +
        '(process-group= and application-group= both on WSGIScriptAlias, or WSGIImportScript): otherwise mod_wsgi loads it only at the ' +
        `first request; and that it ends with \`${HOOK_LINE}\``,
    }
  }
  if (facts.scripts.length === 0 && facts.routedOnly.length === 0) {
    return {
      cause: `no WSGIScriptAlias ... process-group=${target.group} or WSGIImportScript for this group was found in ${facts.cfg.files.length} configuration file(s) read from ${facts.cfg.mainFile}`,
      unchecked: null,
    }
  }
  if (facts.preloaded.length > 0) return { cause: null, unchecked: null }
  const s = facts.scripts[0] ?? facts.routedOnly[0]
  return {
    cause:
      `the WSGI script is not preloaded: ${s ? describeScript(s) : 'its WSGIScriptAlias'} ` +
      `${s?.processGroup ? `has process-group=${s.processGroup} but no application-group=` : 'is routed by WSGIProcessGroup'}, so mod_wsgi loads it ` +
      `only when the first request reaches a new process, and the hook runs only then. Add application-group=%{GLOBAL} to that line ` +
      `(both options make mod_wsgi load the script when the process starts), or add WSGIImportScript ${s?.path ?? 'SCRIPT'} process-group=${target.group} application-group=%{GLOBAL}`,
    unchecked: null,
  }
}

export function noReadyHint(target: Target): string {
  const facts = daemonGroupFacts(target)
  const procs = workers(target)
  const newest = procs[procs.length - 1]
  const log = facts.errorLog && !facts.errorLog.startsWith('|') ? readTail(facts.errorLog) : null
  const ev = newest && log ? evidenceFor(log, newest.pid) : null
  const fromLog = logCause(ev, newest)
  const causes: string[] = fromLog ? [fromLog] : []
  const { cause, unchecked } = configCause(target, facts)
  if (cause) causes.push(cause)
  for (const s of facts.withoutHook) causes.push(`${s.path} has no notify_ready line: end it with \`${HOOK_LINE}\``)
  for (const s of facts.unreadableScripts) causes.push(`${s.path} could not be read to check for the notify_ready line`)
  if (ev && !ev.failedScript && !ev.hook && ev.loading && facts.withoutHook.length === 0) {
    causes.push(`daemon process ${newest?.pid} started loading ${ev.loading} and has not finished: the new release may hang while importing`)
  }
  // Environment notes help when nothing more specific was found, or when the hook says where it sent.
  if (causes.length === 0 || ev?.hook) causes.push(...(unchecked ? [unchecked] : []), ...envNotes(target, facts))
  if (causes.length === 0) causes.push('the hook line is in place and the script is preloaded; the hook logs one line per process to the error log')
  const logNote = facts.errorLog ? `Read Apache's error log (${facts.errorLog}) for the new process's traceback` : "Read Apache's error log for the new process's traceback"
  return `no readiness datagram arrived from a new daemon process of ${target.description}. ${causes.join('; ')}. ${logNote}`
}

export function masterGoneHint(target: Target): string {
  const cfg = configOf(target.masterPid)
  return (
    `the Apache parent (pid ${target.masterPid}) exited: Apache was stopped (systemctl stop apache2, apache2ctl stop) or crashed. ` +
    `A graceful restart (apache2ctl graceful, logrotate) keeps the parent but restarts every daemon process at once` +
    (cfg ? `; see ${errorLogOf(cfg, target.group)}` : '')
  )
}

export function wrongReleaseHint(target: Target): string {
  const hints: string[] = []
  const def = configOf(target.masterPid)?.daemons.find((d) => d.name === target.group)
  const paths = ['python-path', 'python-home', 'home'].filter((k) => def?.options[k] !== undefined).map((k) => `${k}=${def?.options[k]}`)
  hints.push(
    `WSGIDaemonProcess options are read when Apache loads its configuration${paths.length ? ` (${paths.join(' ')})` : ''}: if they name a release directory ` +
      "rather than the 'current' symlink, new daemon processes keep importing the old code until Apache reloads (apache2ctl graceful)",
  )
  const env = readEnviron(target.masterPid)
  if (env?.ROLLING_RESTART_RELEASE !== undefined) {
    hints.push(
      `the Apache parent's environment sets ROLLING_RESTART_RELEASE=${env.ROLLING_RESTART_RELEASE}, which every daemon process inherits until Apache itself restarts: ship a REVISION file with the code instead`,
    )
  }
  return hints.join('; or ')
}
