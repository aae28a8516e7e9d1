/**
 * Telling a Uvicorn supervisor's processes apart. Uvicorn sets no process titles. Its `--workers`
 * supervisor (uvicorn/supervisors/multiprocess.py) starts each worker with multiprocessing's
 * spawn, so a worker's command line is
 *
 *   /venv/bin/python3 -B -c 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=7, pipe_handle=9)' --multiprocessing-fork
 *
 * and names no application; only the supervisor's own command line does. The supervisor has one
 * more child that is not a worker: multiprocessing's resource tracker
 * (`-c 'from multiprocessing.resource_tracker import main;main(6)'`).
 */
import { childrenOf, readEnviron, type ProcInfo } from '../../proc/procfs.js'
import type { Target } from '../types.js'
import { commandOf, parseUvicornArgs, type UvicornArgs } from './args.js'

function codeArg(argv: readonly string[]): string | null {
  const i = argv.indexOf('-c')
  return i >= 0 ? (argv[i + 1] ?? null) : null
}

/** A worker the supervisor spawned (multiprocessing's spawn_main). */
export function isSpawnWorker(p: ProcInfo): boolean {
  return (codeArg(p.argv) ?? '').startsWith('from multiprocessing.spawn import spawn_main') && p.argv.includes('--multiprocessing-fork')
}

/** multiprocessing's resource tracker: a child of the supervisor, not a worker. */
export function isResourceTracker(p: ProcInfo): boolean {
  return (codeArg(p.argv) ?? '').startsWith('from multiprocessing.resource_tracker import')
}

/** The uvicorn / fastapi command line of `p`, parsed; null for any other process. */
export function uvicornArgsOf(p: ProcInfo): UvicornArgs | null {
  const cmd = commandOf(p.argv)
  if (!cmd) return null
  const env = readEnviron(p.pid) ?? {}
  return parseUvicornArgs(cmd.command, p.argv.slice(cmd.index + 1), env)
}

/** The supervisor's workers now, oldest first: its spawned children, without the resource tracker. */
export function workers(target: Target): ProcInfo[] {
  return childrenOf(target.masterPid).filter(isSpawnWorker)
}

/** Of these children of the supervisor, its workers. */
export function workersAmong(_target: Target, children: readonly ProcInfo[]): ProcInfo[] {
  return children.filter(isSpawnWorker)
}

/** What a process is, as far as rolling it goes. */
export type UvicornRole =
  | { role: 'supervisor'; args: UvicornArgs | null }
  | { role: 'worker' }
  | { role: 'reloader'; args: UvicornArgs }
  | { role: 'single'; args: UvicornArgs }
  | { role: 'other' }

/**
 * A uvicorn/fastapi command with spawned workers is a supervisor (with --reload: a reloader); one
 * without is a single server that nothing restarts. `anyCommand`: a process running something else
 * that has spawned workers counts too (uvicorn.run(..., workers=N) from a script), for --server uvicorn.
 */
export function roleOf(p: ProcInfo, anyCommand = false): UvicornRole {
  if (isSpawnWorker(p)) return { role: 'worker' }
  const args = uvicornArgsOf(p)
  if (!args && !anyCommand) return { role: 'other' }
  const spawned = childrenOf(p.pid).some(isSpawnWorker)
  if (args?.reload) return { role: 'reloader', args }
  if (spawned) return { role: 'supervisor', args }
  return args ? { role: 'single', args } : { role: 'other' }
}
