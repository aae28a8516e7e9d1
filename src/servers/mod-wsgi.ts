/**
 * Apache mod_wsgi daemon process groups (`WSGIDaemonProcess app:blue processes=3 display-name=%{GROUP}`).
 *
 * The Apache parent forks the daemon processes of every group and restarts any that exits. With
 * display-name=%{GROUP}, mod_wsgi (src/server/mod_wsgi.c, wsgi_setup_daemon_name) overwrites argv[0]
 * with `(wsgi:NAME)`, padded with spaces or cut to the length of Apache's original argv[0]
 * (17 characters for /usr/sbin/apache2: `(wsgi:app:blue-long-name)` shows as `(wsgi:app:blue-lo`);
 * /proc/PID/comm stays `apache2`. A cut title is accepted only when no other group of that Apache
 * (read from its configuration) would show the same characters.
 *
 * Signals (wsgi_signal_handler): SIGUSR1 (AP_SIG_GRACEFUL) asks one daemon process to finish its
 * requests and exit ("Process eviction requested"); SIGINT and SIGTERM shut it down at once. The
 * Apache parent then starts a replacement with the same title. There is no way to ask for one more
 * process, so no surge.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { TargetError } from '../errors.js'
import { allProcesses, childrenOf, procInfo, readEnviron, readExe, type ProcInfo } from '../proc/procfs.js'
import type { Readiness } from '../readiness/protocol.js'
import {
  configLocation,
  errorLogOf,
  readApacheConfig,
  scriptsOf,
  where,
  type ApacheConfig,
  type ScriptDef,
} from './apache-config.js'
import { HOOK_LOG_PREFIX, clip, readTail } from './shared/log-tail.js'
import { interpreterOfLibpython } from './shared/interpreter.js'
import { readPidfile } from './shared/pidfile.js'
import { scriptHasHook } from './shared/script-hook.js'
import type { AppSpec, Hazard, ServerAdapter, Target, TargetOptions } from './types.js'

const TITLE_START = '(wsgi:'
const HOOK_LINE = 'from rolling_restart_hook.mod_wsgi import notify_ready; notify_ready(application)'

/** The title mod_wsgi gives a daemon process of `group` under an Apache whose argv[0] has `room` characters. */
export function daemonTitle(group: string, room: number): string {
  const full = `${TITLE_START}${group})`
  return full.length > room ? full.slice(0, room) : full
}

export function isTruncated(group: string, room: number): boolean {
  return `${TITLE_START}${group})`.length > room
}

/** The group name in an uncut title, or null when the title was cut (or is not mod_wsgi's). */
export function groupOfTitle(title: string): string | null {
  const m = /^\(wsgi:(.*)\)$/.exec(title.trimEnd())
  return m ? (m[1] as string) : null
}

const argv0 = (p: ProcInfo): string => p.argv[0] ?? ''
const shownTitle = (p: ProcInfo): string => argv0(p).trimEnd()

export function isApacheProcess(p: ProcInfo): boolean {
  if (/^(apache2|httpd)/.test(p.comm)) return true
  const exe = readExe(p.pid)
  return exe !== null && /\/(apache2|httpd)[^/]*$/.test(exe)
}

/** An Apache parent: an Apache process whose own parent is not Apache. */
function isApacheParent(p: ProcInfo): boolean {
  if (!isApacheProcess(p)) return false
  const parent = procInfo(p.ppid)
  return !parent || !isApacheProcess(parent)
}

/** A mod_wsgi daemon process with a display name: a child of Apache titled `(wsgi:...`. */
function isTitledDaemon(p: ProcInfo): boolean {
  return argv0(p).startsWith(TITLE_START)
}

interface ApacheView {
  parent: ProcInfo
  /** children titled `(wsgi:...` */
  daemons: ProcInfo[]
}

function viewOf(parent: ProcInfo): ApacheView {
  return { parent, daemons: childrenOf(parent.pid).filter(isTitledDaemon) }
}

/** Every Apache parent on the host, with its titled daemon processes. */
function allApaches(): ApacheView[] {
  const procs = allProcesses()
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

const room = (v: ApacheView): number => argv0(v.parent).length

type Match =
  | { kind: 'none' }
  | { kind: 'found'; shown: string; truncated: boolean; pids: number[] }
  | { kind: 'ambiguous'; message: string }

function describeApache(p: ProcInfo): string {
  return `Apache (pid ${p.pid})`
}

/** Find `group` among the daemon processes of one Apache, refusing a cut title that could be another group's. */
function matchGroup(v: ApacheView, group: string): Match {
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
function groupsUnder(v: ApacheView): string[] {
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

function targetOf(v: ApacheView, group: string, m: Extract<Match, { kind: 'found' }>, via: Target['via']): Target {
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

interface Named {
  view: ApacheView
  via: Target['via']
  flag: string
}

/** The Apache named by --apache-pidfile, --pidfile or --master; null when none is named or (auto) it is not Apache. */
function namedApache(opts: TargetOptions): Named | null {
  const explicit = opts.server === 'mod_wsgi'
  let pid: number
  let flag: string
  let via: Target['via']
  if (opts.apachePidfile !== undefined) {
    pid = readPidfile(opts.apachePidfile, '--apache-pidfile')
    flag = `--apache-pidfile ${opts.apachePidfile}`
    via = 'pidfile'
  } else if (opts.master !== undefined || opts.pidfile !== undefined) {
    pid = opts.master ?? readPidfile(opts.pidfile as string)
    flag = opts.master !== undefined ? `--master ${pid}` : `--pidfile ${opts.pidfile}`
    via = opts.master !== undefined ? 'master' : 'pidfile'
  } else {
    return null
  }
  const p = procInfo(pid)
  if (!p) throw new TargetError(`${flag}: no process ${pid} is running`, 'no-master')
  const parent = procInfo(p.ppid)
  if (isTitledDaemon(p) && parent && isApacheProcess(parent)) {
    const g = groupOfTitle(shownTitle(p))
    throw new TargetError(
      `${flag}: process ${pid} is a mod_wsgi daemon process${g ? ` of group '${g}'` : ''}, not Apache's parent; ` +
        `its Apache parent is pid ${parent.pid}: use --master ${parent.pid}${g ? ` --group ${g}` : ''}`,
      'not-master',
    )
  }
  if (!isApacheProcess(p)) {
    if (!explicit && opts.apachePidfile === undefined) return null
    throw new TargetError(
      `${flag}: process ${pid} is not Apache (its command line is ${JSON.stringify(p.cmdline.slice(0, 120))}); ` +
        "give Apache's PidFile (Debian: /var/run/apache2/apache2.pid) or the pid of its parent process",
      'not-master',
    )
  }
  if (!isApacheParent(p)) {
    throw new TargetError(`${flag}: process ${pid} is one of Apache's children; its parent is pid ${p.ppid}: use --master ${p.ppid}`, 'not-master')
  }
  return { view: viewOf(p), via, flag }
}

function resolve(opts: TargetOptions): Target | null {
  const named = namedApache(opts)
  if (opts.master !== undefined || opts.pidfile !== undefined || opts.apachePidfile !== undefined) {
    if (!named) return null
  }
  let group = opts.group
  if (group === undefined) {
    const n = named as Named
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
    group = groups[0] as string
  }
  const views = named ? [named.view] : allApaches()
  const found: Array<{ v: ApacheView; m: Extract<Match, { kind: 'found' }> }> = []
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

/** Why --group found nothing, in mod_wsgi's words: what each Apache defines and what its processes show. */
function notFoundHint(opts: TargetOptions): string | null {
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
  const findings: string[] = []
  for (const v of views) {
    const who = describeApache(v.parent)
    const cfg = configOf(v.parent.pid)
    const def = cfg?.daemons.find((d) => d.name === group)
    if (def) {
      const dn = def.options['display-name']
      if (dn === undefined) {
        findings.push(
          `${who} defines WSGIDaemonProcess ${group} (${where(def)}) without display-name=%{GROUP}, so its processes keep Apache's own ` +
            `title and cannot be told from Apache's other children: add display-name=%{GROUP} to that line and restart Apache`,
        )
      } else if (dn !== '%{GROUP}') {
        findings.push(`${who} defines WSGIDaemonProcess ${group} (${where(def)}) with display-name=${dn}: use display-name=%{GROUP}, so the processes are titled '(wsgi:${group})'`)
      } else {
        findings.push(
          `${who} defines WSGIDaemonProcess ${group} (${where(def)}) but runs none of its processes: was Apache restarted after the group was added? ` +
            `See ${errorLogOf(cfg as ApacheConfig, group)}`,
        )
      }
      continue
    }
    const names = groupsUnder(v)
    if (names.length) {
      findings.push(`${who} runs daemon groups ${names.map((n) => `'${n}'`).join(', ')}, not '${group}': --group takes the name given to WSGIDaemonProcess`)
    } else {
      findings.push(`${who} runs no process titled '(wsgi:...)': is display-name=%{GROUP} set on WSGIDaemonProcess ${group}?`)
    }
  }
  return `mod_wsgi daemon processes titled '(wsgi:${group})': none. ${findings.join('; ')}`
}

function workers(target: Target): ProcInfo[] {
  const title = String(target.meta.title ?? '').trimEnd()
  return childrenOf(target.masterPid).filter((c) => isTitledDaemon(c) && shownTitle(c) === title)
}

/** What the configuration says about one group: its definition, its scripts, preloading, the hook line, the log. */
interface GroupFacts {
  cfg: ApacheConfig | null
  errorLog: string | null
  defined: boolean
  scripts: ScriptDef[]
  preloaded: ScriptDef[]
  routedOnly: ScriptDef[]
  /** scripts of the group that can be read and lack the hook line */
  withoutHook: ScriptDef[]
  /** scripts of the group that could not be read */
  unreadableScripts: ScriptDef[]
}

function groupFacts(target: Target): GroupFacts {
  const cfg = configOf(target.masterPid)
  if (!cfg || cfg.files.length === 0) {
    return { cfg, errorLog: null, defined: false, scripts: [], preloaded: [], routedOnly: [], withoutHook: [], unreadableScripts: [] }
  }
  const { scripts, preloaded, routedOnly } = scriptsOf(cfg, target.group)
  const checked = (preloaded.length ? preloaded : scripts).map((s) => ({ s, hook: scriptHasHook(s.path) }))
  return {
    cfg,
    errorLog: errorLogOf(cfg, target.group),
    defined: cfg.daemons.some((d) => d.name === target.group),
    scripts,
    preloaded,
    routedOnly,
    withoutHook: checked.filter((c) => c.hook === false).map((c) => c.s),
    unreadableScripts: checked.filter((c) => c.hook === null).map((c) => c.s),
  }
}

function describeScript(s: ScriptDef): string {
  return s.directive === 'WSGIImportScript' ? `WSGIImportScript ${s.path} (${where(s)})` : `${s.directive} ${s.url} ${s.path} (${where(s)})`
}

/** What the error log says about one daemon process: a script that failed to load, the hook's own line. */
export interface LogEvidence {
  failedScript: string | null
  exception: string | null
  hook: string | null
  loading: string | null
}

const LOG_PREFIX = /^\[[^\]]*\] \[[^\]]*\] \[pid (\d+)(?::tid \d+)?\] (?:\[(?:remote|client) [^\]]*\] )?/

export function evidenceFor(text: string, pid: number): LogEvidence {
  const out: LogEvidence = { failedScript: null, exception: null, hook: null, loading: null }
  let inTraceback = false
  for (const line of text.split('\n')) {
    const m = LOG_PREFIX.exec(line)
    if (!m || Number(m[1]) !== pid) continue
    const msg = line.slice(m[0].length)
    const failed = /Failed to exec Python script file '([^']+)'/.exec(msg)
    if (failed) out.failedScript = failed[1] as string
    const loading = /Loading Python script file '([^']+)'/.exec(msg)
    if (loading) out.loading = loading[1] as string
    if (msg.startsWith(HOOK_LOG_PREFIX)) out.hook = msg.slice(HOOK_LOG_PREFIX.length)
    if (msg.startsWith('Traceback (most recent call last)')) inTraceback = true
    else if (inTraceback && /^[A-Za-z_][\w.]*(: |$)/.test(msg)) {
      out.exception = msg
      inTraceback = false
    }
  }
  return out
}

function envNotes(target: Target, facts: GroupFacts): string[] {
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

function noReadyHint(target: Target): string {
  const facts = groupFacts(target)
  const causes: string[] = []
  const procs = workers(target)
  const newest = procs[procs.length - 1]
  const log = facts.errorLog && !facts.errorLog.startsWith('|') ? readTail(facts.errorLog) : null
  const ev = newest && log ? evidenceFor(log, newest.pid) : null

  if (ev?.failedScript) {
    causes.push(
      `Apache's error log says the new daemon process ${newest?.pid} failed to load ${ev.failedScript}` +
        (ev.exception ? ` (${clip(ev.exception)})` : '') +
        ': mod_wsgi keeps such a process running without the application (it answers 500), so the new release is broken',
    )
  } else if (ev?.hook) {
    causes.push(`the hook in daemon process ${newest?.pid} logged "${clip(ev.hook)}"`)
  }
  const unchecked: string[] = []
  if (!facts.cfg || facts.cfg.files.length === 0) {
    unchecked.push(
      `the Apache configuration (${facts.cfg?.mainFile ?? 'unknown'}) could not be read to check it. Check that the WSGI script is preloaded ` +
        '(process-group= and application-group= both on WSGIScriptAlias, or WSGIImportScript): otherwise mod_wsgi loads it only at the ' +
        `first request; and that it ends with \`${HOOK_LINE}\``,
    )
  } else if (facts.scripts.length === 0 && facts.routedOnly.length === 0) {
    causes.push(`no WSGIScriptAlias ... process-group=${target.group} or WSGIImportScript for this group was found in ${facts.cfg.files.length} configuration file(s) read from ${facts.cfg.mainFile}`)
  } else if (facts.preloaded.length === 0) {
    const s = facts.scripts[0] ?? facts.routedOnly[0]
    causes.push(
      `the WSGI script is not preloaded: ${s ? describeScript(s) : 'its WSGIScriptAlias'} ` +
        `${s?.processGroup ? `has process-group=${s.processGroup} but no application-group=` : 'is routed by WSGIProcessGroup'}, so mod_wsgi loads it ` +
        `only when the first request reaches a new process, and the hook runs only then. Add application-group=%{GLOBAL} to that line ` +
        `(both options make mod_wsgi load the script when the process starts), or add WSGIImportScript ${s?.path ?? 'SCRIPT'} process-group=${target.group} application-group=%{GLOBAL}`,
    )
  }
  for (const s of facts.withoutHook) causes.push(`${s.path} has no notify_ready line: end it with \`${HOOK_LINE}\``)
  for (const s of facts.unreadableScripts) causes.push(`${s.path} could not be read to check for the notify_ready line`)
  if (ev && !ev.failedScript && !ev.hook && ev.loading && facts.withoutHook.length === 0) {
    causes.push(`daemon process ${newest?.pid} started loading ${ev.loading} and has not finished: the new release may hang while importing`)
  }
  // Environment notes help when nothing more specific was found, or when the hook says where it sent.
  if (causes.length === 0 || ev?.hook) causes.push(...unchecked, ...envNotes(target, facts))
  if (causes.length === 0) causes.push('the hook line is in place and the script is preloaded; the hook logs one line per process to the error log')
  const logNote = facts.errorLog ? `Read Apache's error log (${facts.errorLog}) for the new process's traceback` : "Read Apache's error log for the new process's traceback"
  return `no readiness datagram arrived from a new daemon process of ${target.description}. ${causes.join('; ')}. ${logNote}`
}

function masterGoneHint(target: Target): string {
  const cfg = configOf(target.masterPid)
  return (
    `the Apache parent (pid ${target.masterPid}) exited: Apache was stopped (systemctl stop apache2, apache2ctl stop) or crashed. ` +
    `A graceful restart (apache2ctl graceful, logrotate) keeps the parent but restarts every daemon process at once` +
    (cfg ? `; see ${errorLogOf(cfg, target.group)}` : '')
  )
}

function wrongReleaseHint(target: Target): string {
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

function hazards(target: Target): Hazard[] {
  const out: Hazard[] = []
  const facts = groupFacts(target)
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
  const def = facts.cfg.daemons.find((d) => d.name === target.group)
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
      message: `no WSGIScriptAlias with process-group=${target.group} and no WSGIImportScript for it in ${facts.cfg.mainFile} (and its includes)`,
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
  const reload = facts.cfg.scriptReloading
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
  const env = readEnviron(target.masterPid)
  if (env && env.ROLLING_RESTART_NOTIFY === undefined) {
    out.push({
      id: 'notify-unset',
      severity: 'warning',
      message: "the Apache parent's environment has no ROLLING_RESTART_NOTIFY: the hook in its daemon processes sends to 127.0.0.1:4012",
      fix: 'export ROLLING_RESTART_NOTIFY=host:port in /etc/apache2/envvars (or Environment= in the systemd unit) and restart Apache; SetEnv does not reach daemon processes',
    })
  }
  for (const s of facts.cfg.setEnv) {
    out.push({
      id: 'setenv',
      severity: 'warning',
      message: `SetEnv ${s.name} (${where(s)}) never reaches daemon processes (it only sets the per-request WSGI environ)`,
      fix: `set ${s.name} in /etc/apache2/envvars or the systemd unit instead`,
    })
  }
  return out
}

/** For the preflight: the group's preloaded script, its python-path, python-home and home. */
function appSpec(target: Target): AppSpec | null {
  const facts = groupFacts(target)
  if (!facts.cfg || facts.cfg.files.length === 0) {
    return { spec: null, why: `cannot read Apache's configuration (${facts.cfg?.mainFile ?? 'unknown'}) to find the WSGI script of group '${target.group}'` }
  }
  const script = facts.preloaded[0] ?? facts.scripts[0]
  if (!script) return { spec: null, why: `no WSGIScriptAlias ... process-group=${target.group} or WSGIImportScript found in ${facts.cfg.mainFile}` }
  const def = facts.cfg.daemons.find((d) => d.name === target.group)
  const pyHome = def?.options['python-home']
  const venvPython = pyHome ? join(pyHome, 'bin', 'python') : null
  return {
    spec: script.path,
    chdir: def?.options.home,
    pythonpath: def?.options['python-path']?.split(':').filter(Boolean),
    python: venvPython && existsSync(venvPython) ? venvPython : interpreterOfLibpython(target.masterPid),
    from: `${script.directive} at ${where(script)}`,
  }
}

export const modWsgi: ServerAdapter = {
  kind: 'mod_wsgi',
  label: 'Apache mod_wsgi',
  stopSignal: 'SIGUSR1',
  canSurge: false,
  resolve,
  workers,
  notFoundHint,
  masterGoneHint,
  noReadyHint,
  wrongReleaseHint,
  hazards,
  appSpec,
  groupMatches(target: Target, r: Readiness): boolean {
    return r.group === target.group
  },
}
