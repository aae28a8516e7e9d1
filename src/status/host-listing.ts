/**
 * `status` without a target: every group running on the host (servers/discover-all.ts) and every
 * group the state directory knows, one report each, sorted by state file name. A group found both
 * ways is listed once; one only in the state directory is listed with why its master is not found;
 * one only on the host was never rolled with this state directory.
 */
import { readdirSync } from 'node:fs'
import { SERVER_KINDS, type ServerKind } from '../config.js'
import { RollingRestartError } from '../errors.js'
import { discoverAll, type UnlistedGroup } from '../servers/discover-all.js'
import { resolveTarget } from '../servers/resolve.js'
import { emptyState, readState, stateKey, type GroupState } from '../state/state-file.js'
import { groupStatus, stateOnlyReport } from './group-status.js'
import type { StatusReport } from './types.js'

export interface HostListing {
  stateDir: string
  /** how many groups run on this host, how many the state directory knows, and masters found that cannot be shown as groups */
  host: { running: number; inStateDir: number; unlisted: Array<{ server: string; masterPid: number; group: string | null; problem: string }> }
  groups: StatusReport[]
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

/** A state directory group the scan did not find: resolved by its name as before, else gone. */
async function stateGroupReport(state: GroupState, dir: string): Promise<StatusReport> {
  try {
    const { adapter, target } = await resolveTarget({ group: state.group, server: state.server as ServerKind })
    return await groupStatus(adapter, target, dir)
  } catch (err) {
    if (!(err instanceof RollingRestartError)) throw err
    return { ...stateOnlyReport(state), gone: err.message }
  }
}

function unlistedReport(u: UnlistedGroup, state: GroupState | undefined): StatusReport {
  const group = u.group ?? `${u.adapter.kind}-${u.masterPid}`
  const base = stateOnlyReport(state ?? emptyState(stateKey(u.adapter.kind, group), group, u.adapter.kind, u.masterPid))
  return { ...base, masterPid: u.masterPid, problem: u.problem }
}

/** `server`: --server, which limits the listing to one kind of server unless it is `auto`. */
export async function hostListing(dir: string, server: ServerKind | 'auto' = 'auto'): Promise<HostListing> {
  const scan = await discoverAll(server === 'auto' ? SERVER_KINDS : [server])
  const known = new Map(knownGroups(dir).filter((s) => server === 'auto' || s.server === server).map((s) => [s.key, s] as const))
  const byKey = new Map<string, StatusReport>()
  for (const { adapter, target } of scan.found) {
    const key = stateKey(target.server, target.group)
    if (!byKey.has(key)) byKey.set(key, await groupStatus(adapter, target, dir))
  }
  for (const u of scan.unlisted) {
    const key = stateKey(u.adapter.kind, u.group ?? `${u.adapter.kind}-${u.masterPid}`)
    if (!byKey.has(key)) byKey.set(key, unlistedReport(u, known.get(key)))
  }
  for (const [key, state] of known) if (!byKey.has(key)) byKey.set(key, await stateGroupReport(state, dir))
  const groups = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r)
  return {
    stateDir: dir,
    host: {
      running: groups.filter((g) => !g.gone && !g.problem).length,
      inStateDir: known.size,
      unlisted: scan.unlisted.map((u) => ({ server: u.adapter.kind, masterPid: u.masterPid, group: u.group, problem: u.problem })),
    },
    groups,
  }
}
