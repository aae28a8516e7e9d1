/**
 * `rolling-restart status`: the group's mode and its workers, like passenger-status. Reads only:
 * it takes no lock, so it works while a run is in progress.
 */
import { readdirSync } from 'node:fs'
import { EXIT, RollingRestartError, type ExitCode } from '../errors.js'
import { SERVER_KINDS, formatBytes, formatMs, type ServerKind } from '../config.js'
import type { ServerAdapter, Target } from '../servers/types.js'
import { isAlive } from '../proc/procfs.js'
import { usage } from '../proc/ps-view.js'
import { resolveTarget } from '../servers/resolve.js'
import { holderAlive, lockPath, readHolder } from '../state/lock.js'
import { readState, stateKey, type GroupState } from '../state/state-file.js'
import { failingInState, releaseRootOf, tellFailing, type FailingWorker } from '../run/failing-workers.js'
import { describeTargetFlags } from '../servers/resolve.js'
import { printJson, stateDir, targetOptions, type RawTargetFlags } from './common.js'

export interface StatusFlags extends RawTargetFlags {
  json?: boolean
}

export type WorkerRole = 'old' | 'new' | 'failed' | 'being replaced' | 'booting'

export interface StatusWorker {
  pid: number
  uptimeMs: number
  cpuPercent: number | null
  rssBytes: number | null
  release: string | null
  /** it reported PRELOAD=1: it runs its master's code, not what is on disk */
  preloaded: boolean
  role: WorkerRole
}

export interface StatusReport {
  group: string
  server: string
  masterPid: number
  mode: 'normal' | 'rolling' | 'interrupted' | 'error-resistance'
  /** `step 2 of 4` while rolling; the reason in error-resistance mode */
  detail: string | null
  errorResistance: GroupState['errorResistance']
  surplus: number
  workers: StatusWorker[]
  lastRun: GroupState['runs'][number] | null
  /** listing every group: why this group's master was not found */
  gone?: string
  /** new workers that failed their check and take requests with the broken release */
  failing?: FailingWorker[]
  /** what they are and what to do, in words (null when none) */
  attention?: string | null
}

/** The mode, derived from the state file and the lock: a roll whose runner is dead was interrupted. */
export function modeOf(state: GroupState | null, runnerAlive: boolean): Pick<StatusReport, 'mode' | 'detail'> {
  if (state?.errorResistance) return { mode: 'error-resistance', detail: `${state.errorResistance.reason}: ${state.errorResistance.message}` }
  if (state?.roll) {
    const r = state.roll
    if (!runnerAlive) return { mode: 'interrupted', detail: `run ${r.runPid} stopped at step ${r.done + 1} of ${r.total} without finishing` }
    return { mode: 'rolling', detail: `step ${Math.min(r.done + 1, r.total)} of ${r.total} (${r.strategy}, run ${r.runPid})` }
  }
  return { mode: 'normal', detail: null }
}

export function roleOf(pid: number, state: GroupState | null, rolling: boolean): WorkerRole {
  const record = state?.workers[String(pid)]
  if (record && !record.ready) return 'failed'
  const known = record !== undefined
  if (rolling && state?.roll) {
    if (state.roll.inFlight.includes(pid)) return 'being replaced'
    if (state.roll.oldPids.includes(pid)) return 'old'
    return known ? 'new' : 'booting'
  }
  return known ? 'new' : 'old'
}

/**
 * With a target: that group. Without one: every group the state directory knows, one table each,
 * like passenger-status; a group whose master is no longer found is listed with the reason.
 */
export async function statusCommand(flags: StatusFlags): Promise<ExitCode> {
  const dir = stateDir(flags)
  if (flags.group !== undefined || flags.pidfile !== undefined || flags.master !== undefined || flags.apachePidfile !== undefined) {
    const { adapter, target } = await resolveTarget(targetOptions(flags))
    const report = await groupStatus(adapter, target, dir, describeTargetFlags(targetOptions(flags)))
    if (flags.json) printJson(report)
    else process.stdout.write(renderStatus(report))
    return EXIT.OK
  }
  const reports: StatusReport[] = []
  for (const state of knownGroups(dir)) {
    try {
      const { adapter, target } = await resolveTarget({ group: state.group, server: state.server as ServerKind })
      reports.push(await groupStatus(adapter, target, dir))
    } catch (err) {
      if (!(err instanceof RollingRestartError)) throw err
      reports.push({ ...emptyReport(state), gone: err.message })
    }
  }
  if (flags.json) printJson({ stateDir: dir, groups: reports })
  else if (reports.length === 0) {
    process.stdout.write(`no group has been rolled with the state directory ${dir} yet; name one with --group NAME (or --pidfile / --master)\n`)
  } else process.stdout.write(reports.map(renderStatus).join('\n'))
  return EXIT.OK
}

/** Every group with a state file in `dir`, by name. Files that are not ours are skipped. */
export function knownGroups(dir: string): GroupState[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const out: GroupState[] = []
  for (const name of names.sort()) {
    if (!name.endsWith('.json') || name.endsWith('.history.json')) continue
    try {
      const s = readState(dir, name.slice(0, -'.json'.length))
      if (s && s.group && SERVER_KINDS.includes(s.server as ServerKind)) out.push(s)
    } catch {
      // a corrupt file is reported by the commands that use that group
    }
  }
  return out
}

function emptyReport(state: GroupState): StatusReport {
  const { mode, detail } = modeOf(state, false)
  return {
    group: state.group,
    server: state.server,
    masterPid: state.masterPid,
    mode,
    detail,
    errorResistance: state.errorResistance,
    surplus: state.surplus,
    workers: [],
    lastRun: state.runs[state.runs.length - 1] ?? null,
  }
}

export async function groupStatus(adapter: ServerAdapter, target: Target, dir: string, targetFlags = `--group ${target.group}`): Promise<StatusReport> {
  const key = stateKey(target.server, target.group)
  const state = readState(dir, key)
  const holder = readHolder(lockPath(dir, key))
  const runnerAlive = holder !== null && holder !== 'partial' ? holderAlive(holder) : state?.roll ? isAlive(state.roll.runPid) : false
  const { mode, detail } = modeOf(state, runnerAlive)
  const workers = adapter.workers(target)
  const use = await usage(workers.map((w) => w.pid))
  const now = Date.now()
  const failing = failingInState(state, new Set(workers.map((w) => w.pid)))
  return {
    group: target.group,
    server: target.server,
    masterPid: target.masterPid,
    mode,
    detail,
    errorResistance: state?.errorResistance ?? null,
    surplus: state?.surplus ?? 0,
    workers: workers.map((w) => ({
      pid: w.pid,
      uptimeMs: now - w.startedAt,
      cpuPercent: use.get(w.pid)?.cpu ?? null,
      rssBytes: use.get(w.pid)?.rssBytes ?? null,
      release: state?.workers[String(w.pid)]?.release ?? null,
      preloaded: state?.workers[String(w.pid)]?.preload === true,
      role: roleOf(w.pid, state, mode === 'rolling'),
    })),
    lastRun: state?.runs[state.runs.length - 1] ?? null,
    failing,
    attention: failing.length ? tellFailing(failing, targetFlags, releaseRootOf(state)) : null,
  }
}

export function renderStatus(r: StatusReport): string {
  const lines: string[] = []
  lines.push(`----------- ${r.server} group: ${r.group} -----------`)
  lines.push(`Master   : ${r.masterPid}${r.gone ? ` (not found now: ${r.gone})` : ''}`)
  lines.push(`Mode     : ${r.mode}${r.detail ? ` (${r.detail})` : ''}`)
  if (r.surplus) lines.push(`Surplus  : ${r.surplus} worker(s) above the configured count, left by a failed surge`)
  if (r.lastRun) lines.push(`Last run : ${r.lastRun.at} ${r.lastRun.ok ? 'ok' : `stopped (${r.lastRun.aborted})`}, ${r.lastRun.replaced} replaced in ${formatMs(r.lastRun.durationMs)}`)
  if (r.attention) lines.push(`Attention: ${r.attention}`)
  lines.push(`Workers  : ${r.workers.length}`)
  const rows = [['PID', 'Uptime', 'CPU', 'RSS', 'Release', 'State']]
  for (const w of r.workers) {
    rows.push([
      String(w.pid),
      formatUptime(w.uptimeMs),
      w.cpuPercent === null ? '-' : `${w.cpuPercent.toFixed(0)}%`,
      w.rssBytes === null ? '-' : formatBytes(w.rssBytes),
      w.preloaded ? "preloaded: master's code" : (w.release ?? '-'),
      w.role === 'being replaced' ? 'Rolling restarting...' : w.role === 'failed' && r.failing?.some((f) => f.pid === w.pid) ? 'failed, serving' : w.role,
    ])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)))
  for (const row of rows) lines.push('  ' + row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd())
  return lines.join('\n') + '\n'
}

export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d) return `${d}d ${h}h`
  if (h) return `${h}h ${m}m`
  if (m) return `${m}m ${s % 60}s`
  return `${s}s`
}
