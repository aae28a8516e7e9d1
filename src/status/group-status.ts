/**
 * One group's status, gathered: the state file and the lock for the mode, /proc for the master,
 * the workers, their memory and the listen addresses, the server for request counts. Reads only:
 * it takes no lock, so it works while a run is in progress.
 */
import { groupMemory, readPss } from '../proc/memory.js'
import { listenAddresses } from '../proc/listen-sockets.js'
import { isAlive, procInfo, type ProcInfo } from '../proc/procfs.js'
import { usage, type Usage } from '../proc/usage.js'
import { failingInState, releaseRootOf, tellFailing } from '../run/failing-workers.js'
import type { RequestCounts, ServerAdapter, Target } from '../servers/types.js'
import { holderAlive, lockPath, readHolder } from '../state/lock.js'
import { replacementsOf } from '../state/slots.js'
import { readState, stateKey, type GroupState } from '../state/state-file.js'
import { modeOf, roleOf } from './mode.js'
import type { MasterStatus, StatusReport, StatusWorker } from './types.js'

async function requestCountsOf(adapter: ServerAdapter, target: Target): Promise<RequestCounts> {
  return adapter.requestCounts ? adapter.requestCounts(target) : { byPid: null, why: `not exposed by ${adapter.label}` }
}

function runnerAliveFor(dir: string, key: string, state: GroupState | null): boolean {
  const holder = readHolder(lockPath(dir, key))
  if (holder !== null && holder !== 'partial') return holderAlive(holder)
  return state?.roll ? isAlive(state.roll.runPid) : false
}

function masterStatus(pid: number, use: Map<number, Usage>, pss: Map<number, number | null>, now: number): MasterStatus {
  const info = procInfo(pid)
  return { pid, uptimeMs: info ? now - info.startedAt : null, rssBytes: use.get(pid)?.rssBytes ?? null, pssBytes: pss.get(pid) ?? null }
}

function workerStatus(w: ProcInfo, ctx: { state: GroupState | null; rolling: boolean; use: Map<number, Usage>; counts: RequestCounts; now: number }): StatusWorker {
  const record = ctx.state?.workers[String(w.pid)]
  return {
    pid: w.pid,
    uptimeMs: ctx.now - w.startedAt,
    cpuPercent: ctx.use.get(w.pid)?.cpu ?? null,
    rssBytes: ctx.use.get(w.pid)?.rssBytes ?? null,
    release: record?.release ?? null,
    preloaded: record?.preload === true,
    role: roleOf(w.pid, ctx.state, ctx.rolling),
    requests: ctx.counts.byPid ? (ctx.counts.byPid[String(w.pid)] ?? null) : null,
    replacements: replacementsOf(record),
  }
}

/** Workers this tool replaced over the runs the state file keeps. */
export function replacedOverRuns(state: GroupState | null): { total: number; runs: number } {
  const runs = state?.runs ?? []
  return { total: runs.reduce((n, r) => n + r.replaced, 0), runs: runs.length }
}

export async function groupStatus(adapter: ServerAdapter, target: Target, dir: string, targetFlags = `--group ${target.group}`): Promise<StatusReport> {
  const key = stateKey(target.server, target.group)
  const state = readState(dir, key)
  const { mode, detail } = modeOf(state, runnerAliveFor(dir, key, state))
  const workers = adapter.workers(target)
  const pids = [target.masterPid, ...workers.map((w) => w.pid)]
  const [use, counts] = await Promise.all([usage(pids), requestCountsOf(adapter, target)])
  const pss = new Map(pids.map((pid) => [pid, readPss(pid)] as const))
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
    workers: workers.map((w) => workerStatus(w, { state, rolling: mode === 'rolling', use, counts, now })),
    lastRun: state?.runs[state.runs.length - 1] ?? null,
    master: masterStatus(target.masterPid, use, pss, now),
    memory: groupMemory(pids.map((pid) => ({ pid, rssBytes: use.get(pid)?.rssBytes ?? null, pssBytes: pss.get(pid) ?? null }))),
    listen: listenAddresses(target.masterPid),
    requests: counts.byPid ? { from: counts.from } : { why: counts.why },
    replaced: replacedOverRuns(state),
    failing,
    attention: failing.length ? tellFailing(failing, targetFlags, releaseRootOf(state)) : null,
  }
}

/** A group the state directory knows whose master is not running (or cannot be shown): what the state file says. */
export function stateOnlyReport(state: GroupState): StatusReport {
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
    replaced: replacedOverRuns(state),
  }
}
