/**
 * `rolling-restart doctor`: what would make a rolling restart of this group unsafe or impossible,
 * each with its fix. Reads only: it signals nothing but signal 0, takes no lock, touches no worker.
 *
 * The server's own hazards come from its adapter (Gunicorn: preload_app, a chdir that does not follow
 * `current`, no process titles, an ASGI app under a WSGI worker class); the checks in src/doctor/
 * apply to every server: the readiness port and where the workers send their datagrams
 * (notify.ts), the state file and lock (state.ts), the hook being importable (hook.ts), and the
 * status probe's Host against the app's Host check (status-host.ts). Permission to signal is here.
 */
import { resolve as resolvePath } from 'node:path'
import { EXIT, type ExitCode } from '../errors.js'
import { readOwner, signal } from '../proc/procfs.js'
import { hookChecks, type HookReport } from '../preflight/hook-check.js'
import { packageVersion } from '../version.js'
import { notifyHazards } from '../doctor/notify.js'
import { safeState, stateHazards } from '../doctor/state.js'
import { statusHostHazards } from '../doctor/status-host.js'
import { describeTargetFlags, resolveTarget, type Resolved } from '../servers/resolve.js'
import type { Hazard } from '../servers/types.js'
import { notifyAddress, printJson, stateDir, targetOptions, type RawTargetFlags } from './common.js'
import type { Command } from 'commander'

export interface DoctorFlags extends RawTargetFlags {
  json?: boolean
  notify?: string
  serverConfig?: string
  root?: string
  preflightPython?: string
}

export interface DoctorReport {
  /** no hazard of severity error */
  ok: boolean
  group: string
  server: string
  masterPid: number
  hazards: Hazard[]
  /** the hook's version: this CLI's, the one the server imports, the one its workers last sent */
  hook?: HookReport
}

export function addDoctorOptions(cmd: Command): Command {
  return cmd
    .option('--notify <host:port>', 'the readiness address the runs will listen on (env ROLLING_RESTART_NOTIFY)')
    .option('--server-config <file>', "the server's config file (gunicorn -c), when its command line is hidden by its process title")
    .option('--root <dir>', 'the deploy root (releases/ and current): check that the server loads its code through current')
    .option('--preflight-python <path>', "the server's Python interpreter, when it is not the master's own executable")
    .option('--json', 'print {ok, group, server, hazards} as JSON')
}

export async function doctorCommand(flags: DoctorFlags): Promise<ExitCode> {
  const resolved = await resolveTarget({ ...targetOptions(flags), configFile: flags.serverConfig !== undefined ? resolvePath(flags.serverConfig) : undefined })
  const { target } = resolved
  const where = { dir: stateDir(flags), targetFlags: describeTargetFlags(targetOptions(flags)) }
  const hazards = [
    ...adapterHazards(resolved, flags),
    ...guarded('status probe Host', () => statusHostHazards(resolved)),
    ...permissionHazards(resolved),
    ...(await notifyHazards(resolved, () => notifyAddress(flags.notify))),
    ...stateHazards(resolved, where),
  ]
  const state = safeState(resolved, where)
  const hookCheck = hookChecks(resolved, state, flags.preflightPython, packageVersion())
  hazards.push(...hookCheck.hazards)
  const report: DoctorReport = {
    ok: !hazards.some((h) => h.severity === 'error'),
    group: target.group,
    server: target.server,
    masterPid: target.masterPid,
    hazards: sortHazards(hazards),
    hook: hookCheck.hook,
  }
  if (flags.json) printJson(report)
  else process.stdout.write(renderDoctor(report, target.description))
  return report.ok ? EXIT.OK : EXIT.HAZARDS
}

export function sortHazards(hazards: Hazard[]): Hazard[] {
  const rank = (h: Hazard) => (h.severity === 'error' ? 0 : 1)
  return [...hazards].sort((a, b) => rank(a) - rank(b))
}

export function renderDoctor(r: DoctorReport, description: string): string {
  const lines = [`${description}`]
  if (r.hook) lines.push(`  ${hookLine(r.hook)}`)
  if (r.hazards.length === 0) {
    lines.push('  no hazards found: a rolling restart should be safe')
  }
  for (const h of r.hazards) {
    lines.push(`  ${h.severity.padEnd(7)} ${h.id}: ${h.message}`)
    lines.push(`          fix: ${h.fix}`)
  }
  const errors = r.hazards.filter((h) => h.severity === 'error').length
  const warnings = r.hazards.length - errors
  if (r.hazards.length) lines.push(`${errors} error(s), ${warnings} warning(s)`)
  return lines.join('\n') + '\n'
}

/** `hook: installed 0.1.0 (/path/__init__.py), last reported 0.1.0 (worker 5160); rolling-restart 0.1.0` */
export function hookLine(h: HookReport): string {
  const installed = h.installed ? `installed ${h.installed.version ?? 'unknown'} (${h.installed.file})` : 'installed: not found or not checked'
  const reported = h.reported ? `last reported ${h.reported.version ?? 'none (an old hook)'} (worker ${h.reported.pid ?? '?'})` : 'no run has heard it yet'
  return `hook: ${installed}, ${reported}; rolling-restart ${h.version}`
}

function adapterHazards(resolved: Resolved, flags: DoctorFlags): Hazard[] {
  return guarded(resolved.adapter.label, () => resolved.adapter.hazards?.(resolved.target, { releaseRoot: flags.root }) ?? [])
}

/** A check that throws reports that as a warning; the other checks still run. */
function guarded(what: string, check: () => Hazard[]): Hazard[] {
  try {
    return check()
  } catch (err) {
    return [
      {
        id: 'check-failed',
        severity: 'warning',
        message: `the ${what} checks failed: ${(err as Error).message}`,
        fix: 'report this; the other checks below still ran',
      },
    ]
  }
}

function permissionHazards(resolved: Resolved): Hazard[] {
  const { adapter, target } = resolved
  const out: Hazard[] = []
  const workers = adapter.workers(target)
  if (workers.length === 0) {
    out.push({
      id: 'no-workers',
      severity: 'warning',
      message: `${target.description} has no workers right now`,
      fix: 'wait until it has started; a restart now would have nothing to do',
    })
  }
  const denied = [
    ...(signal(target.masterPid, 0) === 'denied' ? [`the master (pid ${target.masterPid})`] : []),
    ...workers.filter((w) => signal(w.pid, 0) === 'denied').map((w) => `worker ${w.pid}`),
  ]
  if (denied.length) {
    out.push({
      id: 'cannot-signal',
      severity: 'error',
      message: `not permitted to signal ${denied.join(', ')} (uid ${process.getuid?.() ?? '?'})`,
      fix: `run rolling-restart as the server's user (uid ${readOwner(target.masterPid)?.uid ?? '?'}) or as root`,
    })
  }
  return out
}

