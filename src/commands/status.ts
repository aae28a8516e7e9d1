/**
 * `rolling-restart status`: the group's mode and its workers, like passenger-status. Reads only:
 * it takes no lock, so it works while a run is in progress.
 */
import { EXIT, type ExitCode } from '../errors.js'
import { formatBytes, formatMs } from '../config.js'
import { isAlive, usage } from '../proc/procfs.js'
import { resolveTarget } from '../servers/resolve.js'
import { holderAlive, lockPath, readHolder } from '../state/lock.js'
import { readState, stateKey, type GroupState } from '../state/state-file.js'
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

export async function statusCommand(flags: StatusFlags): Promise<ExitCode> {
  const { adapter, target } = resolveTarget(targetOptions(flags))
  const dir = stateDir(flags)
  const key = stateKey(target.server, target.group)
  const state = readState(dir, key)
  const holder = readHolder(lockPath(dir, key))
  const runnerAlive = holder !== null && holder !== 'partial' ? holderAlive(holder) : state?.roll ? isAlive(state.roll.runPid) : false
  const { mode, detail } = modeOf(state, runnerAlive)
  const workers = adapter.workers(target)
  const use = await usage(workers.map((w) => w.pid))
  const now = Date.now()
  const report: StatusReport = {
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
      role: roleOf(w.pid, state, mode === 'rolling'),
    })),
    lastRun: state?.runs[state.runs.length - 1] ?? null,
  }
  if (flags.json) printJson(report)
  else process.stdout.write(renderStatus(report))
  return EXIT.OK
}

export function renderStatus(r: StatusReport): string {
  const lines: string[] = []
  lines.push(`----------- ${r.server} group: ${r.group} -----------`)
  lines.push(`Master   : ${r.masterPid}`)
  lines.push(`Mode     : ${r.mode}${r.detail ? ` (${r.detail})` : ''}`)
  if (r.surplus) lines.push(`Surplus  : ${r.surplus} worker(s) above the configured count, left by a failed surge`)
  if (r.lastRun) lines.push(`Last run : ${r.lastRun.at} ${r.lastRun.ok ? 'ok' : `stopped (${r.lastRun.aborted})`}, ${r.lastRun.replaced} replaced in ${formatMs(r.lastRun.durationMs)}`)
  lines.push(`Workers  : ${r.workers.length}`)
  const rows = [['PID', 'Uptime', 'CPU', 'RSS', 'Release', 'State']]
  for (const w of r.workers) {
    rows.push([
      String(w.pid),
      formatUptime(w.uptimeMs),
      w.cpuPercent === null ? '-' : `${w.cpuPercent.toFixed(0)}%`,
      w.rssBytes === null ? '-' : formatBytes(w.rssBytes),
      w.release ?? '-',
      w.role === 'being replaced' ? 'Rolling restarting...' : w.role,
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
