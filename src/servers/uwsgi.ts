/**
 * uWSGI with --master. The master forks the workers and respawns any that exits, in the same slot.
 *
 * Titles (/proc/PID/comm stays `uwsgi`): with `procname-master = NAME` the master's command line is
 * exactly NAME and the workers' `uWSGI worker N`; with `auto-procname` they are `uWSGI master` /
 * `uWSGI worker N`; without either, master and workers keep the full command line and only
 * parentage tells them apart.
 *
 * Signals (core/uwsgi.c, core/master.c, 2.0): SIGHUP to a worker runs gracefully_kill(): it finishes
 * the request in hand and exits, and the master respawns it in the same slot. A worker installs that
 * handler only after its app has loaded (with lazy-apps, after uwsgi_init_all_apps()); until then it
 * has the handlers it inherited, and a SIGHUP reaches the MASTER's handler and gracefully kills a
 * different worker. So a worker is signalled only once its SigCgt shows the worker's own handlers
 * (SIGUSR2 -> what_i_am_doing, which neither the master nor a booting worker catches). SIGTERM to the
 * master reloads everything unless die-on-term; SIGINT stops it. There is no way to ask the master
 * for one more worker on demand, so no surge.
 */
import { existsSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { TargetError, UsageError } from '../errors.js'
import {
  allProcesses,
  childrenOf,
  procInfo,
  readCwd,
  readEnviron,
  readExe,
  readFdTarget,
  readSignalMasks,
  type ProcInfo,
} from '../proc/procfs.js'
import type { Readiness } from '../readiness/protocol.js'
import { HOOK_LOG_PREFIX, clip, readTail } from './shared/log-tail.js'
import { interpreterOfLibpython } from './shared/interpreter.js'
import { readPidfile } from './shared/pidfile.js'
import { scriptHasHook } from './shared/script-hook.js'
import type { AppSpec, Hazard, ServerAdapter, Target, TargetOptions } from './types.js'
import { addEnvOptions, boolOption, emptyOptions, lastValue, parseCommandLine, readIni, type UwsgiOptions } from './uwsgi-options.js'

const WORKER_TITLE = /uWSGI worker \d+\b/
const OTHER_TITLE = /uWSGI (mule|spooler|http|https|fastrouter|rawrouter|sslrouter|forkrouter|cron|Emperor)\b/
const PREFIXED_MASTER = /^(.*\S) ?uWSGI master$/
const HOOK_LINE = 'from rolling_restart_hook.uwsgi import notify_ready; application = notify_ready(application)'
/** Options whose processes are children of the master too, and look like workers when nothing is titled. */
const NON_WORKER_OPTIONS = ['mule', 'mules', 'farm', 'spooler', 'spooler-processes', 'http', 'https', 'fastrouter', 'rawrouter', 'sslrouter', 'http-processes']
/** Options that make uWSGI restart workers (or itself) on its own, racing a rolling restart. */
const RELOADERS = ['touch-reload', 'touch-chain-reload', 'touch-workers-reload', 'py-autoreload', 'fs-reload', 'fs-brutal-reload', 'touch-logreopen-reload']

const SIGHUP_BIT = 1n << 0n
const SIGUSR2_BIT = 1n << 11n

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
function isChildOfMaster(p: ProcInfo): boolean {
  if (WORKER_TITLE.test(p.cmdline) || OTHER_TITLE.test(p.cmdline)) return true
  const parent = procInfo(p.ppid)
  return parent !== null && isUwsgiProcess(parent) && parent.cmdline === p.cmdline
}

function workerChildren(master: ProcInfo, titled: boolean): ProcInfo[] {
  const kids = childrenOf(master.pid)
  return titled ? kids.filter((c) => WORKER_TITLE.test(c.cmdline)) : kids.filter((c) => c.cmdline === master.cmdline && isUwsgiProcess(c))
}

/** A master: a uWSGI process with worker children (titled `uWSGI worker N`, or untitled copies of it). */
export function isUwsgiMaster(p: ProcInfo): boolean {
  if (!isUwsgiProcess(p) || isChildOfMaster(p)) return false
  return childrenOf(p.pid).some((c) => WORKER_TITLE.test(c.cmdline) || (isUwsgiProcess(c) && c.cmdline === p.cmdline))
}

interface Naming {
  /** procname-master, when the title is it (the hook reports it as GROUP) */
  procname: string | null
  /** the group name: procname, else a procname prefix, else the config's name */
  group: string
  titled: boolean
}

/** The master's log file, when its stderr (or stdout) goes to a regular file. */
function logFileOf(pid: number): string | null {
  for (const fd of [2, 1]) {
    const t = readFdTarget(pid, fd)
    if (t && t.startsWith('/') && !t.startsWith('/dev/') && !t.endsWith(' (deleted)')) return t
  }
  return null
}

/** Options as far as they can be known: the command line when untitled, else an ini named by --server-config or by the log. */
function optionsOf(p: ProcInfo, configFile: string | null, log: string | null): { options: UwsgiOptions; complete: boolean } {
  const cwd = readCwd(p.pid) ?? '/'
  if (isCommandLine(p.argv)) {
    const options = parseCommandLine(p.argv, cwd)
    const env = readEnviron(p.pid)
    if (env) addEnvOptions(options, env)
    if (configFile) readIni(options, configFile, cwd)
    return { options, complete: options.unread.length === 0 }
  }
  const options = emptyOptions()
  if (configFile) readIni(options, configFile, cwd)
  else if (log) {
    const text = readTail(log)
    const all = text ? [...text.matchAll(/getting INI configuration from (\S+)/g)] : []
    const ini = all[all.length - 1]?.[1]
    if (ini) readIni(options, ini, cwd)
  }
  return { options, complete: false }
}

function nameFromOptions(o: UwsgiOptions): string | null {
  const ini = o.iniFiles[0]
  if (ini) return basename(ini, extname(ini))
  const module = lastValue(o, 'module') ?? lastValue(o, 'wsgi')
  if (module) return module
  const file = lastValue(o, 'wsgi-file') ?? lastValue(o, 'file')
  return file ? basename(file, extname(file)) : null
}

function namingOf(p: ProcInfo): Naming {
  if (isCommandLine(p.argv)) {
    const o = parseCommandLine(p.argv, readCwd(p.pid) ?? '/')
    const procname = lastValue(o, 'procname-master')
    return { procname, group: procname ?? nameFromOptions(o) ?? `uwsgi-${p.pid}`, titled: false }
  }
  const prefixed = PREFIXED_MASTER.exec(p.cmdline)
  if (prefixed) return { procname: null, group: prefixed[1] as string, titled: true }
  if (/uWSGI master/.test(p.cmdline)) return { procname: null, group: `uwsgi-${p.pid}`, titled: true }
  return { procname: p.cmdline, group: p.cmdline, titled: true }
}

function targetOf(p: ProcInfo, via: Target['via'], configFile: string | null): Target {
  const naming = namingOf(p)
  const titledWorkers = childrenOf(p.pid).some((c) => WORKER_TITLE.test(c.cmdline))
  const log = logFileOf(p.pid)
  if (!titledWorkers) {
    const { options } = optionsOf(p, configFile, log)
    const helpers = NON_WORKER_OPTIONS.filter((o) => lastValue(options, o) !== null)
    if (helpers.length) {
      throw new TargetError(
        `uWSGI master ${p.pid} also runs ${helpers.map((h) => `--${h}`).join(', ')} processes, and no process has a title, so its ` +
          "workers cannot be told from them: add auto-procname = true (workers are then titled 'uWSGI worker N') or procname-master = NAME, and restart uWSGI",
        'untitled-workers',
      )
    }
  }
  return {
    server: 'uwsgi',
    group: naming.group,
    masterPid: p.pid,
    masterStartTicks: p.startTicks,
    description: `uWSGI master ${p.pid} [${naming.group}]`,
    via,
    meta: {
      procname: naming.procname,
      titledWorkers,
      log,
      configFile,
      found: naming.titled ? `master titled '${p.cmdline}'` : `master running ${clip(p.cmdline, 80)}`,
    },
  }
}

function describeNotMaster(p: ProcInfo, flag: string): string | null {
  if (WORKER_TITLE.test(p.cmdline) || (isChildOfMaster(p) && !OTHER_TITLE.test(p.cmdline))) {
    return `${flag}: process ${p.pid} is a uWSGI worker; its master is pid ${p.ppid}: use --master ${p.ppid}`
  }
  if (OTHER_TITLE.test(p.cmdline)) return `${flag}: process ${p.pid} is a uWSGI helper (${p.cmdline}); its master is pid ${p.ppid}`
  return null
}

function resolve(opts: TargetOptions): Target | null {
  const explicit = opts.server === 'uwsgi'
  if (opts.apachePidfile !== undefined) return null
  const configFile = opts.configFile ?? null
  if (opts.master !== undefined || opts.pidfile !== undefined) {
    const pid = opts.master ?? readPidfile(opts.pidfile as string)
    const flag = opts.master !== undefined ? `--master ${pid}` : `--pidfile ${opts.pidfile}`
    const p = procInfo(pid)
    if (!p) throw new TargetError(`${flag}: no process ${pid} is running`, 'no-master')
    if (!isUwsgiProcess(p)) {
      if (!explicit) return null
      throw new TargetError(`${flag}: process ${pid} is not uWSGI (its command line is ${JSON.stringify(p.cmdline.slice(0, 120))})`, 'not-master')
    }
    const notMaster = describeNotMaster(p, flag)
    if (notMaster) throw new TargetError(notMaster, 'not-master')
    if (!isUwsgiMaster(p)) {
      throw new TargetError(
        `${flag}: uWSGI process ${pid} has no workers: it runs without --master (then nothing respawns a stopped worker), or it is an Emperor: ` +
          'name the master of the instance to restart',
        'not-master',
      )
    }
    const t = targetOf(p, opts.master !== undefined ? 'master' : 'pidfile', configFile)
    if (opts.group !== undefined && opts.group !== t.group) {
      throw new UsageError(`${flag} is the uWSGI group '${t.group}', not --group ${opts.group}: drop one of the two, or fix the name`)
    }
    return t
  }
  if (opts.group === undefined) return null
  const masters = allProcesses().filter((p) => isUwsgiProcess(p) && !isChildOfMaster(p) && namingOf(p).group === opts.group && isUwsgiMaster(p))
  if (masters.length === 0) return null
  if (masters.length > 1) {
    throw new TargetError(
      `--group ${opts.group} matches ${masters.length} uWSGI masters (pids ${masters.map((m) => m.pid).join(', ')}): name one with --pidfile FILE or --master PID`,
      'ambiguous',
    )
  }
  return targetOf(masters[0] as ProcInfo, 'group', configFile)
}

function notFoundHint(opts: TargetOptions): string | null {
  if (opts.group === undefined) return null
  const masters = allProcesses().filter((p) => isUwsgiProcess(p) && !isChildOfMaster(p) && isUwsgiMaster(p))
  if (masters.length === 0) return null
  const names = masters.map((m) => `'${namingOf(m).group}' (pid ${m.pid})`)
  return (
    `a uWSGI master named ${opts.group} (procname-master = ${opts.group} titles it so): none; running uWSGI masters are ${names.join(', ')}. ` +
    '--group takes the procname-master name; without one, use --pidfile or --master'
  )
}

function workers(target: Target): ProcInfo[] {
  const master = procInfo(target.masterPid)
  if (!master) return []
  return workerChildren(master, target.meta.titledWorkers === true)
}

function stillBooting(target: Target, w: ProcInfo): string | null {
  const wm = readSignalMasks(w.pid)
  const mm = readSignalMasks(target.masterPid)
  if (!wm || !mm) return null // gone: the roller sees that for itself
  if ((mm.caught & SIGUSR2_BIT) !== 0n) {
    return `cannot tell whether worker ${w.pid} has finished booting: its master catches SIGUSR2 too, which uWSGI's master does not normally do`
  }
  if ((wm.caught & SIGUSR2_BIT) !== 0n && (wm.caught & SIGHUP_BIT) !== 0n) return null
  return (
    `worker ${w.pid} has not finished booting (it does not have uWSGI's worker signal handlers yet): a SIGHUP now would reach ` +
    "the master's handler and stop a different worker"
  )
}

interface LazyFacts {
  on: boolean | null
  evidence: string
}

interface MasterFacts {
  options: UwsgiOptions
  complete: boolean
  log: string | null
  lazy: LazyFacts
}

const APP_READY = /WSGI app \d+ \(mountpoint='[^']*'\) ready in \d+ seconds on interpreter \S+ pid: (\d+)/g

function factsOf(target: Target): MasterFacts {
  const p = procInfo(target.masterPid)
  const log = (target.meta.log as string | null) ?? logFileOf(target.masterPid)
  const configFile = (target.meta.configFile as string | null) ?? null
  const { options, complete } = p ? optionsOf(p, configFile, log) : { options: emptyOptions(), complete: false }
  return { options, complete, log, lazy: lazyOf(target.masterPid, options, complete, log) }
}

/** Whether workers load the app themselves (lazy-apps), from the options, else from what the log says loaded it. */
export function lazyOf(masterPid: number, options: UwsgiOptions, complete: boolean, log: string | null, logText?: string | null): LazyFacts {
  const from = options.sources.join(', ') || 'the options'
  for (const name of ['lazy-apps', 'lazy']) {
    const v = boolOption(options, name)
    if (v !== null) return { on: v, evidence: v ? `${name} is on (${from})` : `${name} is false (${from})` }
  }
  const text = logText !== undefined ? logText : log ? readTail(log) : null
  if (text) {
    const all = [...text.matchAll(APP_READY)]
    const last = all[all.length - 1]
    if (last) {
      const pid = Number(last[1])
      return pid === masterPid
        ? { on: false, evidence: `uWSGI's log (${log}) shows the app loaded by the master (pid ${pid}), so workers fork its code` }
        : { on: true, evidence: `uWSGI's log (${log}) shows the app loaded by worker ${pid}` }
    }
  }
  if (complete) return { on: false, evidence: `neither --lazy-apps nor lazy-apps = true is set (${from})` }
  return {
    on: null,
    evidence:
      "the master's command line is hidden by its process title and neither an ini file nor the log says; pass --server-config FILE (the uWSGI ini) to check",
  }
}

/** What the log says about worker `pid` since it was spawned. */
export interface UwsgiLogEvidence {
  failure: string | null
  exception: string | null
  hook: string | null
}

export function uwsgiEvidence(text: string, pid: number): UwsgiLogEvidence {
  const out: UwsgiLogEvidence = { failure: null, exception: null, hook: null }
  const lines = text.split('\n')
  const spawnRe = new RegExp(`(Respawned uWSGI worker \\d+ \\(new pid: ${pid}\\))|(spawned uWSGI worker \\d+ \\(pid: ${pid},)`)
  let start = -1
  lines.forEach((l, i) => {
    if (spawnRe.test(l)) start = i
  })
  if (start < 0) return out
  for (const line of lines.slice(start + 1)) {
    if (/unable to load app|no app loaded|failed loading app|GAME OVER/.test(line)) out.failure = line.trim()
    else if (line.startsWith(HOOK_LOG_PREFIX) && line.includes(`pid ${pid} `)) out.hook = line.slice(HOOK_LOG_PREFIX.length)
    else if (/^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)(: |$)/.test(line)) out.exception = line.trim()
  }
  return out
}

function scriptOf(o: UwsgiOptions): string | null {
  return lastValue(o, 'wsgi-file') ?? lastValue(o, 'file')
}

function noReadyHint(target: Target): string {
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
  if (causes.length === 0 || ev?.hook) {
    if (!script) causes.push(`check that the WSGI module ends with \`${HOOK_LINE}\``)
    const envNotify = (facts.options.values.get('env') ?? []).find((e) => e.startsWith('ROLLING_RESTART_NOTIFY='))
    const env = isCommandLine(procInfo(target.masterPid)?.argv ?? []) ? readEnviron(target.masterPid) : null
    if (envNotify) causes.push(`the uWSGI options set ${envNotify}: --notify must listen on that address`)
    else if (env?.ROLLING_RESTART_NOTIFY !== undefined) causes.push(`the master's environment has ROLLING_RESTART_NOTIFY=${env.ROLLING_RESTART_NOTIFY}: --notify must listen on that address`)
    else causes.push('ROLLING_RESTART_NOTIFY must be in the environment uWSGI starts with (or `env = ROLLING_RESTART_NOTIFY=host:port` in its ini) and match --notify')
    if (facts.lazy.on === false) causes.push(`lazy-apps is off (${facts.lazy.evidence}): a worker only reports from the hook's post-fork callback`)
  }
  const logNote = facts.log ? `Read uWSGI's log (${facts.log})` : "Read uWSGI's log (its logto / daemonize file, or the service's journal)"
  return `no readiness datagram arrived from a new worker of ${target.description}. ${causes.join('; ')}. ${logNote} for the worker's traceback`
}

function masterGoneHint(target: Target): string {
  const log = (target.meta.log as string | null) ?? null
  return (
    `the uWSGI master (pid ${target.masterPid}) exited: it was stopped (SIGINT or SIGQUIT, or SIGTERM with die-on-term; without ` +
    'die-on-term SIGTERM reloads instead), or, with lazy-apps and need-app, a worker failed to load the app and uWSGI destroyed ' +
    "the whole instance (\"OOPS ! failed loading app ... need-app requested, destroying the instance\"): the new release most likely fails to import" +
    (log ? `. See ${log}` : '')
  )
}

function wrongReleaseHint(target: Target): string {
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

function hazards(target: Target): Hazard[] {
  const facts = factsOf(target)
  const out: Hazard[] = []
  if (facts.lazy.on === false) {
    out.push({
      id: 'lazy-apps-off',
      severity: 'error',
      message: `lazy-apps is off (${facts.lazy.evidence}): restarted workers fork the code the master loaded when it started, never the new release`,
      fix: 'set lazy-apps = true (--lazy-apps) and restart uWSGI once; until then a rolling restart only recycles workers',
    })
  } else if (facts.lazy.on === null) {
    out.push({
      id: 'lazy-apps-unknown',
      severity: 'warning',
      message: `could not tell whether lazy-apps is on: ${facts.lazy.evidence}`,
      fix: 'make sure the uWSGI config has lazy-apps = true, or restarted workers run the old code',
    })
  }
  if (target.meta.procname === null) {
    out.push({
      id: 'no-procname',
      severity: 'warning',
      message: `${target.description} has no procname-master: --group cannot find it by name, and its workers' datagrams carry no GROUP`,
      fix: 'set procname-master = NAME in the uWSGI config (the master is then titled NAME), or keep using --pidfile / --master',
    })
  }
  const reloaders = RELOADERS.filter((r) => lastValue(facts.options, r) !== null)
  if (reloaders.length) {
    out.push({
      id: 'self-reload',
      severity: 'warning',
      message: `uWSGI restarts workers on its own (${reloaders.join(', ')}): such a reload does not wait for readiness and races with a rolling restart`,
      fix: `drop ${reloaders.join(', ')} and let rolling-restart replace the workers`,
    })
  }
  const script = scriptOf(facts.options)
  if (script && scriptHasHook(script) === false) {
    out.push({
      id: 'hook-missing',
      severity: 'error',
      message: `${script} (the WSGI file) has no notify_ready line: new workers never report ready`,
      fix: `end it with \`${HOOK_LINE}\``,
    })
  }
  return out
}

/** For the preflight: wsgi-file or module, chdir, pythonpath, env and home from the uWSGI options. */
function appSpec(target: Target): AppSpec | null {
  const facts = factsOf(target)
  const o = facts.options
  const file = scriptOf(o)
  const module = lastValue(o, 'module') ?? lastValue(o, 'wsgi')
  const callable = lastValue(o, 'callable')
  let spec: string | null = null
  if (file && (callable === null || callable === 'application')) spec = file
  else if (module) spec = module.includes(':') || callable === null ? module : `${module}:${callable}`
  if (spec === null) {
    return {
      spec: null,
      why: file
        ? `the uWSGI options name wsgi-file ${file} with callable = ${callable}, which the preflight cannot load by path`
        : facts.complete
          ? 'the uWSGI options name neither a wsgi-file nor a module'
          : "the uWSGI master's command line is hidden by its process title: pass --server-config FILE (its ini file) or --preflight-app",
    }
  }
  const env: Record<string, string> = {}
  for (const e of o.values.get('env') ?? []) {
    const eq = e.indexOf('=')
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1)
  }
  const home = lastValue(o, 'home') ?? lastValue(o, 'virtualenv') ?? lastValue(o, 'venv') ?? lastValue(o, 'pyhome')
  const venvPython = home ? join(home, 'bin', 'python') : null
  return {
    spec,
    chdir: lastValue(o, 'chdir') ?? undefined,
    pythonpath: ['pythonpath', 'python-path', 'pp'].flatMap((k) => o.values.get(k) ?? []),
    env,
    python: venvPython && existsSync(venvPython) ? venvPython : interpreterOfLibpython(target.masterPid),
    from: `uWSGI options (${o.sources.join(', ')})`,
  }
}

export const uwsgi: ServerAdapter = {
  kind: 'uwsgi',
  label: 'uWSGI',
  stopSignal: 'SIGHUP',
  canSurge: false,
  resolve,
  workers,
  stillBooting,
  notFoundHint,
  masterGoneHint,
  noReadyHint,
  wrongReleaseHint,
  hazards,
  appSpec,
  groupMatches(target: Target, r: Readiness): boolean {
    const procname = target.meta.procname as string | null
    return r.group === (procname ?? target.group)
  },
}
