/** Why a roll step failed, in uWSGI's terms: the master exited, no readiness datagram, an old release. */
import { procInfo, readCwd, readEnviron } from '../../proc/procfs.js'
import { clip, readTail } from '../shared/log-tail.js'
import { scriptHasHook } from '../shared/script-hook.js'
import type { Target } from '../types.js'
import { uwsgiEvidence } from './log-evidence.js'
import { HOOK_LINE, factsOf, scriptOf, type MasterFacts } from './master-facts.js'
import { isCommandLine, workers } from './processes.js'

/** Where the hook sends, and whether it can send from a worker at all. */
function sendingNotes(target: Target, facts: MasterFacts, script: string | null): string[] {
  const notes: string[] = []
  if (!script) notes.push(`check that the WSGI module ends with \`${HOOK_LINE}\``)
  const envNotify = (facts.options.values.get('env') ?? []).find((e) => e.startsWith('ROLLING_RESTART_NOTIFY='))
  const env = isCommandLine(procInfo(target.masterPid)?.argv ?? []) ? readEnviron(target.masterPid) : null
  if (envNotify) notes.push(`the uWSGI options set ${envNotify}: --notify must listen on that address`)
  else if (env?.ROLLING_RESTART_NOTIFY !== undefined) notes.push(`the master's environment has ROLLING_RESTART_NOTIFY=${env.ROLLING_RESTART_NOTIFY}: --notify must listen on that address`)
  else notes.push('ROLLING_RESTART_NOTIFY must be in the environment uWSGI starts with (or `env = ROLLING_RESTART_NOTIFY=host:port` in its ini) and match --notify')
  if (facts.lazy.on === false) notes.push(`lazy-apps is off (${facts.lazy.evidence}): a worker only reports from the hook's post-fork callback`)
  return notes
}

export function noReadyHint(target: Target): string {
  const facts = factsOf(target)
  const causes: string[] = []
  const procs = workers(target)
  const newest = procs[procs.length - 1]
  const text = facts.log ? readTail(facts.log) : null
  const ev = newest && text ? uwsgiEvidence(text, newest.pid) : null
  if (ev?.failure || ev?.exception) {
    causes.push(
      `uWSGI's log says worker ${newest?.pid} could not load the app (${clip([ev.exception, ev.failure].filter(Boolean).join(' / '))}): ` +
        'uWSGI keeps such a worker running without an app, so the new release is broken',
    )
  } else if (ev?.hook) {
    causes.push(`the hook in worker ${newest?.pid} logged "${clip(ev.hook)}"`)
  }
  const script = scriptOf(facts.options)
  if (script && scriptHasHook(script) === false) causes.push(`${script} has no notify_ready line: end it with \`${HOOK_LINE}\``)
  // Where the hook sends matters when nothing more specific was found, or when the hook says where it sent.
  if (causes.length === 0 || ev?.hook) causes.push(...sendingNotes(target, facts, script))
  const logNote = facts.log ? `Read uWSGI's log (${facts.log})` : "Read uWSGI's log (its logto / daemonize file, or the service's journal)"
  return `no readiness datagram arrived from a new worker of ${target.description}. ${causes.join('; ')}. ${logNote} for the worker's traceback`
}

export function masterGoneHint(target: Target): string {
  const log = (target.meta.log as string | null) ?? null
  return (
    `the uWSGI master (pid ${target.masterPid}) exited: it was stopped (SIGINT or SIGQUIT, or SIGTERM with die-on-term; without ` +
    'die-on-term SIGTERM reloads instead), or, with lazy-apps and need-app, a worker failed to load the app and uWSGI destroyed ' +
    "the whole instance (\"OOPS ! failed loading app ... need-app requested, destroying the instance\"): the new release most likely fails to import" +
    (log ? `. See ${log}` : '')
  )
}

export function wrongReleaseHint(target: Target): string {
  const facts = factsOf(target)
  const hints: string[] = []
  if (facts.lazy.on === false) {
    hints.push(
      `lazy-apps is off (${facts.lazy.evidence}): the master loaded the app when it started and every new worker forks that old code; ` +
        'set lazy-apps = true, or reload the whole instance once (SIGHUP to the master) to load the new release',
    )
  } else if (facts.lazy.on === null) {
    hints.push(`if lazy-apps is off, every new worker forks the code the master loaded when it started (could not tell: ${facts.lazy.evidence})`)
  }
  const cwd = readCwd(target.masterPid)
  if (cwd) {
    hints.push(
      `the master's working directory is ${cwd}; a chdir through a 'current' symlink was resolved once when uWSGI started, so imports ` +
        'relative to it load the old release: put the symlink path on pythonpath, or reload the master after switching releases',
    )
  }
  return hints.join('; or ')
}
