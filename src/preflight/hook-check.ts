/**
 * The hook checks doctor runs: can the server's interpreter, with the server's environment, import
 * rolling_restart_hook, and is that hook (and the one its workers last reported) this version?
 *
 * Two answers, because they can differ: the interpreter shows the hook installed now (what a
 * freshly started master loads); the state file shows the HOOK the workers sent in the last run
 * (what runs, as a Gunicorn master keeps the hook it imported with its config file).
 */
import { spawnSync } from 'node:child_process'
import { delimiter } from 'node:path'
import { readCwd, readEnviron, readOwner } from '../proc/procfs.js'
import { pythonOf } from './plan.js'
import { tailLines } from './run.js'
import type { Resolved } from '../servers/resolve.js'
import type { Hazard } from '../servers/types.js'
import type { GroupState } from '../state/state-file.js'
import { hookDrift } from '../version.js'

export interface HookReport {
  /** this CLI's version */
  version: string
  /** what the server's interpreter imports now; null when that could not be tried, or failed */
  installed: { version: string | null; file: string } | null
  /** the HOOK the workers sent in the last run (version null: none, an old hook); null: no run heard one */
  reported: { version: string | null; pid: number | null; at: string } | null
}

// prints the hook's file, then its version (an old hook's hand-written one, or `unknown`)
const PROBE = 'import rolling_restart_hook as m, sys; sys.stdout.write(m.__file__ + "\\n" + str(getattr(m, "__version__", "") or ""))'

export function hookChecks(resolved: Resolved, state: GroupState | null, preflightPython: string | undefined, cli: string): { hazards: Hazard[]; hook: HookReport } {
  const imported = importHook(resolved, state, preflightPython)
  const hook: HookReport = { version: cli, installed: imported.installed, reported: reportedHook(state) }
  return { hazards: [...imported.hazards, ...versionHazards(resolved, hook)], hook }
}

/** The hook version recorded by the last run that heard one (roll-tracked.ts writes it). */
export function reportedHook(state: GroupState | null): HookReport['reported'] {
  const h = state?.extra.hook as { version?: unknown; reportedBy?: unknown; at?: unknown } | undefined
  if (!h || typeof h !== 'object' || typeof h.at !== 'string') return null
  return {
    version: typeof h.version === 'string' ? h.version : null,
    pid: typeof h.reportedBy === 'number' ? h.reportedBy : null,
    at: h.at,
  }
}

function versionHazards(resolved: Resolved, hook: HookReport): Hazard[] {
  const out: Hazard[] = []
  const installed = hook.installed && hookDrift(hook.version, hook.installed.version, 'its version is unknown (a copy of the hook without the package.json of rolling-restart)')
  if (hook.installed && installed) {
    out.push({
      id: 'hook-version',
      severity: 'warning',
      message: `${resolved.target.description} imports the hook from ${hook.installed.file}: ${installed.message}`,
      fix: installed.fix,
    })
  }
  const reported = hook.reported && hookDrift(hook.version, hook.reported.version)
  if (hook.reported && reported) {
    out.push({
      id: 'hook-version-reported',
      severity: 'warning',
      message: `worker ${hook.reported.pid ?? '?'} of ${resolved.target.description}, replaced at ${hook.reported.at}, reported ${reported.message}`,
      fix: installed || !hook.installed
        ? reported.fix
        : "the installed hook is right, but the server still runs the one it loaded when it started: restart the master once (Gunicorn imports the hook with its config file)",
    })
  }
  return out
}

/**
 * Is the hook importable by the server's interpreter with the server's environment? Skipped (with
 * a warning) when that environment cannot be read, unless earlier runs already heard from the hook.
 */
function importHook(resolved: Resolved, state: GroupState | null, preflightPython: string | undefined): { hazards: Hazard[]; installed: HookReport['installed'] } {
  const { adapter, target } = resolved
  const heard = state !== null && Object.values(state.workers).some((w) => w.status !== null)
  const env = readEnviron(target.masterPid)
  const app = adapter.appSpec?.(target) ?? null
  const python = pythonOf(target.masterPid, app?.python, preflightPython)
  if (!env || Object.keys(env).length === 0 || !python) {
    if (heard) return { hazards: [], installed: null }
    const why = !python ? 'its Python interpreter is unknown' : 'its environment is unreadable (setproctitle blanks /proc/PID/environ unless the server runs with SPT_NOENV=1)'
    return {
      hazards: [
        {
          id: 'hook-unchecked',
          severity: 'warning',
          message: `could not check that ${target.description} can import rolling_restart_hook: ${why}, and no run has heard from its workers yet`,
          fix: "check that the hook is on the server's PYTHONPATH (rolling-restart hook-path) or pip-installed, and that its config calls it",
        },
      ],
      installed: null,
    }
  }
  const cwd = app?.chdir ?? readCwd(target.masterPid) ?? '/'
  const extra = app?.pythonpath ?? []
  const childEnv: Record<string, string> = { ...env, ...(app?.env ?? {}), PYTHONDONTWRITEBYTECODE: '1' }
  if (extra.length) childEnv.PYTHONPATH = [...extra, ...(env.PYTHONPATH ?? '').split(delimiter).filter(Boolean)].join(delimiter)
  const firstWorker = process.getuid?.() === 0 ? adapter.workers(target)[0] : undefined
  const owner = firstWorker ? readOwner(firstWorker.pid) : null
  const r = spawnSync(python.path, ['-c', PROBE], {
    cwd,
    env: childEnv,
    encoding: 'utf8',
    timeout: 20_000,
    ...(owner && owner.uid !== 0 ? { uid: owner.uid, gid: owner.gid } : {}),
  })
  if (r.status === 0) {
    const [file = '', version = ''] = r.stdout.split('\n')
    return { hazards: [], installed: { file, version: version === '' || version === 'unknown' ? null : version } }
  }
  const why = r.error ? r.error.message : tailLines(r.stderr ?? '', 3).join(' / ')
  return {
    hazards: [
      {
        id: 'hook-not-importable',
        severity: 'error',
        message: `${python.path} cannot import rolling_restart_hook with the environment of ${target.description} (cwd ${cwd}): ${why}`,
        fix: `put $(rolling-restart hook-path) on the server's PYTHONPATH, or pip install it into the server's environment, then restart the master once`,
      },
    ],
    installed: null,
  }
}
