/** --master, --pidfile or --group -> the Uvicorn `--workers` supervisor and its target; and why --group found none. */
import { TargetError } from '../../errors.js'
import { allProcesses, procInfo, type ProcInfo } from '../../proc/procfs.js'
import { clip } from '../shared/log-tail.js'
import { checkGroupAgrees, namedMaster, quotedCommandLine, type NamedMaster } from '../shared/named-master.js'
import type { Target, TargetOptions } from '../types.js'
import { commandOf, type UvicornArgs } from './args.js'
import { namingOf } from './naming.js'
import { roleOf, type UvicornRole } from './processes.js'

function targetOf(p: ProcInfo, args: UvicornArgs | null, via: Target['via']): Target {
  const naming = namingOf(p, args)
  return {
    server: 'uvicorn',
    group: naming.group,
    masterPid: p.pid,
    masterStartTicks: p.startTicks,
    description: `Uvicorn supervisor ${p.pid} [${naming.group}]`,
    via,
    meta: { command: args?.command ?? null, found: `supervisor running ${clip(p.cmdline, 80)}; group from ${naming.from}` },
  }
}

/** Why a uvicorn process that is not a supervisor cannot be rolled. */
function notSupervisor(flag: string, p: ProcInfo, role: UvicornRole): string {
  switch (role.role) {
    case 'worker':
      return `${flag}: process ${p.pid} is a Uvicorn worker; its supervisor is pid ${p.ppid}: use --master ${p.ppid}`
    case 'reloader':
      return `${flag}: Uvicorn ${p.pid} runs with --reload: it restarts its one server on file changes and has no workers to roll. Run it with --workers 2 (or more) and without --reload`
    case 'single':
      return (
        `${flag}: Uvicorn ${p.pid} runs without --workers (a single process, no supervisor): nothing would start a replacement for a stopped worker. ` +
        'Run it with --workers 2 or more (or WEB_CONCURRENCY), or under Gunicorn with -k uvicorn.workers.UvicornWorker'
      )
    default:
      return `${flag}: process ${p.pid} is not a Uvicorn supervisor (its command line is ${quotedCommandLine(p)}): it has no workers started by multiprocessing's spawn`
  }
}

function parentIsUvicorn(p: ProcInfo): boolean {
  const parent = procInfo(p.ppid)
  return parent !== null && commandOf(parent.argv) !== null
}

function namedTarget(opts: TargetOptions, { proc: p, flag, via }: NamedMaster): Target | null {
  const explicit = opts.server === 'uvicorn'
  const role = roleOf(p, explicit)
  if (role.role !== 'supervisor') {
    const uvicornish = role.role === 'worker' ? parentIsUvicorn(p) : role.role !== 'other'
    if (!explicit && !uvicornish) return null
    throw new TargetError(notSupervisor(flag, p, role), 'not-master')
  }
  const t = targetOf(p, role.args, via)
  checkGroupAgrees(opts, flag, 'Uvicorn', t)
  return t
}

export function resolve(opts: TargetOptions): Target | null {
  if (opts.apachePidfile !== undefined) return null
  const named = namedMaster(opts)
  if (named) return namedTarget(opts, named)
  if (opts.group === undefined) return null
  const found: Target[] = []
  for (const p of allProcesses()) {
    if (!commandOf(p.argv)) continue
    const role = roleOf(p)
    if (role.role === 'supervisor' && namingOf(p, role.args).group === opts.group) found.push(targetOf(p, role.args, 'group'))
  }
  if (found.length > 1) {
    throw new TargetError(
      `--group ${opts.group} matches ${found.length} Uvicorn supervisors (pids ${found.map((t) => t.masterPid).join(', ')}): ` +
        'give each its own ROLLING_RESTART_GROUP, or name one with --master PID',
      'ambiguous',
    )
  }
  return found[0] ?? null
}

/** Every Uvicorn --workers supervisor among `procs`, named by its pid. */
export function findAll(procs: readonly ProcInfo[]): TargetOptions[] {
  return procs.filter((p) => commandOf(p.argv) !== null && roleOf(p).role === 'supervisor').map((p) => ({ master: p.pid, server: 'uvicorn' }))
}

/** Running uvicorn commands and what they are named, for the not-found error. */
export function notFoundHint(opts: TargetOptions): string | null {
  if (opts.group === undefined) return null
  const seen: string[] = []
  for (const p of allProcesses()) {
    if (!commandOf(p.argv)) continue
    const role = roleOf(p)
    if (role.role === 'supervisor') seen.push(`'${namingOf(p, role.args).group}' (pid ${p.pid})`)
    else if (role.role === 'single' || role.role === 'reloader') {
      seen.push(`pid ${p.pid} ${role.role === 'single' ? 'without --workers' : 'with --reload'}, which cannot be rolled`)
    }
  }
  const what = `a Uvicorn supervisor (uvicorn APP --workers N) named ${opts.group}: its ROLLING_RESTART_GROUP, else its app spec (main:app)`
  return seen.length ? `${what}; running Uvicorn servers: ${seen.join(', ')}` : what
}
