/**
 * Gunicorn. The master (arbiter) forks the workers; with python3-setproctitle their titles are
 * `gunicorn: master [NAME]` and `gunicorn: worker [NAME]`, NAME being the proc_name setting.
 *
 * Signals (gunicorn/arbiter.py, 20.1): TERM to a worker is graceful (it finishes its request and
 * exits; the master spawns a replacement). TTIN to the master raises the worker count by one and
 * spawns at once; TTOU lowers it and TERMs the oldest worker (by spawn order). The master keeps at
 * most 5 queued signals and drops the rest, so master signals are sent one at a time and verified.
 * HUP to a *worker* kills it at once: never sent.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { TargetError, UsageError } from '../errors.js'
import { allProcesses, childrenOf, procInfo, readCwd, readEnviron, signal, type ProcInfo } from '../proc/procfs.js'
import { findReleaseRoot, gunicornImportOrder, importVerdict, layoutOf, throughCurrent, type ReleaseLayout } from '../release/layout.js'
import { gunicornSettings, rawEnvVars, type GunicornSettings, type Known } from './gunicorn-settings.js'
import { readPidfile } from './shared/pidfile.js'
import type { AppSpec, Hazard, HazardContext, ServerAdapter, Target, TargetOptions } from './types.js'

const MASTER_TITLE = /^gunicorn: master \[(.*)\]$/
const WORKER_TITLE = /^gunicorn: worker \[(.*)\]$/

/** The gunicorn entry point in a command line without a process title: `.../gunicorn ...` or `-m gunicorn`. */
function gunicornArgIndex(argv: string[]): number {
  for (let i = 0; i < Math.min(argv.length, 4); i++) {
    const a = argv[i] as string
    if (/(^|\/)gunicorn3?$/.test(a)) return i
    if (a === '-m' && argv[i + 1] === 'gunicorn') return i + 1
  }
  return -1
}

function optionValue(argv: string[], short: string, long: string): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === short || a === long) return argv[i + 1] ?? null
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1)
    if (a.startsWith(short) && a.length > short.length && !a.startsWith('--')) return a.slice(short.length)
  }
  return null
}

/** The name Gunicorn uses for the group: proc_name (title), else --name, else the app spec (its default proc_name). */
export function gunicornName(p: ProcInfo): string | null {
  const title = MASTER_TITLE.exec(p.cmdline)
  if (title) return title[1] ?? null
  const gi = gunicornArgIndex(p.argv)
  if (gi < 0) return null
  const named = optionValue(p.argv, '-n', '--name')
  if (named) return named
  const positional = p.argv.slice(gi + 1).filter((a, i, all) => !a.startsWith('-') && !(all[i - 1] ?? '').startsWith('-'))
  return positional[positional.length - 1] ?? `gunicorn-${p.pid}`
}

export function isGunicornMaster(p: ProcInfo): boolean {
  if (MASTER_TITLE.test(p.cmdline)) return true
  if (WORKER_TITLE.test(p.cmdline) || gunicornArgIndex(p.argv) < 0) return false
  // Without process titles, master and workers share one command line: the master is the one
  // whose parent is not running that same command line.
  const parent = procInfo(p.ppid)
  return !parent || parent.cmdline !== p.cmdline
}

function targetOf(p: ProcInfo, via: Target['via'], configFile?: string): Target {
  const group = gunicornName(p) ?? `gunicorn-${p.pid}`
  return {
    server: 'gunicorn',
    group,
    masterPid: p.pid,
    masterStartTicks: p.startTicks,
    description: `Gunicorn master ${p.pid} [${group}]`,
    via,
    meta: { titled: MASTER_TITLE.test(p.cmdline), ...(configFile !== undefined ? { configFile } : {}) },
  }
}

/** The master's effective settings, from whatever is visible (see gunicorn-settings.ts). */
export function settingsOf(target: Target): GunicornSettings | null {
  const p = procInfo(target.masterPid)
  if (!p) return null
  const gi = MASTER_TITLE.test(p.cmdline) ? -1 : gunicornArgIndex(p.argv)
  const env = readEnviron(target.masterPid)
  return gunicornSettings({
    args: gi >= 0 ? p.argv.slice(gi + 1) : null,
    env: env && Object.keys(env).length > 0 ? env : null,
    cwd: readCwd(target.masterPid),
    explicitConfig: typeof target.meta.configFile === 'string' ? target.meta.configFile : undefined,
  })
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}

function source<T>(k: Known<T>, settings: GunicornSettings): string {
  return k.from === 'config file' ? `config file ${settings.configFile}` : k.from
}

/** The release layout the master belongs to: --root when given, else found from its directories. */
function layoutFor(target: Target, settings: GunicornSettings | null, ctx?: HazardContext): ReleaseLayout | null {
  if (ctx?.releaseRoot) return layoutOf(realpathOrNull(ctx.releaseRoot) ?? ctx.releaseRoot)
  const cwd = readCwd(target.masterPid)
  for (const p of [settings?.chdir.value, cwd]) {
    const found = p ? findReleaseRoot(p) : null
    if (found) return found
  }
  return null
}

/** preload_app and stale working directory, the two reasons a restarted worker keeps old code. */
function oldCodeHazards(target: Target, settings: GunicornSettings | null, ctx?: HazardContext): Hazard[] {
  const out: Hazard[] = []
  if (settings?.preload.value === true) {
    out.push({
      id: 'preload-app',
      severity: 'error',
      message:
        `${target.description} runs with preload_app (from the ${source(settings.preload, settings)}): the master imported the app once ` +
        'and every restarted worker is a fork of it, so a rolling restart never loads a new release',
      fix: 'set preload_app = False (drop --preload) and restart the master once; with preload on, new code needs a master restart (USR2, then QUIT to the old master)',
    })
  }
  const layout = layoutFor(target, settings, ctx)
  if (!layout) return out
  const cwd = readCwd(target.masterPid)
  const currentReal = realpathOrNull(layout.current)
  const chdir = settings?.chdir.value ?? null
  // Gunicorn's start directory, when it can be told: a $PWD through `current` (see gunicornImportOrder)
  const pwd = settings?.pwd ?? null
  const startDir = pwd !== null && throughCurrent(pwd, layout.current, realpathOrNull) ? pwd : null
  const order =
    chdir === null ? null : gunicornImportOrder({ chdir, pythonpath: settings?.pythonpath.value ?? [], envPythonpath: settings?.envPythonpath ?? [], startDir })
  const { verdict, entry } = importVerdict({
    current: layout.current,
    releases: realpathOrNull(layout.releases) ?? layout.releases,
    currentReal,
    cwd,
    order,
    realpath: realpathOrNull,
  })
  const fix =
    `make Gunicorn import through the symlink: chdir = '${layout.current}' in its config (or --chdir ${layout.current}), ` +
    `without ${layout.current} on PYTHONPATH, then restart the master once (a rolling restart cannot change the import path the master already built)`
  const from = entry === chdir && settings ? `its chdir ${entry} (from the ${source(settings.chdir, settings)})` : `${entry} on its import path`
  if (verdict === 'stale') {
    out.push({
      id: 'stale-cwd',
      severity: 'error',
      message: `${target.description} imports the app from ${from}, a release directory, while ${layout.current} points to ${currentReal}: restarted workers load the old release, not through ${layout.current}`,
      fix,
    })
  } else if (verdict === 'pinned') {
    out.push({
      id: 'stale-cwd',
      severity: 'error',
      message: `${target.description} imports the app from ${from}, the real directory of the live release, not through ${layout.current}: after the next deploy, restarted workers would keep loading this release`,
      fix,
    })
  } else if (verdict === 'start-dir-decides') {
    out.push({
      id: 'stale-cwd',
      severity: 'warning',
      message:
        `${target.description} has ${entry} on PYTHONPATH, so Gunicorn does not move its chdir to the front of sys.path: the directory it was started in comes first. ` +
        'If that was a release directory (a service started in releases/NAME), restarted workers keep loading that release',
      fix: `remove ${layout.current} from PYTHONPATH (chdir = '${layout.current}' alone is enough), or start Gunicorn from outside the releases (e.g. in ${layout.root})`,
    })
  } else if (verdict === 'unknown-differs') {
    out.push({
      id: 'stale-cwd',
      severity: 'warning',
      message:
        `the working directory of ${target.description} is ${cwd}, but ${layout.current} points to ${currentReal}. Fine if Gunicorn's chdir is ${layout.current} ` +
        '(restarted workers then import through the symlink); if chdir is the real release path, they load the old release. Its chdir could not be read',
      fix: `check that chdir = '${layout.current}'; pass --server-config FILE so this can be checked`,
    })
  }
  return out
}

export const gunicorn: ServerAdapter = {
  kind: 'gunicorn',
  label: 'Gunicorn',
  stopSignal: 'SIGTERM',
  canSurge: true,

  resolve(opts: TargetOptions): Target | null {
    const explicit = opts.server === 'gunicorn'
    if (opts.master !== undefined || opts.pidfile !== undefined) {
      const pid = opts.master ?? readPidfile(opts.pidfile as string)
      const p = procInfo(pid)
      const flag = opts.master !== undefined ? `--master ${pid}` : `--pidfile ${opts.pidfile}`
      if (!p) throw new TargetError(`${flag}: no process ${pid} is running`, 'no-master')
      if (!isGunicornMaster(p)) {
        if (!explicit) return null
        throw new TargetError(
          `${flag}: process ${pid} is not a Gunicorn master (its command line is ${JSON.stringify(p.cmdline.slice(0, 120))})` +
            (WORKER_TITLE.test(p.cmdline) ? `; it is a worker: its master is pid ${p.ppid}` : ''),
          'not-master',
        )
      }
      const t = targetOf(p, opts.master !== undefined ? 'master' : 'pidfile', opts.configFile)
      if (opts.group !== undefined && opts.group !== t.group) {
        throw new UsageError(`${flag} is the Gunicorn group '${t.group}', not --group ${opts.group}: drop one of the two, or fix the name`)
      }
      return t
    }
    if (opts.group === undefined) return null
    const masters = allProcesses().filter((p) => isGunicornMaster(p) && gunicornName(p) === opts.group)
    if (masters.length === 0) return null
    // During a USR2 binary upgrade the new master is a child of the old one: both carry the name.
    if (masters.length > 1) {
      throw new TargetError(
        `--group ${opts.group} matches ${masters.length} Gunicorn masters (pids ${masters.map((m) => m.pid).join(', ')}); ` +
          `a USR2 upgrade may be in progress. Name one with --master PID or --pidfile FILE`,
        'ambiguous',
      )
    }
    return targetOf(masters[0] as ProcInfo, 'group', opts.configFile)
  },

  workers(target: Target): ProcInfo[] {
    // Every child of the arbiter is a worker, except a new master forked by USR2.
    return childrenOf(target.masterPid).filter((c) => !MASTER_TITLE.test(c.cmdline) && !isGunicornMasterChild(c))
  },

  surgeUp(target: Target): void {
    masterSignal(target, 'SIGTTIN')
  },

  surgeDown(target: Target): void {
    masterSignal(target, 'SIGTTOU')
  },

  masterGoneHint(): string {
    return (
      'Gunicorn halts the whole master when a worker fails to boot (it exits with code 3, "Worker failed to boot", ' +
      'or 4, "App failed to load"): the new release most likely raises while importing the app. ' +
      "Check Gunicorn's error log, fix the release, start the server again. The preflight (on by default; it needs the app " +
      'spec from the command line, the config file or --preflight-app) loads the release in a throwaway interpreter first and catches this before any worker is touched'
    )
  },

  noReadyHint(target: Target): string {
    return (
      `no readiness datagram arrived from a new worker of ${target.description}. Check that the Gunicorn config has ` +
      "`from rolling_restart_hook.gunicorn import post_worker_init`, that the hook is importable (PYTHONPATH or " +
      '`pip install ./python-hooks`), that ROLLING_RESTART_NOTIFY in the server environment matches --notify, and ' +
      "Gunicorn's error log for a worker that hangs while importing the app"
    )
  },

  wrongReleaseHint(target: Target): string {
    const settings = settingsOf(target)
    const known = oldCodeHazards(target, settings)
    if (known.length > 0) return known.map((h) => `${h.message}. Fix: ${h.fix}`).join('; and ')
    const hints = [
      'with preload_app (--preload) the master loaded the app once and every new worker forks that old code: restart the master instead, or turn preload off',
    ]
    const cwd = readCwd(target.masterPid)
    if (cwd) {
      hints.push(
        `the master's working directory is ${cwd}; if the app lives behind a 'current' symlink and Gunicorn's chdir is the real release path, every new worker imports that old release: set chdir to the symlink path (e.g. --chdir /srv/app/current) and restart the master once`,
      )
    }
    if (settings?.blind.length) hints.push(`(not checked: ${settings.blind.join('; ')})`)
    return hints.join('; or ')
  },

  appSpec(target: Target): AppSpec | null {
    const settings = settingsOf(target)
    if (!settings) return null
    const spec = settings.app.value
    return {
      spec,
      chdir: settings.chdir.value ?? undefined,
      pythonpath: settings.pythonpath.value,
      env: rawEnvVars(settings.rawEnv),
      from: spec !== null ? source(settings.app, settings) : undefined,
      why:
        spec === null
          ? `the app of ${target.description} is not on a visible command line or in a config file as wsgi_app` +
            (settings.blind.length ? ` (${settings.blind.join('; ')})` : '')
          : undefined,
    }
  },

  hazards(target: Target, ctx?: HazardContext): Hazard[] {
    const out: Hazard[] = []
    const p = procInfo(target.masterPid)
    if (!p) return out
    if (!MASTER_TITLE.test(p.cmdline)) {
      out.push({
        id: 'no-setproctitle',
        severity: 'warning',
        message: `${target.description} has no process title (python setproctitle is not installed), so --group cannot find it by title`,
        fix: 'install setproctitle (Debian: python3-setproctitle) in the server environment, or use --pidfile / --master',
      })
    }
    const settings = settingsOf(target)
    out.push(...oldCodeHazards(target, settings, ctx))
    // PYTHONPATH matters only for a release layout (it decides whether chdir goes first on sys.path)
    const layout = settings ? layoutFor(target, settings, ctx) : null
    const unchecked = settings
      ? [
          settings.preload.from === 'unknown' ? 'preload_app' : '',
          settings.chdir.from === 'unknown' ? 'chdir' : '',
          layout && settings.envPythonpath === null ? 'PYTHONPATH' : '',
        ].filter(Boolean)
      : []
    if (settings && unchecked.length) {
      const fixes = [
        unchecked.some((u) => u !== 'PYTHONPATH') ? 'pass --server-config FILE (the file given to gunicorn -c)' : '',
        "run the server with SPT_NOENV=1 so its environment (PYTHONPATH, GUNICORN_CMD_ARGS) stays readable",
      ].filter(Boolean)
      out.push({
        id: 'config-unknown',
        severity: 'warning',
        message: `could not read ${unchecked.join(', ')} of ${target.description}, so ${unchecked.length > 1 ? 'they were' : 'it was'} not checked: ${settings.blind.join('; ')}`,
        fix: fixes.join(', or '),
      })
    }
    if (settings?.configFile) {
      let text = ''
      try {
        text = readFileSync(settings.configFile, 'utf8')
      } catch {
        text = ''
      }
      if (text && !text.includes('rolling_restart_hook')) {
        out.push({
          id: 'hook-not-configured',
          severity: 'warning',
          message: `the Gunicorn config ${settings.configFile} does not mention rolling_restart_hook: unless post_worker_init comes from elsewhere, new workers send no readiness datagram and every step would time out`,
          fix: `add \`from rolling_restart_hook.gunicorn import post_worker_init\` to ${settings.configFile} and restart the master once`,
        })
      }
    }
    return out
  },
}

function isGunicornMasterChild(c: ProcInfo): boolean {
  return MASTER_TITLE.test(c.cmdline)
}

function masterSignal(target: Target, sig: NodeJS.Signals): void {
  const outcome = signal(target.masterPid, sig)
  if (outcome === 'denied') {
    throw new TargetError(`not permitted to signal ${target.description}: run as its user or root`, 'denied')
  }
  if (outcome === 'gone') throw new TargetError(`${target.description} is gone`, 'master-gone')
}
