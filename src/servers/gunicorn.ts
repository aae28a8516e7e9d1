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
import { readFileSync } from 'node:fs'
import { TargetError, UsageError } from '../errors.js'
import { allProcesses, childrenOf, procInfo, readCwd, readEnviron, signal, type ProcInfo } from '../proc/procfs.js'
import type { Hazard, ServerAdapter, Target, TargetOptions } from './types.js'

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

export function readPidfile(path: string, flag = '--pidfile'): number {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new TargetError(
      code === 'ENOENT'
        ? `${flag} ${path}: no such file: is the server running, and is this the pidfile its configuration names?`
        : `${flag} ${path}: cannot read it (${code})`,
      'pidfile',
    )
  }
  const m = /^\s*(\d+)\s*$/.exec(text)
  if (!m) throw new TargetError(`${flag} ${path} does not hold a process id (it contains ${JSON.stringify(text.slice(0, 40))})`, 'pidfile')
  const pid = Number(m[1])
  if (!procInfo(pid)) {
    throw new TargetError(
      `${flag} ${path} is stale: it names pid ${pid}, which is not running. The server has stopped (check its log) or writes its pidfile elsewhere`,
      'pidfile-stale',
    )
  }
  return pid
}

function targetOf(p: ProcInfo, via: Target['via']): Target {
  const group = gunicornName(p) ?? `gunicorn-${p.pid}`
  return {
    server: 'gunicorn',
    group,
    masterPid: p.pid,
    masterStartTicks: p.startTicks,
    description: `Gunicorn master ${p.pid} [${group}]`,
    via,
    meta: { titled: MASTER_TITLE.test(p.cmdline) },
  }
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
      const t = targetOf(p, opts.master !== undefined ? 'master' : 'pidfile')
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
    return targetOf(masters[0] as ProcInfo, 'group')
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
      "Check Gunicorn's error log, fix the release, start the server again; `rolling-restart preflight` style checks " +
      '(on by default where available) catch this before any worker is touched'
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
    const hints = [
      'with preload_app (--preload) the master loaded the app once and every new worker forks that old code: restart the master instead, or turn preload off',
    ]
    const cwd = readCwd(target.masterPid)
    if (cwd) {
      hints.push(
        `the master's working directory is ${cwd}; if the app lives behind a 'current' symlink, the master still sits in the old release: set chdir to the symlink path (e.g. --chdir /srv/app/current), which Gunicorn re-resolves for each worker`,
      )
    }
    return hints.join('; or ')
  },

  hazards(target: Target): Hazard[] {
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
    const env = readEnviron(target.masterPid) ?? {}
    if (p.argv.includes('--preload') || /^(1|true|yes)$/i.test(env.GUNICORN_PRELOAD ?? '')) {
      out.push({
        id: 'preload-app',
        severity: 'error',
        message: `${target.description} runs with preload_app: workers fork the code the master loaded, so a worker restart never loads a new release`,
        fix: 'turn preload_app off for rolling restarts, or restart the master (USR2 + QUIT) to load new code',
      })
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
