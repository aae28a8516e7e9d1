/**
 * `rolling-restart doctor`: what would make a rolling restart of this group unsafe or impossible,
 * each with its fix. Reads only: it signals nothing but signal 0, takes no lock, touches no worker.
 *
 * The server's own hazards come from its adapter (Gunicorn: preload_app, a chdir that does not follow
 * `current`, no process titles); the checks here apply to every server: permission to signal, the
 * readiness port, where the workers send their datagrams, the hook being importable, the state file.
 */
import { resolve as resolvePath } from 'node:path'
import { parseNotify } from '../config.js'
import { EXIT, RollingRestartError, type ExitCode } from '../errors.js'
import { readEnviron, readOwner, signal } from '../proc/procfs.js'
import { ReadinessListener } from '../readiness/listener.js'
import { describeTargetFlags, resolveTarget, type Resolved } from '../servers/resolve.js'
import type { Hazard } from '../servers/types.js'
import { holderAlive, lockPath, readHolder } from '../state/lock.js'
import { readState, stateKey, statePath, type GroupState } from '../state/state-file.js'
import { packageVersion } from '../version.js'
import { notifyAddress, printJson, stateDir, targetOptions, type RawTargetFlags } from './common.js'
import { hookChecks, type HookReport } from '../preflight/hook-check.js'
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
  const resolved = resolveTarget({ ...targetOptions(flags), configFile: flags.serverConfig !== undefined ? resolvePath(flags.serverConfig) : undefined })
  const { target } = resolved
  const hazards = [...adapterHazards(resolved, flags), ...permissionHazards(resolved), ...(await notifyHazards(resolved, flags)), ...stateHazards(resolved, flags)]
  const state = safeState(resolved, flags)
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
  try {
    return resolved.adapter.hazards?.(resolved.target, { releaseRoot: flags.root }) ?? []
  } catch (err) {
    return [
      {
        id: 'check-failed',
        severity: 'warning',
        message: `the ${resolved.adapter.label} checks failed: ${(err as Error).message}`,
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

async function notifyHazards(resolved: Resolved, flags: DoctorFlags): Promise<Hazard[]> {
  const out: Hazard[] = []
  let address
  try {
    address = notifyAddress(flags.notify)
  } catch (err) {
    return [{ id: 'notify-invalid', severity: 'error', message: (err as Error).message, fix: 'give --notify HOST:PORT' }]
  }
  const where = `${address.host}:${address.port}`
  try {
    const l = await ReadinessListener.open(address, {}, () => undefined)
    await l.close()
  } catch (err) {
    out.push({
      id: 'notify-port-in-use',
      severity: 'error',
      message: `cannot listen on the readiness address ${where}: ${err instanceof RollingRestartError ? err.message : (err as Error).message}`,
      fix: `wait for the run that holds it, or give this group its own port: --notify HOST:PORT and the same ROLLING_RESTART_NOTIFY in the server's environment`,
    })
  }
  // Where the workers will send: the server's ROLLING_RESTART_NOTIFY, when its environment is readable.
  const env = readEnviron(resolved.target.masterPid)
  const theirs = env && Object.keys(env).length > 0 ? (env.ROLLING_RESTART_NOTIFY ?? '127.0.0.1:4012') : null
  if (theirs !== null) {
    if (theirs.toLowerCase() === 'off') {
      out.push({
        id: 'notify-off',
        severity: 'error',
        message: `${resolved.target.description} runs with ROLLING_RESTART_NOTIFY=off: its workers send no readiness datagram`,
        fix: `set ROLLING_RESTART_NOTIFY=${where} in the server's environment and restart the master once`,
      })
    } else {
      let parsed = null
      try {
        parsed = parseNotify('ROLLING_RESTART_NOTIFY', theirs)
      } catch {
        parsed = null
      }
      if (!parsed || parsed.port !== address.port || !sameHost(parsed.host, address.host)) {
        out.push({
          id: 'notify-mismatch',
          severity: 'error',
          message: `the workers of ${resolved.target.description} send their datagrams to ${theirs} (ROLLING_RESTART_NOTIFY), but runs listen on ${where}`,
          fix: `run rolling-restart with --notify ${theirs}, or set ROLLING_RESTART_NOTIFY=${where} in the server's environment`,
        })
      }
    }
  }
  return out
}

function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => (h === 'localhost' ? '127.0.0.1' : h)
  return norm(a) === norm(b) || norm(a) === '0.0.0.0' || norm(b) === '0.0.0.0'
}

function safeState(resolved: Resolved, flags: DoctorFlags): GroupState | null {
  try {
    return readState(stateDir(flags), stateKey(resolved.target.server, resolved.target.group))
  } catch {
    return null
  }
}

function stateHazards(resolved: Resolved, flags: DoctorFlags): Hazard[] {
  const { target } = resolved
  const dir = stateDir(flags)
  const key = stateKey(target.server, target.group)
  const out: Hazard[] = []
  let state: GroupState | null = null
  try {
    state = readState(dir, key)
  } catch (err) {
    out.push({
      id: 'state-corrupt',
      severity: 'error',
      message: (err as Error).message,
      fix: `move ${statePath(dir, key)} aside (the group then starts afresh, with no history)`,
    })
    return out
  }
  if (state?.errorResistance) {
    const er = state.errorResistance
    out.push({
      id: 'error-resistance',
      severity: 'error',
      message: `group '${target.group}' is in error-resistance mode since ${er.at} (${er.reason}): ${er.message}`,
      fix: `fix the cause, then \`rolling-restart resume ${describeTargetFlags(targetOptions(flags))}\`; until then every run exits 5`,
    })
  }
  if (state && state.surplus > 0) {
    out.push({
      id: 'surplus',
      severity: 'warning',
      message: `the master runs ${state.surplus} worker(s) above its configured count, left by a failed surge step`,
      fix: 'the next successful run retires them',
    })
  }
  const holder = readHolder(lockPath(dir, key))
  if (holder && holder !== 'partial' && holderAlive(holder)) {
    out.push({
      id: 'run-in-progress',
      severity: 'warning',
      message: `a rolling-restart run (pid ${holder.pid}, since ${holder.since}) holds the lock on this group`,
      fix: 'wait for it: a second run now exits 5',
    })
  }
  return out
}
