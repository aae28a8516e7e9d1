/** doctor: can the server's interpreter, with the server's environment, import the hook? */
import { spawnSync } from 'node:child_process'
import { delimiter } from 'node:path'
import { readCwd, readEnviron, readOwner } from '../proc/procfs.js'
import { pythonOf } from '../preflight/plan.js'
import { tailLines } from '../preflight/run.js'
import type { Resolved } from '../servers/resolve.js'
import type { Hazard } from '../servers/types.js'
import type { GroupState } from '../state/state-file.js'

/**
 * Is the hook importable by the server's interpreter with the server's environment? Skipped (with
 * a warning) when that environment cannot be read, unless earlier runs already heard from the hook.
 */
export function hookHazards(resolved: Resolved, flags: { preflightPython?: string | undefined }, state: GroupState | null): Hazard[] {
  const { adapter, target } = resolved
  const heard = state !== null && Object.values(state.workers).some((w) => w.status !== null)
  const env = readEnviron(target.masterPid)
  const app = adapter.appSpec?.(target) ?? null
  const python = pythonOf(target.masterPid, app?.python, flags.preflightPython)
  if (!env || Object.keys(env).length === 0 || !python) {
    if (heard) return []
    return [
      {
        id: 'hook-unchecked',
        severity: 'warning',
        message:
          `could not check that ${target.description} can import rolling_restart_hook: ` +
          (!python ? 'its Python interpreter is unknown' : "its environment is unreadable (setproctitle blanks /proc/PID/environ unless the server runs with SPT_NOENV=1)") +
          ', and no run has heard from its workers yet',
        fix: 'check that the hook is on the server\'s PYTHONPATH (rolling-restart hook-path) or pip-installed, and that its config calls it',
      },
    ]
  }
  const cwd = app?.chdir ?? readCwd(target.masterPid) ?? '/'
  const extra = app?.pythonpath ?? []
  const childEnv: Record<string, string> = { ...env, ...(app?.env ?? {}), PYTHONDONTWRITEBYTECODE: '1' }
  if (extra.length) childEnv.PYTHONPATH = [...extra, ...(env.PYTHONPATH ?? '').split(delimiter).filter(Boolean)].join(delimiter)
  const owner = typeof process.getuid === 'function' && process.getuid() === 0 ? (adapter.workers(target)[0] ? readOwner(adapter.workers(target)[0]!.pid) : null) : null
  const r = spawnSync(python.path, ['-c', 'import rolling_restart_hook, sys; sys.stdout.write(rolling_restart_hook.__file__)'], {
    cwd,
    env: childEnv,
    encoding: 'utf8',
    timeout: 20_000,
    ...(owner && owner.uid !== 0 ? { uid: owner.uid, gid: owner.gid } : {}),
  })
  if (r.status === 0) return []
  const why = r.error ? r.error.message : tailLines(r.stderr ?? '', 3).join(' / ')
  return [
    {
      id: 'hook-not-importable',
      severity: 'error',
      message: `${python.path} cannot import rolling_restart_hook with the environment of ${target.description} (cwd ${cwd}): ${why}`,
      fix: `put $(rolling-restart hook-path) on the server's PYTHONPATH, or pip install it into the server's environment, then restart the master once`,
    },
  ]
}
